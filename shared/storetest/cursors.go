package storetest

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// Cursors is the contract of reply.Cursors: a zero cursor before the first save, versioned
// conditional writes with the stored cursor handed back to the loser, one winner among
// concurrent writers, and every field round-tripped.
func Cursors(t *testing.T, newCursors func(t *testing.T) reply.Cursors) {
	t.Run("ZeroThenSaved", func(t *testing.T) {
		s, c := newCursors(t), ctx(t)
		cur, err := s.Cursor(c, account)
		if err != nil || cur.Version != 0 || cur.AccountID != account || len(cur.Media) != 0 {
			t.Fatalf("before the first save: %+v, %v", cur, err)
		}
		full := FullCursor()
		if _, err := s.SaveCursor(c, full); err != nil {
			t.Fatal(err)
		}
		got, err := s.Cursor(c, account)
		if err != nil {
			t.Fatal(err)
		}
		Same(t, "cursor", got, full)
		if z := ZeroFields(got); len(z) > 0 {
			t.Errorf("fields lost on the way: %v", z)
		}
		if z := ZeroFields(got.Media["18000000000000001"]); len(z) > 0 {
			t.Errorf("media cursor fields lost on the way: %v", z)
		}
	})
	t.Run("VersionedWrites", func(t *testing.T) {
		s, c := newCursors(t), ctx(t)
		first := reply.Cursor{AccountID: account, From: T0, Version: 1}
		if _, err := s.SaveCursor(c, first); err != nil {
			t.Fatal(err)
		}
		stale := first // derived from the zero cursor again
		stale.NextPass = T0.Add(time.Minute)
		old, err := s.SaveCursor(c, stale)
		if !errors.Is(err, reply.ErrConflict) || old.Version != 1 || !old.NextPass.IsZero() {
			t.Fatalf("stale write: %+v, %v", old, err)
		}
		next := first
		next.Version, next.NextPass = 2, T0.Add(time.Minute)
		if _, err := s.SaveCursor(c, next); err != nil {
			t.Fatalf("next version: %v", err)
		}
		if _, err := s.SaveCursor(c, reply.Cursor{Version: 1}); err == nil {
			t.Error("a cursor without an account was stored")
		}
		for range 2 { // the second removes nothing, which is no error
			if err := s.DeleteCursor(c, account); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}
		if gone, err := s.Cursor(c, account); err != nil || gone.Version != 0 {
			t.Errorf("after the delete: %+v, %v", gone, err)
		}
		other, err := s.Cursor(c, "17841400000000002")
		if err != nil || other.Version != 0 {
			t.Errorf("another account's cursor: %+v, %v", other, err)
		}
	})
	t.Run("OneWinner", func(t *testing.T) {
		s, c := newCursors(t), ctx(t)
		var wg sync.WaitGroup
		wins := make(chan int, 8)
		for i := range 8 {
			wg.Go(func() {
				cur := reply.Cursor{AccountID: account, From: T0.Add(time.Duration(i) * time.Second), Version: 1}
				if _, err := s.SaveCursor(c, cur); err == nil {
					wins <- i
				} else if !errors.Is(err, reply.ErrConflict) {
					t.Errorf("writer %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		close(wins)
		var won []int
		for i := range wins {
			won = append(won, i)
		}
		got, _ := s.Cursor(c, account)
		if len(won) != 1 || !got.From.Equal(T0.Add(time.Duration(won[0])*time.Second)) {
			t.Errorf("winners %v, stored %+v", won, got)
		}
	})
}

// FullCursor is a cursor with every field set.
func FullCursor() reply.Cursor {
	return reply.Cursor{
		AccountID: account, From: T0.Add(-time.Hour), NextPass: T0.Add(5 * time.Minute), NextLive: T0.Add(time.Minute),
		Live: []string{"17900000000000099"}, SubscriptionCheckedAt: T0.Add(-2 * time.Hour),
		Media: map[string]reply.MediaCursor{
			"18000000000000001": {CreatedAt: T0.Add(-24 * time.Hour), Live: true, Count: 42, Seen: T0.Add(-time.Minute), Swept: T0.Add(-time.Hour),
				LookedAt: T0, Again: true, After: "QVFIUmRn", Upper: T0.Add(-30 * time.Second), StartCount: 44, Found: 3, Sweeping: true},
			"18000000000000002": {CreatedAt: T0.Add(-48 * time.Hour), Count: 1, Seen: T0.Add(-time.Hour), LookedAt: T0},
		},
		Version: 1, UpdatedAt: T0,
	}
}
