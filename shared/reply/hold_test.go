package reply

import (
	"reflect"
	"testing"
	"time"
)

func TestLimitHold(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		limit Limit
		tat   time.Time
		until time.Duration
		moved bool
	}{
		{"posts fresh bucket", DefaultPostsLimit, time.Time{}, 5 * time.Minute, true},
		{"live fresh bucket", DefaultLiveLimit, time.Time{}, 2 * time.Second, true},
		{"posts already held longer", DefaultPostsLimit, now.Add(3 * time.Hour), 5 * time.Minute, false},
		{"one per second", Limit{Count: 1, Period: time.Second}, now, time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := Bucket{AccountID: "a", Lane: LanePosts, TAT: tc.tat, Version: 3}
			until := now.Add(tc.until)
			held, moved := tc.limit.Hold(b, until)
			if moved != tc.moved {
				t.Fatalf("moved = %v, want %v", moved, tc.moved)
			}
			if !moved {
				if !reflect.DeepEqual(held, b) {
					t.Fatalf("unmoved bucket changed: %+v -> %+v", b, held)
				}
				return
			}
			if held.Version != b.Version+1 {
				t.Fatalf("version %d, want %d", held.Version, b.Version+1)
			}
			if g, _, retryAt := tc.limit.Take(held, now, 1); g != 0 || !retryAt.Equal(until) {
				t.Fatalf("Take at now: granted %d retryAt %s, want 0 and %s", g, retryAt, until)
			}
			if g, _, _ := tc.limit.Take(held, until.Add(-time.Nanosecond), 1); g != 0 {
				t.Fatalf("Take just before until granted %d", g)
			}
			if g, _, _ := tc.limit.Take(held, until, 1); g != 1 {
				t.Fatalf("Take at until granted %d, want 1", g)
			}
		})
	}
}
