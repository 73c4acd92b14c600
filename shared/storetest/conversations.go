package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

const person = "17841400000000901"

// FollowUp is the record of message i of step, triggered by mid at T0, claimed by "w" until
// T0+1m.
func FollowUp(step reply.Step, i int, mid string) reply.Record {
	f := reply.FollowUp{PersonID: person, Rule: "recipe", Step: step.Name, Index: i, Trigger: mid,
		Once: !step.Resend, Lane: reply.LaneText, Deadline: T0.Add(reply.ConversationWindow)}
	job := reply.Job{V: reply.JobVersion, AccountID: account, FollowUp: &f}
	rec, err := reply.NewRecord(job, T0).Claim(job, "w", T0, T0.Add(time.Minute))
	if err != nil {
		panic(err)
	}
	return rec
}

func touch(t *testing.T, s reply.Store, tc reply.Touch) reply.Conversation {
	t.Helper()
	tc.AccountID, tc.PersonID = account, person
	before, err := s.Touch(ctx(t), tc)
	if err != nil {
		t.Fatalf("Touch(%+v): %v", tc, err)
	}
	return before
}

func conversation(t *testing.T, s reply.Store) reply.Conversation {
	t.Helper()
	c, err := s.Conversation(ctx(t), account, person)
	if err != nil {
		t.Fatalf("Conversation: %v", err)
	}
	return c
}

func testTouch(t *testing.T, s reply.Store) {
	if _, err := s.Conversation(ctx(t), account, person); !errors.Is(err, reply.ErrNotFound) {
		t.Fatalf("Conversation of nobody: %v, want ErrNotFound", err)
	}
	if before := touch(t, s, reply.Touch{Rule: "recipe", Username: "ana", Now: T0}); before.PersonID != "" {
		t.Fatalf("first touch: before = %+v, want none", before)
	}
	tap := T0.Add(time.Minute)
	before := touch(t, s, reply.Touch{At: tap, Now: tap})
	if before.Rule != "recipe" || before.Username != "ana" || !before.WindowEnd.IsZero() {
		t.Fatalf("before the tap: %+v", before)
	}
	want := reply.Conversation{AccountID: account, PersonID: person, Rule: "recipe", Username: "ana",
		LastInbound: tap, WindowEnd: tap.Add(reply.ConversationWindow), UpdatedAt: tap}
	Same(t, "after the tap", conversation(t, s), want)

	// An older event (out of order) or a duplicate never moves the window back; Touch still
	// answers with the conversation.
	for _, at := range []time.Time{T0.Add(30 * time.Second), tap} {
		Same(t, "touch with an older event answers", touch(t, s, reply.Touch{At: at, Now: tap.Add(time.Hour)}), want)
	}
	Same(t, "after older events", conversation(t, s), want)

	// A human's answer pauses; an older pause never shortens a later one.
	touch(t, s, reply.Touch{At: tap, Pause: 24 * time.Hour, Now: tap})
	touch(t, s, reply.Touch{At: T0, Pause: time.Hour, Now: tap})
	if got := conversation(t, s); !got.PausedUntil.Equal(tap.Add(24*time.Hour)) || !got.WindowEnd.Equal(want.WindowEnd) {
		t.Fatalf("after pauses: %+v", got)
	}
	if err := s.DeleteConversation(ctx(t), account, person); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Conversation(ctx(t), account, person); !errors.Is(err, reply.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func testClaimStep(t *testing.T, s reply.Store) {
	once := reply.Step{Name: "link", Messages: []reply.Message{{Text: "a"}, {Text: "b"}}}
	claim := reply.StepClaim{AccountID: account, PersonID: person, Rule: "recipe", Step: once, At: T0}
	recs := []reply.Record{FollowUp(once, 0, "m1"), FollowUp(once, 1, "m1")}
	if _, err := s.ClaimStep(ctx(t), recs, claim); err != nil {
		t.Fatalf("ClaimStep: %v", err)
	}
	for _, r := range recs {
		got, err := s.Get(ctx(t), r.Key)
		if err != nil {
			t.Fatalf("Get %s: %v", r.Key, err)
		}
		Same(t, "claimed record", got, r)
	}
	c := conversation(t, s)
	if !c.Steps["link"].Equal(T0) || !c.LastAutomated.Equal(T0) || c.Rule != "recipe" {
		t.Fatalf("conversation after the claim: %+v", c)
	}
	// The same trigger again meets its records; another tap finds the step sent already.
	if old, err := s.ClaimStep(ctx(t), recs, claim); !errors.Is(err, reply.ErrExists) || old.Key != recs[0].Key {
		t.Fatalf("claim again: %v (%s), want ErrExists with the record", err, old.Key)
	}
	other := reply.StepClaim{AccountID: account, PersonID: person, Step: once, At: T0.Add(time.Hour)}
	// A once step's records are keyed per conversation: the second tap meets the first's.
	if old, err := s.ClaimStep(ctx(t), []reply.Record{FollowUp(once, 0, "m2")}, other); !errors.Is(err, reply.ErrExists) || old.Job.FollowUp.Trigger != "m1" {
		t.Fatalf("a second tap on a once step: %v, want ErrExists with the first tap's record", err)
	}

	// A resend step goes again once its cooldown passed, and only once per cooldown, however
	// many taps race for it.
	resend := reply.Step{Name: "again", Resend: true, Cooldown: 10 * time.Minute, Messages: []reply.Message{{Text: "x"}}}
	at := func(d time.Duration) reply.StepClaim {
		return reply.StepClaim{AccountID: account, PersonID: person, Step: resend, At: T0.Add(d)}
	}
	if _, err := s.ClaimStep(ctx(t), []reply.Record{FollowUp(resend, 0, "r1")}, at(0)); err != nil {
		t.Fatalf("first resend: %v", err)
	}
	if _, err := s.ClaimStep(ctx(t), []reply.Record{FollowUp(resend, 0, "r2")}, at(5*time.Minute)); !errors.Is(err, reply.ErrConflict) {
		t.Fatalf("inside the cooldown: %v, want ErrConflict", err)
	}
	if _, err := s.Get(ctx(t), FollowUp(resend, 0, "r2").Key); !errors.Is(err, reply.ErrNotFound) {
		t.Fatalf("a refused claim wrote its record: %v", err)
	}
	var wg sync.WaitGroup
	won := make(chan string, 4)
	for _, mid := range []string{"r3", "r4", "r5", "r6"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.ClaimStep(ctx(t), []reply.Record{FollowUp(resend, 0, mid)}, at(11*time.Minute)); err == nil {
				won <- mid
			}
		}()
	}
	wg.Wait()
	close(won)
	if n := len(won); n != 1 {
		t.Fatalf("%d racing taps past the cooldown claimed the step, want 1", n)
	}
}

func testClaimStepForgotten(t *testing.T, s reply.Store) {
	if err := s.PutTombstone(ctx(t), reply.Tombstone{PersonID: person, At: T0}); err != nil {
		t.Fatal(err)
	}
	step := reply.Step{Name: "link", Messages: []reply.Message{{Text: "a"}}}
	_, err := s.ClaimStep(ctx(t), []reply.Record{FollowUp(step, 0, "m1")}, reply.StepClaim{AccountID: account, PersonID: person, Step: step, At: T0})
	if !errors.Is(err, reply.ErrForgotten) {
		t.Fatalf("claim for a forgotten person: %v, want ErrForgotten", err)
	}
}

// testConversations pages through conversations of several accounts and people, and only them.
func testConversations(t *testing.T, s reply.Store) {
	var want []string
	for i := range 7 {
		tc := reply.Touch{AccountID: fmt.Sprintf("1784140000000%04d", i%3), PersonID: fmt.Sprintf("1784140000001%04d", i),
			Rule: "recipe", At: T0.Add(time.Duration(i) * time.Minute), Now: T0}
		if _, err := s.Touch(ctx(t), tc); err != nil {
			t.Fatalf("Touch %d: %v", i, err)
		}
		want = append(want, reply.ConversationKey(tc.AccountID, tc.PersonID))
	}
	slices.Sort(want)
	// Reply records and accounts are not conversations.
	create(t, s, Parked(1, T0))
	if _, err := s.PutAccount(ctx(t), reply.Account{ID: account, Login: reply.LoginInstagram, TokenParam: "/t", Version: 1}); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{1, 3, 50} {
		got := Pages(t, limit, len(want), func(cursor string) ([]string, string, error) {
			convs, next, err := s.Conversations(ctx(t), cursor, limit)
			var ks []string
			for _, c := range convs {
				if c.Rule != "recipe" || c.WindowEnd.IsZero() {
					t.Fatalf("limit %d: conversation %+v, want it as touched", limit, c)
				}
				ks = append(ks, reply.ConversationKey(c.AccountID, c.PersonID))
			}
			return ks, next, err
		})
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("limit %d: conversations\n got %v\nwant %v", limit, got, want)
		}
	}
}
