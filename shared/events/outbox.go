package events

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/lead"
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

// Outbox is where events wait until the bus has them: the changed item itself, marked
// (reply.Mark) in the same conditional write that made the change. Any item kind may carry a
// mark; the drain reads the item by its key's prefix and derives the event from it.
type Outbox interface {
	// PendingEvents is at most limit marks made before `before`, oldest first, of every item
	// kind. A mark may have been cleared since (an index lags): the item read says.
	PendingEvents(ctx context.Context, before time.Time, limit int) ([]reply.Mark, error)
	// ClearEvents removes m from its item if the item still carries that very mark; an item
	// that is gone, or marked anew, is left as it is (nil error).
	ClearEvents(ctx context.Context, m reply.Mark) error
	// Get reads a reply record (C#, S#): their events are OfRecord's.
	Get(ctx context.Context, key string) (reply.Record, error)
	// Lead reads a lead (L#): its event is OfLead's.
	Lead(ctx context.Context, account, person string, kind lead.Kind) (lead.Lead, error)
	// MarkedClick reads a first click's guard (KV#) while its mark is on: its event is OfClick's;
	// an error wrapping reply.ErrForgotten when its person or account was forgotten since.
	MarkedClick(ctx context.Context, key string) (reply.MarkedClick, error)
	// Conversation reads a conversation (V#): its mark is its latest pause's, OfPause's event.
	Conversation(ctx context.Context, account, person string) (reply.Conversation, error)
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
	if _, ok := OfRecord(rec); !ok {
		return store(ctx, rec) // a mark it carries (its turn's start events) stays as it is
	}
	rec.EventsAt = s.Clock.Now()
	evs := EventsOf(rec) // its end, and its turn's start if those never went out
	stored, err := store(ctx, rec)
	if err != nil {
		// No change (a lost condition hands back what is stored), or one we cannot tell: then
		// the mark is in the outbox if the write landed, and the sweeper publishes it.
		return stored, err
	}
	if s.publish(ctx, evs, reply.Mark{Key: stored.Key, At: rec.EventsAt}) {
		stored.EventsAt, stored.StartEvents = time.Time{}, false
	}
	return stored, nil
}

// ClaimStep claims a step's records; a turn a tap ran, or a follow gate let through, has its
// first record marked for those events (Started) in the claim's own transaction, and the events
// are put once the claim is stored. A claim refused (a duplicate tap, a step sent since) is no
// change and publishes nothing. The caller goes on with the record returned, as stored.
func (s *OutboxStore) ClaimStep(ctx context.Context, recs []reply.Record, claim reply.StepClaim) (reply.Record, error) {
	var evs []Event
	if len(recs) > 0 {
		evs = Started(recs[0])
	}
	if len(evs) == 0 {
		return s.Store.ClaimStep(ctx, recs, claim)
	}
	marked := slices.Clone(recs)
	marked[0].StartEvents, marked[0].EventsAt = true, s.Clock.Now()
	first, err := s.Store.ClaimStep(ctx, marked, claim)
	if err != nil {
		return first, err
	}
	if s.publish(ctx, evs, reply.Mark{Key: first.Key, At: marked[0].EventsAt}) {
		first.EventsAt, first.StartEvents = time.Time{}, false
	}
	return first, nil
}

// publish puts evs (one put: at most a few), whose change was just written with mark m, and
// clears m. It reports whether the mark is gone; a put that failed, even in part, leaves it to
// the sweeper (which publishes them all again, under the same ids), and the writer goes on.
func (s *OutboxStore) publish(ctx context.Context, evs []Event, m reply.Mark) bool {
	putCtx, cancel := context.WithTimeout(ctx, cmp.Or(s.Timeout, PutTimeout))
	defer cancel()
	if err := s.Bus.Put(putCtx, evs); err != nil {
		for _, ev := range evs {
			s.Metrics.Count(MetricDeferred, 1, "Kind", string(ev.Kind))
		}
		s.Log.Warn("events left for the sweeper", "kinds", kinds(evs), "item", m.Key, "err", err)
		return false
	}
	for _, ev := range evs {
		s.Metrics.Count(MetricPublished, 1, "Kind", string(ev.Kind))
	}
	if err := s.Outbox.ClearEvents(ctx, m); err != nil {
		// Published all the same: the sweeper publishes it again under the same id.
		s.Log.Warn("clear outbox", "item", m.Key, "err", err)
		return false
	}
	return true
}

func kinds(evs []Event) []Kind {
	ks := make([]Kind, len(evs))
	for i, ev := range evs {
		ks[i] = ev.Kind
	}
	return ks
}
