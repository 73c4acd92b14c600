package devstack

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sweeper"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// withEvents puts the store behind the events outbox, as the functions' mains do with the
// stack's EventBridge bus, with an in-memory bus in its place: the demo shows what its run
// published.
func (s *Stack) withEvents(outbox events.Outbox, m *telemetry.Metrics, log *slog.Logger) {
	s.Events = &memory.Bus{}
	s.Store = &events.OutboxStore{Store: s.Store, Outbox: outbox, Bus: s.Events, Clock: reply.SystemClock{}, Metrics: m, Log: log}
}

// drainEvents gives the sweeper its events chore, as the sweeper's main does: it publishes what
// a put left behind, and the first clicks the click route marked (the route never puts).
func (s *Stack) drainEvents(sw *sweeper.Sweeper, log *slog.Logger) {
	d := s.drain(log, time.Second)
	if d == nil {
		return
	}
	sw.AddChore(sweeper.Chore{Name: "events", Run: func(ctx context.Context) error {
		_, err := d.Run(ctx)
		return err
	}})
}

func (s *Stack) drain(log *slog.Logger, grace time.Duration) *events.Drain {
	outbox, ok := reply.StoreAs[events.Outbox](s.Store)
	if !ok || s.Events == nil {
		return nil
	}
	return &events.Drain{Outbox: outbox, Bus: s.Events, Clock: reply.SystemClock{}, Metrics: s.metrics.sweeper, Log: log,
		Grace: grace, Limit: events.DrainLimit}
}

// DrainEvents runs the sweeper's events chore once now, with no grace: what its next sweep would
// publish (the demo's first click) is on the bus before the demo prints it.
func (s *Stack) DrainEvents(ctx context.Context) error {
	d := s.drain(slog.New(slog.DiscardHandler), 0)
	if d == nil {
		return nil
	}
	_, err := d.Run(ctx)
	return err
}

// PrintEvents writes the events the stack published, in order, each with what its kind names
// (the comment, the tapped payload, the lead's kind, the link, the human's message, why).
func (s *Stack) PrintEvents(w io.Writer) {
	evs := s.Events.Events()
	fmt.Fprintf(w, "\nEvents published on the bus: %d (README, \"Events out\")\n", len(evs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tDETAIL-TYPE\tID\tRULE\tSTEP\tPERSON\tOF")
	for _, e := range evs {
		d := e.Detail
		of := cmp.Or(d.Comment, d.Reason)
		switch e.Kind {
		case events.ButtonTapped:
			of = "payload " + d.Payload
		case events.LeadCaptured:
			of = "lead " + d.LeadKind
		case events.LinkClicked:
			of = "link " + d.Link
		case events.ConversationPaused:
			of = "human message " + d.MessageID
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Format("15:04:05.000"), e.Kind, d.ID[:12], d.Rule, d.Step, d.Person, of)
	}
	tw.Flush()
}
