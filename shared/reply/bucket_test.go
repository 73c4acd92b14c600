package reply

import (
	"slices"
	"testing"
	"time"
)

// TestLimitRollingWindow drives the bucket as a greedy sender would and checks Meta's rolling
// limit from the send times themselves.
func TestLimitRollingWindow(t *testing.T) {
	for _, lim := range []Limit{DefaultPostsLimit, DefaultLiveLimit, {Count: 10, Period: time.Minute}, {Count: 1, Period: time.Second}} {
		var b Bucket
		now := t0
		var sends []time.Time
		end := t0.Add(3 * lim.Period)
		for now.Before(end) {
			g, next, retry := lim.Take(b, now, 1)
			if g == 1 {
				b = next
				sends = append(sends, now)
				continue
			}
			if !retry.After(now) {
				t.Fatalf("%v: refused at %v but retry at %v", lim, now, retry)
			}
			now = retry
		}
		// Every window [s, s+Period) starting at a send holds at most Count sends, also when
		// sends reach Meta late within their tokens' life: here alternate runs of a third of the
		// limit arrive as late as allowed, so a late run crowds the prompt one after it.
		late := make([]time.Time, len(sends))
		for i, s := range sends {
			late[i] = s
			if (i/(lim.Count/3+1))%2 == 0 {
				late[i] = s.Add(lim.TokenLife() - time.Nanosecond)
			}
		}
		slices.SortFunc(late, time.Time.Compare)
		for _, at := range [][]time.Time{sends, late} {
			j := 0
			for i := range at {
				for j < len(at) && at[j].Sub(at[i]) < lim.Period {
					j++
				}
				if n := j - i; n > lim.Count {
					t.Fatalf("%v: %d sends in the period from %v", lim, n, at[i])
				}
			}
		}
		// And the limit is used: over three periods, at least 90% of 3×Count go out (for Meta's
		// limits, 97%: the steady rate is 98% of the limit less the tokens' life).
		share := 90
		if lim == DefaultPostsLimit || lim == DefaultLiveLimit {
			share = 97
		}
		if min := lim.Count * 3 * share / 100; len(sends) < min {
			t.Errorf("%v: only %d sends in 3 periods, want ≥ %d", lim, len(sends), min)
		}
	}
}

func TestLimitTakeMany(t *testing.T) {
	lim := DefaultPostsLimit
	g, b, retry := lim.Take(Bucket{AccountID: "a", Lane: LanePosts}, t0, 100)
	if g != lim.burst() || retry.IsZero() || b.Version != 1 {
		t.Fatalf("burst take: granted %d (want %d), retry %v, version %d", g, lim.burst(), retry, b.Version)
	}
	if g, _, _ := lim.Take(b, t0, 1); g != 0 {
		t.Fatalf("granted %d right after the burst", g)
	}
	if g, _, _ := lim.Take(b, retry, 1); g != 1 {
		t.Fatalf("granted %d at the retry time", g)
	}
	if got := lim.Available(Bucket{}, t0); got != lim.burst() {
		t.Errorf("available on an empty bucket = %d", got)
	}
	// Capacity over a minute: the burst plus the steady rate.
	if got, want := lim.Capacity(Bucket{}, t0, time.Minute), lim.burst()+int(time.Minute/lim.interval()); got != want {
		t.Errorf("capacity over a minute = %d, want %d", got, want)
	}
	// A lane whose period is shorter than d can send its Count in every period of d.
	if got := DefaultLiveLimit.Capacity(Bucket{}, t0, time.Minute); got < 60*90 || got > 60*100 {
		t.Errorf("live capacity over a minute = %d, want between 5400 and 6000", got)
	}
	if got := lim.Capacity(b, t0, 0); got != 0 {
		t.Errorf("capacity of a drained bucket now = %d", got)
	}
	if err := (Limit{Count: 0, Period: time.Hour}).Validate(); err == nil {
		t.Error("zero limit validated")
	}
	// A budget may set its burst (Graph reads: a fifteenth).
	reads := Limit{Count: 200, Period: time.Hour, Burst: 13}
	if g, _, _ := reads.Take(Bucket{}, t0, 100); g != 13 || reads.Validate() != nil {
		t.Errorf("a burst of 13: granted %d at once (%v)", g, reads.Validate())
	}
	if err := (Limit{Count: 10, Period: time.Hour, Burst: 11}).Validate(); err == nil {
		t.Error("a burst above the count validated")
	}
}
