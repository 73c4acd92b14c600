package events_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

type outboxWorld struct {
	inner   *memory.Store
	store   *events.OutboxStore
	drain   *events.Drain
	bus     *memory.Bus
	clock   *memory.Clock
	metrics *telemetry.Metrics
}

func newOutboxWorld() *outboxWorld {
	w := &outboxWorld{inner: memory.NewStore(), bus: &memory.Bus{}, clock: memory.NewClock(eventstest.T0), metrics: telemetry.NewMetrics("test")}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w.store = &events.OutboxStore{Store: w.inner, Outbox: w.inner, Bus: w.bus, Clock: w.clock, Metrics: w.metrics, Log: log}
	w.drain = &events.Drain{Outbox: w.inner, Bus: w.bus, Clock: w.clock, Metrics: w.metrics, Log: log, Grace: time.Minute, Limit: 100}
	return w
}

func (w *outboxWorld) send(t *testing.T, job reply.Job, o reply.Outcome) (reply.Record, error) {
	t.Helper()
	return eventstest.Reply(context.Background(), w.store, job, o, w.clock.Now())
}

func (w *outboxWorld) pending(t *testing.T) int {
	t.Helper()
	recs, err := w.inner.PendingEvents(context.Background(), w.clock.Now().Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

func TestOutboxPublishesRightAfterTheChange(t *testing.T) {
	tests := []struct {
		name string
		o    reply.Outcome
		want []events.Kind
	}{
		{"sent", reply.Sent("mid.1", eventstest.Person), []events.Kind{events.PrivateReplySent}},
		{"failed", eventstest.Failed, []events.Kind{events.ReplyFailed}},
		{"ambiguous", eventstest.Ambiguous, []events.Kind{events.ReplyAmbiguous}},
		{"skipped", reply.Skipped(reply.SkipNoRule), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newOutboxWorld()
			rec, err := w.send(t, eventstest.Comment(), tc.o)
			if err != nil {
				t.Fatal(err)
			}
			var got []events.Kind
			for _, ev := range w.bus.Events() {
				got = append(got, ev.Kind)
			}
			if len(got) != len(tc.want) || (len(got) == 1 && got[0] != tc.want[0]) {
				t.Fatalf("published %v, want %v", got, tc.want)
			}
			if n := w.pending(t); n != 0 || !rec.EventsAt.IsZero() {
				t.Errorf("after a put that worked: %d pending, mark %v", n, rec.EventsAt)
			}
		})
	}
}

func TestOutboxNoEventWithoutAChange(t *testing.T) {
	w := newOutboxWorld()
	ctx := context.Background()
	job := eventstest.Comment()
	claimed, err := reply.NewRecord(job, eventstest.T0).Claim(job, "w", eventstest.T0, eventstest.T0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.Create(ctx, claimed); err != nil {
		t.Fatal(err)
	}
	// A duplicate delivery's create, and a second worker finishing the same claim, change
	// nothing: no event.
	if _, err := w.store.Create(ctx, claimed); !errors.Is(err, reply.ErrExists) {
		t.Fatalf("second create: %v", err)
	}
	first, _ := claimed.Finish(reply.Sent("mid.1", eventstest.Person), true, eventstest.T0)
	second, _ := claimed.Finish(reply.Sent("mid.2", eventstest.Person), true, eventstest.T0)
	if _, err := w.store.Update(ctx, first); err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.Update(ctx, second); !errors.Is(err, reply.ErrConflict) {
		t.Fatalf("second finish: %v, want a conflict", err)
	}
	if evs := w.bus.Events(); len(evs) != 1 || evs[0].Detail.MessageID != "mid.1" {
		t.Errorf("published %+v; want one event, of the change that happened", evs)
	}
	if n := w.pending(t); n != 0 {
		t.Errorf("%d pending after a lost write", n)
	}
}

func TestOutboxFailedPutIsDrainedLater(t *testing.T) {
	w := newOutboxWorld()
	w.bus.Fail = func(events.Event) string { return "ThrottlingException: Rate exceeded" }
	rec, err := w.send(t, eventstest.Comment(), reply.Sent("mid.1", eventstest.Person))
	if err != nil {
		t.Fatalf("the reply waited on the bus: %v", err)
	}
	if rec.State != reply.StateSent || w.pending(t) != 1 || w.metrics.Get(events.MetricDeferred+"|Kind=PrivateReplySent") != 1 {
		t.Fatalf("state %s, %d pending, %v deferred; want SENT, 1, 1", rec.State, w.pending(t), w.metrics.Get(events.MetricDeferred+"|Kind=PrivateReplySent"))
	}
	ctx := context.Background()
	// Still failing: counted, kept.
	w.clock.Add(2 * time.Minute)
	rep, err := w.drain.Run(ctx)
	if err == nil || rep.Failed != 1 || w.pending(t) != 1 || w.metrics.Get(events.MetricFailed+"|Kind=PrivateReplySent") != 1 {
		t.Fatalf("drain on a failing bus: %+v, %v, %d pending", rep, err, w.pending(t))
	}
	if w.metrics.Get(events.MetricStuck) != 0 {
		t.Fatal("a two-minute-old event counted stuck")
	}
	// Failing for longer than StuckAfter: a failure that persists, for the Attention alarm.
	w.clock.Add(events.StuckAfter)
	if _, err := w.drain.Run(ctx); err == nil || w.metrics.Get(events.MetricStuck) != 1 {
		t.Fatalf("drain of an event failing for %s: %v, %v stuck", events.StuckAfter, err, w.metrics.Get(events.MetricStuck))
	}
	// The bus is back: published once, cleared; the next run finds nothing.
	w.bus.Fail = nil
	if rep, err = w.drain.Run(ctx); err != nil || rep.Published != 1 || rep.Cleared != 1 {
		t.Fatalf("drain: %+v, %v", rep, err)
	}
	if rep, err = w.drain.Run(ctx); err != nil || rep.Pending != 0 {
		t.Fatalf("second drain: %+v, %v", rep, err)
	}
	evs := w.bus.Events()
	if len(evs) != 1 || evs[0].Kind != events.PrivateReplySent || evs[0].Detail.ID != events.ID(events.PrivateReplySent, rec.Key) {
		t.Fatalf("published %+v", evs)
	}
}

func TestDrainLeavesYoungMarksToTheirWriter(t *testing.T) {
	w := newOutboxWorld()
	w.bus.Fail = func(events.Event) string { return "InternalFailure" }
	if _, err := w.send(t, eventstest.Comment(), reply.Sent("mid.1", eventstest.Person)); err != nil {
		t.Fatal(err)
	}
	w.bus.Fail = nil
	w.clock.Add(30 * time.Second)
	if rep, err := w.drain.Run(context.Background()); err != nil || rep.Pending != 0 {
		t.Fatalf("drain within the grace: %+v, %v", rep, err)
	}
}

func TestDrainKeepsOnlyWhatTheBusRefused(t *testing.T) {
	w := newOutboxWorld()
	w.bus.Fail = func(events.Event) string { return "down" }
	for i := range 3 {
		job := eventstest.Comment()
		job.CommentID = job.CommentID[:len(job.CommentID)-1] + string(rune('0'+i))
		if _, err := w.send(t, job, reply.Sent("mid", eventstest.Person)); err != nil {
			t.Fatal(err)
		}
	}
	tooBig := events.ID(events.PrivateReplySent, reply.CommentKey("17900000000000041"))
	w.bus.Fail = func(ev events.Event) string {
		if ev.Detail.ID == tooBig {
			return "ValidationException: too large"
		}
		return ""
	}
	w.clock.Add(2 * time.Minute)
	rep, err := w.drain.Run(context.Background())
	if err == nil || rep.Published != 2 || rep.Failed != 1 || w.pending(t) != 1 {
		t.Fatalf("drain: %+v, %v, %d pending; want 2 published, 1 kept", rep, err, w.pending(t))
	}
}

// The outbox wraps the store the services are given: the ports the store keeps beside
// reply.Store (leads for steps that ask, a tracked link's clicks) must still be found through
// it, or turning events on would silently turn leads off.
func TestOutboxStoreKeepsTheStoresOtherPorts(t *testing.T) {
	ms := memory.NewStore()
	var wrapped reply.Store = &events.OutboxStore{Store: ms, Outbox: ms}
	if _, ok := reply.StoreAs[lead.Store](wrapped); !ok {
		t.Error("leads not found through the outbox")
	}
	if _, ok := reply.StoreAs[reply.Clicks](wrapped); !ok {
		t.Error("clicks not found through the outbox")
	}
	if _, ok := reply.StoreAs[lead.Store](reply.Store(nil)); ok {
		t.Error("leads found in no store")
	}
}
