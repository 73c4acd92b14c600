package sweeper

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestDeferLongBacklog: records far back in a backlog are looked at again near their turn, not
// on every run, and nothing is deferred past its deadline or ahead of an earlier deadline.
func TestDeferLongBacklog(t *testing.T) {
	e := newEnv(t, backends[0])
	e.account(t, "A1", func(a *reply.Account) {
		a.Limits = map[reply.Lane]reply.Limit{reply.LanePosts: {Count: 60, Period: time.Hour}}
	})
	const n = 1500
	seedMany(t, e.store, n, func(i int) reply.Record {
		at := t0.Add(-time.Hour + time.Duration(i)*time.Second) // deadlines in comment order
		return parked(job("A1", fmt.Sprintf("c%04d", i), reply.KindReel, "m1", at), at, t0)
	})
	s := e.sweeper(Config{Interval: time.Minute})
	first, err := s.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// 56 sends an hour after a burst of 4: a turn beyond 120 runs is ~116 places back in line.
	if first.Deferred < n-200 || first.Deferred > n-100 {
		t.Fatalf("deferred %d of %d (released %d), want all but the first ~120", first.Deferred, n, first.Released)
	}
	// The next run reads only what was not deferred.
	e.clock.Add(time.Minute)
	second, err := s.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if second.Scanned > n-first.Released-first.Deferred {
		t.Errorf("second run read %d records, want at most %d", second.Scanned, n-first.Released-first.Deferred)
	}
	// Deferred records come due in deadline order, and never after their deadline.
	var prev reply.Record
	for i := n - 1; i >= 0; i-- {
		rec, err := e.store.ByComment(context.Background(), fmt.Sprintf("c%04d", i))
		if err != nil {
			t.Fatal(err)
		}
		if rec.DueAt.After(rec.Deadline) {
			t.Fatalf("%s due %v after its deadline %v", rec.CommentID, rec.DueAt, rec.Deadline)
		}
		if prev.Version > 0 && rec.State == reply.StateParked && prev.State == reply.StateParked && rec.DueAt.After(prev.DueAt) {
			t.Fatalf("%s (earlier deadline) due %v after %s due %v", rec.CommentID, rec.DueAt, prev.CommentID, prev.DueAt)
		}
		prev = rec
	}
}
