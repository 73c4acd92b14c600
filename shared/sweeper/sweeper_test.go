package sweeper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestSweep puts one record in every situation the sweeper meets into one store, runs one sweep
// and checks what became of each, what went to the queue and what the report and metrics say.
func TestSweep(t *testing.T) {
	for _, mk := range backends {
		t.Run(mk.name, func(t *testing.T) {
			e := newEnv(t, mk)
			e.account(t, "A1", nil)
			e.account(t, "A2", func(a *reply.Account) { a.Unhealthy, a.UnhealthySince = "190", t0.Add(-time.Hour) })
			e.account(t, "A3", nil)
			e.sandbox.StartBroadcast("A3", "live-on")
			e.sandbox.StartBroadcast("A3", "live-off")
			e.sandbox.EndBroadcast("live-off")

			closed := t0.Add(-reply.Window - time.Minute) // a comment whose window closed a minute ago
			open := t0.Add(-time.Hour)
			type want struct {
				state    reply.State
				reason   string
				enqueued bool
				granted  bool
			}
			cases := []struct {
				name string
				rec  func(t *testing.T) []reply.Record
				want want
			}{
				{"parked, window closed", func(t *testing.T) []reply.Record {
					return []reply.Record{parked(job("A1", "c01", reply.KindReel, "m1", closed), closed, t0.Add(time.Hour))}
				}, want{state: reply.StateExpired, reason: "window"}},
				{"parked and due", func(t *testing.T) []reply.Record {
					return []reply.Record{parked(job("A1", "c02", reply.KindReel, "m1", open), open, t0.Add(-time.Minute))}
				}, want{state: reply.StateQueued, enqueued: true, granted: true}},
				{"parked, not due", func(t *testing.T) []reply.Record {
					return []reply.Record{parkedFor(job("A1", "c03", reply.KindReel, "m1", open), open, t0.Add(time.Minute), "throttled")}
				}, want{state: reply.StateParked, reason: "throttled"}},
				{"waiting in the lane, not due: the bucket grants it", func(t *testing.T) []reply.Record {
					return []reply.Record{parked(job("A1", "c15", reply.KindReel, "m1", open), open, t0.Add(time.Minute))}
				}, want{state: reply.StateQueued, enqueued: true, granted: true}},
				{"leased past the deadline, lease live", func(t *testing.T) []reply.Record {
					j := job("A1", "c04", reply.KindPost, "m1", closed.Add(-time.Minute))
					return []reply.Record{leased(t, j, t0.Add(-2*time.Minute), t0.Add(time.Minute))}
				}, want{state: reply.StateLeased}},
				{"leased past the deadline, lease ran out", func(t *testing.T) []reply.Record {
					j := job("A1", "c05", reply.KindPost, "m1", closed)
					return []reply.Record{leased(t, j, t0.Add(-3*time.Minute), t0.Add(-2*time.Minute))}
				}, want{state: reply.StateAmbiguous, reason: reply.AmbiguousWindow}}, // the holder may have sent
				{"leased, lease ran out, window open", func(t *testing.T) []reply.Record {
					j := job("A1", "c06", reply.KindPost, "m1", open)
					return []reply.Record{leased(t, j, t0.Add(-3*time.Minute), t0.Add(-2*time.Minute))}
				}, want{state: reply.StateQueued, enqueued: true}},
				{"queued, message lost", func(t *testing.T) []reply.Record {
					p := parked(job("A1", "c07", reply.KindPost, "m1", open), open, open)
					return []reply.Record{p, must(t)(p.Release(true, t0.Add(-reply.OrphanGrace-time.Second)))}
				}, want{state: reply.StateQueued, enqueued: true, granted: true}},
				{"queued recently", func(t *testing.T) []reply.Record {
					p := parked(job("A1", "c08", reply.KindPost, "m1", open), open, open)
					return []reply.Record{p, must(t)(p.Release(false, t0.Add(-time.Minute)))}
				}, want{state: reply.StateQueued}},
				{"parked, account unhealthy", func(t *testing.T) []reply.Record {
					return []reply.Record{parkedFor(job("A2", "c09", reply.KindReel, "m2", open), open, t0.Add(-time.Minute), "account_unhealthy")}
				}, want{state: reply.StateParked, reason: "account_unhealthy"}},
				{"parked, account unknown", func(t *testing.T) []reply.Record {
					return []reply.Record{parkedFor(job("A9", "c10", reply.KindReel, "m9", open), open, t0.Add(-time.Minute), "account_unavailable")}
				}, want{state: reply.StateParked, reason: "account_unavailable"}},
				{"waiting in the lane, account unhealthy", func(t *testing.T) []reply.Record {
					return []reply.Record{parked(job("A2", "c16", reply.KindReel, "m2", open), open, t0.Add(-time.Minute))}
				}, want{state: reply.StateParked, reason: "rate_limited"}},
				{"live, broadcast ended", func(t *testing.T) []reply.Record {
					j := job("A3", "c11", reply.KindLive, "live-off", t0.Add(-time.Hour))
					return []reply.Record{parked(j, j.CommentedAt, t0.Add(-time.Second))}
				}, want{state: reply.StateExpired, reason: "broadcast_ended"}},
				{"live, broadcast on", func(t *testing.T) []reply.Record {
					j := job("A3", "c12", reply.KindLive, "live-on", t0.Add(-time.Hour))
					return []reply.Record{parked(j, j.CommentedAt, t0.Add(-time.Second))}
				}, want{state: reply.StateQueued, enqueued: true, granted: true}},
				{"live, queued, broadcast ended", func(t *testing.T) []reply.Record {
					j := job("A3", "c13", reply.KindLive, "live-off", t0.Add(-time.Hour))
					p := parked(j, j.CommentedAt, j.CommentedAt)
					return []reply.Record{p, must(t)(p.Release(false, t0.Add(-reply.OrphanGrace)))}
				}, want{state: reply.StateExpired, reason: "broadcast_ended"}},
				{"sent", func(t *testing.T) []reply.Record {
					j := job("A1", "c14", reply.KindPost, "m1", closed)
					l := leased(t, j, closed, closed.Add(time.Minute))
					return []reply.Record{l, must(t)(l.Finish(reply.Sent("mid", "rid"), true, closed.Add(time.Second)))}
				}, want{state: reply.StateSent}},
			}
			var comments, wantQueued []string
			counts := map[reply.State]int{}
			var oldest time.Time
			for _, c := range cases {
				r := seed(t, e.store, c.rec(t)...)
				comments = append(comments, r.CommentID)
				if !r.State.Terminal() && !r.DueAt.After(t0) && (oldest.IsZero() || r.DueAt.Before(oldest)) {
					oldest = r.DueAt
				}
				if c.want.enqueued {
					wantQueued = append(wantQueued, r.CommentID)
				}
			}

			rep, err := e.sweeper(Config{}).Run(context.Background())
			if err != nil {
				t.Fatalf("run: %v", err)
			}
			got := states(t, e.store, comments)
			for i, c := range cases {
				r := got[comments[i]]
				if r.State != c.want.state || (c.want.reason != "" && r.Reason != c.want.reason) || r.GrantedAt.IsZero() == c.want.granted {
					t.Errorf("%s: state %s reason %q granted %v, want %s %q granted %v",
						c.name, r.State, r.Reason, !r.GrantedAt.IsZero(), c.want.state, c.want.reason, c.want.granted)
				}
				if c.want.state == reply.StateQueued && c.want.enqueued && !r.DueAt.Equal(t0.Add(reply.OrphanGrace)) {
					t.Errorf("%s: due at %s, want now + orphan grace", c.name, r.DueAt)
				}
				counts[c.want.state]++
			}
			slices.Sort(wantQueued)
			if q := ids(e.drain(t)); !slices.Equal(q, wantQueued) {
				t.Errorf("enqueued %v, want %v", q, wantQueued)
			}
			if r := got["c06"]; !r.Uncertain {
				t.Errorf("a lease that ran out must make the retry uncertain: %+v", r)
			}

			// What the report and the metrics say follows from the table.
			wantRep := map[string][2]int{
				"Expired":   {rep.Expired, counts[reply.StateExpired]},
				"Ambiguous": {rep.Ambiguous, counts[reply.StateAmbiguous]},
				"Ended":     {rep.Ended, 2},
				"Released":  {rep.Released, 3}, // c02, c12 and c15 from its lane
				"Redriven":  {rep.Redriven, 2},
				"Held":      {rep.Held, 2},
				"Busy":      {rep.Busy, 1},
				"Backlog":   {rep.Backlog[reply.LanePosts], 3},
				"Lost":      {rep.Lost, 0},
			}
			for name, v := range wantRep {
				if v[0] != v[1] {
					t.Errorf("report %s = %d, want %d", name, v[0], v[1])
				}
			}
			for name, v := range map[string]int{
				MetricExpired: rep.Expired, MetricReleased: rep.Released, MetricRedriven: rep.Redriven,
				MetricUnhealthyHeld: rep.Held, MetricBacklog + "|Lane=posts": 3, MetricBroadcastEnded: 2,
			} {
				if got := e.m.Get(name); got != float64(v) {
					t.Errorf("metric %s = %v, want %d", name, got, v)
				}
			}
			if age := e.m.Get(MetricOldestDueAge); age != t0.Sub(oldest).Seconds() || rep.OldestDue != t0.Sub(oldest) {
				t.Errorf("oldest due age %vs (report %s), want %s", age, rep.OldestDue, t0.Sub(oldest))
			}

			// A second sweep at the same instant finds nothing more to do.
			rep2, err := e.sweeper(Config{}).Run(context.Background())
			if err != nil {
				t.Fatalf("second run: %v", err)
			}
			if rep2.Expired+rep2.Released+rep2.Redriven+rep2.Lost != 0 {
				t.Errorf("second run did something: %+v", rep2)
			}
			if q := e.drain(t); len(q) != 0 {
				t.Errorf("second run enqueued %v", ids(q))
			}
		})
	}
}

// TestReleaseOldestDeadlineFirst parks a backlog on one account and checks that each run
// releases exactly what the bucket grants at that moment, oldest deadline first, whatever the
// parked records' due times say, reading the lane's line no further.
func TestReleaseOldestDeadlineFirst(t *testing.T) {
	e := newEnv(t, backends[0])
	acct := e.account(t, "A1", nil)
	const n = 300
	deadline := map[string]time.Time{}
	var all []string
	for i := range n {
		// Comment times and due times run in opposite directions.
		at := t0.Add(-time.Duration(1+(i*7919)%n) * time.Minute)
		j := job("A1", fmt.Sprintf("c%03d", i), reply.KindReel, "m1", at)
		seed(t, e.store, parked(j, at, t0.Add(-time.Duration(n-i)*time.Second)))
		deadline[j.CommentID] = j.Deadline()
		all = append(all, j.CommentID)
	}
	slices.SortFunc(all, func(a, b string) int { return deadline[a].Compare(deadline[b]) })

	lim := acct.Limit(reply.LanePosts)
	bucket := reply.Bucket{AccountID: "A1", Lane: reply.LanePosts}
	s := e.sweeper(Config{})
	released := 0
	for run := range 4 {
		now := e.clock.Now()
		want, next, _ := lim.Take(bucket, now, n-released)
		bucket = next
		rep, err := s.Run(context.Background())
		if err != nil {
			t.Fatalf("run %d: %v", run, err)
		}
		got := ids(e.drain(t))
		wantIDs := slices.Clone(all[released : released+want])
		slices.Sort(wantIDs)
		if rep.Released != want || rep.Granted != want || !slices.Equal(got, wantIDs) {
			t.Fatalf("run %d: released %d (granted %d) %v, want the %d oldest deadlines %v", run, rep.Released, rep.Granted, got, want, wantIDs)
		}
		released += want
		// The line is read only as far as the bucket reaches: what can go, and spares.
		if rep.Lined > want+lineSpares || rep.Backlog[reply.LanePosts] != rep.Lined-want || rep.OldestDue <= 0 {
			t.Errorf("run %d: read %d of the line for %d releases, backlog %d, oldest %s", run, rep.Lined, want, rep.Backlog[reply.LanePosts], rep.OldestDue)
		}
		e.clock.Add(time.Minute)
	}
	stored, err := e.store.Bucket(context.Background(), "A1", reply.LanePosts)
	if err != nil || !stored.TAT.Equal(bucket.TAT) {
		t.Errorf("stored bucket %+v (%v), want TAT %s", stored, err, bucket.TAT)
	}
	if released <= 50 {
		t.Errorf("released %d over four minutes, want the burst and the steady rate", released)
	}
}

// TestReleaseLive checks the Live lane (100/s): the tokens that conform now go out granted, and
// the rest of a minute's capacity goes out for the replier to pace.
func TestReleaseLive(t *testing.T) {
	e := newEnv(t, backends[0])
	acct := e.account(t, "A1", nil)
	e.sandbox.StartBroadcast("A1", "live-1")
	const n = 120
	for i := range n {
		j := job("A1", fmt.Sprintf("c%03d", i), reply.KindLive, "live-1", t0.Add(-time.Minute))
		seed(t, e.store, parked(j, j.CommentedAt, t0.Add(-time.Second)))
	}
	want, _, _ := acct.Limit(reply.LaneLive).Take(reply.Bucket{}, t0, n)
	rep, err := e.sweeper(Config{}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Released != n || rep.Granted != want {
		t.Errorf("released %d, granted %d; want %d and %d", rep.Released, rep.Granted, n, want)
	}
	if q := e.drain(t); len(q) != n {
		t.Errorf("enqueued %d, want %d", len(q), n)
	}
}

// failingQueue refuses every job, as SQS does when it is down.
type failingQueue struct{ calls int }

var errQueueDown = errors.New("queue unavailable")

func (q *failingQueue) Enqueue(context.Context, []reply.Job) error {
	q.calls++
	return errQueueDown
}

// TestEnqueueFailure: a release whose message the queue refused is re-driven after the orphan
// grace, and the run reports the failure.
func TestEnqueueFailure(t *testing.T) {
	e := newEnv(t, backends[0])
	e.account(t, "A1", nil)
	for i := range 5 {
		j := job("A1", fmt.Sprintf("c%d", i), reply.KindReel, "m1", t0.Add(-time.Hour))
		seed(t, e.store, parked(j, j.CommentedAt, t0.Add(-time.Minute)))
	}
	q := &failingQueue{}
	down := New(Config{}, e.store, q, e.graph, e.tokens, e.clock, e.m, nil)
	rep, err := down.Run(context.Background())
	if !errors.Is(err, errQueueDown) || rep.EnqueueFailed != 5 || rep.Released != 5 || q.calls != 1 {
		t.Fatalf("run with the queue down: %+v, %v (calls %d)", rep, err, q.calls)
	}
	e.clock.Add(reply.OrphanGrace - time.Second)
	if rep, _ := e.sweeper(Config{}).Run(context.Background()); rep.Redriven != 0 {
		t.Fatalf("re-driven before the grace ran out: %+v", rep)
	}
	e.clock.Add(time.Second)
	rep, err = e.sweeper(Config{}).Run(context.Background())
	if err != nil || rep.Redriven != 5 {
		t.Fatalf("after the grace: %+v, %v", rep, err)
	}
	for _, j := range e.drain(t) {
		r, _ := e.store.Get(context.Background(), reply.CommentKey(j.CommentID))
		if r.GrantedAt.IsZero() {
			t.Errorf("%s lost its reserved token on the re-drive", j.CommentID)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	base := map[string]string{"TABLE_NAME": "t", "QUEUE_URL": "http://q"}
	cases := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(Config) bool
	}{
		{"defaults", nil, "", func(c Config) bool {
			return c.Interval == time.Minute && c.RetentionDays == 30 && c.GraphAPIVersion == DefaultGraphAPIVersion &&
				c.Margin == DefaultMargin && c.PageSize == DefaultPageSize && c.Retention() == 30*24*time.Hour
		}},
		{"interval", map[string]string{"SWEEP_INTERVAL": "5m"}, "", func(c Config) bool { return c.Interval == 5*time.Minute }},
		{"interval too short", map[string]string{"SWEEP_INTERVAL": "30s"}, "SWEEP_INTERVAL", nil},
		{"interval garbage", map[string]string{"SWEEP_INTERVAL": "often"}, "SWEEP_INTERVAL", nil},
		{"retention", map[string]string{"RETENTION_DAYS": "90"}, "", func(c Config) bool { return c.RetentionDays == 90 }},
		{"retention zero", map[string]string{"RETENTION_DAYS": "0"}, "RETENTION_DAYS", nil},
		{"no table", map[string]string{"TABLE_NAME": ""}, "TABLE_NAME", nil},
		{"no queue", map[string]string{"QUEUE_URL": ""}, "QUEUE_URL", nil},
		{"graph", map[string]string{"GRAPH_API_URL": "http://127.0.0.1:9/", "GRAPH_API_VERSION": "v25.0"}, "", func(c Config) bool {
			return c.GraphAPIURL == "http://127.0.0.1:9" && c.GraphAPIVersion == "v25.0"
		}},
		{"tokens kept for main", map[string]string{"ACCOUNT_TOKENS": "a=1"}, "", func(c Config) bool { return c.AccountTokens == "a=1" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range base {
				env[k] = v
			}
			for k, v := range c.env {
				env[k] = v
			}
			read := map[string]bool{}
			cfg, err := LoadConfig(func(k string) string { read[k] = true; return env[k] })
			switch {
			case c.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("err %v, want one naming %s", err, c.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case !c.check(cfg):
				t.Errorf("config %+v", cfg)
			}
			if err == nil {
				for k := range read {
					if !slices.Contains(Env, k) {
						t.Errorf("LoadConfig reads %s, which Env does not list", k)
					}
				}
				for _, k := range Env {
					if !read[k] {
						t.Errorf("Env lists %s, which LoadConfig never reads", k)
					}
				}
			}
		})
	}
}

// TestLanesOfManyAccounts: every account's lane is released in one run, each from its own line's
// head and by its own bucket, the lanes worked on at once; the lines are read no further.
func TestLanesOfManyAccounts(t *testing.T) {
	e := newEnv(t, backends[0])
	const accounts, each = 20, 30
	for a := range accounts {
		id := fmt.Sprintf("A%02d", a)
		e.account(t, id, nil)
		for i := range each {
			at := t0.Add(-time.Duration(each-i) * time.Minute)
			seed(t, e.store, parked(job(id, fmt.Sprintf("c%02d-%02d", a, i), reply.KindReel, "m1", at), at, t0.Add(time.Hour)))
		}
	}
	rep, err := e.sweeper(Config{}).Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	burst := reply.DefaultPostsLimit.BurstSize()
	if rep.Released != accounts*burst || rep.Granted != rep.Released || rep.Lined > accounts*(burst+lineSpares) {
		t.Errorf("released %d (granted %d), read %d of the lines; want %d each of %d accounts, reading at most %d more",
			rep.Released, rep.Granted, rep.Lined, burst, accounts, lineSpares)
	}
	per := map[string]int{}
	for _, j := range e.drain(t) {
		per[j.AccountID]++
		if n, _ := strconv.Atoi(j.CommentID[len(j.CommentID)-2:]); n >= burst {
			t.Errorf("%s released before older comments of its account", j.CommentID)
		}
	}
	for a := range accounts {
		if id := fmt.Sprintf("A%02d", a); per[id] != burst {
			t.Errorf("%s: %d released, want %d", id, per[id], burst)
		}
	}
}
