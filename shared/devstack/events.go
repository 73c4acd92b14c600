package devstack

import (
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"

	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// withEvents puts the store behind the events outbox, as the functions' mains do with the
// stack's EventBridge bus, with an in-memory bus in its place: the demo shows what its run
// published.
func (s *Stack) withEvents(outbox events.Outbox, m *telemetry.Metrics, log *slog.Logger) {
	s.Events = &memory.Bus{}
	s.Store = &events.OutboxStore{Store: s.Store, Outbox: outbox, Bus: s.Events, Clock: reply.SystemClock{}, Metrics: m, Log: log}
}

// PrintEvents writes the events the stack published, in order.
func (s *Stack) PrintEvents(w io.Writer) {
	evs := s.Events.Events()
	fmt.Fprintf(w, "\nEvents published on the bus: %d (README, \"Events out\")\n", len(evs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tDETAIL-TYPE\tID\tRULE\tSTEP\tPERSON\tCOMMENT\tREASON")
	for _, e := range evs {
		d := e.Detail
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.At.Format("15:04:05.000"), e.Kind, d.ID[:12], d.Rule, d.Step, d.Person, d.Comment, d.Reason)
	}
	tw.Flush()
}
