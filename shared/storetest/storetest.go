// Package storetest is the contract every reply.Store meets: one suite, run against the DynamoDB
// store (on moto) and the in-memory store, so both behave the same where callers can tell.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// T0 is the suite's "now": a fixed time, so records and their order are reproducible.
var T0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const account = "17841400000000001"

// Run runs the contract suite; newStore gives each subtest an empty store of its own.
func Run(t *testing.T, newStore func(t *testing.T) reply.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s reply.Store)
	}{
		{"CreateAndGet", testCreateAndGet},
		{"UpdateCAS", testUpdateCAS},
		{"ConcurrentCreate", testConcurrentCreate},
		{"ConcurrentUpdate", testConcurrentUpdate},
		{"RecordRoundTrip", testRecordRoundTrip},
		{"ByComment", testByComment},
		{"DueOrderAndPaging", testDueOrderAndPaging},
		{"DueBoundary", testDueBoundary},
		{"DueLeavesOnTerminal", testDueLeavesOnTerminal},
		{"DueWhileSweeping", testDueWhileSweeping},
		{"WaitingLanes", testWaitingLanes},
		{"Scan", testScan},
		{"Delete", testDelete},
		{"Buckets", testBuckets},
		{"Accounts", testAccounts},
		{"AccountCopies", testAccountCopies},
		{"Deletions", testDeletions},
		{"OpenDeletion", testOpenDeletion},
		{"DeleteBucket", testDeleteBucket},
		{"FunnelGuard", testFunnelGuard},
		{"HoldFunnel", testHoldFunnel},
		{"Tombstones", testTombstones},
		{"ConcurrentFunnel", testConcurrentFunnel},
		{"InvalidInput", testInvalidInput},
		{"Touch", testTouch},
		{"ClaimStep", testClaimStep},
		{"ClaimStepForgotten", testClaimStepForgotten},
		{"TouchForgotten", testTouchForgotten},
		{"StepsOfTwoRules", testStepsOfTwoRules},
		{"Disclosed", testDisclosed},
		{"SentMessage", testSentMessage},
		{"Conversations", testConversations},
		{"AnswerClaims", testAnswerClaims},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// Job is a valid reel comment job; i makes comment and person unique.
func Job(i int) reply.Job {
	return reply.Job{
		V:            reply.JobVersion,
		AccountID:    account,
		CommentID:    fmt.Sprintf("1790000000000%04d", i),
		MediaID:      "18000000000000001",
		ProductType:  "REELS",
		FromID:       fmt.Sprintf("6200000000000%04d", i),
		FromUsername: fmt.Sprintf("person%d", i),
		Text:         "RECIPE please",
		Kind:         reply.KindReel,
		CommentedAt:  T0,
		DeliveredAt:  T0.Add(time.Second),
	}
}

// Parked is a version-1 record of job i parked until due, under the comment's own key.
func Parked(i int, due time.Time) reply.Record {
	j := Job(i)
	return reply.NewParked(j, due, "rate", T0)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

func create(t *testing.T, s reply.Store, recs ...reply.Record) {
	t.Helper()
	for _, r := range recs {
		if _, err := s.Create(ctx(t), r); err != nil {
			t.Fatalf("create %s: %v", r.Key, err)
		}
	}
}

func update(t *testing.T, s reply.Store, r reply.Record) reply.Record {
	t.Helper()
	if _, err := s.Update(ctx(t), r); err != nil {
		t.Fatalf("update %s to version %d: %v", r.Key, r.Version, err)
	}
	return r
}

// Same fails t unless got and want are equal, times compared as instants (stores may hand back
// times in another location).
func Same(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := utc(got), utc(want)
	if !reflect.DeepEqual(g, w) {
		gj, _ := json.MarshalIndent(g, "", " ")
		wj, _ := json.MarshalIndent(w, "", " ")
		t.Fatalf("%s:\n got %s\nwant %s", what, gj, wj)
	}
}

var timeType = reflect.TypeFor[time.Time]()

// utc is a deep copy of v with every time.Time in UTC and without monotonic reading.
func utc(v any) any {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return v
	}
	out := reflect.New(rv.Type()).Elem()
	normalize(out, rv)
	return out.Interface()
}

func normalize(dst, src reflect.Value) {
	if src.Type() == timeType {
		dst.Set(reflect.ValueOf(src.Interface().(time.Time).UTC().Round(0)))
		return
	}
	switch src.Kind() {
	case reflect.Struct:
		for i := range src.NumField() {
			if dst.Field(i).CanSet() {
				normalize(dst.Field(i), src.Field(i))
			}
		}
	case reflect.Slice:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeSlice(src.Type(), src.Len(), src.Len()))
		for i := range src.Len() {
			normalize(dst.Index(i), src.Index(i))
		}
	case reflect.Map:
		if src.IsNil() {
			return
		}
		dst.Set(reflect.MakeMap(src.Type()))
		for _, k := range src.MapKeys() {
			e := reflect.New(src.Type().Elem()).Elem()
			normalize(e, src.MapIndex(k))
			dst.SetMapIndex(k, e)
		}
	default:
		dst.Set(src)
	}
}

func testCreateAndGet(t *testing.T, s reply.Store) {
	first := Parked(1, T0.Add(time.Minute))
	got, err := s.Create(ctx(t), first)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	Same(t, "create's answer", got, first)
	stored, err := s.Get(ctx(t), first.Key)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	Same(t, "get after create", stored, first)

	second := first
	second.Reason = "someone else"
	got, err = s.Create(ctx(t), second)
	if !errors.Is(err, reply.ErrExists) {
		t.Fatalf("second create: err %v, want ErrExists", err)
	}
	Same(t, "record handed to the losing create", got, first)

	if _, err := s.Get(ctx(t), reply.CommentKey("never")); !errors.Is(err, reply.ErrNotFound) {
		t.Fatalf("get of a missing key: err %v, want ErrNotFound", err)
	}
}

func testUpdateCAS(t *testing.T, s reply.Store) {
	v1 := Parked(1, T0)
	create(t, s, v1)
	v2, err := v1.Claim(Job(1), "worker-a", T0, T0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	stale, _ := v1.Claim(Job(1), "worker-b", T0, T0.Add(time.Minute))
	v3, err := v2.Finish(reply.Sent("m1", "r1"), true, T0.Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	ahead := v3
	ahead.Version = 5
	missing := Parked(2, T0)
	missing.Version = 2

	steps := []struct {
		name    string
		rec     reply.Record
		wantErr error
		stored  reply.Record // what Get returns after the step
		handed  reply.Record // what Update returns
	}{
		{"next version wins", v2, nil, v2, v2},
		{"stale version loses with the stored record", stale, reply.ErrConflict, v2, v2},
		{"version ahead of the stored one loses", ahead, reply.ErrConflict, v2, v2},
		{"terminal outcome", v3, nil, v3, v3},
		{"late worker cannot overwrite the outcome", stale, reply.ErrConflict, v3, v3},
	}
	for _, st := range steps {
		got, err := s.Update(ctx(t), st.rec)
		if !errors.Is(err, st.wantErr) || (err != nil) != (st.wantErr != nil) {
			t.Fatalf("%s: err %v, want %v", st.name, err, st.wantErr)
		}
		Same(t, st.name+": returned record", got, st.handed)
		stored, err := s.Get(ctx(t), v1.Key)
		if err != nil {
			t.Fatalf("%s: get: %v", st.name, err)
		}
		Same(t, st.name+": stored record", stored, st.stored)
	}
	if _, err := s.Update(ctx(t), missing); !errors.Is(err, reply.ErrNotFound) {
		t.Fatalf("update of a missing record: err %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx(t), missing.Key); !errors.Is(err, reply.ErrNotFound) {
		t.Fatalf("a failed update stored something: err %v", err)
	}
}

// race runs fn(i) for i in [0, n) at once and returns their results.
func race(n int, fn func(i int) (reply.Record, error)) ([]reply.Record, []error) {
	recs, errs := make([]reply.Record, n), make([]error, n)
	var start, done sync.WaitGroup
	start.Add(1)
	for i := range n {
		done.Go(func() {
			start.Wait()
			recs[i], errs[i] = fn(i)
		})
	}
	start.Done()
	done.Wait()
	return recs, errs
}

// oneWinner checks that exactly one writer won and every loser got loseErr and the winner's record.
func oneWinner(t *testing.T, s reply.Store, key string, recs []reply.Record, errs []error, loseErr error, tried func(i int) reply.Record) {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("writers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, loseErr):
			t.Fatalf("writer %d: err %v, want %v", i, err, loseErr)
		}
	}
	if winner < 0 {
		t.Fatal("no writer won")
	}
	want := tried(winner)
	stored, err := s.Get(ctx(t), key)
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "stored record", stored, want)
	for i, err := range errs {
		if err != nil {
			Same(t, fmt.Sprintf("record handed to loser %d", i), recs[i], want)
		}
	}
}

const writers = 16

func testConcurrentCreate(t *testing.T, s reply.Store) {
	tried := func(i int) reply.Record {
		r := Parked(1, T0)
		r.Reason = fmt.Sprintf("writer-%d", i)
		return r
	}
	recs, errs := race(writers, func(i int) (reply.Record, error) { return s.Create(ctx(t), tried(i)) })
	oneWinner(t, s, tried(0).Key, recs, errs, reply.ErrExists, tried)
}

func testConcurrentUpdate(t *testing.T, s reply.Store) {
	v1 := Parked(1, T0)
	create(t, s, v1)
	tried := func(i int) reply.Record {
		r, err := v1.Claim(Job(1), fmt.Sprintf("worker-%d", i), T0, T0.Add(time.Minute))
		if err != nil {
			panic(err)
		}
		return r
	}
	recs, errs := race(writers, func(i int) (reply.Record, error) { return s.Update(ctx(t), tried(i)) })
	oneWinner(t, s, v1.Key, recs, errs, reply.ErrConflict, tried)
}

// Full is a record with every field set, to prove a store keeps all of them.
func Full() reply.Record {
	loc := time.FixedZone("UTC+2", 2*60*60) // a store may hand back another location, never another instant
	j := Job(7)
	j.ProductType, j.AdID, j.ParentID = "AD", "120200000000000001", "17900000000000999"
	j.OriginalMediaID = "18000000000000077"
	j.Text = "RECIPE bitte, Grüße 👋"
	j.CommentedAt = time.Date(2026, 3, 1, 11, 59, 58, 123456789, loc)
	j.DeliveredAt = time.Date(2026, 3, 1, 12, 0, 1, 987654321, loc)
	j.Requeued = true
	return reply.Record{
		Key:            j.Key(),
		Funnel:         j.Funnel(),
		CommentID:      j.CommentID,
		AccountID:      j.AccountID,
		Lane:           reply.LanePosts,
		State:          reply.StateLeased,
		Reason:         "100/2534025",
		Detail:         `{"error":{"code":100}}`,
		Deadline:       j.Deadline(),
		DueAt:          time.Date(2026, 3, 1, 12, 5, 0, 500000001, time.UTC),
		Owner:          "replier/2026/03/01/[$LATEST]abc#req-1",
		LeaseUntil:     time.Date(2026, 3, 1, 12, 5, 0, 500000001, time.UTC),
		Attempts:       2,
		Uncertain:      true,
		UncertainSince: time.Date(2026, 3, 1, 12, 1, 0, 3, time.UTC),
		GrantedAt:      time.Date(2026, 3, 1, 12, 4, 0, 7, time.UTC),
		MessageID:      "aWdfZAG1faW",
		RecipientID:    "6200000000000777",
		Job:            j,
		Version:        1,
		CreatedAt:      time.Date(2026, 3, 1, 12, 0, 2, 1, time.UTC),
		UpdatedAt:      time.Date(2026, 3, 1, 12, 0, 3, 2, time.UTC),
		EventsAt:       time.Date(2026, 3, 1, 12, 0, 3, 3, time.UTC),
		StartEvents:    true,
		Rule:           "recipe#1",
		Variant:        "B",
		Sent:           "Hi ana! ✨ https://example.com/r",
	}
}

// ZeroFields names the fields of v (recursing into structs other than time.Time) that are zero.
// Nil pointers are a job's optional parts (Event, FollowUp): round trips check them apart.
func ZeroFields(v any) []string {
	var zero []string
	var walk func(prefix string, rv reflect.Value)
	walk = func(prefix string, rv reflect.Value) {
		for i := range rv.NumField() {
			f, name := rv.Field(i), prefix+rv.Type().Field(i).Name
			switch {
			case f.Kind() == reflect.Pointer && f.IsNil():
			case f.Kind() == reflect.Pointer && f.Elem().Kind() == reflect.Struct:
				walk(name+".", f.Elem())
			case f.Kind() == reflect.Struct && f.Type() != timeType:
				walk(name+".", f)
			case f.IsZero():
				zero = append(zero, name)
			}
		}
	}
	walk("", reflect.ValueOf(v))
	return zero
}

// FullFollowUp is a follow-up's record with every field of its FollowUp set.
func FullFollowUp() reply.Record {
	step := reply.Step{Name: "link#1", Resend: true, Cooldown: reply.MinResendCooldown}
	r := FollowUp(step, 2, "aWdfZAG1faXRlbTox")
	f := r.Job.FollowUp
	f.Gate, f.Disclose, f.Username, f.Lane, f.Notice, f.Of = true, true, "ana", reply.LaneMedia, true, 4
	f.Answer, f.Consent = reply.AnswerConfirm, "We only use it to send the book."
	f.Variant, f.Tap, f.Gated, f.NoticeFirst = "B", true, true, true
	f.Payload, f.Followed = "RECIPE_LINK", true
	r.Key = r.Job.Key()
	r.Lane = reply.LaneMedia
	return r
}

func testRecordRoundTrip(t *testing.T, s reply.Store) {
	fu := FullFollowUp()
	if z := ZeroFields(*fu.Job.FollowUp); len(z) > 1 || (len(z) == 1 && z[0] != "Once") {
		t.Fatalf("FullFollowUp leaves fields zero: %v", z)
	}
	create(t, s, fu)
	got, err := s.Get(ctx(t), fu.Key)
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "follow-up round trip", got, fu)

	full := Full()
	if z := ZeroFields(full); len(z) > 0 {
		t.Fatalf("Full leaves fields zero, so the round trip would not cover them: %v", z)
	}
	create(t, s, full)
	got, err = s.Get(ctx(t), full.Key)
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "record after a round trip", got, full)

	// Zero times and empty strings come back zero, not as something else.
	sparse := reply.NewSkipped(Job(8), reply.SkipNoRule, T0)
	create(t, s, sparse)
	got, err = s.Get(ctx(t), sparse.Key)
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "sparse record after a round trip", got, sparse)
}

func testByComment(t *testing.T, s reply.Store) {
	funnel := Job(1)
	fr := reply.NewParked(funnel, T0, "rate", T0)
	fr.Funnel = funnel.Funnel()
	own := Job(2)
	or := reply.NewSkipped(own, reply.SkipDuplicatePerson, T0)
	create(t, s, fr, or)

	tests := []struct {
		comment string
		want    reply.Record
		err     error
	}{
		{funnel.CommentID, fr, nil},
		{own.CommentID, or, nil},
		{"17900000000009999", reply.Record{}, reply.ErrNotFound},
	}
	for _, tc := range tests {
		got, err := s.ByComment(ctx(t), tc.comment)
		if !errors.Is(err, tc.err) || (err != nil) != (tc.err != nil) {
			t.Fatalf("ByComment(%s): err %v, want %v", tc.comment, err, tc.err)
		}
		if err == nil {
			Same(t, "ByComment("+tc.comment+")", got, tc.want)
		}
	}
	// Still found after the funnel record moves on.
	next, err := fr.Claim(funnel, "w", T0, T0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, next)
	got, err := s.ByComment(ctx(t), funnel.CommentID)
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "ByComment after an update", got, next)
}

// DrainDue pages through Due with limit until the cursor is empty and returns every record.
func DrainDue(t *testing.T, s reply.Store, before time.Time, limit int) []reply.Record {
	t.Helper()
	var all []reply.Record
	cursor := ""
	for page := 0; ; page++ {
		recs, next, err := s.Due(ctx(t), before, cursor, limit)
		if err != nil {
			t.Fatalf("due page %d: %v", page, err)
		}
		if len(recs) > limit {
			t.Fatalf("due page %d: %d records, limit %d", page, len(recs), limit)
		}
		all = append(all, recs...)
		if next == "" {
			return all
		}
		if page > 10*(len(all)/limit+2) {
			t.Fatalf("due: %d pages for %d records: the cursor does not advance", page, len(all))
		}
		cursor = next
	}
}

func keys(recs []reply.Record) []string {
	ks := make([]string, len(recs))
	for i, r := range recs {
		ks[i] = r.Key
	}
	return ks
}

func testDueOrderAndPaging(t *testing.T, s reply.Store) {
	before := T0.Add(time.Hour)
	var want []string
	dueAt := map[string]time.Time{}
	order := rand.New(rand.NewPCG(1, 2)).Perm(40)
	for n, i := range order {
		due := T0.Add(time.Duration(i) * time.Minute) // distinct and spread over the shards
		r := Parked(i, due)
		switch {
		case n%7 == 0:
			// Terminal records are never due.
			r = reply.NewSkipped(Job(i), reply.SkipNoRule, T0)
		case n%5 == 0:
			r = Parked(i, before.Add(time.Duration(i)*time.Second))
		default:
			want = append(want, r.Key)
			dueAt[r.Key] = r.DueAt
		}
		create(t, s, r)
	}
	slices.SortFunc(want, func(a, b string) int { return dueAt[a].Compare(dueAt[b]) })
	for _, limit := range []int{1, 3, 7, 100} {
		got := DrainDue(t, s, before, limit)
		if !slices.Equal(keys(got), want) {
			t.Fatalf("limit %d: due\n got %v\nwant %v", limit, keys(got), want)
		}
	}
}

func testDueBoundary(t *testing.T, s reply.Store) {
	before := T0.Add(30 * time.Minute)
	at := Parked(1, before)
	justAfter := Parked(2, before.Add(500*time.Microsecond)) // the same millisecond
	justBefore := Parked(3, before.Add(-time.Nanosecond))
	create(t, s, at, justAfter, justBefore)
	got := DrainDue(t, s, before, 10)
	if want := []string{justBefore.Key, at.Key}; !slices.Equal(keys(got), want) {
		t.Fatalf("due at %s: got %v, want %v", before, keys(got), want)
	}
}

func testDueLeavesOnTerminal(t *testing.T, s reply.Store) {
	a, b, c := Parked(1, T0.Add(time.Minute)), Parked(2, T0.Add(2*time.Minute)), Parked(3, T0.Add(3*time.Minute))
	create(t, s, a, b, c)
	now := T0.Add(5 * time.Minute)
	before := T0.Add(time.Hour)

	// a finishes: it leaves the index.
	la, err := a.Claim(Job(1), "w", now, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, la)
	if got := keys(DrainDue(t, s, before, 10)); !slices.Equal(got, []string{b.Key, c.Key, la.Key}) {
		t.Fatalf("after a claim: due %v", got)
	}
	fa, err := la.Finish(reply.Sent("m", "r"), true, now)
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, fa)
	// c is parked again until after `before`: it leaves this window.
	lc, _ := c.Claim(Job(3), "w", now, now.Add(time.Minute))
	update(t, s, lc)
	pc, err := lc.Park(before.Add(time.Minute), "rate", false, now)
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, pc)
	if got := keys(DrainDue(t, s, before, 10)); !slices.Equal(got, []string{b.Key}) {
		t.Fatalf("after finish and park: due %v, want [%s]", got, b.Key)
	}
	if got := keys(DrainDue(t, s, before.Add(time.Hour), 10)); !slices.Equal(got, []string{b.Key, c.Key}) {
		t.Fatalf("later: due %v, want [%s %s]", got, b.Key, c.Key)
	}
}

// testDueWhileSweeping pages the way the sweeper does: every record a page returns is moved
// (out of the window or to a terminal state) before the next page. None is missed or repeated.
func testDueWhileSweeping(t *testing.T, s reply.Store) {
	const n = 30
	now := T0.Add(time.Hour)
	var want []string
	for i := range n {
		r := Parked(i, T0.Add(time.Duration(i)*time.Second))
		create(t, s, r)
		want = append(want, r.Key)
	}
	var seen []string
	cursor := ""
	for page := 0; page < 3*n; page++ {
		recs, next, err := s.Due(ctx(t), now, cursor, 4)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			seen = append(seen, r.Key)
			var moved reply.Record
			if len(seen)%2 == 0 {
				moved, err = r.Release(true, now) // due again after OrphanGrace: out of this window
			} else {
				moved, err = r.Claim(r.Job, "w", now, now.Add(time.Minute))
				if err == nil {
					update(t, s, moved)
					moved, err = moved.Finish(reply.Skipped(reply.SkipNoRule), false, now)
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			update(t, s, moved)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if !slices.Equal(seen, want) {
		t.Fatalf("swept\n got %v\nwant %v", seen, want)
	}
	if left := DrainDue(t, s, now, 10); len(left) != 0 {
		t.Fatalf("still due after the sweep: %v", keys(left))
	}
}

// testWaitingLanes: records parked for their own bucket's token wait in their account lane,
// read from its head (earliest deadline first), and reach the due index only at their deadline.
func testWaitingLanes(t *testing.T, s reply.Store) {
	const other = "17841400000000002"
	waiting := func(i int, account string, kind reply.Kind, ago time.Duration) reply.Record {
		j := Job(i)
		j.AccountID, j.Kind, j.CommentedAt = account, kind, T0.Add(-ago)
		return reply.NewParked(j, T0.Add(time.Minute), reply.ReasonRateLimited, T0)
	}
	// In the posts lane of account, deadlines in the order 3, 1, 4, 2 (the oldest comment first).
	a1, a2, a3, a4 := waiting(1, account, reply.KindReel, 2*time.Hour), waiting(2, account, reply.KindReel, 0),
		waiting(3, account, reply.KindReel, 3*time.Hour), waiting(4, account, reply.KindReel, time.Hour)
	live := waiting(5, account, reply.KindLive, 0)
	elsewhere := waiting(6, other, reply.KindReel, 4*time.Hour)
	throttled := reply.NewParked(Job(7), T0.Add(time.Minute), "throttled", T0) // due soon, not in a lane
	create(t, s, a1, a2, a3, a4, live, elsewhere, throttled)

	tests := []struct {
		account string
		lane    reply.Lane
		limit   int
		want    []string
	}{
		{account, reply.LanePosts, 10, []string{a3.Key, a1.Key, a4.Key, a2.Key}},
		{account, reply.LanePosts, 2, []string{a3.Key, a1.Key}},
		{account, reply.LaneLive, 10, []string{live.Key}},
		{other, reply.LanePosts, 10, []string{elsewhere.Key}},
		{other, reply.LaneLive, 10, nil},
	}
	for _, tt := range tests {
		got, err := s.Waiting(ctx(t), tt.account, tt.lane, tt.limit)
		if err != nil {
			t.Fatalf("waiting %s %s: %v", tt.account, tt.lane, err)
		}
		if !slices.Equal(keys(got), tt.want) {
			t.Errorf("waiting %s %s limit %d:\n got %v\nwant %v", tt.account, tt.lane, tt.limit, keys(got), tt.want)
		}
	}
	if got, _ := s.Waiting(ctx(t), account, reply.LanePosts, 1); len(got) == 1 {
		Same(t, "the lane's head", got[0], a3)
	}
	// Only the throttled record is due before the deadlines; the lane is read instead.
	if got := keys(DrainDue(t, s, T0.Add(time.Hour), 10)); !slices.Equal(got, []string{throttled.Key}) {
		t.Errorf("due within the hour: %v, want only %s", got, throttled.Key)
	}
	// Live's window is shorter: its record comes first.
	if got := keys(DrainDue(t, s, a3.Deadline, 10)); !slices.Equal(got, []string{throttled.Key, live.Key, elsewhere.Key, a3.Key}) {
		t.Errorf("due at the oldest deadline: %v", got)
	}
	// Released, the head leaves the line; parked again for a token, it is back in it.
	r3, err := a3.Release(true, T0)
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, r3)
	if got, _ := s.Waiting(ctx(t), account, reply.LanePosts, 10); !slices.Equal(keys(got), []string{a1.Key, a4.Key, a2.Key}) {
		t.Errorf("after the head's release: %v", keys(got))
	}
	l3 := update(t, s, mustRecord(t)(r3.Claim(r3.Job, "w", T0, T0.Add(time.Minute))))
	update(t, s, mustRecord(t)(l3.Park(T0.Add(time.Minute), reply.ReasonRateLimited, false, T0)))
	if got, _ := s.Waiting(ctx(t), account, reply.LanePosts, 10); !slices.Equal(keys(got), []string{a3.Key, a1.Key, a4.Key, a2.Key}) {
		t.Errorf("parked again: %v", keys(got))
	}
	if err := s.Delete(ctx(t), a1.Key); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Waiting(ctx(t), account, reply.LanePosts, 10); !slices.Equal(keys(got), []string{a3.Key, a4.Key, a2.Key}) {
		t.Errorf("after a delete: %v", keys(got))
	}
	if _, err := s.Waiting(ctx(t), account, reply.LanePosts, 0); err == nil {
		t.Error("limit 0 accepted")
	}
}

// mustRecord fails t on a transition's error.
func mustRecord(t *testing.T) func(reply.Record, error) reply.Record {
	return func(r reply.Record, err error) reply.Record {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func testScan(t *testing.T, s reply.Store) {
	var want []string
	for i := range 11 {
		j := Job(i)
		r := reply.NewParked(j, T0, "rate", T0)
		if i%2 == 0 {
			r.Funnel = j.Funnel() // the guard item is not a reply record
		}
		if i%3 == 0 {
			r = reply.NewSkipped(j, reply.SkipNoRule, T0)
		}
		create(t, s, r)
		want = append(want, r.Key)
	}
	// A follow-up's record is a reply record; the conversation it belongs to is not.
	link := reply.Step{Name: "link", Messages: []reply.Message{{Text: "a"}}}
	fu := FollowUp(link, 0, "m1")
	if _, err := s.ClaimStep(ctx(t), []reply.Record{fu}, reply.StepClaim{AccountID: account, PersonID: person, Step: link, At: T0}); err != nil {
		t.Fatal(err)
	}
	want = append(want, fu.Key)
	// Other kinds of items are not reply records.
	if _, err := s.PutAccount(ctx(t), reply.Account{ID: account, Login: reply.LoginInstagram, TokenParam: "/t", Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveBucket(ctx(t), reply.Bucket{AccountID: account, Lane: reply.LanePosts, TAT: T0, Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutDeletion(ctx(t), reply.Deletion{Code: "x1", State: reply.DeletionPending, Version: 1}); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{1, 4, 50} {
		got := Pages(t, limit, len(want), func(cursor string) ([]string, string, error) {
			recs, next, err := s.Scan(ctx(t), cursor, limit)
			return keys(recs), next, err
		})
		slices.Sort(got)
		w := slices.Sorted(slices.Values(want))
		if !slices.Equal(got, w) {
			t.Fatalf("limit %d: scan\n got %v\nwant %v", limit, got, w)
		}
	}
}

// Pages pages through a store's listing with page (cursor in, a page of keys and the next
// cursor out) until its cursor runs out, checking that no page exceeds limit and that the
// cursor advances (at most about 2*n pages for n items). It returns every key handed out.
func Pages(t *testing.T, limit, n int, page func(cursor string) ([]string, string, error)) []string {
	t.Helper()
	var got []string
	cursor := ""
	for i := 0; ; i++ {
		ks, next, err := page(cursor)
		if err != nil {
			t.Fatalf("limit %d page %d: %v", limit, i, err)
		}
		if len(ks) > limit {
			t.Fatalf("limit %d page %d: %d items", limit, i, len(ks))
		}
		got = append(got, ks...)
		if next == "" {
			return got
		}
		if i > 2*n+2 {
			t.Fatalf("limit %d: the cursor does not advance", limit)
		}
		cursor = next
	}
}

func testDelete(t *testing.T, s reply.Store) {
	gone, kept := Parked(1, T0), Parked(2, T0)
	create(t, s, gone, kept)
	for range 2 { // deleting nothing is fine too
		if err := s.Delete(ctx(t), gone.Key); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Get(ctx(t), gone.Key); !errors.Is(err, reply.ErrNotFound) {
		t.Fatalf("get after delete: err %v", err)
	}
	if _, err := s.ByComment(ctx(t), gone.CommentID); !errors.Is(err, reply.ErrNotFound) {
		t.Fatalf("by comment after delete: err %v", err)
	}
	if got := keys(DrainDue(t, s, T0.Add(time.Hour), 10)); !slices.Equal(got, []string{kept.Key}) {
		t.Fatalf("due after delete: %v", got)
	}
	recs, _, err := s.Scan(ctx(t), "", 10)
	if err != nil || !slices.Equal(keys(recs), []string{kept.Key}) {
		t.Fatalf("scan after delete: %v, %v", keys(recs), err)
	}
	// The key is free again.
	create(t, s, gone)
}

func testBuckets(t *testing.T, s reply.Store) {
	zero, err := s.Bucket(ctx(t), account, reply.LanePosts)
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "unsaved bucket", zero, reply.Bucket{AccountID: account, Lane: reply.LanePosts})

	b1 := reply.Bucket{AccountID: account, Lane: reply.LanePosts, TAT: T0.Add(4800 * time.Millisecond), Version: 1}
	b2 := b1
	// The grant counts come back as they were saved: the usage brake reads them.
	b2.TAT, b2.Version, b2.Grants, b2.GrantsFrom = b1.TAT.Add(4800*time.Millisecond), 2, []int{3, 0, 12}, T0.Add(time.Minute)
	other := b1
	other.TAT = T0
	live := reply.Bucket{AccountID: account, Lane: reply.LaneLive, TAT: T0, Version: 1}
	far := reply.Bucket{AccountID: "other", Lane: reply.LanePosts, TAT: T0, Version: 3}

	steps := []struct {
		name    string
		b       reply.Bucket
		wantErr error
		handed  reply.Bucket
	}{
		{"first save", b1, nil, b1},
		{"second first save loses", other, reply.ErrConflict, b1},
		{"next version", b2, nil, b2},
		{"stale", b1, reply.ErrConflict, b2},
		{"lanes are separate", live, nil, live},
		{"version over nothing stored", far, reply.ErrConflict, reply.Bucket{AccountID: "other", Lane: reply.LanePosts}},
	}
	for _, st := range steps {
		got, err := s.SaveBucket(ctx(t), st.b)
		if !errors.Is(err, st.wantErr) || (err != nil) != (st.wantErr != nil) {
			t.Fatalf("%s: err %v, want %v", st.name, err, st.wantErr)
		}
		Same(t, st.name, got, st.handed)
	}
	for _, want := range []reply.Bucket{b2, live, {AccountID: "other", Lane: reply.LanePosts}} {
		got, err := s.Bucket(ctx(t), want.AccountID, want.Lane)
		if err != nil {
			t.Fatal(err)
		}
		Same(t, "stored bucket "+reply.BucketKey(want.AccountID, want.Lane), got, want)
	}

	// Many at once: in the order asked, a lane asked twice twice, unsaved ones zero, and past
	// DynamoDB's hundred keys a request.
	lanes := []reply.AccountLane{{AccountID: account, Lane: reply.LaneLive}, {AccountID: "never", Lane: reply.LanePosts},
		{AccountID: account, Lane: reply.LanePosts}, {AccountID: account, Lane: reply.LaneLive}}
	want := []reply.Bucket{live, {AccountID: "never", Lane: reply.LanePosts}, b2, live}
	for i := range 150 {
		b := reply.Bucket{AccountID: fmt.Sprintf("many%03d", i), Lane: reply.LaneText, TAT: T0.Add(time.Duration(i) * time.Second), Version: 1}
		if _, err := s.SaveBucket(ctx(t), b); err != nil {
			t.Fatal(err)
		}
		lanes = append(lanes, reply.AccountLane{AccountID: b.AccountID, Lane: b.Lane})
		want = append(want, b)
	}
	got, err := s.BucketsOf(ctx(t), lanes)
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "buckets of many lanes", got, want)
}

// Account is a valid account with rules and limits, so a round trip covers the nested values.
func Account(id string) reply.Account {
	return reply.Account{
		ID:         id,
		Username:   "chef_" + id,
		Login:      reply.LoginFacebook,
		PageID:     "1010" + id,
		TokenParam: "/replywindow/tokens/" + id,
		Rules: []reply.Rule{
			{Name: "recipe", Match: reply.MatchWord, Keywords: []string{"recipe", "rezept"}, Exclude: []string{"spam"},
				Media: []string{"18000000000000001"}, Kinds: []reply.Kind{reply.KindReel, reply.KindPost},
				Message: "Hi {username}! https://example.com/r", Disclose: true, PublicReplies: []string{"Sent!", "Check your DMs"}},
			{Name: "rest", Match: reply.MatchAny, Message: "Thanks!"},
		},
		Disclosure: "This is an automated message.",
		Limits:     map[reply.Lane]reply.Limit{reply.LanePosts: {Count: 500, Period: time.Hour}},
		Version:    1,
		UpdatedAt:  T0,
	}
}

func testAccounts(t *testing.T, s reply.Store) {
	for _, id := range []string{"b", "c", "a"} {
		if _, err := s.PutAccount(ctx(t), Account(id)); err != nil {
			t.Fatalf("put %s: %v", id, err)
		}
	}
	got, err := s.Account(ctx(t), "a")
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "account a", got, Account("a"))

	again := Account("a")
	again.Username = "impostor"
	got, err = s.PutAccount(ctx(t), again)
	if !errors.Is(err, reply.ErrConflict) {
		t.Fatalf("second version 1: err %v, want ErrConflict", err)
	}
	Same(t, "account handed to the losing put", got, Account("a"))

	v2 := Account("a")
	v2.Unhealthy, v2.UnhealthySince, v2.Version = "190/463", T0, 2
	if _, err := s.PutAccount(ctx(t), v2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutAccount(ctx(t), v2); !errors.Is(err, reply.ErrConflict) {
		t.Fatalf("stale put: err %v, want ErrConflict", err)
	}
	skip := Account("d")
	skip.Version = 2
	if _, err := s.PutAccount(ctx(t), skip); !errors.Is(err, reply.ErrConflict) {
		t.Fatalf("version 2 over nothing: err %v, want ErrConflict", err)
	}

	list, err := s.ListAccounts(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "accounts", list, []reply.Account{v2, Account("b"), Account("c")})

	for range 2 {
		if err := s.DeleteAccount(ctx(t), "b"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Account(ctx(t), "b"); !errors.Is(err, reply.ErrNotFound) {
		t.Fatalf("deleted account: err %v, want ErrNotFound", err)
	}
	list, err = s.ListAccounts(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "accounts after a delete", list, []reply.Account{v2, Account("c")})
}

// testAccountCopies changes every nested value of what went in and came out; the store keeps its own.
func testAccountCopies(t *testing.T, s reply.Store) {
	in := Account("a")
	if _, err := s.PutAccount(ctx(t), in); err != nil {
		t.Fatal(err)
	}
	mess := func(a reply.Account) {
		a.Rules[0].Keywords[0] = "changed"
		a.Rules[0].Exclude[0] = "changed"
		a.Rules[0].Media[0] = "changed"
		a.Rules[0].Kinds[0] = reply.KindLive
		a.Rules[0].PublicReplies[0] = "changed"
		a.Rules[1].Name = "changed"
		a.Limits[reply.LanePosts] = reply.Limit{Count: 1, Period: time.Second}
	}
	mess(in)
	got, err := s.Account(ctx(t), "a")
	if err != nil {
		t.Fatal(err)
	}
	mess(got)
	list, err := s.ListAccounts(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	mess(list[0])
	got, err = s.Account(ctx(t), "a")
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "stored account after callers changed their copies", got, Account("a"))
}

func testDeletions(t *testing.T, s reply.Store) {
	d := func(code, state string, version int64) reply.Deletion {
		return reply.Deletion{Code: code, UserID: "u-" + code, State: state, RequestedAt: T0, Version: version}
	}
	for _, x := range []reply.Deletion{d("k2", reply.DeletionPending, 1), d("k1", reply.DeletionPending, 1), d("k3", reply.DeletionDone, 1)} {
		if _, err := s.PutDeletion(ctx(t), x); err != nil {
			t.Fatal(err)
		}
	}
	pending, err := s.PendingDeletions(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "pending", pending, []reply.Deletion{d("k1", reply.DeletionPending, 1), d("k2", reply.DeletionPending, 1)})

	progress := d("k1", reply.DeletionPending, 2)
	progress.Cursor, progress.Removed = "abc", 25
	if _, err := s.PutDeletion(ctx(t), progress); err != nil {
		t.Fatal(err)
	}
	done := progress
	done.State, done.DoneAt, done.Cursor, done.Version = reply.DeletionDone, T0.Add(time.Minute), "", 3
	if _, err := s.PutDeletion(ctx(t), done); err != nil {
		t.Fatal(err)
	}
	got, err := s.PutDeletion(ctx(t), progress)
	if !errors.Is(err, reply.ErrConflict) {
		t.Fatalf("stale deletion: err %v, want ErrConflict", err)
	}
	Same(t, "deletion handed to the stale put", got, done.Closed())
	got, err = s.Deletion(ctx(t), "k1")
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "k1", got, done.Closed())
	pending, err = s.PendingDeletions(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "pending after k1 is done", pending, []reply.Deletion{d("k2", reply.DeletionPending, 1)})
	if _, err := s.Deletion(ctx(t), "nope"); !errors.Is(err, reply.ErrNotFound) {
		t.Fatalf("missing deletion: err %v, want ErrNotFound", err)
	}
}

func testInvalidInput(t *testing.T, s reply.Store) {
	good := Parked(1, T0)
	badKey := good
	badKey.Key = "A#" + account
	noComment := good
	noComment.CommentID = ""
	v2 := good
	v2.Version = 2
	tests := []struct {
		name string
		call func() error
	}{
		{"create under an account key", func() error { _, err := s.Create(ctx(t), badKey); return err }},
		{"create without a comment", func() error { _, err := s.Create(ctx(t), noComment); return err }},
		{"create at version 2", func() error { _, err := s.Create(ctx(t), v2); return err }},
		{"update to version 1", func() error { _, err := s.Update(ctx(t), good); return err }},
		{"due with limit 0", func() error { _, _, err := s.Due(ctx(t), T0, "", 0); return err }},
		{"due with a foreign cursor", func() error { _, _, err := s.Due(ctx(t), T0, "not a cursor!", 5); return err }},
		{"scan with a foreign cursor", func() error { _, _, err := s.Scan(ctx(t), "not a cursor!", 5); return err }},
		{"conversations with a foreign cursor", func() error { _, _, err := s.Conversations(ctx(t), "not a cursor!", 5); return err }},
		{"conversations with limit 0", func() error { _, _, err := s.Conversations(ctx(t), "", 0); return err }},
		{"bucket at version 0", func() error {
			_, err := s.SaveBucket(ctx(t), reply.Bucket{AccountID: account, Lane: reply.LanePosts})
			return err
		}},
		{"account without id", func() error { _, err := s.PutAccount(ctx(t), reply.Account{Version: 1}); return err }},
		{"deletion without code", func() error { _, err := s.PutDeletion(ctx(t), reply.Deletion{Version: 1}); return err }},
	}
	for _, tc := range tests {
		if err := tc.call(); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
	recs, _, err := s.Scan(ctx(t), "", 10)
	if err != nil || len(recs) != 0 {
		t.Fatalf("invalid writes stored %v (err %v)", keys(recs), err)
	}
}
