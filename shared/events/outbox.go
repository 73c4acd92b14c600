package events

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// PutBatch is how many events one put takes at most (EventBridge's PutEvents limit).
const PutBatch = 10

// Bus is the stack's event bus.
type Bus interface {
	// Put puts at most PutBatch events on the bus. It returns nil when the bus accepted every
	// one; a *PutError when it refused some (the others were accepted); any other error when
	// none may have been.
	Put(ctx context.Context, evs []Event) error
}

// PutError names the events of a put that the bus refused.
type PutError struct {
	Refused map[int]string // index in the put -> the bus's code and message
}

func (e *PutError) Error() string {
	var parts []string
	for i, why := range e.Refused {
		parts = append(parts, fmt.Sprintf("#%d: %s", i, why))
	}
	return fmt.Sprintf("bus refused %d event(s): %s", len(e.Refused), strings.Join(parts, "; "))
}

// Outbox is where a record's events wait until the bus has them: the record itself, marked
// (Record.EventsAt) in the same conditional write that made the change.
type Outbox interface {
	// PendingEvents is at most limit records marked before `before`, oldest mark first.
	PendingEvents(ctx context.Context, before time.Time, limit int) ([]reply.Record, error)
	// ClearEvents removes the mark of the record stored under key at version; a record that is
	// gone, or at another version, is left as it is (nil error).
	ClearEvents(ctx context.Context, key string, version int64) error
}

// Metric names (EMF, namespace ReplyWindow).
const (
	MetricPublished = "EventsPublished" // events the bus accepted
	MetricDeferred  = "EventsDeferred"  // a put right after the write failed: the sweeper publishes it
	MetricFailed    = "EventsFailed"    // a put of the sweeper's drain failed
	// MetricStuck is a failed put of an event waiting longer than StuckAfter: a failure that
	// persists, which needs a person (it feeds the stack's Attention alarm).
	MetricStuck = "EventsStuck"
)

// StuckAfter is how long an event may wait in the outbox before a failed put of it is no blip:
// the sweeper has retried it on every run since.
const StuckAfter = 15 * time.Minute

// PutTimeout bounds the put right after a write: the conversation never waits longer for its
// events, whatever the bus does; what did not go out is the sweeper's.
const PutTimeout = 1500 * time.Millisecond

// OutboxStore is a reply.Store whose writes carry their records' events out: a write that makes
// a change with an event (OfRecord) marks the record in the same conditional write, and once
// the write succeeded the event is put on the bus and the mark cleared. A put that fails leaves
// the mark for the sweeper's Drain, so a change is never without its event, and a write that
// lost its condition made no change and publishes nothing.
type OutboxStore struct {
	reply.Store
	Outbox  Outbox
	Bus     Bus
	Clock   reply.Clock
	Metrics *telemetry.Metrics
	Log     *slog.Logger
	Timeout time.Duration // of the put after a write; PutTimeout when zero
}

// Unwrap is the store the outbox writes through, so reply.StoreAs finds its other ports.
func (s *OutboxStore) Unwrap() reply.Store { return s.Store }

// Create stores rec and publishes its event, if it has one.
func (s *OutboxStore) Create(ctx context.Context, rec reply.Record) (reply.Record, error) {
	return s.write(ctx, rec, s.Store.Create)
}

// Update stores rec and publishes its event, if it has one.
func (s *OutboxStore) Update(ctx context.Context, rec reply.Record) (reply.Record, error) {
	return s.write(ctx, rec, s.Store.Update)
}

func (s *OutboxStore) write(ctx context.Context, rec reply.Record,
	store func(context.Context, reply.Record) (reply.Record, error)) (reply.Record, error) {
	ev, ok := OfRecord(rec)
	if !ok {
		return store(ctx, rec)
	}
	rec.EventsAt = s.Clock.Now()
	stored, err := store(ctx, rec)
	if err != nil {
		// No change (a lost condition hands back what is stored), or one we cannot tell: then
		// the mark is in the outbox if the write landed, and the sweeper publishes it.
		return stored, err
	}
	putCtx, cancel := context.WithTimeout(ctx, cmp.Or(s.Timeout, PutTimeout))
	defer cancel()
	if err := s.Bus.Put(putCtx, []Event{ev}); err != nil {
		s.Metrics.Count(MetricDeferred, 1, "Kind", string(ev.Kind))
		s.Log.Warn("event left for the sweeper", "kind", ev.Kind, "event", ev.Detail.ID, "record", rec.Key, "err", err)
		return stored, nil
	}
	s.Metrics.Count(MetricPublished, 1, "Kind", string(ev.Kind))
	if err := s.Outbox.ClearEvents(ctx, stored.Key, stored.Version); err != nil {
		// Published all the same: the sweeper publishes it again under the same id.
		s.Log.Warn("clear outbox", "record", rec.Key, "err", err)
	} else {
		stored.EventsAt = time.Time{}
	}
	return stored, nil
}

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
	Limit int // records per run
}

// DrainReport is what one run did.
type DrainReport struct {
	Pending, Published, Failed, Cleared int
}

// Run publishes up to Limit pending records' events and clears their marks.
func (d *Drain) Run(ctx context.Context) (DrainReport, error) {
	var rep DrainReport
	recs, err := d.Outbox.PendingEvents(ctx, d.Clock.Now().Add(-d.Grace), max(d.Limit, 1))
	if err != nil {
		return rep, fmt.Errorf("read outbox: %w", err)
	}
	rep.Pending = len(recs)
	var evs []Event
	var of []reply.Record
	for _, r := range recs {
		ev, ok := OfRecord(r)
		if !ok {
			// Marked, but no longer a change with an event (a marked record can only be
			// terminal, so this is a store or code mismatch): nothing to publish.
			d.Log.Error("outbox record without an event", "record", r.Key, "state", r.State)
			if err := d.Outbox.ClearEvents(ctx, r.Key, r.Version); err != nil {
				return rep, fmt.Errorf("clear outbox of %s: %w", r.Key, err)
			}
			rep.Cleared++
			continue
		}
		evs, of = append(evs, ev), append(of, r)
	}
	var errs []error
	for start := 0; start < len(evs); start += PutBatch {
		if ctx.Err() != nil {
			break
		}
		end := min(start+PutBatch, len(evs))
		err := d.Bus.Put(ctx, evs[start:end])
		var refused *PutError
		switch {
		case errors.As(err, &refused):
		case err != nil:
			refused = &PutError{Refused: map[int]string{}}
			for i := range end - start {
				refused.Refused[i] = err.Error()
			}
		default:
			refused = &PutError{}
		}
		for i := start; i < end; i++ {
			ev := evs[i]
			if why, bad := refused.Refused[i-start]; bad {
				rep.Failed++
				d.Metrics.Count(MetricFailed, 1, "Kind", string(ev.Kind))
				if d.Clock.Now().Sub(of[i].EventsAt) >= StuckAfter {
					d.Metrics.Count(MetricStuck, 1)
				}
				d.Log.Warn("event put failed", "kind", ev.Kind, "event", ev.Detail.ID, "record", of[i].Key, "why", why)
				continue
			}
			rep.Published++
			d.Metrics.Count(MetricPublished, 1, "Kind", string(ev.Kind))
			if err := d.Outbox.ClearEvents(ctx, of[i].Key, of[i].Version); err != nil {
				errs = append(errs, fmt.Errorf("clear outbox of %s: %w", of[i].Key, err))
				continue
			}
			rep.Cleared++
		}
	}
	if rep.Failed > 0 {
		errs = append(errs, fmt.Errorf("%d of %d events not published; they stay in the outbox", rep.Failed, len(evs)))
	}
	return rep, errors.Join(errs...)
}
