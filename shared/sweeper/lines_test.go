package sweeper

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestLinePlan: a line is read every run while its lane may have jobs (its bucket refused since a
// lineLag before the line was last read empty, or a cold start and a bucket ever written); the
// quiet ones a share a run, the longest unread first, so each is read within lineRecheck.
func TestLinePlan(t *testing.T) {
	lim := reply.DefaultPostsLimit
	spent := func(at time.Time) reply.Bucket { // the burst taken at `at`: the next send refused
		_, b, _ := lim.Take(reply.Bucket{}, at, lim.BurstSize())
		return b
	}
	now := t0.Add(time.Minute)
	tests := []struct {
		name   string
		last   time.Duration // when the line was last read empty, before now; 0: never
		bucket reply.Bucket
		read   bool
	}{
		// No job can wait in it, but as the longest unread it takes the share's read.
		{name: "never read, bucket never written", bucket: reply.Bucket{}, read: true},
		{name: "never read, bucket written: a cold start reads it", bucket: used(lim, t0.Add(-time.Hour)), read: true},
		{name: "read empty, bucket idle", last: time.Minute, bucket: reply.Bucket{}},
		{name: "read empty, bucket used a while before", last: time.Minute, bucket: used(lim, t0.Add(-5*time.Minute))},
		// Three sends are no refusal, but a TAT that far ahead could be one: the line is read.
		{name: "read empty, bucket used since", last: time.Minute, bucket: used(lim, t0.Add(30*time.Second)), read: true},
		{name: "read empty, the bucket refused since", last: time.Minute, bucket: spent(t0.Add(30 * time.Second)), read: true},
		{name: "read empty, refused just before the read: a park still on its way", last: time.Minute, bucket: spent(t0.Add(-30 * time.Second)), read: true},
		{name: "read empty long after the bucket last refused", last: time.Minute, bucket: spent(t0.Add(-time.Hour))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q quietLines
			g := group{"A", reply.LanePosts}
			if tt.last > 0 {
				q.read(g, now.Add(-tt.last), 0)
			}
			// Nineteen quiet lanes read five minutes ago stand beside it: the share of twenty quiet
			// lanes is two, and goes to the longest unread, which this lane is only when never read.
			var lanes []lane
			for i := range 19 {
				o := group{fmt.Sprintf("Q%02d", i), reply.LanePosts}
				q.read(o, now.Add(-5*time.Minute), 0)
				lanes = append(lanes, lane{o, lim, reply.Bucket{}})
			}
			lanes = append(lanes, lane{g, lim, tt.bucket})
			if plan := q.plan(lanes, now, time.Minute); plan[g] != tt.read || len(plan) < 2 || len(plan) > 3 {
				t.Errorf("read %v, want %v (plan %v)", plan[g], tt.read, plan)
			}
		})
	}
}

// TestLinePlanSpreadsRechecks: quiet lines are read a share a run, each within lineRecheck; a
// line read with jobs in it is forgotten and read again.
func TestLinePlanSpreadsRechecks(t *testing.T) {
	lim := reply.DefaultPostsLimit
	var q quietLines
	var lanes []lane
	for i := range 25 {
		lanes = append(lanes, lane{group{fmt.Sprintf("A%02d", i), reply.LanePosts}, lim, reply.Bucket{}})
	}
	last := map[group]time.Time{}
	now := t0
	for run := range 30 {
		plan := q.plan(lanes, now, time.Minute)
		if len(plan) != 3 { // 25 lanes over 10 runs
			t.Fatalf("run %d read %d lines, want 3", run, len(plan))
		}
		for g := range plan {
			n := 0
			if run == 12 && g.account == "A07" {
				n = 2 // jobs: forgotten, so read first next run
			}
			q.read(g, now, n)
			last[g] = now
		}
		now = now.Add(time.Minute)
		if run < 10 {
			continue
		}
		for _, l := range lanes {
			if now.Sub(last[l.g]) > lineRecheck {
				t.Fatalf("run %d: %s unread since %s", run, l.g.account, last[l.g].Sub(t0))
			}
		}
	}
}

// used is a bucket three sends were taken from at `at`.
func used(lim reply.Limit, at time.Time) reply.Bucket {
	_, b, _ := lim.Take(reply.Bucket{}, at, 3)
	return b
}

// waitingCounted counts the store's Waiting calls, the reads of lanes' lines, by account.
type waitingCounted struct {
	reply.Store
	mu sync.Mutex
	n  map[string]int
}

func (s *waitingCounted) Waiting(ctx context.Context, account string, lane reply.Lane, limit int) ([]reply.Record, error) {
	s.mu.Lock()
	s.n[reply.BucketKey(account, lane)]++
	s.mu.Unlock()
	return s.Store.Waiting(ctx, account, lane, limit)
}

// took is the reads since the last call, and those of the lane (a bucket key) among them.
func (s *waitingCounted) took(lane string) (all, of int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.n {
		all += n
	}
	of = s.n[lane]
	clear(s.n)
	return all, of
}

// TestIdleLinesReadOnceInAWhile: the idle lanes of many accounts cost a bucket read a run and
// their lines a read each lineRecheck, spread over the runs; a job parked after its bucket
// refused it is released on the next run all the same.
func TestIdleLinesReadOnceInAWhile(t *testing.T) {
	for _, mk := range backends {
		t.Run(mk.name, func(t *testing.T) {
			e := newEnv(t, mk)
			const accounts = 10
			for a := range accounts { // conversing: every lane usable (TestUnusedLanesReadOnceInAWhile)
				e.account(t, fmt.Sprintf("A%02d", a), converse)
			}
			store := &waitingCounted{Store: e.store, n: map[string]int{}}
			s := New(Config{}, store, e.queue, e.graph, e.tokens, e.clock, e.m, nil)
			share := accounts * len(reply.Lanes) / int(lineRecheck/time.Minute)
			for run := range 12 {
				if _, err := s.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				if n, _ := store.took(""); n != share {
					t.Errorf("run %d read %d lines, want %d", run, n, share)
				}
				e.clock.Add(time.Minute)
			}

			// A replier spends A03's burst and is refused the next send: it parks the comment.
			lim := reply.DefaultPostsLimit
			now := e.clock.Now()
			b, err := e.store.Bucket(context.Background(), "A03", reply.LanePosts)
			if err != nil {
				t.Fatal(err)
			}
			_, spent, _ := lim.Take(b, now, lim.BurstSize())
			if _, err := e.store.SaveBucket(context.Background(), spent); err != nil {
				t.Fatal(err)
			}
			if g, _, _ := lim.Take(spent, now, 1); g != 0 {
				t.Fatal("the bucket granted past its burst")
			}
			seed(t, e.store, parked(job("A03", "c-late", reply.KindReel, "m1", now), now, now.Add(time.Hour)))
			e.clock.Add(lim.Spacing()) // one token comes back
			rep, err := s.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(e.drain(t)); rep.Released != 1 || len(got) != 1 || got[0] != "c-late" {
				t.Errorf("released %d: %v, want c-late", rep.Released, got)
			}
			if _, of := store.took(reply.BucketKey("A03", reply.LanePosts)); of != 1 {
				t.Errorf("A03's line read %d times, want once", of)
			}
		})
	}
}
