package replier

import (
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// deadClaim stores the claim of a worker that crashed: its lease runs for 30 seconds.
func deadClaim(t *testing.T, e *env, job reply.Job) reply.Record {
	t.Helper()
	rec, err := reply.NewRecord(job, start).Claim(job, "crashed-worker", start, start.Add(30*time.Second))
	if err == nil {
		rec, err = e.store.Create(context.Background(), rec)
	}
	if err != nil {
		t.Fatalf("dead claim: %v", err)
	}
	return rec
}

func TestLeaseTakeover(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			t.Run("crash between claim and send", func(t *testing.T) {
				e := newEnv(t, kind)
				e.put(nil)
				job := sampleJob(t, 1)
				deadClaim(t, e, job)
				if d := e.process(job); d.Action != ActionBusy {
					t.Fatalf("while the lease lives: %s, want busy", d.Action)
				}
				if n := e.sb.Attempts(job.CommentID); n != 0 {
					t.Fatalf("%d calls while another worker held the lease", n)
				}
				e.clock.Add(31 * time.Second)
				d := e.process(job)
				if d.Action != ActionSent || d.Reason != "" {
					t.Fatalf("after the lease ran out: %s(%s), want sent", d.Action, d.Reason)
				}
				if n := e.sb.Delivered(job.CommentID); n != 1 {
					t.Fatalf("delivered %d, want 1", n)
				}
				if rec := e.record(job); rec.State != reply.StateSent || rec.Owner != "" {
					t.Fatalf("record %s owner %q", rec.State, rec.Owner)
				}
			})
			t.Run("crash between send and record", func(t *testing.T) {
				e := newEnv(t, kind)
				e.put(nil)
				job := sampleJob(t, 1)
				deadClaim(t, e, job)
				// The crashed worker's send reached Meta; it never recorded it.
				if _, err := e.graph.PrivateReply(context.Background(), e.acct, token, job.CommentID, reply.Message{Text: "hi"}); err != nil {
					t.Fatalf("the crashed worker's send: %v", err)
				}
				e.clock.Add(31 * time.Second)
				d := e.process(job)
				if d.Action != ActionSent || d.Reason != ReasonDeliveredBefore {
					t.Fatalf("takeover: %s(%s), want sent(%s)", d.Action, d.Reason, ReasonDeliveredBefore)
				}
				if n, a := e.sb.Delivered(job.CommentID), e.sb.Attempts(job.CommentID); n != 1 || a != 2 {
					t.Fatalf("delivered %d in %d calls, want 1 in 2", n, a)
				}
				rec := e.record(job)
				if rec.State != reply.StateSent || rec.Reason != ReasonDeliveredBefore {
					t.Fatalf("record %s(%s)", rec.State, rec.Reason)
				}
				if e.m.Get("Sent") != 1 || e.m.Get("Failed|Code=100/2534025") != 0 {
					t.Fatalf("metrics Sent=%v Failed=%v", e.m.Get("Sent"), e.m.Get("Failed|Code=100/2534025"))
				}
			})
			t.Run("late worker cannot overwrite a newer state", func(t *testing.T) {
				e := newEnv(t, kind)
				// The takeover runs inside the first call: on a busy machine its DynamoDB writes
				// outlast the harness's short client timeout, which is not what this tests.
				e.graph = graph.New(graph.WithBaseURL(e.sbURL), graph.WithTimeout(time.Minute), graph.WithReserve(0))
				e.r = e.replier()
				e.put(nil)
				job := sampleJob(t, 1)
				other := e.replier()
				var once atomic.Bool
				var taken Decision
				// While the first worker's call is in flight, its lease runs out and another
				// worker takes the record over and sends.
				e.sb.SetFault(func(c sandbox.Call) sandbox.Fault {
					if c.Op == sandbox.OpPrivateReply && once.CompareAndSwap(false, true) {
						e.clock.Add(DefaultLease + time.Second)
						d, err := other.Process(context.Background(), job)
						if err != nil {
							t.Errorf("takeover: %v", err)
						}
						taken = d
					}
					return sandbox.Fault{}
				})
				d := e.process(job)
				if taken.Action != ActionSent {
					t.Fatalf("takeover: %s, want sent", taken.Action)
				}
				// Meta refuses the late call (2534025); its FAILED must not replace SENT.
				if d.Action != ActionBusy || d.Record.State != reply.StateSent {
					t.Fatalf("late worker: %s, stored %s; want busy over SENT", d.Action, d.Record.State)
				}
				if rec := e.record(job); rec.State != reply.StateSent {
					t.Fatalf("record %s, want SENT", rec.State)
				}
				if n := e.sb.Delivered(job.CommentID); n != 1 {
					t.Fatalf("delivered %d", n)
				}
			})
		})
	}
}

func TestUncertainThenDelivered(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(nil)
			job := sampleJob(t, 1)
			e.sb.QueueFault(job.CommentID, sandbox.TimeoutAfter())
			d := e.process(job)
			if d.Action != ActionParked || d.Reason != ParkUncertain {
				t.Fatalf("first: %s(%s)", d.Action, d.Reason)
			}
			// Before it is due the job stays with the sweeper.
			if d := e.process(job); d.Action != ActionBusy {
				t.Fatalf("redelivered early: %s, want busy", d.Action)
			}
			e.clock.Add(d.RetryAt.Sub(start))
			d = e.process(job)
			if d.Action != ActionSent || d.Reason != ReasonDeliveredBefore {
				t.Fatalf("retry: %s(%s), want sent(%s)", d.Action, d.Reason, ReasonDeliveredBefore)
			}
			if n := e.sb.Delivered(job.CommentID); n != 1 {
				t.Fatalf("delivered %d", n)
			}
			if d := e.process(job); d.Action != ActionDone {
				t.Fatalf("after SENT: %s, want done", d.Action)
			}
		})
	}
}

// TestConcurrentConsumers hands the same job to two replier instances at once, as a duplicate
// webhook or an SQS redelivery can. Meta's one-reply rule is off in the sandbox, so any second
// send would show in the ledger instead of being refused.
func TestConcurrentConsumers(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind, sandbox.WithoutOneReplyRule())
			e.put(nil)
			a, b := e.replier(), e.replier()
			const n = 12
			for i := range n {
				job := sampleJob(t, i)
				var wg sync.WaitGroup
				var ds [2]Decision
				gate := make(chan struct{})
				for k, r := range []*Replier{a, b} {
					wg.Go(func() {
						<-gate
						d, err := r.Process(context.Background(), job)
						if err != nil {
							t.Errorf("job %d consumer %d: %v", i, k, err)
						}
						ds[k] = d
					})
				}
				close(gate)
				wg.Wait()
				if calls := e.sb.Attempts(job.CommentID); calls != 1 {
					t.Fatalf("job %d: %d Graph calls, want exactly 1 (%s, %s)", i, calls, ds[0].Action, ds[1].Action)
				}
				sent := 0
				for _, d := range ds {
					switch d.Action {
					case ActionSent:
						sent++
					case ActionBusy, ActionDone:
					default:
						t.Errorf("job %d: decision %s(%s)", i, d.Action, d.Reason)
					}
				}
				if sent != 1 {
					t.Fatalf("job %d: %d consumers sent, want 1 (%s, %s)", i, sent, ds[0].Action, ds[1].Action)
				}
			}
			if got := e.m.Get("Sent"); got != n {
				t.Fatalf("Sent = %v, want %d", got, n)
			}
		})
	}
}

func TestFunnelDedup(t *testing.T) {
	job := func(t *testing.T, comment, person, media string) reply.Job {
		j := sampleJob(t, 0)
		j.CommentID, j.FromID, j.MediaID = comment, person, media
		return j
	}
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(nil)
			steps := []struct {
				job    reply.Job
				action Action
				reason string
			}{
				{job(t, "c1", "u1", "m1"), ActionSent, ""},
				{job(t, "c2", "u1", "m1"), ActionSkipped, reply.SkipDuplicatePerson}, // same person, same post
				{job(t, "c3", "u1", "m2"), ActionSent, ""},                           // same person, another post
				{job(t, "c4", "u2", "m1"), ActionSent, ""},                           // another person
				{job(t, "c2", "u1", "m1"), ActionDone, reply.SkipDuplicatePerson},    // the duplicate again
				{job(t, "c1", "u1", "m1"), ActionDone, ""},                           // the first again
			}
			for i, s := range steps {
				d := e.process(s.job)
				if d.Action != s.action || d.Reason != s.reason {
					t.Fatalf("step %d (%s): %s(%s), want %s(%s)", i, s.job.CommentID, d.Action, d.Reason, s.action, s.reason)
				}
			}
			if got := len(e.sb.Deliveries()); got != 3 {
				t.Fatalf("%d deliveries, want 3", got)
			}
			if rec := e.record(job(t, "c2", "", "")); rec.Key != reply.CommentKey("c2") || rec.State != reply.StateSkipped {
				t.Fatalf("duplicate's record %s %s", rec.Key, rec.State)
			}
			// An account that allows repeats answers every comment.
			e.put(func(a *reply.Account) { a.RepeatPerPerson = true })
			e.r = e.replier() // a fresh instance: no cached account
			if d := e.process(job(t, "c5", "u1", "m1")); d.Action != ActionSent {
				t.Fatalf("repeat allowed: %s(%s)", d.Action, d.Reason)
			}
		})
	}
}

// TestThrottleHoldsTheLane: after Meta's 613 the account's other jobs wait in the store without a
// call, in this instance and in a cold one, until the throttle's time has passed.
func TestThrottleHoldsTheLane(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(nil)
			first := sampleJob(t, 1)
			e.sb.QueueFault(first.CommentID, sandbox.Throttle())
			if d := e.process(first); d.Reason != ParkThrottled {
				t.Fatalf("first: %s(%s)", d.Action, d.Reason)
			}
			until := start.Add(5 * time.Minute)
			for i, r := range []*Replier{e.r, e.replier()} {
				j := sampleJob(t, 10+i)
				d, err := r.Process(context.Background(), j)
				if err != nil || d.Action != ActionParked || d.Reason != ParkRateLimited || !d.RetryAt.Equal(until) {
					t.Fatalf("instance %d: %s(%s) until %s, err %v; want parked(%s) until %s", i, d.Action, d.Reason, d.RetryAt, err, ParkRateLimited, until)
				}
			}
			if calls := e.sb.Stats().Calls[sandbox.OpPrivateReply]; calls != 1 {
				t.Fatalf("%d private-reply calls, want only the throttled one", calls)
			}
			e.clock.Add(5 * time.Minute)
			if d := e.process(sampleJob(t, 20)); d.Action != ActionSent {
				t.Fatalf("after the throttle: %s(%s)", d.Action, d.Reason)
			}
		})
	}
}

// TestOtherAppsSlowUsDown: when Meta's usage header reports the account's allowance used up by
// another app's sends and ours, the lane pauses before Meta refuses, although our own bucket
// still has tokens; while room is left nothing holds the lane. (The sandbox's limit is 10 an
// hour, the account's 750: our sends alone cannot make the room, so the wait is the average time
// in which the headroom's calls age out of a full window.)
func TestOtherAppsSlowUsDown(t *testing.T) {
	e := newEnv(t, memoryStore, sandbox.WithLimit(reply.LanePosts, reply.Limit{Count: 10, Period: time.Hour}))
	e.put(nil)
	for i := range 5 {
		e.sb.OtherApp(e.acct.ID, reply.LanePosts, start.Add(time.Duration(i-10)*time.Minute))
	}
	for i := range 5 { // 60%, ... 100%: the 5th answer reports the window full
		if d := e.process(sampleJob(t, i)); d.Action != ActionSent {
			t.Fatalf("job %d: %s(%s)", i, d.Action, d.Reason)
		}
	}
	lim := reply.DefaultPostsLimit
	d := e.process(sampleJob(t, 5))
	if want := start.Add(time.Duration(headroom(lim)) * lim.Period / time.Duration(lim.Count)); d.Action != ActionParked || d.Reason != ParkRateLimited || !d.RetryAt.Equal(want) {
		t.Fatalf("after 100%%: %s(%s) until %s, want parked(%s) until %s", d.Action, d.Reason, d.RetryAt, ParkRateLimited, want)
	}
	if st := e.sb.Stats(); st.Calls[sandbox.OpPrivateReply] != 5 || len(st.Refused) != 0 {
		t.Fatalf("calls %d, refused %v", st.Calls[sandbox.OpPrivateReply], st.Refused)
	}
}

// TestRequestsPerSent counts what one SENT reply costs in steady state (warm caches): the
// figures the issue asks for. No public replies: they are optional and counted apart.
func TestRequestsPerSent(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(func(a *reply.Account) { a.Rules[0].PublicReplies = nil })
			e.process(sampleJob(t, 0)) // warms the account and bucket caches
			const n = 10               // within the burst of the default limit
			r0, w0 := e.counts()
			ops0 := e.ops()
			c0 := e.sb.Stats().Calls
			for i := 1; i <= n; i++ {
				if d := e.process(sampleJob(t, i)); d.Action != ActionSent {
					t.Fatalf("job %d: %s(%s)", i, d.Action, d.Reason)
				}
			}
			r1, w1 := e.counts()
			ops := e.ops()
			if _, ok := ops["TransactWriteItems"]; ok {
				// The claim is one TransactWriteItems of the record, the funnel guard and the two
				// tombstone checks; the write units follow its items (2 per item and KB).
				t.Logf("%s: per SENT reply: %.2f TransactWriteItems of %.2f items, %.2f PutItem",
					kind.name, float64(ops["TransactWriteItems"]-ops0["TransactWriteItems"])/n,
					float64(ops["TransactItems"]-ops0["TransactItems"])/n, float64(ops["PutItem"]-ops0["PutItem"])/n)
			}
			units := float64(ops["WriteUnits"]-ops0["WriteUnits"]) / n
			calls := 0
			for op, c := range e.sb.Stats().Calls {
				calls += c - c0[op]
			}
			t.Logf("%s: per SENT reply: %.2f write units in %.2f write requests, %.2f reads, %.2f Graph calls (%d replies)",
				kind.name, units, float64(w1-w0)/n, float64(r1-r0)/n, float64(calls)/n, n)
			if w1-w0 != 3*n || r1-r0 != 0 || calls != n {
				t.Fatalf("%d writes, %d reads, %d Graph calls for %d replies; want %d, 0, %d", w1-w0, r1-r0, calls, n, 3*n, n)
			}
			// A duplicate of a SENT job costs one lost conditional write and nothing else.
			e.process(sampleJob(t, 1))
			r2, w2 := e.counts()
			t.Logf("%s: duplicate of a SENT job: %d writes, %d reads", kind.name, w2-w1, r2-r1)
			if w2-w1 != 1 || r2-r1 != 0 {
				t.Fatalf("duplicate: %d writes, %d reads; want 1, 0", w2-w1, r2-r1)
			}
			rec := e.record(sampleJob(t, 1))
			size, _ := json.Marshal(rec)
			t.Logf("%s: a SENT record is %d bytes as JSON", kind.name, len(size))
		})
	}
}

// TestReleasedCostsOneRead: a job the sweeper released with a reserved token is read once (its
// record exists) and sent with two writes: the claim and the outcome.
func TestReleasedCostsOneRead(t *testing.T) {
	e := newEnv(t, memoryStore)
	e.put(func(a *reply.Account) {
		a.Limits = map[reply.Lane]reply.Limit{reply.LanePosts: {Count: 1, Period: time.Hour}}
	})
	e.process(sampleJob(t, 0))
	job := sampleJob(t, 1)
	if d := e.process(job); d.Action != ActionParked {
		t.Fatalf("job 1: %s", d.Action)
	}
	rec := e.record(job)
	e.clock.Add(rec.DueAt.Sub(e.clock.Now()))
	released, err := rec.Release(true, e.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Update(context.Background(), released); err != nil {
		t.Fatal(err)
	}
	miss := sampleJob(t, 2) // warms the account cache again: no rule matches it
	miss.Text = "nice"
	if d := e.process(miss); d.Action != ActionSkipped {
		t.Fatalf("warm-up job: %s", d.Action)
	}
	r0, w0 := e.counts()
	job.Requeued = true
	if d := e.process(job); d.Action != ActionSent {
		t.Fatalf("released job: %s(%s)", d.Action, d.Reason)
	}
	if r1, w1 := e.counts(); r1-r0 != 1 || w1-w0 != 2 {
		t.Fatalf("released job: %d reads, %d writes; want 1, 2", r1-r0, w1-w0)
	}
}

// TestParkedCostsOneWrite: a new comment arriving in a backlog is parked with one write.
func TestParkedCostsOneWrite(t *testing.T) {
	e := newEnv(t, memoryStore)
	e.put(func(a *reply.Account) {
		a.Limits = map[reply.Lane]reply.Limit{reply.LanePosts: {Count: 1, Period: time.Hour}}
	})
	e.process(sampleJob(t, 0))
	r0, w0 := e.counts()
	for i := 1; i <= 5; i++ {
		if d := e.process(sampleJob(t, i)); d.Action != ActionParked {
			t.Fatalf("job %d: %s", i, d.Action)
		}
	}
	r1, w1 := e.counts()
	if w1-w0 != 5 || r1-r0 != 0 {
		t.Fatalf("5 parked jobs: %d writes, %d reads; want 5, 0", w1-w0, r1-r0)
	}
	if got := e.m.Get("Parked|Reason=" + ParkRateLimited); got != 5 {
		t.Fatalf("Parked = %v", got)
	}
}

// replayStore does what the AWS SDK does when a write's answer is lost on the way back: the write
// has landed, and the retry of the same conditional write loses against it.
type replayStore struct{ reply.Store }

func (s replayStore) Create(ctx context.Context, r reply.Record) (reply.Record, error) {
	if stored, err := s.Store.Create(ctx, r); err != nil {
		return stored, err
	}
	return s.Store.Create(ctx, r)
}

func (s replayStore) Update(ctx context.Context, r reply.Record) (reply.Record, error) {
	if stored, err := s.Store.Update(ctx, r); err != nil {
		return stored, err
	}
	return s.Store.Update(ctx, r)
}

// TestLandedWriteRetried: a claim or an outcome whose answer was lost is the worker's own write,
// not someone else's: the reply still goes out once and is recorded.
func TestLandedWriteRetried(t *testing.T) {
	e := newEnv(t, memoryStore)
	e.put(nil)
	e.r = New(Config{TableName: "test"}, replayStore{e.store}, e.graph, e.tokens, e.clock, e.m, nil)
	job := sampleJob(t, 1)
	if d := e.process(job); d.Action != ActionSent {
		t.Fatalf("%s(%s), want sent", d.Action, d.Reason)
	}
	if rec := e.record(job); rec.State != reply.StateSent {
		t.Fatalf("record %s", rec.State)
	}
	if n := e.sb.Attempts(job.CommentID); n != 1 {
		t.Fatalf("%d calls", n)
	}
}

// TestLiveWaitsForItsToken: past the burst, a Live job waits in the invocation for the lane's
// next token (10 ms on the clock) and is sent; a posts job, whose next token is seconds away,
// is parked at once for the sweeper to release.
func TestLiveWaitsForItsToken(t *testing.T) {
	tests := []struct {
		name string
		lane reply.Lane
		live bool
		want Action
	}{
		{name: "live", lane: reply.LaneLive, live: true, want: ActionSent},
		{name: "posts", lane: reply.LanePosts, want: ActionParked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, memoryStore)
			e.put(func(a *reply.Account) { a.Rules[0].PublicReplies = nil })
			lim := e.acct.Limit(tt.lane)
			var d Decision
			for i := range lim.BurstSize() + 1 {
				j := sampleJob(t, i)
				if tt.live {
					j.Kind, j.MediaID, j.ProductType = reply.KindLive, "live-1", "LIVE"
					e.sb.StartBroadcast(j.AccountID, j.MediaID)
					e.sb.AddComment(sandbox.Comment{ID: j.CommentID, AccountID: j.AccountID, MediaID: j.MediaID, FromID: j.FromID, Live: true})
				}
				d = e.process(j)
			}
			if d.Action != tt.want {
				t.Fatalf("past the burst: %s(%s), want %s", d.Action, d.Reason, tt.want)
			}
			if waited := e.clock.Now().Sub(start); tt.live && (waited <= 0 || waited > tokenWait) {
				t.Errorf("waited %s on the clock, want a token's spacing", waited)
			}
		})
	}
}
