package reply

import (
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
		// Every window [s, s+Period) starting at a send holds at most Count sends.
		j := 0
		for i := range sends {
			for j < len(sends) && sends[j].Sub(sends[i]) < lim.Period {
				j++
			}
			if n := j - i; n > lim.Count {
				t.Fatalf("%v: %d sends in the period from %v", lim, n, sends[i])
			}
		}
		// And the limit is used: over three periods, at least 90% of 3×Count go out.
		if min := lim.Count * 3 * 90 / 100; len(sends) < min {
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
	// Turn is never later than the greedy sender above reaches the same place in line.
	if got := lim.Turn(t0, lim.burst()); !got.Equal(t0) {
		t.Errorf("turn within the burst = %v", got)
	}
	if got, want := lim.Turn(t0, lim.burst()+10), t0.Add(10*lim.interval()); !got.Equal(want) {
		t.Errorf("turn 10 past the burst = %v, want %v", got, want)
	}
	if err := (Limit{Count: 0, Period: time.Hour}).Validate(); err == nil {
		t.Error("zero limit validated")
	}
}
