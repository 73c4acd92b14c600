package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/reply"
)

// CountStore is a store that keeps funnel counts with its transitions.
type CountStore interface {
	reply.Store
	funnel.Reader
	AddCounts(ctx context.Context, t funnel.Tally) error
}

// Counts is the contract of funnel counts: written with the transition that causes them, so a
// duplicate create, a stale update, a racing worker or a retry counts nothing more; read back
// by account and days.
func Counts(t *testing.T, newStore func(t *testing.T) CountStore) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s CountStore)
	}{
		{"OnceOnTerminal", testCountOnce},
		{"RacingFinishers", testCountRace},
		{"FollowUps", testCountFollowUps},
		{"DaysAndAccounts", testCountRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// counts sums the account's counts of the day of T0 by name.
func counts(t *testing.T, s CountStore) map[string]int64 {
	t.Helper()
	rows, err := s.Counts(ctx(t), account, T0, T0)
	if err != nil {
		t.Fatalf("counts: %v", err)
	}
	sum := map[string]int64{}
	for _, r := range rows {
		for k, v := range r.Counts {
			sum[r.Rule+"/"+r.Variant+"/"+k] += v
		}
	}
	return sum
}

func wantCounts(t *testing.T, got, want map[string]int64) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok && v != 0 {
			t.Errorf("%s: %d, want none (all: %v)", k, v, got)
		}
	}
}

// sent is job i's record claimed (version 1, created) and its SENT outcome (version 2), with
// the attribution the replier writes.
func sent(t *testing.T, i int) (claimed, done reply.Record) {
	t.Helper()
	j := Job(i)
	claimed, err := reply.NewRecord(j, T0).Claim(j, "w1", T0, T0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	claimed.Rule, claimed.Variant = "recipe", "B"
	done, err = claimed.Finish(reply.Sent("m_1", "r_1"), true, T0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return claimed, done
}

func testCountOnce(t *testing.T, s CountStore) {
	claimed, done := sent(t, 1)
	create(t, s, claimed)
	wantCounts(t, counts(t, s), map[string]int64{}) // a claim is no outcome
	if _, err := s.Update(ctx(t), done); err != nil {
		t.Fatal(err)
	}
	// A retry of the same write, a stale worker's: both lose the version and count nothing.
	if _, err := s.Update(ctx(t), done); !errors.Is(err, reply.ErrConflict) {
		t.Fatalf("repeated update: %v, want ErrConflict", err)
	}
	// A comment created SKIPPED at once counts once; its duplicate delivery's create, nothing.
	skipped := reply.NewSkipped(Job(2), reply.SkipNoRule, T0)
	create(t, s, skipped)
	if _, err := s.Create(ctx(t), skipped); !errors.Is(err, reply.ErrExists) {
		t.Fatalf("duplicate create: %v, want ErrExists", err)
	}
	wantCounts(t, counts(t, s), map[string]int64{
		"recipe/B/matched": 1, "recipe/B/sent": 1,
		"-//skipped": 1, "-//skipped:no_rule": 1,
	})
}

func testCountRace(t *testing.T, s CountStore) {
	claimed, done := sent(t, 3)
	create(t, s, claimed)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { _, _ = s.Update(ctx(t), done) })
	}
	wg.Wait()
	wantCounts(t, counts(t, s), map[string]int64{"recipe/B/matched": 1, "recipe/B/sent": 1})
}

func testCountFollowUps(t *testing.T, s CountStore) {
	mk := func(f reply.FollowUp, state reply.Outcome) {
		t.Helper()
		f.PersonID, f.Rule, f.Trigger, f.Lane, f.Deadline = "6200000000000001", "recipe", "mid_1", reply.LaneText, T0.Add(time.Hour)
		j := reply.Job{V: reply.JobVersion, AccountID: account, FollowUp: &f}
		c, err := reply.NewRecord(j, T0).Claim(j, "w1", T0, T0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		create(t, s, c)
		d, err := c.Finish(state, true, T0.Add(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(ctx(t), d); err != nil {
			t.Fatal(err)
		}
	}
	// A tapped gated step whose person did not follow: the gate's message (gate met, tap).
	mk(reply.FollowUp{Step: "link", Gate: true, Tap: true, Gated: true, Variant: "A", Of: 1}, reply.Sent("m_g", "r"))
	// Tapped again after following: the step's two messages (gate passed once, two follow-ups).
	mk(reply.FollowUp{Step: "link", Index: 0, Of: 2, Tap: true, Gated: true, Variant: "A", Trigger: "mid_2"}, reply.Sent("m_a", "r"))
	mk(reply.FollowUp{Step: "link", Index: 1, Of: 2, Tap: true, Gated: true, Variant: "A", Trigger: "mid_2"}, reply.Sent("m_b", "r"))
	// A step Meta refused: the tap counts, no follow-up.
	mk(reply.FollowUp{Step: "more", Index: 0, Of: 1, Tap: true, Variant: "A", Trigger: "mid_3"},
		reply.Outcome{State: reply.StateFailed, Reason: "551"})
	wantCounts(t, counts(t, s), map[string]int64{
		"recipe/A/taps": 3, "recipe/A/gates_met": 1, "recipe/A/gates_passed": 1, "recipe/A/followups_sent": 3,
	})
}

func testCountRange(t *testing.T, s CountStore) {
	add := func(acct string, day time.Time, n int) {
		t.Helper()
		for range n {
			if err := s.AddCounts(ctx(t), funnel.Click(acct, "recipe", "A", "18000000000000001", "L1", day, false)); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(account, T0.AddDate(0, 0, -31), 1) // before the month
	add(account, T0.AddDate(0, 0, -29), 2)
	add(account, T0, 3)
	add(account, T0.AddDate(0, 0, 1), 4) // after
	add("17841400000000002", T0, 5)      // another account
	rows, err := s.Counts(ctx(t), account, T0.AddDate(0, 0, -29), T0)
	if err != nil {
		t.Fatal(err)
	}
	var days []string
	var clicks int64
	for _, r := range rows {
		days = append(days, r.Day)
		clicks += r.Counts["clicks"]
		if r.Counts["clicks:L1"] != r.Counts["clicks"] || r.Media != "18000000000000001" || r.Variant != "A" {
			t.Errorf("row %+v", r)
		}
	}
	if clicks != 5 || len(days) != 2 || days[0] > days[1] {
		t.Errorf("30 days: %d clicks on days %v, want 5 on two days in order", clicks, days)
	}
	if _, err := s.Counts(ctx(t), account, T0, T0.AddDate(0, 0, -1)); err == nil {
		t.Error("from after to: no error")
	}
}
