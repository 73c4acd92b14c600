package sweeper

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
)

// tickWall is a real-time stand-in that moves one step each time it is read, so how far a run
// gets within its budget does not depend on the machine's speed.
type tickWall struct {
	start time.Time
	step  time.Duration
	n     atomic.Int64
}

func (w *tickWall) now() time.Time { return w.start.Add(time.Duration(w.n.Add(1)) * w.step) }

// backlog stores a backlog in the due index: `parkedN` jobs of one account Meta throttled, due
// for an hour and more (only the bucket's few tokens can go), and behind them in the index
// `closedN` jobs whose windows closed in the last half hour. (Jobs waiting for our own bucket's
// tokens wait in their lane instead, out of the index.)
func backlog(t testing.TB, s reply.Store, parkedN, closedN int) {
	ctx := context.Background()
	for i := range parkedN {
		j := job("A1", fmt.Sprintf("p%06d", i), reply.KindReel, "m1", t0.Add(-3*time.Hour))
		if _, err := s.Create(ctx, parkedFor(j, j.CommentedAt, t0.Add(-2*time.Hour+time.Duration(i)*time.Millisecond), "throttled")); err != nil {
			t.Fatal(err)
		}
	}
	for i := range closedN {
		at := t0.Add(-reply.Window - time.Duration(i+1)*time.Second)
		j := job("A1", fmt.Sprintf("x%06d", i), reply.KindReel, "m1", at)
		if _, err := s.Create(ctx, parkedFor(j, at, t0.Add(time.Hour), "throttled")); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBudgetResumes: on a backlog of 50,000 that no run can read within its budget, every run
// stops at its budget and the next continues where it stopped, so the expired records at the
// back of the index are reached instead of the same head being read again and again.
func TestBudgetResumes(t *testing.T) {
	e := newEnv(t, backends[0])
	e.account(t, "A1", nil)
	const parkedN, closedN = 49_000, 1_000
	backlog(t, e.store, parkedN, closedN)

	const margin, perRun = time.Second, 10 * time.Second
	s := e.sweeper(Config{Margin: margin})
	deadline := time.Now().Add(time.Hour) // real: it must not cancel anything
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	scanned, expired, released, runs := 0, 0, 0, 0
	for ; runs < 20; runs++ {
		// Each read of the wall is one millisecond: about 10,000 records a run.
		w := &tickWall{start: deadline.Add(-margin - perRun), step: time.Millisecond}
		s.wall = w.now
		rep, err := s.Run(ctx)
		if err != nil {
			t.Fatalf("run %d: %v", runs, err)
		}
		if runs == 0 && !rep.Partial {
			t.Fatalf("the first run read %d records within a budget meant for about 10,000", rep.Scanned)
		}
		if end := w.start.Add(time.Duration(w.n.Load()) * w.step); end.After(deadline) {
			t.Fatalf("run %d ended at the Lambda deadline + %s", runs, end.Sub(deadline))
		}
		scanned += rep.Scanned
		expired += rep.Expired
		released += rep.Released
		if !rep.Partial {
			runs++
			break
		}
	}
	if expired != closedN {
		t.Fatalf("expired %d of %d after %d runs", expired, closedN, runs)
	}
	want, _, _ := reply.DefaultPostsLimit.Take(reply.Bucket{}, t0, parkedN)
	if released != want {
		t.Errorf("released %d, the bucket grants %d", released, want)
	}
	// Continuing, not starting over: the runs together read the index about once.
	if limit := parkedN + closedN + runs*DefaultPageSize; scanned > limit {
		t.Errorf("%d runs read %d records; continuing runs read at most %d", runs, scanned, limit)
	}
	if s.resumeAt() != "" {
		t.Errorf("the run that reached the end left a cursor behind")
	}
	t.Logf("50,000 backlog: %d runs, %d records read, %d expired, %d released", runs, scanned, expired, released)
}

// TestBudgetRealTime runs sweeps with a real Lambda deadline over 50,000 records whose windows
// closed (memory) and 800 (moto: a conditional write there takes milliseconds): every run stops
// and hands over to the next, and the runs together expire every record. Their timings are
// logged, not asserted (a loaded machine would make that flaky); TestBudgetResumes asserts the
// budget itself on a stepped clock.
func TestBudgetRealTime(t *testing.T) {
	for _, c := range []struct {
		mk       backendMaker
		n        int
		timeout  time.Duration
		margin   time.Duration
		page     int
		maxTotal int
	}{
		{backends[0], 50_000, 400 * time.Millisecond, 150 * time.Millisecond, DefaultPageSize, 100},
		// moto reads about 100 due records a second (DynamoDB: thousands), so its pages are small.
		// An expiry is a transaction with its funnel count, and moto copies the table for each
		// transaction (36 ms at 1,000 items, against 1 ms for a PutItem; DynamoDB takes about
		// two writes' time), so it expires fewer records here.
		{backends[1], 200, 3 * time.Second, time.Second, 50, 60},
	} {
		t.Run(c.mk.name, func(t *testing.T) {
			e := newEnv(t, c.mk)
			e.account(t, "A1", nil)
			seedMany(t, e.store, c.n, func(i int) reply.Record {
				at := t0.Add(-reply.Window - time.Duration(i+1)*time.Millisecond)
				j := job("A1", fmt.Sprintf("x%06d", i), reply.KindReel, "m1", at)
				return parked(j, at, t0)
			})
			s := e.sweeper(Config{Margin: c.margin, PageSize: c.page})
			expired, runs := 0, 0
			var took []time.Duration
			for ; runs < c.maxTotal; runs++ {
				ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
				dl, _ := ctx.Deadline()
				began := time.Now()
				rep, err := s.Run(ctx)
				ended := time.Now()
				cancel()
				if err != nil {
					t.Fatalf("run %d: %v", runs, err)
				}
				if ended.After(dl) {
					// Not a failure: how long a write takes depends on the machine's load.
					// TestBudgetResumes holds the budget exactly, on a stepped clock.
					t.Logf("run %d ended %s after its deadline", runs, ended.Sub(dl))
				}
				took = append(took, ended.Sub(began).Round(time.Millisecond))
				expired += rep.Expired
				if !rep.Partial {
					runs++
					break
				}
			}
			// The store is the judge: a write the deadline cut off may have landed uncounted.
			if due, _, err := e.store.Due(context.Background(), t0.Add(reply.Window), "", 1); err != nil || len(due) != 0 {
				t.Fatalf("after %d runs (%d expired by count) records still due: %v %v", runs, expired, due, err)
			}
			t.Logf("%s: %d expired in %d runs of at most %s (margin %s); each took %v", c.mk.name, c.n, runs, c.timeout, c.margin, took)
		})
	}
}

// BenchmarkExpire is the cost of expiring records on the memory store: one op is one record.
func BenchmarkExpire(b *testing.B) {
	c := memory.NewClock(t0)
	be := memoryBackend(nil, c)
	for i := range b.N {
		at := t0.Add(-reply.Window - time.Duration(i+1)*time.Millisecond)
		j := job("A1", fmt.Sprintf("x%09d", i), reply.KindReel, "m1", at)
		if _, err := be.store.Create(context.Background(), parked(j, at, t0)); err != nil {
			b.Fatal(err)
		}
	}
	s := New(Config{}, be.store, be.queue, nil, nil, c, nil, nil)
	b.ResetTimer()
	rep, err := s.Run(context.Background())
	if err != nil || rep.Expired != b.N {
		b.Fatalf("expired %d of %d: %v", rep.Expired, b.N, err)
	}
}

// BenchmarkBacklogRun is one scheduled run over a viral backlog of 50,000 parked jobs whose
// account has no token left: the steady cost of every minute until the backlog drains.
func BenchmarkBacklogRun(b *testing.B) {
	c := memory.NewClock(t0)
	be := memoryBackend(nil, c)
	if _, err := be.store.PutAccount(context.Background(), reply.Account{ID: "A1", Login: reply.LoginInstagram, TokenParam: "p", Version: 1}); err != nil {
		b.Fatal(err)
	}
	backlog(b, be.store, 50_000, 0)
	s := New(Config{}, be.store, be.queue, nil, nil, c, nil, nil)
	if _, err := s.Run(context.Background()); err != nil { // spends the burst
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		rep, err := s.Run(context.Background())
		if err != nil || rep.Partial || rep.Released != 0 || rep.Scanned < 49_000 {
			b.Fatalf("%+v, %v", rep, err)
		}
	}
}
