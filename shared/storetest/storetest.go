// Package storetest is the contract every reply.Store meets: one suite, run against the DynamoDB
// store (on moto) and the in-memory store, so both behave the same where callers can tell.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
