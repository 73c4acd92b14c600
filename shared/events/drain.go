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

// pending is one mark the drain publishes: its events, and the mark to clear once the bus has
// them all.
type pending struct {
	evs  []Event
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
		evs, st, err := d.event(ctx, m)
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
		case st == markForgotten:
			// A click whose person or account was deleted since (the deletion removes click
			// records last): its event goes unpublished.
			rep.Pending++
			d.Log.Info("outbox item of a forgotten person cleared unpublished", "item", m.Key)
			if err := d.Outbox.ClearEvents(ctx, m); err != nil {
				return rep, fmt.Errorf("clear outbox of %s: %w", m.Key, err)
			}
			rep.Cleared++
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
			todo = append(todo, pending{evs, m})
		}
	}
	for start := 0; start < len(todo); {
		if ctx.Err() != nil {
			break
		}
		// A batch of whole marks, at most PutBatch events (a mark has at most a few).
		end, n := start, 0
		for end < len(todo) && (end == start || n+len(todo[end].evs) <= PutBatch) {
			n += len(todo[end].evs)
			end++
		}
		batch := todo[start:end]
		start = end
		var evs []Event
		for _, p := range batch {
			evs = append(evs, p.evs...)
		}
		err := d.Bus.Put(ctx, evs)
		var refused *PutError
		switch {
		case errors.As(err, &refused):
		case err != nil:
			refused = &PutError{Refused: map[int]string{}}
			for i := range evs {
				refused.Refused[i] = err.Error()
			}
		default:
			refused = &PutError{}
		}
		i := 0
		for _, p := range batch {
			// A mark is cleared only when the bus took every one of its events.
			var why string
			for _, ev := range p.evs {
				if w, bad := refused.Refused[i]; bad {
					why = w
					rep.Failed++
					d.count(MetricFailed, string(ev.Kind), p.mark)
					d.Log.Warn("event put failed", "kind", ev.Kind, "event", ev.Detail.ID, "item", p.mark.Key, "why", w)
				} else {
					rep.Published++
					d.Metrics.Count(MetricPublished, 1, "Kind", string(ev.Kind))
				}
				i++
			}
			if why != "" {
				continue
			}
			if err := d.Outbox.ClearEvents(ctx, p.mark); err != nil {
				errs = append(errs, fmt.Errorf("clear outbox of %s: %w", p.mark.Key, err))
				continue
			}
			rep.Cleared++
		}
	}
	if rep.Failed > 0 {
		errs = append(errs, fmt.Errorf("%d events not published; they stay in the outbox", rep.Failed))
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
	markEvent     = iota // the item carries the mark: publish its event
	markGone             // the item is gone (deleted on request, expired) or carries another mark
	markNoEvent          // the item carries the mark but stands for no event
	markUnknown          // a key prefix the drain does not know
	markForgotten        // the item's person or account was forgotten since: cleared, never published
)

// event reads m's item, by its key's prefix, and derives its events (a record may stand for
// its turn's start and its end).
func (d *Drain) event(ctx context.Context, m reply.Mark) ([]Event, int, error) {
	switch {
	case strings.HasPrefix(m.Key, "C#"), strings.HasPrefix(m.Key, "S#"):
		r, err := d.Outbox.Get(ctx, m.Key)
		if st, err := carries(m, err, r.EventsAt); st != markEvent {
			return nil, st, err
		}
		if evs := EventsOf(r); len(evs) > 0 {
			return evs, markEvent, nil
		}
		return nil, markNoEvent, nil
	case strings.HasPrefix(m.Key, "L#"):
		account, person, kind, ok := lead.ParseKey(m.Key)
		if !ok {
			return nil, markUnknown, nil
		}
		l, err := d.Outbox.Lead(ctx, account, person, kind)
		if st, err := carries(m, err, l.EventsAt); st != markEvent {
			return nil, st, err
		}
		return []Event{OfLead(l)}, markEvent, nil
	case strings.HasPrefix(m.Key, "KV#"):
		c, err := d.Outbox.MarkedClick(ctx, m.Key)
		if errors.Is(err, reply.ErrForgotten) {
			return nil, markForgotten, nil
		}
		if st, err := carries(m, err, c.EventsAt); st != markEvent {
			return nil, st, err
		}
		return []Event{OfClick(c)}, markEvent, nil
	case strings.HasPrefix(m.Key, "V#"):
		account, person, ok := strings.Cut(strings.TrimPrefix(m.Key, "V#"), "#")
		if !ok {
			return nil, markUnknown, nil
		}
		c, err := d.Outbox.Conversation(ctx, account, person)
		if st, err := carries(m, err, c.EventsAt); st != markEvent {
			return nil, st, err
		}
		if c.PausedBy == "" {
			return nil, markNoEvent, nil
		}
		return []Event{OfPause(c)}, markEvent, nil
	}
	return nil, markUnknown, nil
}

// carries says what the read of m's item found (err, and the mark the item carries at): the
// item with m on it (markEvent), the item gone or marked anew (markGone), or a failed read.
func carries(m reply.Mark, err error, at time.Time) (int, error) {
	switch {
	case errors.Is(err, reply.ErrNotFound):
		return markGone, nil
	case err != nil:
		return 0, fmt.Errorf("read outbox item %s: %w", m.Key, err)
	case !m.Same(reply.Mark{Key: m.Key, At: at}):
		return markGone, nil
	}
	return markEvent, nil
}
