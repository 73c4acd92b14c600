package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// guarded is job i's parked record holding its funnel guard.
func guarded(j reply.Job) reply.Record {
	r := reply.NewParked(j, T0, "rate", T0)
	r.Funnel = j.Funnel()
	return r
}

// samePerson is a second comment of job i's person on the same media.
func samePerson(i, n int) reply.Job {
	j := Job(i)
	j.CommentID = Job(n).CommentID
	return j
}

func testFunnelGuard(t *testing.T, s reply.Store) {
	first := Job(1)
	create(t, s, guarded(first))

	// The same comment again, in any shape, meets its record: the guard it holds is no obstacle.
	again := guarded(first)
	again.Reason = "another shape"
	if got, err := s.Create(ctx(t), again); !errors.Is(err, reply.ErrExists) || got.Reason != "rate" {
		t.Fatalf("create of the same comment: %v, stored reason %q; want ErrExists with the first record", err, got.Reason)
	}
	// Another comment of the person on the media is refused, and nothing is stored for it.
	second := samePerson(1, 2)
	if _, err := s.Create(ctx(t), guarded(second)); !errors.Is(err, reply.ErrOtherOwner) {
		t.Fatalf("create of the person's second comment with the guard: %v, want ErrOtherOwner", err)
	}
	if _, err := s.Get(ctx(t), second.Key()); !errors.Is(err, reply.ErrNotFound) {
		t.Fatalf("a refused create left a record: %v", err)
	}
	// Without the guard it may be recorded (as SKIPPED duplicate_person by the replier).
	create(t, s, reply.NewSkipped(second, reply.SkipDuplicatePerson, T0))
	// An ad's other media id counts as its original post.
	ad := samePerson(1, 3)
	ad.MediaID, ad.OriginalMediaID, ad.Kind = "120200000000000042", first.MediaID, reply.KindAd
	if _, err := s.Create(ctx(t), guarded(ad)); !errors.Is(err, reply.ErrOtherOwner) {
		t.Fatalf("an ad comment on the original post of the same person: %v, want ErrOtherOwner", err)
	}
	// Another person, or another media, is free.
	other := Job(4)
	create(t, s, guarded(other))
	elsewhere := samePerson(1, 5)
	elsewhere.MediaID = "18000000000000002"
	create(t, s, guarded(elsewhere))
	// Guards are not reply records.
	recs, _, err := s.Scan(ctx(t), "", 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Key[:2] != "C#" {
			t.Fatalf("Scan handed out %s, which is not a reply record", r.Key)
		}
	}
	if len(recs) != 4 {
		t.Fatalf("Scan: %d records, want 4 (%v)", len(recs), keys(recs))
	}
	// Deleting the guard frees it.
	if err := s.Delete(ctx(t), first.Funnel()); err != nil {
		t.Fatal(err)
	}
	third := samePerson(1, 6)
	create(t, s, guarded(third))
}

func testHoldFunnel(t *testing.T, s reply.Store) {
	first, second := Job(1), samePerson(1, 2)
	// A record written before its person was known takes its guard later, on its own.
	early := first
	early.FromID = ""
	create(t, s, reply.NewParked(early, T0, "account_unavailable", T0))
	held := guarded(first)
	if err := s.HoldFunnel(ctx(t), held); err != nil {
		t.Fatalf("hold a free guard: %v", err)
	}
	if err := s.HoldFunnel(ctx(t), held); err != nil {
		t.Fatalf("hold a guard the comment holds already (a retry): %v", err)
	}
	if err := s.HoldFunnel(ctx(t), guarded(second)); !errors.Is(err, reply.ErrOtherOwner) {
		t.Fatalf("hold another comment's guard: %v, want ErrOtherOwner", err)
	}
	if _, err := s.Create(ctx(t), guarded(second)); !errors.Is(err, reply.ErrOtherOwner) {
		t.Fatalf("create with another comment's held guard: %v, want ErrOtherOwner", err)
	}
	// A person known only now, and forgotten meanwhile, gets no guard.
	gone := Job(3)
	if err := s.PutTombstone(ctx(t), reply.Tombstone{PersonID: gone.FromID, At: T0}); err != nil {
		t.Fatal(err)
	}
	if err := s.HoldFunnel(ctx(t), guarded(gone)); !errors.Is(err, reply.ErrForgotten) {
		t.Fatalf("hold the guard of a forgotten person's comment: %v, want ErrForgotten", err)
	}
	if err := s.HoldFunnel(ctx(t), reply.Record{CommentID: "1", Funnel: "C#1"}); err == nil {
		t.Fatal("HoldFunnel took a key that is not a funnel key")
	}
}

func testTombstones(t *testing.T, s reply.Store) {
	forgotten := Job(1)
	if err := s.PutTombstone(ctx(t), reply.Tombstone{PersonID: forgotten.FromID, At: T0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		job  func() reply.Job
		want error
	}{
		{"person's comment from before", func() reply.Job { return forgotten }, reply.ErrForgotten},
		{"person's comment known only by a late delivery", func() reply.Job {
			j := samePerson(1, 2)
			j.CommentedAt = T0.Add(time.Hour + reply.DeliveryHorizon)
			return j
		}, reply.ErrForgotten},
		{"person's comment after Meta's delivery horizon", func() reply.Job {
			j := samePerson(1, 3)
			j.CommentedAt = T0.Add(time.Hour + reply.DeliveryHorizon + time.Millisecond)
			return j
		}, nil},
		{"someone else", func() reply.Job { return Job(4) }, nil},
		{"a comment without a person", func() reply.Job {
			j := Job(5)
			j.FromID = ""
			return j
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := tc.job()
			for _, rec := range []reply.Record{reply.NewSkipped(j, reply.SkipNoRule, T0), guarded(j)} {
				_, err := s.Create(ctx(t), rec)
				if tc.want == nil {
					if err != nil && !errors.Is(err, reply.ErrExists) {
						t.Fatalf("create: %v, want it stored", err)
					}
					continue
				}
				if !errors.Is(err, tc.want) {
					t.Fatalf("create: %v, want %v", err, tc.want)
				}
				if _, err := s.Get(ctx(t), rec.Key); !errors.Is(err, reply.ErrNotFound) {
					t.Fatalf("a forgotten comment got a record: %v", err)
				}
			}
		})
	}
	// An account's tombstone covers every comment on it; a later tombstone replaces the first.
	if err := s.PutTombstone(ctx(t), reply.Tombstone{AccountID: account, At: T0}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx(t), reply.NewSkipped(Job(6), reply.SkipNoRule, T0)); !errors.Is(err, reply.ErrForgotten) {
		t.Fatalf("create on a deleted account: %v, want ErrForgotten", err)
	}
	if err := s.PutTombstone(ctx(t), reply.Tombstone{AccountID: account, At: T0.Add(-time.Hour - reply.DeliveryHorizon)}); err != nil {
		t.Fatal(err)
	}
	create(t, s, reply.NewSkipped(Job(7), reply.SkipNoRule, T0))
	for _, bad := range []reply.Tombstone{{At: T0}, {AccountID: account, PersonID: "1", At: T0}, {PersonID: "1"}} {
		if err := s.PutTombstone(ctx(t), bad); err == nil {
			t.Fatalf("PutTombstone(%+v) took a tombstone without exactly one subject and a time", bad)
		}
	}
}

// testConcurrentFunnel races the comments of one person on one media: exactly one record holds
// the guard, whatever the interleaving.
func testConcurrentFunnel(t *testing.T, s reply.Store) {
	_, errs := race(writers, func(i int) (reply.Record, error) {
		return s.Create(ctx(t), guarded(samePerson(1, 10+i)))
	})
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, reply.ErrOtherOwner):
			t.Fatalf("writer %d: %v, want ErrOtherOwner", i, err)
		}
	}
	if won != 1 {
		t.Fatalf("%d comments of one person on one media took the guard, want 1", won)
	}
}
