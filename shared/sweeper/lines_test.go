package sweeper

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestQuietLines: a line read empty is known empty while its bucket has refused nothing since a
// lineLag before that read, and for lineRecheck at most; a read that found jobs forgets it.
func TestQuietLines(t *testing.T) {
	lim := reply.DefaultPostsLimit
	g := group{"A", reply.LanePosts}
	spent := func(at time.Time) reply.Bucket { // the burst taken at `at` and one more refused
		_, b, _ := lim.Take(reply.Bucket{}, at, lim.BurstSize())
		return b
	}
	tests := []struct {
		name   string
		reads  []int // what each read found, a run apart, the last at t0
		bucket reply.Bucket
		at     time.Duration // after t0
		quiet  bool
	}{
		{name: "never read", bucket: reply.Bucket{}, at: time.Minute},
		{name: "read empty, bucket idle", reads: []int{0}, bucket: reply.Bucket{}, at: time.Minute, quiet: true},
		{name: "read empty, bucket used a while before", reads: []int{0}, bucket: used(lim, t0.Add(-5*time.Minute)), at: time.Minute, quiet: true},
		// Three sends are no refusal, but a TAT that far ahead could be one: the line is read.
		{name: "read empty, bucket used since", reads: []int{0}, bucket: used(lim, t0.Add(30*time.Second)), at: time.Minute},
		{name: "read empty, the bucket refused since", reads: []int{0}, bucket: spent(t0.Add(30 * time.Second)), at: time.Minute},
		{name: "read empty, the bucket refused just before the read (a park still on its way)", reads: []int{0}, bucket: spent(t0.Add(-30 * time.Second)), at: time.Minute},
		{name: "read empty long after the bucket last refused", reads: []int{0}, bucket: spent(t0.Add(-time.Hour)), at: time.Minute, quiet: true},
		{name: "read empty, recheck due", reads: []int{0}, bucket: reply.Bucket{}, at: lineRecheck},
		{name: "read with jobs", reads: []int{0, 3}, bucket: reply.Bucket{}, at: time.Minute},
		{name: "read with jobs, then empty", reads: []int{3, 0}, bucket: reply.Bucket{}, at: time.Minute, quiet: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var q quietLines
			for i, n := range tt.reads {
				q.read(g, t0.Add(-time.Duration(len(tt.reads)-1-i)*time.Minute), n)
			}
			if got := q.quiet(g, lim, tt.bucket, t0.Add(tt.at)); got != tt.quiet {
				t.Errorf("quiet %v, want %v", got, tt.quiet)
			}
			if q.quiet(group{"B", reply.LanePosts}, lim, reply.Bucket{}, t0.Add(tt.at)) {
				t.Error("another lane's line is quiet unread")
			}
		})
	}
}

// used is a bucket three sends were taken from at `at`.
func used(lim reply.Limit, at time.Time) reply.Bucket {
	_, b, _ := lim.Take(reply.Bucket{}, at, 3)
	return b
}

// waitingCounted counts the store's Waiting calls: the reads of lanes' lines.
type waitingCounted struct {
	reply.Store
	n atomic.Int64
}

func (s *waitingCounted) Waiting(ctx context.Context, account string, lane reply.Lane, limit int) ([]reply.Record, error) {
	s.n.Add(1)
	return s.Store.Waiting(ctx, account, lane, limit)
}

// TestIdleLinesReadOnceInAWhile: the idle lanes of many accounts cost a bucket read a run and
// their lines a read each lineRecheck; a job parked after its bucket refused it is released on
// the next run all the same.
func TestIdleLinesReadOnceInAWhile(t *testing.T) {
	for _, mk := range backends {
		t.Run(mk.name, func(t *testing.T) {
			e := newEnv(t, mk)
			const accounts = 10
			for a := range accounts {
				e.account(t, fmt.Sprintf("A%02d", a), nil)
			}
			store := &waitingCounted{Store: e.store}
			s := New(Config{}, store, e.queue, e.graph, e.tokens, e.clock, e.m, nil)
			lanes := accounts * len(reply.Lanes)
			var reads []int64
			for range 12 {
				if _, err := s.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				reads = append(reads, store.n.Swap(0))
				e.clock.Add(time.Minute)
			}
			want := []int64{int64(lanes), 0, 0, 0, 0, 0, 0, 0, 0, 0, int64(lanes), 0}
			if fmt.Sprint(reads) != fmt.Sprint(want) {
				t.Errorf("line reads per run %v, want %v", reads, want)
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
			if n := store.n.Load(); n != 1 {
				t.Errorf("%d lines read, want A03's alone", n)
			}
		})
	}
}
