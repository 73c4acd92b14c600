package deletion

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// tickingClock advances by step on every reading, so a budget runs out after a known number of
// steps whatever the machine's speed.
type tickingClock struct {
	t    time.Time
	step time.Duration
}

func (c *tickingClock) Now() time.Time { c.t = c.t.Add(c.step); return c.t }

func TestWorker(t *testing.T) {
	ctx, store := newStore(t)
	params := newParams(t)
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	owner := awstest.Name(t, "owner")     // an account owner who removed the app
	commenter := awstest.Name(t, "fan")   // a person who commented on another account
	other := awstest.Name(t, "other-acc") // an account that stays

	for _, id := range []string{owner, other} {
		a := reply.Account{ID: id, Login: reply.LoginInstagram, TokenParam: "/" + id + "/token", Version: 1}
		if _, err := store.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := params.Put(ctx, a.TokenParam, "IGTOKEN-"+id); err != nil {
			t.Fatal(err)
		}
	}
	// Reply records: the owner's account (every state, funnel and comment keys), the commenter's
	// comments on the other account, and unrelated ones that must stay.
	var gone, kept []string
	add := func(rec reply.Record, remove bool) {
		t.Helper()
		if _, err := store.Create(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if remove {
			gone = append(gone, rec.Key)
		} else {
			kept = append(kept, rec.Key)
		}
	}
	job := func(acct, comment, from string) reply.Job {
		return reply.Job{V: reply.JobVersion, AccountID: acct, CommentID: comment, MediaID: "m1", FromID: from,
			FromUsername: "u-" + from, Text: "recipe", Kind: reply.KindPost, CommentedAt: now.Add(-time.Hour)}
	}
	for i := range 7 {
		j := job(owner, fmt.Sprintf("o%d", i), fmt.Sprintf("p%d", i))
		if i%2 == 0 {
			add(reply.NewParked(j, now.Add(time.Hour), "rate", now), true)
		} else {
			add(reply.NewSkipped(j, reply.SkipNoRule, now), true)
		}
	}
	for i := range 4 {
		j := job(other, fmt.Sprintf("f%d", i), commenter)
		add(reply.NewSkipped(j, reply.SkipDuplicatePerson, now), true)
	}
	for i := range 6 {
		j := job(other, fmt.Sprintf("k%d", i), fmt.Sprintf("q%d", i))
		add(reply.NewParked(j, now.Add(time.Hour), "rate", now), false)
	}

	for _, user := range []string{owner, commenter} {
		if _, err := store.PutDeletion(ctx, reply.Deletion{Code: Code(user), UserID: user, State: reply.DeletionPending, RequestedAt: now, Version: 1}); err != nil {
			t.Fatal(err)
		}
	}

	// Pages of 3 and a clock that ticks a second per reading with a 4-second budget: no run can
	// finish both requests, so the work must resume from the stored cursors.
	m := telemetry.NewMetrics("sweeper")
	clock := &tickingClock{t: now, step: time.Second}
	w := &Worker{Store: store, Params: params, PageSize: 3, Clock: clock, Metrics: m}
	removed, runs := 0, 0
	for ; runs < 50; runs++ {
		res, err := w.Run(ctx, 4*time.Second)
		if err != nil {
			t.Fatalf("run %d: %v", runs, err)
		}
		removed += res.Removed
		if res.Pending == 0 {
			break
		}
	}
	if runs < 2 {
		t.Errorf("finished in %d runs; the budget was meant to split the work", runs+1)
	}
	// The owner's account and token parameter (1) and every matching record, each counted once.
	if want := 1 + len(gone); removed != want || int(m.Get("DeletionRemoved")) != want {
		t.Errorf("removed %d (metric %v), want %d", removed, m.Get("DeletionRemoved"), want)
	}
	if m.Get("DeletionDone") != 2 {
		t.Errorf("DeletionDone %v", m.Get("DeletionDone"))
	}
	var left []string
	cursor := ""
	for {
		recs, next, err := store.Scan(ctx, cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			left = append(left, r.Key)
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	sort.Strings(left)
	sort.Strings(kept)
	if fmt.Sprint(left) != fmt.Sprint(kept) {
		t.Errorf("records left %v\nwant %v", left, kept)
	}
	if _, err := store.Account(ctx, owner); err == nil {
		t.Error("the owner's account is still there")
	}
	if _, err := params.Get(ctx, "/"+owner+"/token"); err == nil {
		t.Error("the owner's token parameter is still there")
	}
	if _, err := store.Account(ctx, other); err != nil {
		t.Errorf("the other account went: %v", err)
	}
	if v, err := params.Get(ctx, "/"+other+"/token"); err != nil || v != "IGTOKEN-"+other {
		t.Errorf("the other token: %q %v", v, err)
	}
	for user, n := range map[string]int{owner: 1 + 7, commenter: 4} {
		d, err := store.Deletion(ctx, Code(user))
		if err != nil || d.State != reply.DeletionDone || d.Removed != n || d.Cursor != "" || d.DoneAt.IsZero() {
			t.Errorf("deletion of %s: %+v %v, want done with %d removed", user, d, err, n)
		}
	}
	if p, _ := store.PendingDeletions(ctx); len(p) != 0 {
		t.Errorf("%d still pending", len(p))
	}
}

// Two workers on the same request: the one whose progress write loses stops; the request ends
// done with each removal counted once.
func TestWorkerConcurrent(t *testing.T) {
	ctx, store := newStore(t)
	params := newParams(t)
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	user := awstest.Name(t, "user")
	for i := range 10 {
		j := reply.Job{V: reply.JobVersion, AccountID: "acc", CommentID: fmt.Sprintf("c%d", i), FromID: user, Kind: reply.KindPost, CommentedAt: now}
		if _, err := store.Create(ctx, reply.NewSkipped(j, reply.SkipNoRule, now)); err != nil {
			t.Fatal(err)
		}
	}
	d, err := store.PutDeletion(ctx, reply.Deletion{Code: Code(user), UserID: user, State: reply.DeletionPending, RequestedAt: now, Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	a := &Worker{Store: store, Params: params, PageSize: 4, Clock: &tickingClock{t: now, step: time.Millisecond}}
	b := &Worker{Store: store, Params: params, PageSize: 4, Clock: &tickingClock{t: now, step: time.Millisecond}}
	// b stores its first page's progress before a does: a's first write conflicts, a stops.
	done, _, err := b.work(ctx, d, now.Add(time.Nanosecond))
	if err != nil || done {
		t.Fatalf("b: done %v err %v", done, err)
	}
	done, removed, err := a.work(ctx, d, now.Add(time.Hour))
	if err != nil || done {
		t.Fatalf("a: done %v err %v", done, err)
	}
	if removed > 4 {
		t.Errorf("a removed %d after losing", removed)
	}
	if _, err := b.Run(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	got, _ := store.Deletion(ctx, Code(user))
	if got.State != reply.DeletionDone || got.Removed != 10 {
		t.Errorf("deletion %+v, want done with 10 removed", got)
	}
}
