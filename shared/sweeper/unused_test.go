package sweeper

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// converse gives an account a DM rule: it subscribes to messages, so follow-ups may use the text
// and media lanes.
func converse(a *reply.Account) {
	a.DMRules = []reply.DMRule{{Name: "hello", Match: reply.MatchAny, Messages: []reply.Message{{Text: "Hi"}}}}
}

func TestUnusedLanes(t *testing.T) {
	plain := reply.Account{ID: "A1", Rules: []reply.Rule{{Name: "all", Match: reply.MatchAny, Message: "Here"}}}
	talks := plain
	converse(&talks)
	text := group{"A1", reply.LaneText}
	written := reply.Bucket{AccountID: "A1", Lane: reply.LaneText, Version: 3}
	tests := []struct {
		name     string
		acct     reply.Account
		g        group
		read     *reply.Bucket // the run's read of the bucket, at t0
		after    time.Duration // the next run, after t0
		wantSkip bool
	}{
		{"never read: read it", plain, text, nil, time.Minute, false},
		{"unusable, never written: skipped", plain, text, &reply.Bucket{}, time.Minute, true},
		{"media alike", plain, group{"A1", reply.LaneMedia}, &reply.Bucket{}, time.Minute, true},
		{"read again after the recheck", plain, text, &reply.Bucket{}, lineRecheck, false},
		{"unusable but written: read every run", plain, text, &written, time.Minute, false},
		{"a conversing account's text lane: read every run", talks, text, &reply.Bucket{}, time.Minute, false},
		{"posts: always read", plain, group{"A1", reply.LanePosts}, &reply.Bucket{}, time.Minute, false},
		{"live: always read", plain, group{"A1", reply.LaneLive}, &reply.Bucket{}, time.Minute, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var u unusedLanes
			if tc.read != nil {
				u.read(tc.acct, tc.g, *tc.read, t0)
			}
			if got := u.skip(tc.acct, tc.g, t0.Add(tc.after)); got != tc.wantSkip {
				t.Errorf("skip = %v, want %v", got, tc.wantSkip)
			}
		})
	}
	t.Run("the configuration starts conversing", func(t *testing.T) {
		var u unusedLanes
		u.read(plain, text, reply.Bucket{}, t0)
		if u.skip(talks, text, t0.Add(time.Minute)) {
			t.Error("skipped the text lane of an account that now converses")
		}
	})
}

// bucketsCounted counts the buckets the store's BucketsOf reads, by lane.
type bucketsCounted struct {
	reply.Store
	mu sync.Mutex
	n  map[reply.Lane]int
}

func (s *bucketsCounted) BucketsOf(ctx context.Context, lanes []reply.AccountLane) ([]reply.Bucket, error) {
	s.mu.Lock()
	for _, l := range lanes {
		s.n[l.Lane]++
	}
	s.mu.Unlock()
	return s.Store.BucketsOf(ctx, lanes)
}

func (s *bucketsCounted) took() map[reply.Lane]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.n
	s.n = map[reply.Lane]int{}
	return n
}

// TestUnusedLanesReadOnceInAWhile: accounts that never converse cost their text and media
// buckets a read each lineRecheck, not each run; a conversing account's are read every run, and
// so is an unused lane whose bucket was written (a follow-up took from it before its account
// stopped conversing).
func TestUnusedLanesReadOnceInAWhile(t *testing.T) {
	for _, mk := range backends {
		t.Run(mk.name, func(t *testing.T) {
			e := newEnv(t, mk)
			const plain = 4
			for a := range plain {
				e.account(t, fmt.Sprintf("P%d", a), nil)
			}
			e.account(t, "TALK", converse)
			store := &bucketsCounted{Store: e.store, n: map[reply.Lane]int{}}
			s := New(Config{}, store, e.queue, e.graph, e.tokens, e.clock, e.m, nil)
			runs := int(lineRecheck / time.Minute)
			for run := range runs + 1 {
				if _, err := s.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				want := map[reply.Lane]int{reply.LanePosts: plain + 1, reply.LaneLive: plain + 1, reply.LaneText: 1, reply.LaneMedia: 1}
				if run == 0 || run == runs { // a cold start, then the recheck
					want[reply.LaneText], want[reply.LaneMedia] = plain+1, plain+1
				}
				if got := store.took(); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("run %d read buckets %v, want %v", run, got, want)
				}
				e.clock.Add(time.Minute)
			}

			// P1's text lane bucket was written (a follow-up took from it before P1 stopped
			// conversing): it is read every run again.
			lim := reply.DefaultTextLimit
			_, b, _ := lim.Take(reply.Bucket{AccountID: "P1", Lane: reply.LaneText}, e.clock.Now(), 1)
			if _, err := e.store.SaveBucket(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			e.clock.Add(lineRecheck) // the next run reads every bucket once more
			for run := range 2 {
				if _, err := s.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				if got := store.took(); run == 1 && got[reply.LaneText] != 2 {
					t.Errorf("after P1's text bucket was written, a run read %d text buckets, want 2 (P1, TALK)", got[reply.LaneText])
				}
				e.clock.Add(time.Minute)
			}
		})
	}
}
