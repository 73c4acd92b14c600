package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
	"github.com/replywindow/replywindow/shared/reply"
)

// pause is a human's message echo at `at` that pauses the conversation for an hour.
func (w *outboxWorld) pause(t *testing.T, echo string, at time.Time) {
	t.Helper()
	if _, err := w.store.Touch(context.Background(), reply.Touch{AccountID: eventstest.Account, PersonID: eventstest.Person,
		At: at, Pause: time.Hour, Echo: echo, Now: w.clock.Now()}); err != nil {
		t.Fatal(err)
	}
}

func TestConversationPausedOncePerPause(t *testing.T) {
	ctx := context.Background()
	w := newOutboxWorld()
	t0 := eventstest.T0
	w.pause(t, "mid.h1", t0)
	w.pause(t, "mid.h1", t0)                   // the same echo again: nothing moves
	w.pause(t, "mid.h0", t0.Add(-time.Minute)) // an older echo, late: nothing moves
	if _, err := w.store.Touch(ctx, reply.Touch{AccountID: eventstest.Account, PersonID: eventstest.Person, At: t0.Add(time.Second), Now: w.clock.Now()}); err != nil {
		t.Fatal(err) // the person writes: the window moves, no pause
	}
	w.pause(t, "mid.h2", t0.Add(10*time.Minute)) // a later answer: a new pause
	evs := w.bus.Events()
	if len(evs) != 2 || evs[0].Kind != events.ConversationPaused || evs[0].Detail.MessageID != "mid.h1" || evs[1].Detail.MessageID != "mid.h2" {
		t.Fatalf("published %+v; want the pauses by mid.h1 and mid.h2", evs)
	}
	if w.pending(t) != 0 {
		t.Errorf("%d pending after the puts", w.pending(t))
	}

	// The bus refuses: the mark stays on the conversation; the drain publishes the same event.
	w = newOutboxWorld()
	w.bus.Fail = func(events.Event) string { return "down" }
	w.pause(t, "mid.h1", t0)
	w.bus.Fail = nil
	w.clock.Add(2 * time.Minute)
	if rep, err := w.drain.Run(ctx); err != nil || rep.Published != 1 || rep.Cleared != 1 || w.pending(t) != 0 {
		t.Fatalf("drain: %+v, %v, %d pending", rep, err, w.pending(t))
	}
	c, err := w.inner.Conversation(ctx, eventstest.Account, eventstest.Person)
	if err != nil || c.PausedBy != "mid.h1" || !c.EventsAt.IsZero() {
		t.Fatalf("conversation after the drain: %+v, %v", c, err)
	}
	if ev := w.bus.Events(); len(ev) != 1 || ev[0].Detail.ID != events.Paused(eventstest.Account, eventstest.Person, "mid.h1", t0).Detail.ID {
		t.Errorf("drained %+v", ev)
	}

	// Events off: the table's own Touch marks nothing.
	w = newOutboxWorld()
	if _, err := w.inner.Touch(ctx, reply.Touch{AccountID: eventstest.Account, PersonID: eventstest.Person, At: t0, Pause: time.Hour,
		Echo: "mid.h1", Now: t0}); err != nil || w.pending(t) != 0 {
		t.Errorf("events off: %v, %d pending", err, w.pending(t))
	}
}
