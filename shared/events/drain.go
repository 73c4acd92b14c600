package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// Drain publishes what the outbox holds: the events whose put failed, or whose writer died
// between its write and its put. It is a sweeper chore.
type Drain struct {
	Outbox  Outbox
	Bus     Bus
	Clock   reply.Clock
	Metrics *telemetry.Metrics
	Log     *slog.Logger
	// Grace leaves a mark younger than this to its writer, whose put is under way: draining it
	// too would only publish it twice.
	Grace time.Duration
	Limit int // marks per run
}

// DrainReport is what one run did.
type DrainReport struct {
	Pending, Published, Failed, Cleared int
}

// pending is one mark the drain publishes: its event, and the mark to clear once the bus has it.
type pending struct {
	ev   Event
	mark reply.Mark
}

// Run publishes up to Limit pending marks' events and clears the marks.
func (d *Drain) Run(ctx context.Context) (DrainReport, error) {
	var rep DrainReport
	marks, err := d.Outbox.PendingEvents(ctx, d.Clock.Now().Add(-d.Grace), max(d.Limit, 1))
	if err != nil {
		return rep, fmt.Errorf("read outbox: %w", err)
	}
	var todo []pending
	var errs []error
	for _, m := range marks {
		ev, st, err := d.event(ctx, m)
		switch {
		case err != nil:
			// Left marked: read again on the next run.
			errs = append(errs, err)
		case st == markGone:
		case st == markUnknown:
			// Written by code that knows an item kind this one does not (a deploy under way):
			// left to it, counted as a failure so that a lasting one is seen.
			rep.Pending++
			rep.Failed++
			d.count(MetricFailed, "unknown", m)
			d.Log.Error("outbox mark on an item kind the drain does not know", "item", m.Key)
		case st == markNoEvent:
			// Marked, but no change with an event (a marked record can only be terminal, so
			// this is a store or code mismatch): nothing to publish.
			rep.Pending++
			d.Log.Error("outbox item without an event", "item", m.Key)
			if err := d.Outbox.ClearEvents(ctx, m); err != nil {
				return rep, fmt.Errorf("clear outbox of %s: %w", m.Key, err)
			}
			rep.Cleared++
		default:
			rep.Pending++
			todo = append(todo, pending{ev, m})
		}
	}
	for start := 0; start < len(todo); start += PutBatch {
		if ctx.Err() != nil {
			break
		}
		batch := todo[start:min(start+PutBatch, len(todo))]
		evs := make([]Event, len(batch))
		for i, p := range batch {
			evs[i] = p.ev
		}
		err := d.Bus.Put(ctx, evs)
		var refused *PutError
		switch {
		case errors.As(err, &refused):
		case err != nil:
			refused = &PutError{Refused: map[int]string{}}
			for i := range batch {
				refused.Refused[i] = err.Error()
			}
		default:
			refused = &PutError{}
		}
		for i, p := range batch {
			if why, bad := refused.Refused[i]; bad {
				rep.Failed++
				d.count(MetricFailed, string(p.ev.Kind), p.mark)
				d.Log.Warn("event put failed", "kind", p.ev.Kind, "event", p.ev.Detail.ID, "item", p.mark.Key, "why", why)
				continue
			}
			rep.Published++
			d.Metrics.Count(MetricPublished, 1, "Kind", string(p.ev.Kind))
			if err := d.Outbox.ClearEvents(ctx, p.mark); err != nil {
				errs = append(errs, fmt.Errorf("clear outbox of %s: %w", p.mark.Key, err))
				continue
			}
			rep.Cleared++
		}
	}
	if rep.Failed > 0 {
		errs = append(errs, fmt.Errorf("%d of %d events not published; they stay in the outbox", rep.Failed, rep.Pending))
	}
	return rep, errors.Join(errs...)
}

// count counts a failed publication, and a stuck one when its mark is older than StuckAfter.
func (d *Drain) count(metric, kind string, m reply.Mark) {
	d.Metrics.Count(metric, 1, "Kind", kind)
	if d.Clock.Now().Sub(m.At) >= StuckAfter {
		d.Metrics.Count(MetricStuck, 1)
	}
}

// What a mark stands for when the drain reads its item.
const (
	markEvent   = iota // the item carries the mark: publish its event
	markGone           // the item is gone (deleted on request, expired) or carries another mark
	markNoEvent        // the item carries the mark but stands for no event
	markUnknown        // a key prefix the drain does not know
)

// event reads m's item, by its key's prefix, and derives its event.
func (d *Drain) event(ctx context.Context, m reply.Mark) (Event, int, error) {
	switch {
	case strings.HasPrefix(m.Key, "C#"), strings.HasPrefix(m.Key, "S#"):
		r, err := d.Outbox.Get(ctx, m.Key)
		switch {
		case errors.Is(err, reply.ErrNotFound):
			return Event{}, markGone, nil
		case err != nil:
			return Event{}, 0, fmt.Errorf("read outbox item %s: %w", m.Key, err)
		case !m.Same(reply.Mark{Key: r.Key, At: r.EventsAt}):
			return Event{}, markGone, nil
		}
		ev, ok := OfRecord(r)
		if !ok {
			return Event{}, markNoEvent, nil
		}
		return ev, markEvent, nil
	case strings.HasPrefix(m.Key, "L#"):
		account, person, kind, ok := lead.ParseKey(m.Key)
		if !ok {
			return Event{}, markUnknown, nil
		}
		l, err := d.Outbox.Lead(ctx, account, person, kind)
		switch {
		case errors.Is(err, reply.ErrNotFound):
			return Event{}, markGone, nil
		case err != nil:
			return Event{}, 0, fmt.Errorf("read outbox item %s: %w", m.Key, err)
		case !m.Same(reply.Mark{Key: l.Key(), At: l.EventsAt}):
			return Event{}, markGone, nil
		}
		return OfLead(l), markEvent, nil
	}
	return Event{}, markUnknown, nil
}
