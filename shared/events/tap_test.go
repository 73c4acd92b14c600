package events_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
	"github.com/replywindow/replywindow/shared/reply"
)

// claim is the claim of TapTurn's step (trigger mid) at the world's time.
func (w *outboxWorld) claim(t *testing.T, edit func(*reply.FollowUp)) (reply.Record, error) {
	t.Helper()
	rec := eventstest.TapTurn()
	f := *rec.Job.FollowUp
	if edit != nil {
		edit(&f)
	}
	rec.Job.FollowUp = &f
	rec.Key = rec.Job.Key()
	c := reply.StepClaim{AccountID: eventstest.Account, PersonID: eventstest.Person, Rule: f.Rule,
		Step: reply.Step{Name: f.Step, Resend: true, Cooldown: time.Minute}, Gate: f.Gate, At: w.clock.Now()}
	return w.store.ClaimStep(context.Background(), []reply.Record{rec}, c)
}

func (w *outboxWorld) kinds() []events.Kind {
	var got []events.Kind
	for _, ev := range w.bus.Events() {
		got = append(got, ev.Kind)
	}
	return got
}

func TestTurnStartEventsRideOnTheClaim(t *testing.T) {
	tests := []struct {
		name string
		edit func(*reply.FollowUp)
		want []events.Kind
	}{
		{"a tap through a gate the person passed", nil, []events.Kind{events.ButtonTapped, events.FollowGatePassed}},
		{"a tap on an ungated step", func(f *reply.FollowUp) { f.Gated, f.Followed = false, false }, []events.Kind{events.ButtonTapped}},
		{"a tap the gate stopped: its message", func(f *reply.FollowUp) { f.Gate, f.Followed = true, false }, []events.Kind{events.ButtonTapped}},
		{"a gate that could not ask and let the step through", func(f *reply.FollowUp) { f.Followed = false }, []events.Kind{events.ButtonTapped}},
		{"a keyword DM through a gate it passed", func(f *reply.FollowUp) { f.Tap, f.Payload = false, "" }, []events.Kind{events.FollowGatePassed}},
		{"a keyword DM on an ungated step", func(f *reply.FollowUp) { f.Tap, f.Payload, f.Gated, f.Followed = false, "", false, false }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newOutboxWorld()
			first, err := w.claim(t, tc.edit)
			if err != nil {
				t.Fatal(err)
			}
			if got := w.kinds(); !slices.Equal(got, tc.want) {
				t.Fatalf("published %v, want %v", got, tc.want)
			}
			if !first.EventsAt.IsZero() || first.StartEvents || w.pending(t) != 0 {
				t.Errorf("after the put: mark %v, start events %v, %d pending", first.EventsAt, first.StartEvents, w.pending(t))
			}
			// The same tap delivered again: its claim is refused, nothing changed, no event.
			if _, err := w.claim(t, tc.edit); !errors.Is(err, reply.ErrExists) {
				t.Fatalf("duplicate tap: %v", err)
			}
			if got := w.kinds(); len(got) != len(tc.want) || w.pending(t) != 0 {
				t.Errorf("after a duplicate tap: published %v, %d pending", got, w.pending(t))
			}
		})
	}
}

// A put that failed after the claim leaves the turn's start events marked on the record; the
// record's end carries them out with its own event, in one put, each once.
func TestTurnStartEventsGoOutWithTheEnd(t *testing.T) {
	w := newOutboxWorld()
	w.bus.Fail = func(events.Event) string { return "ThrottlingException: Rate exceeded" }
	first, err := w.claim(t, nil)
	if err != nil {
		t.Fatalf("the claim waited on the bus: %v", err)
	}
	if !first.StartEvents || first.EventsAt.IsZero() || w.pending(t) != 1 {
		t.Fatalf("after a refused put: start events %v, mark %v, %d pending", first.StartEvents, first.EventsAt, w.pending(t))
	}
	w.bus.Fail = nil
	w.clock.Add(time.Second)
	sent, err := first.Finish(reply.Sent("mid.1", eventstest.Person), true, w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	stored, err := w.store.Update(context.Background(), sent)
	if err != nil {
		t.Fatal(err)
	}
	want := []events.Kind{events.ButtonTapped, events.FollowGatePassed, events.FollowUpSent}
	if got := w.kinds(); !slices.Equal(got, want) || stored.StartEvents || w.pending(t) != 0 {
		t.Fatalf("published %v (want %v), start events %v, %d pending", got, want, stored.StartEvents, w.pending(t))
	}
	w.clock.Add(2 * time.Minute)
	if rep, err := w.drain.Run(context.Background()); err != nil || rep.Pending != 0 {
		t.Errorf("drain after: %+v, %v", rep, err)
	}
}

// The writer died after the claim (or its put failed and the record waits, parked): the drain
// publishes the start events alone, each once, and clears the mark without moving the record's
// version, so its holder's next write still wins. (That write, holding the record from before
// the clear, publishes them again with its end: a duplicate under the same ids.)
func TestTurnStartEventsDrained(t *testing.T) {
	w := newOutboxWorld()
	w.bus.Fail = func(events.Event) string { return "down" }
	first, err := w.claim(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.bus.Fail = nil
	w.clock.Add(2 * time.Minute)
	rep, err := w.drain.Run(context.Background())
	if err != nil || rep.Pending != 1 || rep.Published != 2 || rep.Cleared != 1 || w.pending(t) != 0 {
		t.Fatalf("drain: %+v, %v, %d pending", rep, err, w.pending(t))
	}
	stored, err := w.inner.Get(context.Background(), first.Key)
	if err != nil || stored.StartEvents || !stored.EventsAt.IsZero() || stored.Version != first.Version {
		t.Fatalf("record after the drain: %+v, %v", stored, err)
	}
	ids := map[string]int{}
	for _, ev := range w.bus.Events() {
		ids[ev.Detail.ID]++
	}
	started := events.Started(first)
	for _, ev := range started {
		if ids[ev.Detail.ID] != 1 {
			t.Errorf("%s published %d times", ev.Kind, ids[ev.Detail.ID])
		}
	}
}
