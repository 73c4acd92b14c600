package sweeper

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestConcurrentSweepsNeverDoubleRelease runs four sweeps at once over parked backlogs of three
// accounts: every account's budget is spent once, no job is queued twice, and what was queued
// is exactly what the records say was released.
func TestConcurrentSweepsNeverDoubleRelease(t *testing.T) {
	for _, mk := range backends {
		t.Run(mk.name, func(t *testing.T) {
			e := newEnv(t, mk)
			accounts := []string{"A1", "A2", "A3"}
			const perAccount = 80
			budget := map[string]int{}
			for _, a := range accounts {
				acct := e.account(t, a, nil)
				budget[a], _, _ = acct.Limit(reply.LanePosts).Take(reply.Bucket{}, t0, perAccount)
			}
			began := time.Now()
			seedMany(t, e.store, perAccount*len(accounts), func(i int) reply.Record {
				a := accounts[i%len(accounts)]
				j := job(a, fmt.Sprintf("%s-c%04d", a, i), reply.KindReel, "m-"+a, t0.Add(-time.Hour))
				return parked(j, j.CommentedAt, t0.Add(-time.Duration(i)*time.Second))
			})

			seeded := time.Since(began)
			const sweeps = 4
			reps := make([]Report, sweeps)
			errs := make([]error, sweeps)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range sweeps {
				s := e.sweeper(Config{PageSize: 50})
				wg.Go(func() {
					<-start
					reps[i], errs[i] = s.Run(context.Background())
				})
			}
			close(start)
			wg.Wait()
			swept := time.Since(began) - seeded
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}

			released := 0
			for _, r := range reps {
				released += r.Released
			}
			queued := e.drain(t)
			seen := map[string]int{}
			perAcct := map[string]int{}
			for _, j := range queued {
				seen[j.CommentID]++
				perAcct[j.AccountID]++
				if seen[j.CommentID] > 1 {
					t.Errorf("%s queued twice", j.CommentID)
				}
			}
			for _, a := range accounts {
				if perAcct[a] != budget[a] {
					t.Errorf("account %s: %d queued, its budget is %d", a, perAcct[a], budget[a])
				}
			}
			if len(queued) != released {
				t.Errorf("%d queued, the sweeps report %d released", len(queued), released)
			}
			// Every QUEUED record was queued, and nothing else was.
			var keys []string
			for i := range perAccount * len(accounts) {
				a := accounts[i%len(accounts)]
				keys = append(keys, fmt.Sprintf("%s-c%04d", a, i))
			}
			for id, r := range states(t, e.store, keys) {
				if (r.State == reply.StateQueued) != (seen[id] == 1) {
					t.Errorf("%s is %s but queued %d times", id, r.State, seen[id])
				}
			}
			t.Logf("%s: %d sweeps released %d (lost writes %d, %d, %d, %d); seeding %s, sweeps %s", mk.name, sweeps, released,
				reps[0].Lost, reps[1].Lost, reps[2].Lost, reps[3].Lost, seeded.Round(time.Millisecond), swept.Round(time.Millisecond))
		})
	}
}

// hookStore runs a hook once, right after the first Due page is read: the moment between the
// sweeper's read and its write, where a replier's write can land.
type hookStore struct {
	reply.Store
	once sync.Once
	hook func()
}

func (h *hookStore) Due(ctx context.Context, before time.Time, cursor string, limit int) ([]reply.Record, string, error) {
	recs, next, err := h.Store.Due(ctx, before, cursor, limit)
	h.once.Do(h.hook)
	return recs, next, err
}

// TestExpiryLosesToSent: a replier records SENT between the sweeper's read and its write. The
// SENT stands, the expiry is counted as a lost write, and nothing counts the comment twice.
func TestExpiryLosesToSent(t *testing.T) {
	for _, mk := range backends {
		t.Run(mk.name, func(t *testing.T) {
			e := newEnv(t, mk)
			e.account(t, "A1", nil)
			// Claimed just before the deadline; the lease ran out by the time the sweeper looks.
			j := job("A1", "c1", reply.KindReel, "m1", t0.Add(-reply.Window-time.Second))
			claimed := seed(t, e.store, leased(t, j, t0.Add(-time.Minute), t0.Add(-time.Second)))
			hs := &hookStore{Store: e.store, hook: func() {
				sent := must(t)(claimed.Finish(reply.Sent("mid.1", "rid.1"), true, t0))
				if _, err := e.store.Update(context.Background(), sent); err != nil {
					t.Errorf("replier's SENT: %v", err)
				}
			}}
			s := New(Config{}, hs, e.queue, e.graph, e.tokens, e.clock, e.m, nil)
			rep, err := s.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			r, _ := e.store.Get(context.Background(), claimed.Key)
			if r.State != reply.StateSent || rep.Expired != 0 || rep.Lost != 1 || e.m.Get(MetricExpired) != 0 {
				t.Errorf("record %s, report %+v, Expired metric %v; want SENT, no expiry, one lost write", r.State, rep, e.m.Get(MetricExpired))
			}
		})
	}
}

// TestExpiryRacesSent runs sweeps while repliers finish SENT on records whose deadline passed.
// With the lease live, every SENT wins and nothing expires. With the lease run out, either may
// win, but each record ends once: the EXPIRED records are exactly the sweeps' count and the SENT
// records exactly the repliers' successful writes.
func TestExpiryRacesSent(t *testing.T) {
	for _, mk := range backends {
		for _, leaseLive := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/lease-live-%v", mk.name, leaseLive), func(t *testing.T) {
				e := newEnv(t, mk)
				e.account(t, "A1", nil)
				const n = 60
				until := t0.Add(-time.Second)
				if leaseLive {
					until = t0.Add(time.Minute)
				}
				claimed := make([]reply.Record, n)
				keys := make([]string, n)
				for i := range n {
					j := job("A1", fmt.Sprintf("c%03d", i), reply.KindReel, "m1", t0.Add(-reply.Window-time.Second))
					claimed[i] = seed(t, e.store, leased(t, j, t0.Add(-time.Minute), until))
					keys[i] = j.CommentID
				}
				var wg sync.WaitGroup
				var mu sync.Mutex
				sent, expired := 0, 0
				for w := range 4 {
					wg.Go(func() {
						for i := w; i < n; i += 4 {
							n := must(t)(claimed[i].Finish(reply.Sent(fmt.Sprint("mid.", i), "rid"), true, t0))
							_, err := e.store.Update(context.Background(), n)
							switch {
							case err == nil:
								mu.Lock()
								sent++
								mu.Unlock()
							case !errors.Is(err, reply.ErrConflict):
								t.Errorf("replier write: %v", err)
							}
						}
					})
				}
				for range 2 {
					s := e.sweeper(Config{PageSize: 7, Workers: 2})
					wg.Go(func() {
						for range 3 {
							rep, err := s.Run(context.Background())
							if err != nil {
								t.Errorf("sweep: %v", err)
							}
							mu.Lock()
							expired += rep.Expired + rep.Ambiguous
							mu.Unlock()
						}
					})
				}
				wg.Wait()
				// A last sweep closes whatever neither side got to (lease run out only).
				rep, err := e.sweeper(Config{}).Run(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				expired += rep.Expired + rep.Ambiguous
				got := map[reply.State]int{}
				for _, r := range states(t, e.store, keys) {
					got[r.State]++
				}
				// A lease that ran out may have sent: it closes AMBIGUOUS, never EXPIRED.
				if got[reply.StateSent] != sent || got[reply.StateExpired]+got[reply.StateAmbiguous] != expired || sent+expired != n {
					t.Errorf("stored %v; repliers wrote %d SENT, sweeps counted %d EXPIRED, of %d", got, sent, expired, n)
				}
				if leaseLive && sent != n {
					t.Errorf("live leases: %d of %d SENT; a sweep must never expire a live lease", sent, n)
				}
				t.Logf("sent %d, expired %d", sent, expired)
			})
		}
	}
}
