package replier

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestOutcomes runs one job through every row of Meta's error table and every decision the
// replier takes before calling, against the real Graph client and the sandbox.
func TestOutcomes(t *testing.T) {
	limitOne := func(a *reply.Account) {
		a.Limits = map[reply.Lane]reply.Limit{reply.LanePosts: {Count: 1, Period: time.Hour}}
	}
	live := func(j *reply.Job) { j.Kind, j.MediaID, j.ProductType = reply.KindLive, "live-1", "LIVE" }
	liveComment := func(e *env, j reply.Job) {
		e.sb.AddComment(sandbox.Comment{ID: j.CommentID, AccountID: j.AccountID, MediaID: j.MediaID, FromID: j.FromID, Live: true})
	}
	queue := func(f sandbox.Fault) func(*env, reply.Job) {
		return func(e *env, j reply.Job) { e.sb.QueueFault(j.CommentID, f) }
	}
	unhealthy := func(t *testing.T, e *env, _ reply.Record) {
		a, err := e.store.Account(context.Background(), e.acct.ID)
		if err != nil || a.Healthy() {
			t.Fatalf("account after the answer: unhealthy=%q err=%v, want unhealthy", a.Unhealthy, err)
		}
	}
	healthy := func(t *testing.T, e *env, _ reply.Record) {
		a, err := e.store.Account(context.Background(), e.acct.ID)
		if err != nil || !a.Healthy() {
			t.Fatalf("account after the answer: unhealthy=%q err=%v, want healthy", a.Unhealthy, err)
		}
	}
	for _, tc := range []struct {
		name      string
		account   func(*reply.Account)
		job       func(*reply.Job)
		setup     func(*env, reply.Job)
		action    Action
		reason    string
		state     reply.State
		calls     int // private-reply calls this job made
		delivered int
		public    int
		retryIn   time.Duration // parked: RetryAt - start
		attempts  int
		metrics   map[string]float64
		check     func(*testing.T, *env, reply.Record)
	}{
		{name: "sent with a public reply", action: ActionSent, state: reply.StateSent, calls: 1, delivered: 1, public: 1, attempts: 1,
			metrics: map[string]float64{"Sent": 1},
			check: func(t *testing.T, e *env, rec reply.Record) {
				d := e.sb.Deliveries()[0]
				if rec.MessageID != d.MessageID || rec.RecipientID != d.RecipientID || rec.MessageID == "" {
					t.Errorf("record ids %q/%q, sandbox %q/%q", rec.MessageID, rec.RecipientID, d.MessageID, d.RecipientID)
				}
				if !strings.HasPrefix(d.Text, "Hi béa.cooks! Here is the recipe") || !strings.HasSuffix(d.Text, "\n\nThis message was sent automatically.") {
					t.Errorf("text %q", d.Text)
				}
			}},
		{name: "sent to a reply comment: no public reply", job: func(j *reply.Job) { j.ParentID = "17900000000000000" },
			action: ActionSent, state: reply.StateSent, calls: 1, delivered: 1, attempts: 1, metrics: map[string]float64{"Sent": 1}},
		{name: "own comment", job: func(j *reply.Job) { j.FromID = j.AccountID },
			action: ActionSkipped, reason: reply.SkipOwnComment, state: reply.StateSkipped,
			metrics: map[string]float64{"Skipped|Reason=own_comment": 1}},
		{name: "unknown account", job: func(j *reply.Job) { j.AccountID = "17841499999999999" },
			action: ActionSkipped, reason: reply.SkipNoAccount, state: reply.StateSkipped,
			metrics: map[string]float64{"Skipped|Reason=no_account": 1}},
		{name: "paused account", account: func(a *reply.Account) { a.Paused = true },
			action: ActionSkipped, reason: reply.SkipPaused, state: reply.StateSkipped,
			metrics: map[string]float64{"Skipped|Reason=paused": 1}},
		{name: "no rule matches", job: func(j *reply.Job) { j.Text = "love this 😍" },
			action: ActionSkipped, reason: reply.SkipNoRule, state: reply.StateSkipped,
			metrics: map[string]float64{"Skipped|Reason=no_rule": 1}},
		{name: "excluded word vetoes the rule", job: func(j *reply.Job) { j.Text = "RECIPE spam" },
			action: ActionSkipped, reason: reply.SkipNoRule, state: reply.StateSkipped,
			metrics: map[string]float64{"Skipped|Reason=no_rule": 1}},
		{name: "window passed: no call", job: func(j *reply.Job) { j.CommentedAt = start.Add(-reply.Window - time.Minute) },
			action: ActionExpired, reason: "window", state: reply.StateExpired, metrics: map[string]float64{"Expired": 1}},
		{name: "Meta 10/2534022 outside the window", setup: queue(sandbox.MetaError(400, 10, 2534022)),
			action: ActionExpired, reason: "10/2534022", state: reply.StateExpired, calls: 1, attempts: 1,
			metrics: map[string]float64{"Expired": 1}},
		{name: "Meta 100/2534025 on a first attempt", setup: queue(sandbox.MetaError(400, 100, 2534025)),
			action: ActionFailed, reason: "100/2534025", state: reply.StateFailed, calls: 1, attempts: 1,
			metrics: map[string]float64{"Failed|Code=100/2534025": 1}},
		{name: "Meta 100/2534014 no matching user", setup: queue(sandbox.MetaError(400, 100, 2534014)),
			action: ActionFailed, reason: "100/2534014", state: reply.StateFailed, calls: 1, attempts: 1,
			metrics: map[string]float64{"Failed|Code=100/2534014": 1}},
		{name: "Meta 551 person unavailable", setup: queue(sandbox.MetaError(400, 551, 0)),
			action: ActionFailed, reason: "551", state: reply.StateFailed, calls: 1, attempts: 1,
			metrics: map[string]float64{"Failed|Code=551": 1}},
		{name: "Meta 200/2534041 account permission", setup: queue(sandbox.MetaError(403, 200, 2534041)),
			action: ActionFailed, reason: "200/2534041", state: reply.StateFailed, calls: 1, attempts: 1,
			metrics: map[string]float64{"Failed|Code=200/2534041": 1, "AccountUnhealthy": 1}, check: unhealthy},
		{name: "Meta 190 token revoked: park, not an attempt", setup: queue(sandbox.TokenRevoked()),
			action: ActionParked, reason: ParkUnhealthy, state: reply.StateParked, calls: 1, retryIn: DefaultUnhealthyRecheck,
			metrics: map[string]float64{"Parked|Reason=account_unhealthy": 1, "AccountUnhealthy": 1}, check: unhealthy},
		{name: "Meta 613 throttled: park, not an attempt", setup: queue(sandbox.Throttle()),
			action: ActionParked, reason: ParkThrottled, state: reply.StateParked, calls: 1, retryIn: 5 * time.Minute,
			metrics: map[string]float64{"Throttled": 1, "Parked|Reason=throttled": 1}},
		{name: "HTTP 429 with Retry-After", setup: queue(sandbox.TooManyRequests(2 * time.Minute)),
			action: ActionParked, reason: ParkThrottled, state: reply.StateParked, calls: 1, retryIn: 2 * time.Minute,
			metrics: map[string]float64{"Throttled": 1, "Parked|Reason=throttled": 1}},
		{name: "Meta 500 code 1: uncertain", setup: queue(sandbox.ServerError(500)),
			action: ActionParked, reason: ParkUncertain, state: reply.StateParked, calls: 1, retryIn: 3*time.Minute + 45*time.Second, attempts: 1,
			metrics: map[string]float64{"Uncertain": 1, "Parked|Reason=uncertain": 1},
			check: func(t *testing.T, _ *env, rec reply.Record) {
				if !rec.Uncertain {
					t.Error("record not uncertain")
				}
			}},
		{name: "bare 502 from a proxy: uncertain", setup: queue(sandbox.HTTPStatus(502)),
			action: ActionParked, reason: ParkUncertain, state: reply.StateParked, calls: 1, retryIn: 3*time.Minute + 45*time.Second, attempts: 1,
			metrics: map[string]float64{"Uncertain": 1, "Parked|Reason=uncertain": 1}},
		{name: "timeout after delivery: uncertain", setup: queue(sandbox.TimeoutAfter()),
			action: ActionParked, reason: ParkUncertain, state: reply.StateParked, calls: 1, delivered: 1, retryIn: 3*time.Minute + 45*time.Second, attempts: 1,
			metrics: map[string]float64{"Uncertain": 1}},
		{name: "connection dropped after delivery: uncertain", setup: queue(sandbox.DropAfter()),
			action: ActionParked, reason: ParkUncertain, state: reply.StateParked, calls: 1, delivered: 1, retryIn: 3*time.Minute + 45*time.Second, attempts: 1,
			metrics: map[string]float64{"Uncertain": 1}},
		{name: "account marked unhealthy: park without a call", account: func(a *reply.Account) { a.Unhealthy = "190" },
			action: ActionParked, reason: ParkUnhealthy, state: reply.StateParked, retryIn: DefaultUnhealthyRecheck,
			metrics: map[string]float64{"Parked|Reason=account_unhealthy": 1}},
		{name: "our bucket is empty: park without a call", account: limitOne,
			setup:  func(e *env, _ reply.Job) { e.process(sampleJob(e.t, 99)) },
			action: ActionParked, reason: ParkRateLimited, state: reply.StateParked, retryIn: time.Hour + time.Hour/240, delivered: 1, public: 1, // room for a token's life
			metrics: map[string]float64{"Sent": 1, "Parked|Reason=rate_limited": 1}},
		{name: "released with a granted token: no token taken", account: limitOne,
			setup: func(e *env, j reply.Job) {
				e.process(sampleJob(e.t, 99)) // empties the bucket
				ctx := context.Background()
				p, err := e.store.Create(ctx, reply.NewParked(j, start, ParkRateLimited, start))
				if err != nil {
					e.t.Fatal(err)
				}
				q, err := p.Release(true, start)
				if err == nil {
					_, err = e.store.Update(ctx, q)
				}
				if err != nil {
					e.t.Fatal(err)
				}
			},
			action: ActionSent, state: reply.StateSent, calls: 1, delivered: 2, public: 2, attempts: 1, metrics: map[string]float64{"Sent": 2}},
		{name: "released with a granted token that went void on the queue: parked for a fresh one", account: limitOne,
			setup: func(e *env, j reply.Job) {
				e.process(sampleJob(e.t, 99)) // empties the bucket
				ctx := context.Background()
				p, err := e.store.Create(ctx, reply.NewParked(j, start, ParkRateLimited, start.Add(-time.Hour)))
				if err != nil {
					e.t.Fatal(err)
				}
				q, err := p.Release(true, start.Add(-reply.DefaultPostsLimit.TokenLife())) // a token's life ago
				if err == nil {
					_, err = e.store.Update(ctx, q)
				}
				if err != nil {
					e.t.Fatal(err)
				}
			},
			action: ActionParked, reason: ParkRateLimited, state: reply.StateParked, retryIn: time.Hour + time.Hour/240, delivered: 1, public: 1,
			metrics: map[string]float64{"Sent": 1, "Parked|Reason=rate_limited": 1}},
		{name: "Live while the broadcast is on: no public reply", job: live, setup: liveComment,
			action: ActionSent, state: reply.StateSent, calls: 1, delivered: 1, attempts: 1, metrics: map[string]float64{"Sent": 1}},
		{name: "Live after the broadcast ended: no call", job: live,
			setup:  func(e *env, j reply.Job) { liveComment(e, j); e.sb.EndBroadcast(j.MediaID) },
			action: ActionExpired, reason: "broadcast_ended", state: reply.StateExpired, metrics: map[string]float64{"Expired": 1}},
		// The sandbox's people, not injected faults: Meta's ordinary answers for a person who
		// cannot be messaged are the person's refusal, never the account's problem.
		{name: "person configured unavailable (551/1545041)",
			setup:  func(e *env, j reply.Job) { known(e, j); e.sb.SetUnavailable(j.FromID, true) },
			action: ActionFailed, reason: "551/1545041", state: reply.StateFailed, calls: 1, attempts: 1,
			metrics: map[string]float64{"Failed|Code=551/1545041": 1, "AccountUnhealthy": 0}, check: healthy},
		{name: "person blocked the account (200/1545041)",
			setup:  func(e *env, j reply.Job) { known(e, j); e.sb.SetBlocked(j.AccountID, j.FromID, true) },
			action: ActionFailed, reason: "200/1545041", state: reply.StateFailed, calls: 1, attempts: 1,
			metrics: map[string]float64{"Failed|Code=200/1545041": 1, "AccountUnhealthy": 0}, check: healthy},
		{name: "message cannot be rendered: no call", job: func(j *reply.Job) { j.FromUsername = strings.Repeat("x", 1000) },
			action: ActionFailed, reason: ReasonInvalidMessage, state: reply.StateFailed,
			metrics: map[string]float64{"Failed|Code=invalid_message": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, memoryStore)
			e.put(tc.account)
			job := sampleJob(t, 1)
			if tc.job != nil {
				tc.job(&job)
			}
			if tc.setup != nil {
				tc.setup(e, job)
			}
			before := e.sb.Stats()
			d := e.process(job)
			if d.Action != tc.action || d.Reason != tc.reason {
				t.Fatalf("decision %s(%s), want %s(%s)", d.Action, d.Reason, tc.action, tc.reason)
			}
			rec := e.record(job)
			if rec.State != tc.state || rec.Reason != d.Reason && rec.State != reply.StateSent {
				t.Errorf("record %s(%s), want %s(%s)", rec.State, rec.Reason, tc.state, tc.reason)
			}
			if d.Record.Version != rec.Version || d.Record.State != rec.State {
				t.Errorf("decision's record v%d %s, stored v%d %s", d.Record.Version, d.Record.State, rec.Version, rec.State)
			}
			after := e.sb.Stats()
			if calls := after.Calls[sandbox.OpPrivateReply] - before.Calls[sandbox.OpPrivateReply]; calls != tc.calls {
				t.Errorf("private-reply calls %d, want %d", calls, tc.calls)
			}
			if after.Delivered != tc.delivered || after.Public != tc.public {
				t.Errorf("sandbox delivered %d private and %d public, want %d and %d", after.Delivered, after.Public, tc.delivered, tc.public)
			}
			if rec.Attempts != tc.attempts {
				t.Errorf("attempts %d, want %d", rec.Attempts, tc.attempts)
			}
			if tc.state == reply.StateParked {
				if want := start.Add(tc.retryIn); !d.RetryAt.Equal(want) || !rec.DueAt.Equal(want) {
					t.Errorf("retry at %s (due %s), want %s", d.RetryAt, rec.DueAt, want)
				}
			}
			for name, want := range tc.metrics {
				if got := e.m.Get(name); got != want {
					t.Errorf("metric %s = %v, want %v", name, got, want)
				}
			}
			if _, ok := tc.metrics["Sent"]; !ok && e.m.Get("Sent") != 0 {
				t.Errorf("metric Sent = %v, want 0", e.m.Get("Sent"))
			}
			if tc.check != nil {
				tc.check(t, e, rec)
			}
		})
	}
}

func TestInvalidJob(t *testing.T) {
	e := newEnv(t, memoryStore)
	e.put(nil)
	for _, tc := range []struct {
		name string
		edit func(*reply.Job)
	}{
		{"unknown version", func(j *reply.Job) { j.V = 2 }},
		{"no comment id", func(j *reply.Job) { j.CommentID = "" }},
		{"unknown kind", func(j *reply.Job) { j.Kind = "story" }},
		{"no comment time", func(j *reply.Job) { j.CommentedAt = time.Time{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := sampleJob(t, 1)
			tc.edit(&j)
			d, err := e.r.Process(context.Background(), j)
			if !errors.Is(err, reply.ErrInvalidJob) || d.Action != ActionInvalid {
				t.Fatalf("decision %s, err %v; want invalid", d.Action, err)
			}
		})
	}
	if n := e.sb.Stats().Calls[sandbox.OpPrivateReply]; n != 0 {
		t.Errorf("%d private-reply calls for invalid jobs", n)
	}
}
