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
	return FollowUpOf("recipe", step, i, mid)
}

// FollowUpOf is FollowUp in rule's flow.
func FollowUpOf(rule string, step reply.Step, i int, mid string) reply.Record {
	digest := reply.Message{Text: fmt.Sprint("message ", i)}.Digest()
	if i < len(step.Messages) {
		digest = step.Messages[i].Digest()
	}
	f := reply.FollowUp{PersonID: person, Rule: rule, Step: step.Key(), Index: i, Of: max(i+1, len(step.Messages)),
		Digest: digest, Trigger: mid, Once: !step.Resend, Lane: reply.LaneText, Deadline: T0.Add(reply.ConversationWindow)}
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
	if !c.Steps[claim.Key()].Equal(T0) || !c.LastAutomated.Equal(T0) || c.Rule != "recipe" {
		t.Fatalf("conversation after the claim: %+v", c)
	}
	// The same trigger again meets its records; another tap finds the step sent already.
	if old, err := s.ClaimStep(ctx(t), recs, claim); !errors.Is(err, reply.ErrExists) || old.Key != recs[0].Key {
		t.Fatalf("claim again: %v (%s), want ErrExists with the record", err, old.Key)
	}
	other := reply.StepClaim{AccountID: account, PersonID: person, Rule: "recipe", Step: once, At: T0.Add(time.Hour)}
	// A once step's records are keyed per conversation: the second tap meets the first's.
	if old, err := s.ClaimStep(ctx(t), []reply.Record{FollowUp(once, 0, "m2")}, other); !errors.Is(err, reply.ErrExists) || old.Job.FollowUp.Trigger != "m1" {
		t.Fatalf("a second tap on a once step: %v, want ErrExists with the first tap's record", err)
	}

	// A resend step goes again once its cooldown passed, and only once per cooldown, however
	// many taps race for it.
	resend := reply.Step{Name: "again", Resend: true, Cooldown: 10 * time.Minute, Messages: []reply.Message{{Text: "x"}}}
	at := func(d time.Duration) reply.StepClaim {
		return reply.StepClaim{AccountID: account, PersonID: person, Rule: "recipe", Step: resend, At: T0.Add(d)}
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

// testTouchForgotten is case 6 of issue 19: a conversation's first write checks the tombstones,
// so an event still queued after a deletion cannot write the person's conversation back.
func testTouchForgotten(t *testing.T, s reply.Store) {
	const other = "17841400000000002" // an account deleted whole
	graves := []reply.Tombstone{{PersonID: person, At: T0}, {AccountID: other, At: T0}}
	for _, g := range graves {
		if err := s.PutTombstone(ctx(t), g); err != nil {
			t.Fatal(err)
		}
		acct := account
		if g.AccountID != "" {
			acct = g.AccountID
		}
		for _, tc := range []reply.Touch{
			{At: T0.Add(-time.Hour), Now: T0.Add(time.Minute)},                    // a tap queued before the deletion
			{At: T0.Add(-time.Hour), Pause: time.Hour, Now: T0.Add(time.Minute)},  // a human's echo
			{Rule: "recipe", Username: "ana", Now: T0.Add(reply.DeliveryHorizon)}, // a private reply's touch
		} {
			tc.AccountID, tc.PersonID = acct, person
			if _, err := s.Touch(ctx(t), tc); !errors.Is(err, reply.ErrForgotten) {
				t.Fatalf("tombstone %s: Touch(%+v) = %v, want ErrForgotten", g.Key(), tc, err)
			}
			if c, err := s.Conversation(ctx(t), acct, person); !errors.Is(err, reply.ErrNotFound) {
				t.Fatalf("tombstone %s: a refused touch wrote %+v (%v)", g.Key(), c, err)
			}
		}
		if err := s.Disclosed(ctx(t), acct, person, T0); err != nil {
			t.Fatalf("Disclosed of a forgotten person: %v", err)
		}
		if _, err := s.Conversation(ctx(t), acct, person); !errors.Is(err, reply.ErrNotFound) {
			t.Fatalf("Disclosed created a forgotten person's conversation: %v", err)
		}
	}
	// The person writes again long after the deletion: a new conversation.
	late := T0.Add(reply.DeliveryHorizon + time.Minute)
	touch(t, s, reply.Touch{At: late, Now: late})
	if c := conversation(t, s); !c.WindowEnd.Equal(late.Add(reply.ConversationWindow)) {
		t.Fatalf("a new conversation after the deletion: %+v", c)
	}
}

// testStepsOfTwoRules is case 1 of issue 19: two flows' steps of the same name are two steps,
// and a step called "x#gate" is not x's follow gate.
func testStepsOfTwoRules(t *testing.T, s reply.Store) {
	link := reply.Step{Name: "link", Messages: []reply.Message{{Text: "a"}}}
	for _, rule := range []string{"recipe", "guide"} {
		claim := reply.StepClaim{AccountID: account, PersonID: person, Rule: rule, Step: link, At: T0}
		if _, err := s.ClaimStep(ctx(t), []reply.Record{FollowUpOf(rule, link, 0, "m1")}, claim); err != nil {
			t.Fatalf("claim %s's link: %v", rule, err)
		}
	}
	x, xgate := reply.Step{Name: "x", Messages: []reply.Message{{Text: "x"}}}, reply.Step{Name: "x#gate", Messages: []reply.Message{{Text: "y"}}}
	gate := reply.StepClaim{AccountID: account, PersonID: person, Rule: "recipe", Step: x, Gate: true, At: T0}
	rec := FollowUpOf("recipe", x, 0, "m2")
	rec.Job.FollowUp.Gate, rec.Job.FollowUp.Once = true, false
	rec.Key = rec.Job.Key()
	if _, err := s.ClaimStep(ctx(t), []reply.Record{rec}, gate); err != nil {
		t.Fatalf("claim x's gate: %v", err)
	}
	claim := reply.StepClaim{AccountID: account, PersonID: person, Rule: "recipe", Step: xgate, At: T0}
	if _, err := s.ClaimStep(ctx(t), []reply.Record{FollowUpOf("recipe", xgate, 0, "m3")}, claim); err != nil {
		t.Fatalf("claim the step x#gate after x's gate: %v", err)
	}
	c := conversation(t, s)
	if len(c.Steps) != 4 {
		t.Fatalf("steps %v, want recipe's and guide's link, x's gate and x#gate", c.Steps)
	}
}

// testDisclosed: the disclosure owed at a claim stays owed until a delivery is recorded.
func testDisclosed(t *testing.T, s reply.Store) {
	step := reply.Step{Name: "link", Messages: []reply.Message{{Text: "a"}}}
	claim := reply.StepClaim{AccountID: account, PersonID: person, Rule: "recipe", Step: step, Disclose: true, At: T0}
	if _, err := s.ClaimStep(ctx(t), []reply.Record{FollowUp(step, 0, "m1")}, claim); err != nil {
		t.Fatal(err)
	}
	if c := conversation(t, s); !c.DisclosureOwed.Equal(T0) || !c.Owes() {
		t.Fatalf("after a claim with the disclosure: %+v, want it owed", c)
	}
	for _, at := range []time.Time{T0.Add(time.Second), T0} { // a later one stays
		if err := s.Disclosed(ctx(t), account, person, at); err != nil {
			t.Fatal(err)
		}
	}
	if c := conversation(t, s); !c.DisclosedAt.Equal(T0.Add(time.Second)) || c.Owes() {
		t.Fatalf("after the delivery: %+v, want it disclosed", c)
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

// testSentMessage: a record that holds Meta's message id is found by it (an echo of our own
// send), until the record is deleted.
func testSentMessage(t *testing.T, s reply.Store) {
	rec := FollowUp(reply.Step{Name: "link", Messages: []reply.Message{{Text: "a"}}}, 0, "m1")
	create(t, s, rec)
	sent, err := rec.Finish(reply.Sent("m_meta_1", person), true, T0)
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, sent)
	for mid, want := range map[string]bool{"m_meta_1": true, "m_meta_2": false, "": false} {
		if got, err := s.SentMessage(ctx(t), mid); err != nil || got != want {
			t.Fatalf("SentMessage(%q) = %v, %v; want %v", mid, got, err, want)
		}
	}
	if err := s.Delete(ctx(t), rec.Key); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SentMessage(ctx(t), "m_meta_1"); err != nil || got {
		t.Fatalf("SentMessage after the record was deleted = %v, %v; want false", got, err)
	}
}
