package storetest

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

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
