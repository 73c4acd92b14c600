package events_test

import (
	"context"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
	"github.com/replywindow/replywindow/shared/reply"
)

// Click is Person's click on the recipe link at the world's time.
func (w *outboxWorld) click(t *testing.T, eventsOn bool) bool {
	t.Helper()
	first, err := w.inner.RecordClick(context.Background(), eventstest.Click(w.clock.Now(), eventsOn))
	if err != nil {
		t.Fatal(err)
	}
	return first
}

func TestLinkClickedOncePerFirstClick(t *testing.T) {
	tests := []struct {
		name     string
		eventsOn bool
		clicks   int
		want     int
	}{
		{"a first click", true, 1, 1},
		{"the same person clicks again: no new change", true, 3, 1},
		{"events off", false, 2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newOutboxWorld()
			for range tc.clicks {
				w.click(t, tc.eventsOn)
				w.clock.Add(time.Second)
			}
			// The route puts nothing: the drain publishes, once the writer's grace is over.
			if rep, err := w.drain.Run(context.Background()); err != nil || rep.Published != 0 {
				t.Fatalf("drain within the grace: %+v, %v", rep, err)
			}
			w.clock.Add(2 * time.Minute)
			if _, err := w.drain.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			evs := w.bus.Events()
			if len(evs) != tc.want {
				t.Fatalf("published %d, want %d", len(evs), tc.want)
			}
			if tc.want == 0 {
				return
			}
			d := evs[0].Detail
			c := eventstest.Click(time.Time{}, true)
			if evs[0].Kind != events.LinkClicked || d.Person != eventstest.Person || d.Rule != c.Origin.Rule || d.Link != c.Link ||
				d.Click == "" || d.At != eventstest.T0.Format("2006-01-02T15:04:05.000Z") {
				t.Errorf("published %s %+v", evs[0].Kind, d)
			}
			// Cleared: the record carries no mark, and a second drain finds nothing.
			if _, err := w.inner.MarkedClick(context.Background(), reply.ClickGuardKey(eventstest.Account, eventstest.Person, c.Link)); err == nil {
				t.Error("the record still carries its mark after the event went out")
			}
			if rep, err := w.drain.Run(context.Background()); err != nil || rep.Pending != 0 {
				t.Errorf("second drain: %+v, %v", rep, err)
			}
		})
	}
}

// A person forgotten after their first click, before its event went out: the drain clears the
// guard's mark (and the person's id with it) and publishes nothing.
func TestForgottenClickIsNotPublished(t *testing.T) {
	w := newOutboxWorld()
	w.click(t, true)
	if err := w.inner.PutTombstone(context.Background(), reply.Tombstone{PersonID: eventstest.Person, At: w.clock.Now().Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(2 * time.Minute)
	rep, err := w.drain.Run(context.Background())
	if err != nil || rep.Cleared != 1 || rep.Published != 0 || len(w.bus.Events()) != 0 || w.pending(t) != 0 {
		t.Fatalf("drain: %+v, %v, %d published, %d pending", rep, err, len(w.bus.Events()), w.pending(t))
	}
}
