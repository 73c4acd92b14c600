package reconcile

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// step is one pass of a scenario: the clock moves to t0+at, do changes the world, then the pass
// must make `reads` Graph reads and enqueue exactly `enq`.
type step struct {
	at    time.Duration
	do    func(h *harness)
	reads int
	enq   string
	check func(t *testing.T, h *harness, rep Report)
}

func TestPasses(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		opts   []sandbox.Option
		answer bool // the enqueued jobs get their records after each pass, as the replier gives them
		setup  func(h *harness)
		steps  []step
	}{
		{
			name: "paging, then the cursor keeps passes incremental",
			setup: func(h *harness) {
				h.media("M", at(-48*time.Hour))
				h.many("c", "M", 120, at(-47*time.Hour))
			},
			steps: []step{
				// live_media, media, three pages of comments, subscribed_apps
				{at: 0, reads: 6, enq: names("c", 0, 120), check: func(t *testing.T, h *harness, rep Report) {
					mc := h.cursor().Media["M"]
					if mc.Count != 120 || !mc.Seen.Equal(at(-time.Minute)) || mc.Resuming() || rep.Reconciled != 120 || rep.Comments != 120 {
						t.Errorf("cursor %+v, report %+v", mc, rep)
					}
				}},
				{at: time.Minute, reads: 0},     // nothing due
				{at: 5 * time.Minute, reads: 2}, // listed; the count did not move
				{at: 10 * time.Minute, reads: 3, enq: "n1", // one page: the boundary is on it
					do: func(h *harness) { h.comment("n1", "M", at(6*time.Minute)) }},
			},
		},
		{
			name: "the window and the watch's start cut off",
			setup: func(h *harness) {
				h.media("OLD", at(-8*24*time.Hour)) // past the window: not even read
				h.comment("o1", "OLD", at(-time.Hour))
				h.media("M", at(-4*24*time.Hour))
				h.comment("before", "M", at(-80*time.Hour)) // before the account was connected: backfill's
				h.comment("edge", "M", at(-72*time.Hour))   // in the very second it was connected
				h.comment("after", "M", at(-48*time.Hour))
			},
			steps: []step{{at: 0, reads: 4, enq: "after,edge"}},
		},
		{
			name: "own comments dropped, replies found, also under older comments",
			setup: func(h *harness) {
				h.media("M", at(-48*time.Hour))
				h.comment("c1", "M", at(-2*time.Hour))
				h.comment("own1", "M", at(-110*time.Minute), func(c *sandbox.Comment) { c.FromID = igID })
				h.comment("own2", "M", at(-100*time.Minute), func(c *sandbox.Comment) { c.FromName = "Creator" })
				h.comment("r0", "M", at(-90*time.Minute), func(c *sandbox.Comment) { c.ParentID = "c1" })
				h.many("n", "M", 50, at(-time.Hour))
			},
			steps: []step{
				{at: 0, reads: 5, enq: "c1," + names("n", 0, 50) + ",r0", check: func(t *testing.T, h *harness, rep Report) {
					if rep.Own != 2 {
						t.Errorf("own %d, want 2", rep.Own)
					}
				}},
				// A reply to c1, which is on the second page: the count says one is new, so
				// the look goes on past the first page, which is all older than the floor.
				{at: 5 * time.Minute, reads: 4, enq: "r1",
					do: func(h *harness) {
						h.comment("r1", "M", at(2*time.Minute), func(c *sandbox.Comment) { c.ParentID = "c1" })
						h.queue.got = nil
					},
					check: func(t *testing.T, h *harness, rep Report) {
						if rep.Reconciled != 1 {
							t.Errorf("report %+v", rep)
						}
					}},
			},
		},
		{
			name: "young comments wait for their webhook, then for the next pass",
			setup: func(h *harness) {
				h.media("M", at(-time.Hour))
				h.comment("y", "M", at(-30*time.Second))
			},
			steps: []step{
				{at: 0, reads: 4, check: func(t *testing.T, h *harness, rep Report) {
					if rep.Young != 1 || !h.cursor().Media["M"].Again {
						t.Errorf("report %+v, cursor %+v", rep, h.cursor().Media["M"])
					}
				}},
				{at: 5 * time.Minute, reads: 3, enq: "y"},
				{at: 10 * time.Minute, reads: 2},
			},
		},
		{
			name: "live broadcasts are read every minute, and once more after they end",
			cfg:  Config{Grace: 10 * time.Second},
			setup: func(h *harness) {
				h.sb.StartBroadcast(igID, "L")
				h.comment("l1", "L", at(-5*time.Minute), func(c *sandbox.Comment) { c.Live, c.Text = true, "LINK" })
			},
			steps: []step{
				{at: 0, reads: 4, enq: "l1", check: func(t *testing.T, h *harness, rep Report) {
					if c := h.cursor(); !slices.Equal(c.Live, []string{"L"}) || !c.NextLive.Equal(at(time.Minute)) {
						t.Errorf("cursor %+v", c)
					}
				}},
				{at: time.Minute, reads: 2, enq: "l2", // live_media and the broadcast's comments only
					do: func(h *harness) {
						h.comment("l2", "L", at(30*time.Second), func(c *sandbox.Comment) { c.Live = true })
					}},
				// The broadcast ends; l4, made in its last seconds, is too young for the first read
				// after the end, so the broadcast is read once more.
				{at: 2 * time.Minute, reads: 2, enq: "l3",
					do: func(h *harness) {
						h.comment("l3", "L", at(80*time.Second), func(c *sandbox.Comment) { c.Live = true })
						h.comment("l4", "L", at(115*time.Second), func(c *sandbox.Comment) { c.Live = true })
						h.sb.EndBroadcast("L")
					}},
				{at: 3 * time.Minute, reads: 2, enq: "l4", check: func(t *testing.T, h *harness, rep Report) {
					if c := h.cursor(); len(c.Live) != 0 || len(c.Media) != 0 {
						t.Errorf("the ended broadcast is still polled: %+v", c)
					}
				}},
				{at: 4 * time.Minute, reads: 0},
			},
		},
		{
			// The chaos run's seed 5 (issue 24's branch): the one read after a broadcast ended
			// failed, the broadcast left the cursor, and its last comment was never found.
			name: "an ended broadcast whose read fails is read again",
			cfg:  Config{Grace: 10 * time.Second},
			setup: func(h *harness) {
				h.sb.StartBroadcast(igID, "L")
				h.comment("l1", "L", at(-5*time.Minute), func(c *sandbox.Comment) { c.Live, c.Text = true, "LINK" })
			},
			steps: []step{
				{at: 0, reads: 4, enq: "l1"},
				{at: time.Minute, reads: 2, do: func(h *harness) {
					h.comment("l2", "L", at(30*time.Second), func(c *sandbox.Comment) { c.Live = true })
					h.sb.EndBroadcast("L")
					failed := false
					h.sb.SetFault(func(c sandbox.Call) sandbox.Fault {
						if c.Op == sandbox.OpComments && !failed {
							failed = true
							return sandbox.ServerError(503)
						}
						return sandbox.Fault{}
					})
				}},
				{at: 2 * time.Minute, reads: 2, enq: "l2", check: func(t *testing.T, h *harness, rep Report) {
					if c := h.cursor(); len(c.Live) != 0 {
						t.Errorf("the ended broadcast is still polled after a good read: %+v", c)
					}
				}},
			},
		},
		{
			name: "the read budget stops a pass, and the next goes on where it stopped",
			// 45 an hour: a burst of 3, then one read every 86 s.
			cfg: Config{ReadLimit: reply.Limit{Count: 45, Period: time.Hour, Burst: 3}},
			setup: func(h *harness) {
				h.media("M", at(-48*time.Hour))
				h.many("m", "M", 150, at(-47*time.Hour))
			},
			steps: []step{
				{at: 0, reads: 3, enq: names("m", 100, 150), check: stopped(1)},
				{at: 5 * time.Minute, reads: 3, enq: names("m", 50, 100), check: stopped(1)},
				{at: 10 * time.Minute, reads: 3, enq: names("m", 0, 50), check: stopped(1)}, // subscribed_apps waits
				{at: 15 * time.Minute, reads: 3, check: stopped(0)},
			},
		},
		{
			name: "Meta's usage headers and throttling slow the reads down",
			opts: []sandbox.Option{sandbox.WithReadLimit(reply.Limit{Count: 4, Period: time.Hour})},
			setup: func(h *harness) {
				h.media("M", at(-time.Hour))
				h.comment("c", "M", at(-30*time.Minute))
			},
			steps: []step{
				// live_media 25%, media 50%, comments 75%: hold for five minutes.
				{at: 0, reads: 3, enq: "c", check: func(t *testing.T, h *harness, rep Report) {
					stopped(1)(t, h, rep)
					lim := h.rec.cfg.ReadLimit
					if lim.Available(h.readBucket(), at(4*time.Minute)) != 0 || lim.Available(h.readBucket(), at(5*time.Minute)) == 0 {
						t.Errorf("no hold of five minutes after 75%% usage: %+v", h.readBucket())
					}
				}},
				// Meta's limit is spent: 80002, and reads wait until Meta regains (the first read
				// of the hour leaves the window at t0+1h).
				{at: 6 * time.Minute, reads: 2, check: func(t *testing.T, h *harness, rep Report) {
					stopped(1)(t, h, rep)
					lim := h.rec.cfg.ReadLimit
					if lim.Available(h.readBucket(), at(59*time.Minute)) != 0 || lim.Available(h.readBucket(), at(61*time.Minute)) == 0 {
						t.Errorf("no hold until Meta regains: %+v", h.readBucket())
					}
				}},
				{at: 30 * time.Minute, reads: 0, check: stopped(1)},
			},
		},
		{
			name:   "a reply the count hides (another comment was deleted) is found by the whole read",
			answer: true,
			setup: func(h *harness) {
				h.media("M", at(-48*time.Hour))
				h.comment("c1", "M", at(-2*time.Hour))
				h.many("n", "M", 50, at(-time.Hour))
			},
			steps: []step{
				{at: 0, reads: 5, enq: "c1," + names("n", 0, 50)},
				{at: 5 * time.Minute, reads: 2, // the count did not move
					do: func(h *harness) {
						h.comment("r1", "M", at(2*time.Minute), func(c *sandbox.Comment) { c.ParentID = "c1" })
						h.sb.DeleteComment("n010")
					}},
				// Six hours after the first look the media is read whole (two pages), and what was
				// made since that look is checked.
				{at: 6*time.Hour + time.Minute, reads: 4, enq: "r1", check: func(t *testing.T, h *harness, rep Report) {
					if mc := h.cursor().Media["M"]; !mc.Swept.Equal(at(6*time.Hour)) || rep.Comments != 1 {
						t.Errorf("cursor %+v, report %+v", mc, rep)
					}
				}},
				{at: 6*time.Hour + 6*time.Minute, reads: 2},
			},
		},
		{
			name:   "an unsubscribed app is subscribed again, daily, or sooner after comments without webhook",
			answer: true,
			setup: func(h *harness) {
				h.sb.UnsubscribeApp(igID)
				h.media("M", at(-time.Hour))
			},
			steps: []step{
				{at: 0, reads: 4, check: func(t *testing.T, h *harness, rep Report) {
					if rep.Resubscribed != 1 || !slices.Contains(h.sb.Subscriptions(igID), "comments") || h.metrics.Get(MetricResubscribed) != 1 {
						t.Errorf("report %+v, subscriptions %v", rep, h.sb.Subscriptions(igID))
					}
				}},
				{at: 5 * time.Minute, reads: 2},
				{at: 61 * time.Minute, reads: 4, enq: "x1", // found one: the subscription is checked again
					do: func(h *harness) { h.comment("x1", "M", at(55*time.Minute)) }},
				{at: 66 * time.Minute, reads: 3, enq: "x2", // not again within the hour
					do: func(h *harness) { h.comment("x2", "M", at(62*time.Minute)) }},
				{at: 24*time.Hour + time.Minute, reads: 3}, // a whole read of M
				{at: 25*time.Hour + 2*time.Minute, reads: 3, check: func(t *testing.T, h *harness, rep Report) { // the daily check
					if c := h.cursor(); !c.SubscriptionCheckedAt.Equal(at(25*time.Hour + 2*time.Minute)) {
						t.Errorf("subscription checked at %s", c.SubscriptionCheckedAt)
					}
				}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, tt.cfg, tt.opts...)
			tt.setup(h)
			for i, s := range tt.steps {
				h.clock.Set(at(s.at))
				if s.do != nil {
					s.do(h)
				}
				rep := h.pass()
				if tt.answer {
					h.answer()
				}
				if got := h.ids(); rep.Calls != s.reads || got != s.enq {
					t.Fatalf("step %d (t0+%s): %d reads, enqueued %q; want %d, %q\nreport %+v", i, s.at, rep.Calls, got, s.reads, s.enq, rep)
				}
				if s.check != nil {
					s.check(t, h, rep)
				}
			}
		})
	}
}

func stopped(n int) func(t *testing.T, h *harness, rep Report) {
	return func(t *testing.T, h *harness, rep Report) {
		t.Helper()
		if rep.Stopped != n {
			t.Errorf("budget stops %d, want %d", rep.Stopped, n)
		}
	}
}

// TestFoundJob: a found comment is the job the webhook would have enqueued, with Meta's timestamp
// as its creation time, so its deadline is exact.
func TestFoundJob(t *testing.T) {
	h := newHarness(t, Config{})
	h.media("M", at(-time.Hour))
	h.comment("c", "M", at(-30*time.Minute), func(c *sandbox.Comment) { c.Text = "recipe?" })
	h.comment("r", "M", at(-20*time.Minute), func(c *sandbox.Comment) { c.ParentID = "c" })
	h.pass()
	got := h.queue.take()
	want := []reply.Job{
		{V: reply.JobVersion, AccountID: igID, CommentID: "c", MediaID: "M", ProductType: "REELS", FromID: "p-c",
			FromUsername: "fan_c", Text: "recipe?", Kind: reply.KindReel, CommentedAt: at(-30 * time.Minute)},
		{V: reply.JobVersion, AccountID: igID, CommentID: "r", MediaID: "M", ProductType: "REELS", FromID: "p-r",
			FromUsername: "fan_r", Text: "RECIPE please", ParentID: "c", Kind: reply.KindReel, CommentedAt: at(-20 * time.Minute)},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("jobs\n%+v\nwant\n%+v", got, want)
	}
	if d := got[0].Deadline(); !d.Equal(at(-30 * time.Minute).Add(reply.Window)) {
		t.Errorf("deadline %s", d)
	}
	if n, reads := h.metrics.Get(MetricReconciled), h.metrics.Get(MetricReconcileCalls); n != 2 || reads != 4 {
		t.Errorf("metrics: Reconciled %v, ReconcileCalls %v", n, reads)
	}
}

// TestEnqueueFailure: jobs the queue refused are found again by the next pass; the cursor moves
// only past what was enqueued.
func TestEnqueueFailure(t *testing.T) {
	h := newHarness(t, Config{})
	h.media("M", at(-time.Hour))
	h.comment("c", "M", at(-30*time.Minute))
	h.queue.fail = errQueueDown
	if _, err := h.rec.Run(context.Background()); !errors.Is(err, errQueueDown) {
		t.Fatalf("pass with the queue down: %v", err)
	}
	h.queue.fail = nil
	h.clock.Set(at(5 * time.Minute))
	h.pass()
	if got := h.ids(); got != "c" {
		t.Errorf("after the queue is back: %q", got)
	}
}

// TestAccountsRead: only healthy accounts with rules are read, each against its own budget.
func TestAccountsRead(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	for id, mod := range map[string]func(*reply.Account){
		"17841400000000002": func(a *reply.Account) { a.Rules = nil },
		"17841400000000003": func(a *reply.Account) { a.Unhealthy = "190" },
		"17841400000000004": func(a *reply.Account) {},
	} {
		a := testAccount()
		a.ID = id
		mod(&a)
		if _, err := h.store.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		h.sb.AddAccount(id, "tok-"+id, reply.LoginInstagram, "")
		h.tokens[id] = "tok-" + id
	}
	rep := h.pass()
	if rep.Accounts != 2 {
		t.Errorf("%d accounts read, want 2", rep.Accounts)
	}
	for _, id := range []string{igID, "17841400000000004"} {
		if b, _ := h.store.Bucket(ctx, id, reply.LaneReads); b.Version == 0 {
			t.Errorf("account %s: no reads taken from its budget", id)
		}
	}
}
