package eventbridge_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
	"github.com/replywindow/replywindow/shared/reply"
)

// tapClaim is the claim of eventstest.TapTurn's step by tap trigger at now.
func tapClaim(trigger string, now time.Time) ([]reply.Record, reply.StepClaim) {
	rec := eventstest.TapTurn()
	f := *rec.Job.FollowUp
	f.Trigger = trigger
	rec.Job.FollowUp = &f
	rec.Key = rec.Job.Key()
	return []reply.Record{rec}, reply.StepClaim{AccountID: eventstest.Account, PersonID: eventstest.Person, Rule: f.Rule,
		Step: reply.Step{Name: f.Step, Resend: true, Cooldown: time.Minute}, At: now}
}

// TestTapOnMoto: a tap's ButtonTapped and the gate's FollowGatePassed ride on the step claim's
// transaction (DynamoDB on moto) and go out as documented; a duplicate tap or a claim the step's
// cooldown refuses publishes nothing; a put that failed goes out with the record's end.
func TestTapOnMoto(t *testing.T) {
	s := newStack(t)
	ctx := awstest.Context(t)
	recs, claim := tapClaim("aWdfZAG1faXRlbTox", s.clock.Now())
	first, err := s.outbox.ClaimStep(ctx, recs, claim)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ButtonTapped", "FollowGatePassed"}
	if got := s.kinds(t); !slices.Equal(got, want) || first.StartEvents || s.pending(t) != 0 {
		t.Fatalf("received %v (want %v), start events %v, %d pending", got, want, first.StartEvents, s.pending(t))
	}
	// The same tap again, and another tap within the step's cooldown: refused, no event.
	if _, err := s.outbox.ClaimStep(ctx, recs, claim); !errors.Is(err, reply.ErrExists) {
		t.Fatalf("duplicate tap: %v", err)
	}
	again, c2 := tapClaim("aWdfZAG1faXRlbToz", s.clock.Now().Add(time.Second))
	if _, err := s.outbox.ClaimStep(ctx, again, c2); !errors.Is(err, reply.ErrConflict) {
		t.Fatalf("tap within the cooldown: %v", err)
	}
	if got := s.kinds(t); len(got) != 0 || s.pending(t) != 0 {
		t.Fatalf("after refused claims: received %v, %d pending", got, s.pending(t))
	}

	// The bus is down at the next tap: the claim does not wait, the record keeps the mark, and
	// its end (SENT) carries the start events out with its own, in one put.
	s.clock.Add(2 * time.Minute)
	s.bus.down = true
	recs, claim = tapClaim("aWdfZAG1faXRlbTo0", s.clock.Now())
	first, err = s.outbox.ClaimStep(ctx, recs, claim)
	if err != nil || !first.StartEvents || s.pending(t) != 1 {
		t.Fatalf("claim with the bus down: start events %v, %v, %d pending", first.StartEvents, err, s.pending(t))
	}
	s.bus.down = false
	sent, err := first.Finish(reply.Sent("mid.4", eventstest.Person), true, s.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.outbox.Update(ctx, sent); err != nil {
		t.Fatal(err)
	}
	raws := s.Received(t)
	var got []string
	ids := map[string]bool{}
	for _, raw := range raws {
		if err := eventstest.Check(raw); err != nil {
			t.Error(err)
		}
		e := decode(t, raw)
		got = append(got, e.DetailType)
		ids[string(e.Detail)] = true
	}
	slices.Sort(got)
	if want := []string{"ButtonTapped", "FollowGatePassed", "FollowUpSent"}; !slices.Equal(got, want) || s.pending(t) != 0 {
		t.Fatalf("received %v, want %v; %d pending", got, want, s.pending(t))
	}
	for _, ev := range events.Started(first) {
		found := false
		for d := range ids {
			found = found || strings.Contains(d, ev.Detail.ID)
		}
		if !found {
			t.Errorf("%s %s not received", ev.Kind, ev.Detail.ID)
		}
	}
	s.clock.Add(2 * time.Minute)
	if rep, err := s.drain.Run(ctx); err != nil || rep.Pending != 0 {
		t.Errorf("drain after: %+v, %v", rep, err)
	}
}
