package deletion

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/memory"
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

// id is a Meta id unique to the test run (SSM parameters outlive a test's table): n tells the
// ids of one test apart.
func id(n int) string {
	return fmt.Sprintf("17841%06d%06d", time.Now().UnixNano()%1e6, n)
}

// open stores a pending request as the callback or the CLI would.
func open(t *testing.T, ctx context.Context, s reply.Store, kind, user string, at time.Time) reply.Deletion {
	t.Helper()
	d, err := s.OpenDeletion(ctx, reply.Deletion{Code: Code("worker-test-key", kind, user, at), Kind: kind, UserID: user, State: reply.DeletionPending, RequestedAt: at, Version: 1})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestWorker (on moto): Meta's request for the person who connected two accounts removes both
// accounts' configuration, token parameters, rate buckets, records and funnel guards; the
// operator's request for a commenter removes that person's records on another account; what
// belongs to others stays. Tombstones forbid the data's return, and the done requests keep only
// what their status page shows.
func TestWorker(t *testing.T) {
	ctx, store := newStore(t)
	params := newParams(t)
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	owner := "26" + id(1)[2:] // the app-scoped id of the person who connected two accounts
	mine, mine2, other := id(2), id(3), id(4)
	commenter := id(5)
	for _, a := range []reply.Account{
		{ID: mine, AppUserIDs: []string{owner}},
		{ID: mine2, AppUserIDs: []string{"26000000000000099", owner}},
		{ID: other, AppUserIDs: []string{"26000000000000098"}},
	} {
		a.Login, a.TokenParam, a.Version = reply.LoginInstagram, "/replywindow/tokens/"+a.ID, 1
		if _, err := store.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
		if err := params.Put(ctx, a.TokenParam, "IGTOKEN-"+a.ID); err != nil {
			t.Fatal(err)
		}
		for _, lane := range slices.Concat(reply.Lanes, []reply.Lane{reply.LaneReads}) {
			if _, err := store.SaveBucket(ctx, reply.Bucket{AccountID: a.ID, Lane: lane, TAT: now, Version: 1}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := store.SaveCursor(ctx, reply.Cursor{AccountID: a.ID, From: now, Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	// Records, some holding funnel guards: the owner's accounts' (every state), the commenter's
	// on the other account, and others' on it, which stay.
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
	n := 100
	job := func(acct, from string) reply.Job {
		n++
		return reply.Job{V: reply.JobVersion, AccountID: acct, CommentID: fmt.Sprintf("179%014d", n), MediaID: "18000000000000001",
			FromID: from, FromUsername: "u-" + from, Text: "recipe", Kind: reply.KindPost, CommentedAt: now.Add(-time.Hour)}
	}
	guarded := func(j reply.Job) reply.Record {
		r := reply.NewParked(j, now.Add(time.Hour), "rate", now)
		r.Funnel = j.Funnel()
		return r
	}
	for i := range 7 {
		acct := []string{mine, mine2}[i%2]
		j := job(acct, fmt.Sprintf("9%09d", i))
		if i%3 == 0 {
			add(reply.NewSkipped(j, reply.SkipNoRule, now), true)
		} else {
			add(guarded(j), true)
		}
	}
	add(guarded(job(other, commenter)), true)
	{
		// A private reply the commenter got on another post: its record holds the text as
		// rendered for them (their username): personal data, gone with the record.
		j := job(other, commenter)
		j.MediaID = "18000000000000002"
		c, _ := reply.NewRecord(j, now).Claim(j, "w", now, now.Add(time.Minute))
		c.Rule, c.Variant, c.Sent = "recipe", "B", "Hi u-"+commenter+"! The recipe: https://example.com/r"
		add(c, true)
		done, _ := c.Finish(reply.Sent("m_1", commenter), true, now)
		if _, err := store.Update(ctx, done); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 { // the person's later comments on the media: the guard is the first one's
		add(reply.NewSkipped(job(other, commenter), reply.SkipDuplicatePerson, now), true)
	}
	for i := range 6 {
		add(guarded(job(other, fmt.Sprintf("8%09d", i))), false)
	}
	// Conversations, each with a follow-up record parked in it: the owner's accounts' and the
	// commenter's go, others' on the other account stay.
	var convGone, convKept []string
	converse := func(acct, person string, remove bool) {
		t.Helper()
		if _, err := store.Touch(ctx, reply.Touch{AccountID: acct, PersonID: person, Rule: "recipe", At: now, Now: now}); err != nil {
			t.Fatal(err)
		}
		f := reply.FollowUp{PersonID: person, Rule: "recipe", Step: "link", Trigger: "mid-" + person, Once: true,
			Lane: reply.LaneText, Deadline: now.Add(reply.ConversationWindow)}
		add(reply.NewParked(reply.Job{V: reply.JobVersion, AccountID: acct, FollowUp: &f}, now.Add(time.Minute), "rate_limited", now), remove)
		if k := reply.ConversationKey(acct, person); remove {
			convGone = append(convGone, k)
		} else {
			convKept = append(convKept, k)
		}
	}
	converse(mine, "9000000100", true)
	converse(mine2, "9000000101", true)
	converse(other, commenter, true)
	converse(other, "8000000100", false)
	converse(other, "8000000101", false)
	users := open(t, ctx, store, reply.DeletionUser, owner, now)
	person := open(t, ctx, store, reply.DeletionPerson, commenter, now)
	nobody := open(t, ctx, store, reply.DeletionUser, "26000000000000097", now) // connected nothing here

	// Pages of 3 and a clock that ticks a second per reading with a 4-second budget: no run can
	// finish every request, so the work must resume from the stored cursors.
	m := telemetry.NewMetrics("sweeper")
	w := &Worker{Store: store, Params: params, Cursors: store, PageSize: 3, Clock: &tickingClock{t: now, step: time.Second}, Metrics: m}
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
	// The owner's two accounts and every matching record and conversation, each counted once.
	if want := 2 + len(gone) + len(convGone); removed != want || int(m.Get("DeletionRemoved")) != want {
		t.Errorf("removed %d (metric %v), want %d", removed, m.Get("DeletionRemoved"), want)
	}
	if m.Get("DeletionDone") != 3 {
		t.Errorf("DeletionDone %v, want 3", m.Get("DeletionDone"))
	}
	left := scanKeys(t, ctx, store)
	sort.Strings(kept)
	if fmt.Sprint(left) != fmt.Sprint(kept) {
		t.Errorf("records left %v\nwant %v", left, kept)
	}
	sort.Strings(convKept)
	if convs := conversationKeys(t, ctx, store); fmt.Sprint(convs) != fmt.Sprint(convKept) {
		t.Errorf("conversations left %v\nwant %v", convs, convKept)
	}
	for _, a := range []string{mine, mine2} {
		if _, err := store.Account(ctx, a); !errors.Is(err, reply.ErrNotFound) {
			t.Errorf("account %s is still there: %v", a, err)
		}
		if _, err := params.Get(ctx, "/replywindow/tokens/"+a); err == nil {
			t.Errorf("the token parameter of %s is still there", a)
		}
		for _, lane := range slices.Concat(reply.Lanes, []reply.Lane{reply.LaneReads}) {
			if b, _ := store.Bucket(ctx, a, lane); b.Version != 0 {
				t.Errorf("the %s bucket of %s is still there", lane, a)
			}
		}
		if c, _ := store.Cursor(ctx, a); c.Version != 0 {
			t.Errorf("the reconcile cursor of %s is still there", a)
		}
	}
	if c, _ := store.Cursor(ctx, other); c.Version != 1 {
		t.Errorf("the other account's reconcile cursor went")
	}
	if _, err := store.Account(ctx, other); err != nil {
		t.Errorf("the other account went: %v", err)
	}
	if v, err := params.Get(ctx, "/replywindow/tokens/"+other); err != nil || v != "IGTOKEN-"+other {
		t.Errorf("the other token: %q %v", v, err)
	}
	if b, _ := store.Bucket(ctx, other, reply.LanePosts); b.Version != 1 {
		t.Errorf("the other account's bucket went")
	}
	// The funnel guards went with their records: the commenter may get a DM on that media again
	// only once the tombstone no longer covers their comments, and the freed guard is takeable.
	freed := guarded(job(other, "7000000001"))
	freed.Funnel = reply.FunnelKey(other, "18000000000000001", commenter)
	if err := store.HoldFunnel(ctx, freed); err != nil {
		t.Errorf("the commenter's funnel guard is still held: %v", err)
	}
	// Tombstones: a job still queued for a deleted account or the forgotten person is refused.
	for _, j := range []reply.Job{job(mine, "9000000999"), job(other, commenter)} {
		if _, err := store.Create(ctx, reply.NewSkipped(j, reply.SkipNoRule, now)); !errors.Is(err, reply.ErrForgotten) {
			t.Errorf("a late job of %s from %s: %v, want ErrForgotten", j.AccountID, j.FromID, err)
		}
	}
	for _, c := range []struct {
		d reply.Deletion
		n int
	}{{users, 2 + 7 + 2*2}, {person, 5 + 2}, {nobody, 0}} {
		d, err := store.Deletion(ctx, c.d.Code)
		if err != nil || d.State != reply.DeletionDone || d.Removed != c.n || d.DoneAt.IsZero() || d.UserID != "" || d.Accounts != nil || d.Cursor != "" {
			t.Errorf("deletion %s: %+v %v, want done and closed with %d removed", c.d.Code, d, err, c.n)
		}
	}
	if p, _ := store.PendingDeletions(ctx); len(p) != 0 {
		t.Errorf("%d still pending", len(p))
	}
}

func scanKeys(t *testing.T, ctx context.Context, s reply.Store) []string {
	t.Helper()
	var keys []string
	cursor := ""
	for {
		recs, next, err := s.Scan(ctx, cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			keys = append(keys, r.Key)
		}
		if cursor = next; cursor == "" {
			sort.Strings(keys)
			return keys
		}
	}
}

func conversationKeys(t *testing.T, ctx context.Context, s reply.Store) []string {
	t.Helper()
	var keys []string
	cursor := ""
	for {
		convs, next, err := s.Conversations(ctx, cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range convs {
			keys = append(keys, reply.ConversationKey(c.AccountID, c.PersonID))
		}
		if cursor = next; cursor == "" {
			sort.Strings(keys)
			return keys
		}
	}
}

// order records the store's writes, to see what comes first.
type order struct {
	reply.Store
	ops []string
}

func (o *order) PutTombstone(ctx context.Context, t reply.Tombstone) error {
	o.ops = append(o.ops, "tombstone "+t.Key())
	return o.Store.PutTombstone(ctx, t)
}
func (o *order) Delete(ctx context.Context, key string) error {
	o.ops = append(o.ops, "delete "+key)
	return o.Store.Delete(ctx, key)
}
func (o *order) DeleteConversation(ctx context.Context, account, person string) error {
	o.ops = append(o.ops, "delete conversation "+reply.ConversationKey(account, person))
	return o.Store.DeleteConversation(ctx, account, person)
}
func (o *order) DeleteAccount(ctx context.Context, id string) error {
	o.ops = append(o.ops, "delete account "+id)
	return o.Store.DeleteAccount(ctx, id)
}
func (o *order) DeleteBucket(ctx context.Context, account string, lane reply.Lane) error {
	o.ops = append(o.ops, "delete bucket "+account)
	return o.Store.DeleteBucket(ctx, account, lane)
}

type noParams struct{}

func (noParams) Delete(context.Context, string) error { return nil }

// TestTombstonesComeFirst: every tombstone is written before anything is deleted, for either
// kind of request, and a request whose accounts were found keeps them while it runs.
func TestTombstonesComeFirst(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for _, kind := range []string{reply.DeletionUser, reply.DeletionPerson} {
		t.Run(kind, func(t *testing.T) {
			o := &order{Store: memory.NewStore()}
			const acct, user, person = "17841400000000001", "26000000000000001", "900000001"
			if _, err := o.PutAccount(ctx, reply.Account{ID: acct, AppUserIDs: []string{user}, Login: reply.LoginInstagram, TokenParam: "/t/" + acct, Version: 1}); err != nil {
				t.Fatal(err)
			}
			j := reply.Job{V: reply.JobVersion, AccountID: acct, CommentID: "17900000000000001", FromID: person, Kind: reply.KindPost, CommentedAt: now}
			if _, err := o.Create(ctx, reply.NewSkipped(j, reply.SkipNoRule, now)); err != nil {
				t.Fatal(err)
			}
			if _, err := o.Touch(ctx, reply.Touch{AccountID: acct, PersonID: person, At: now, Now: now}); err != nil {
				t.Fatal(err)
			}
			subject := map[string]string{reply.DeletionUser: user, reply.DeletionPerson: person}[kind]
			open(t, ctx, o, kind, subject, now)
			w := &Worker{Store: o, Params: noParams{}, Clock: memory.NewClock(now)}
			if res, err := w.Run(ctx, time.Minute); err != nil || res.Done != 1 {
				t.Fatalf("Run: %+v, %v", res, err)
			}
			first := slices.IndexFunc(o.ops, func(op string) bool { return op[:6] == "delete" })
			last := -1
			for i, op := range o.ops {
				if op[:9] == "tombstone" {
					last = i
				}
			}
			if last < 0 || first < 0 || last > first {
				t.Errorf("writes in order %q: want every tombstone before the first delete", o.ops)
			}
			if !slices.Contains(o.ops, "delete conversation "+reply.ConversationKey(acct, person)) {
				t.Errorf("writes %q lack the conversation's removal", o.ops)
			}
			want := map[string]string{reply.DeletionUser: reply.AccountTombstoneKey(acct), reply.DeletionPerson: reply.PersonTombstoneKey(person)}[kind]
			if !slices.Contains(o.ops, "tombstone "+want) {
				t.Errorf("writes %q lack the tombstone %s", o.ops, want)
			}
		})
	}
}

// Two workers on the same request: the one whose progress write loses stops; the request ends
// done with each removal counted once.
func TestWorkerConcurrent(t *testing.T) {
	ctx, store := newStore(t)
	params := newParams(t)
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	person := id(1)
	for i := range 10 {
		j := reply.Job{V: reply.JobVersion, AccountID: "17841400000000001", CommentID: fmt.Sprintf("1790000000%07d", i), FromID: person, Kind: reply.KindPost, CommentedAt: now}
		if _, err := store.Create(ctx, reply.NewSkipped(j, reply.SkipNoRule, now)); err != nil {
			t.Fatal(err)
		}
	}
	d := open(t, ctx, store, reply.DeletionPerson, person, now.Add(time.Minute))
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
	got, _ := store.Deletion(ctx, d.Code)
	if got.State != reply.DeletionDone || got.Removed != 10 {
		t.Errorf("deletion %+v, want done with 10 removed", got)
	}
}
