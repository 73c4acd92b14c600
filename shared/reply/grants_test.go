package reply

import (
	"slices"
	"testing"
	"time"
)

// TestGranted: the bucket counts its grants per sixtieth of the period; Granted is those Meta
// may still count (a period and a token's life back), the oldest slice in proportion.
func TestGranted(t *testing.T) {
	lim := DefaultPostsLimit // slices of a minute; a token lives 15 s
	back := lim.Period + lim.TokenLife()
	type take struct {
		at time.Duration // after t0
		n  int
	}
	tests := []struct {
		name  string
		takes []take
		at    time.Duration
		want  int
	}{
		{name: "none", at: time.Minute, want: 0},
		{name: "takes add up", takes: []take{{0, 3}, {30 * time.Second, 2}, {10 * time.Minute, 4}}, at: 11 * time.Minute, want: 9},
		{name: "a period and a token's life later, gone", takes: []take{{0, 5}}, at: back + time.Minute, want: 0},
		{name: "within a token's life after the period, still counted", takes: []take{{0, 5}}, at: lim.Period + 10*time.Second, want: 5},
		{name: "the oldest slice in proportion", takes: []take{{0, 12}}, at: back + 30*time.Second, want: 6},
		{name: "a clock behind the last writer's counts in the newest slice", takes: []take{{5 * time.Minute, 1}, {4*time.Minute + 50*time.Second, 1}}, at: 6 * time.Minute, want: 2},
		{name: "a long gap starts afresh", takes: []take{{0, 7}, {3 * time.Hour, 1}}, at: 3 * time.Hour, want: 1},
		{name: "older slices fall off while newer stay", takes: []take{{0, 4}, {40 * time.Minute, 3}}, at: 40*time.Minute + back, want: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b Bucket
			for _, tk := range tt.takes {
				g, next, _ := lim.Take(b, t0.Add(tk.at), tk.n)
				if g != tk.n {
					t.Fatalf("took %d of %d at %s", g, tk.n, tk.at)
				}
				b = next
			}
			if got := lim.Granted(b, t0.Add(tt.at)); got != tt.want {
				t.Errorf("granted %d at %s (slices %v from %s), want %d", got, tt.at, b.Grants, b.GrantsFrom.Sub(t0), tt.want)
			}
			if len(b.Grants) > grantSlices+2 {
				t.Errorf("%d slices kept", len(b.Grants))
			}
		})
	}
}

// TestTakeCopiesGrants: a take never writes into the bucket it was given, which a store or an
// instance's copy may share.
func TestTakeCopiesGrants(t *testing.T) {
	lim := DefaultPostsLimit
	_, b, _ := lim.Take(Bucket{}, t0, 2)
	before := slices.Clone(b.Grants)
	if _, _, _ = lim.Take(b, t0.Add(time.Second), 1); !slices.Equal(b.Grants, before) {
		t.Fatalf("take changed its input's slices: %v, was %v", b.Grants, before)
	}
}

// TestGrantsLeft: n of the grants have left Meta's period once the slice that completes them
// ended a period and a token's life ago.
func TestGrantsLeft(t *testing.T) {
	lim := DefaultPostsLimit
	var b Bucket
	for _, at := range []time.Duration{0, 10 * time.Second, 2 * time.Minute} {
		_, b, _ = lim.Take(b, t0.Add(at), 5)
	}
	now := t0.Add(30 * time.Minute)
	for _, tt := range []struct {
		n    int
		want time.Duration // after t0; 0: not that many
	}{{1, time.Minute}, {10, time.Minute}, {11, 3 * time.Minute}, {15, 3 * time.Minute}, {16, 0}} {
		at, ok := lim.GrantsLeft(b, now, tt.n)
		if want := t0.Add(tt.want + lim.Period + lim.TokenLife()); ok != (tt.want > 0) || ok && !at.Equal(want) {
			t.Errorf("%d left at %s (%v), want %s", tt.n, at.Sub(t0), ok, tt.want+lim.Period+lim.TokenLife())
		}
	}
}

// TestGrantedFollowsAGreedySender: driven at the limit, Granted is within one slice's grants of
// the exact count of grants in the window, and within one once they are evenly spaced.
func TestGrantedFollowsAGreedySender(t *testing.T) {
	for _, lim := range []Limit{DefaultPostsLimit, DefaultLiveLimit, {Count: 10, Period: time.Minute}} {
		var b Bucket
		var grants []time.Time
		now := t0
		for now.Before(t0.Add(3 * lim.Period)) {
			g, next, retry := lim.Take(b, now, 1)
			if g == 0 {
				now = retry
				continue
			}
			b = next
			grants = append(grants, now)
			from := now.Add(-lim.Period - lim.TokenLife())
			exact := 0
			for _, at := range grants {
				if at.After(from) {
					exact++
				}
			}
			slack := lim.burst() + int(lim.slice()/lim.Spacing()) + 1
			if now.After(t0.Add(2 * lim.Period)) {
				slack = 1
			}
			if d := lim.Granted(b, now) - exact; d > slack || d < -slack {
				t.Fatalf("%v at %s: granted %d, exactly %d", lim, now.Sub(t0), lim.Granted(b, now), exact)
			}
		}
	}
}
