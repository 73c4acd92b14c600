package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

// LeadStore is what the lead contract needs: the leads, and tombstones to bury them behind.
type LeadStore interface {
	lead.Store
	reply.Tombstones
}

// Lead is person's email lead on the suite's account, captured at T0.
func Lead(person, value string) lead.Lead {
	return lead.Lead{AccountID: account, PersonID: person, Kind: lead.KindEmail, Value: value,
		Rule: "book", Step: "email", Consent: "We only send you the book.",
		CapturedAt: T0, ExpiresAt: T0.Add(lead.DefaultRetention)}
}

// Leads is the contract of lead.Store: one lead per account, person and kind however many
// answers race for it, tombstones refuse it, an account's leads page by key, deletion.
func Leads(t *testing.T, newStore func(t *testing.T) LeadStore) {
	t.Run("one lead per person and kind", func(t *testing.T) {
		s := newStore(t)
		first := Lead(person, "ana@example.com")
		if got, err := s.CreateLead(ctx(t), first); err != nil || got != first {
			t.Fatalf("CreateLead = %+v, %v", got, err)
		}
		second := Lead(person, "other@example.com")
		second.CapturedAt = T0.Add(time.Minute)
		got, err := s.CreateLead(ctx(t), second)
		if !errors.Is(err, reply.ErrExists) || got.Value != first.Value {
			t.Fatalf("second answer: %+v, %v; want the first lead and ErrExists", got, err)
		}
		phone := Lead(person, "+4915123456789")
		phone.Kind = lead.KindPhone
		if _, err := s.CreateLead(ctx(t), phone); err != nil {
			t.Fatalf("a phone beside the email: %v", err)
		}
		stored, err := s.Lead(ctx(t), account, person, lead.KindEmail)
		if err != nil || !stored.CapturedAt.Equal(T0) || stored.Value != first.Value || stored.Consent != first.Consent {
			t.Fatalf("Lead = %+v, %v; want %+v", stored, err, first)
		}
	})
	t.Run("concurrent answers make one lead", func(t *testing.T) {
		s := newStore(t)
		const n = 8
		var wg sync.WaitGroup
		var mu sync.Mutex
		won, lost := 0, 0
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.CreateLead(ctx(t), Lead(person, fmt.Sprintf("p%d@example.com", i)))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, reply.ErrExists):
					lost++
				default:
					t.Errorf("CreateLead: %v", err)
				}
			}()
		}
		wg.Wait()
		if won != 1 || lost != n-1 {
			t.Fatalf("%d created, %d refused; want 1 and %d", won, lost, n-1)
		}
	})
	t.Run("tombstones refuse", func(t *testing.T) {
		s := newStore(t)
		if err := s.PutTombstone(ctx(t), reply.Tombstone{PersonID: person, At: T0}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateLead(ctx(t), Lead(person, "a@example.com")); !errors.Is(err, reply.ErrForgotten) {
			t.Fatalf("lead of a forgotten person: %v, want ErrForgotten", err)
		}
		if err := s.PutTombstone(ctx(t), reply.Tombstone{AccountID: account, At: T0}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateLead(ctx(t), Lead("17841400000000902", "b@example.com")); !errors.Is(err, reply.ErrForgotten) {
			t.Fatalf("lead of a deleted account: %v, want ErrForgotten", err)
		}
		if _, err := s.Lead(ctx(t), account, person, lead.KindEmail); !errors.Is(err, reply.ErrNotFound) {
			t.Fatalf("Lead after refusals: %v, want ErrNotFound", err)
		}
	})
	t.Run("pages by account, deletes", func(t *testing.T) {
		s := newStore(t)
		want := map[string]bool{}
		for i := range 5 {
			p := fmt.Sprintf("1784140000000100%d", i)
			if _, err := s.CreateLead(ctx(t), Lead(p, "x@example.com")); err != nil {
				t.Fatal(err)
			}
			want[p] = true
		}
		other := Lead(person, "y@example.com")
		other.AccountID = "17841400000000002"
		if _, err := s.CreateLead(ctx(t), other); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		cursor, pages := "", 0
		for {
			page, next, err := s.Leads(ctx(t), account, cursor, 2)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, l := range page {
				if l.AccountID != account || got[l.PersonID] {
					t.Fatalf("page %d: %+v: another account's, or twice", pages, l)
				}
				got[l.PersonID] = true
			}
			if cursor = next; cursor == "" {
				break
			}
		}
		if len(got) != len(want) || pages < 3 {
			t.Fatalf("%d leads in %d pages, want %d in at least 3", len(got), pages, len(want))
		}
		if _, _, err := s.Leads(ctx(t), account, "not-a-cursor", 2); err == nil {
			t.Fatal("a forged cursor was accepted")
		}
		for p := range want {
			if err := s.DeleteLead(ctx(t), account, p, lead.KindEmail); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteLead(ctx(t), account, person, lead.KindPhone); err != nil {
			t.Fatalf("deleting none: %v", err)
		}
		if page, _, err := s.Leads(ctx(t), account, "", 10); err != nil || len(page) != 0 {
			t.Fatalf("after deletion: %d leads, %v", len(page), err)
		}
		if _, err := s.Lead(ctx(t), other.AccountID, person, lead.KindEmail); err != nil {
			t.Fatalf("the other account's lead went too: %v", err)
		}
	})
	t.Run("refuses what is not a lead", func(t *testing.T) {
		s := newStore(t)
		bad := Lead(person, "")
		if _, err := s.CreateLead(ctx(t), bad); err == nil {
			t.Fatal("a lead without a value was stored")
		}
	})
}

// answerRecord is the record of an answer part of the asking step "email", for the answer mid.
func answerRecord(answer, mid string) reply.Record {
	f := reply.FollowUp{PersonID: person, Rule: "book", Step: "email", Index: 0, Of: 1, Answer: answer,
		Digest: reply.Message{Text: answer}.Digest(), Trigger: mid, Lane: reply.LaneText, Deadline: T0.Add(reply.ConversationWindow)}
	job := reply.Job{V: reply.JobVersion, AccountID: account, FollowUp: &f}
	rec, err := reply.NewRecord(job, T0).Claim(job, "w", T0, T0.Add(time.Minute))
	if err != nil {
		panic(err)
	}
	return rec
}

// testAnswerClaims: a part of a question's answer (a retry, the confirmation) is due once per
// question: two answers racing for it make one claim, and a later question's is due again.
func testAnswerClaims(t *testing.T, s reply.Store) {
	step := reply.Step{Name: "email", Messages: []reply.Message{{Text: "Your email?"}}}
	asked := T0.Add(-time.Minute)
	claim := func(answer string, at, since time.Time) reply.StepClaim {
		return reply.StepClaim{AccountID: account, PersonID: person, Rule: "book", Step: step, Answer: answer, Since: since, At: at}
	}
	retry := reply.AnswerRetry(1)
	if _, err := s.ClaimStep(ctx(t), []reply.Record{answerRecord(retry, "a1")}, claim(retry, T0, asked)); err != nil {
		t.Fatalf("first retry: %v", err)
	}
	// Another answer to the same question: its retry 1 is taken.
	if _, err := s.ClaimStep(ctx(t), []reply.Record{answerRecord(retry, "a2")}, claim(retry, T0.Add(time.Second), asked)); !errors.Is(err, reply.ErrConflict) {
		t.Fatalf("a second retry 1 of one question: %v, want ErrConflict", err)
	}
	// The same answer again meets its record.
	if _, err := s.ClaimStep(ctx(t), []reply.Record{answerRecord(retry, "a1")}, claim(retry, T0, asked)); !errors.Is(err, reply.ErrExists) {
		t.Fatalf("the same answer again: %v, want ErrExists", err)
	}
	// The confirmation is another part: due.
	if _, err := s.ClaimStep(ctx(t), []reply.Record{answerRecord(reply.AnswerConfirm, "a3")}, claim(reply.AnswerConfirm, T0.Add(2*time.Second), asked)); err != nil {
		t.Fatalf("confirmation: %v", err)
	}
	// Claiming a confirmation whose question names a next step marks that step sent too.
	next := step
	next.Ask = &reply.Ask{Kind: reply.AskEmail, Next: "sample"}
	if _, err := s.ClaimStep(ctx(t), []reply.Record{answerRecord(reply.AnswerConfirm, "a5")}, reply.StepClaim{AccountID: account, PersonID: person,
		Rule: "book", Step: next, Answer: reply.AnswerConfirm, Since: T0.Add(30 * time.Minute), At: T0.Add(31 * time.Minute)}); err != nil {
		t.Fatalf("confirmation with a next step: %v", err)
	}
	if at := conversation(t, s).Steps[reply.StepKey("book", "sample")]; !at.Equal(T0.Add(31 * time.Minute)) {
		t.Errorf("the next step's send time %v, want the confirmation's", at)
	}
	// A question asked later (after the last retry 1) may have its own retry 1.
	if _, err := s.ClaimStep(ctx(t), []reply.Record{answerRecord(retry, "a4")}, claim(retry, T0.Add(time.Hour), T0.Add(time.Minute))); err != nil {
		t.Fatalf("retry 1 of a later question: %v", err)
	}
	c := conversation(t, s)
	if at := c.Steps[reply.AnswerKey("book", "email", retry)]; !at.Equal(T0.Add(time.Hour)) {
		t.Errorf("retry 1 last sent at %v, want %v", at, T0.Add(time.Hour))
	}
}
