package reply

import (
	"math"
	"time"
)

// grantSlices is how many parts of its period a bucket counts its grants in: a sixtieth of an
// hour is a minute, about twelve sends at 750/hour.
const grantSlices = 60

// slice is the width of one grant count.
func (l Limit) slice() time.Duration { return max(l.Period/grantSlices, time.Nanosecond) }

// record counts n grants at now in a copy of the bucket's slices (b's may be shared with a
// stored copy). A clock behind the last writer's counts them in the newest slice.
func (l Limit) record(b Bucket, now time.Time, n int) Bucket {
	w := l.slice()
	at := now.Truncate(w)
	keep := grantSlices + 2 // a period and a token's life span parts of 62
	var g []int
	switch {
	case len(b.Grants) == 0 || at.Sub(b.GrantsFrom) >= time.Duration(keep)*w:
		g = make([]int, 1, keep)
	case at.After(b.GrantsFrom):
		shift := int(at.Sub(b.GrantsFrom) / w)
		g = make([]int, len(b.Grants)+shift)
		copy(g, b.Grants)
	default:
		at = b.GrantsFrom
		g = append([]int(nil), b.Grants...)
	}
	g[len(g)-1] += n
	if len(g) > keep {
		g = g[len(g)-keep:]
	}
	b.Grants, b.GrantsFrom = g, at
	return b
}

// Granted is how many sends the lane granted (every instance's takes and the sweeper's grants)
// that Meta may count in its rolling period up to now: those granted within a period and a
// token's life, since a token is spent up to its life after it was granted. Meta's usage header
// counts every app's calls in the period, so what it shows beyond this is what other apps used.
// The oldest slice, partly in the window, counts in proportion, which is exact for sends spaced
// evenly as they are at the ceiling.
func (l Limit) Granted(b Bucket, now time.Time) int {
	from := l.windowFrom(now)
	sum := 0.0
	l.eachSlice(b, func(start, end time.Time, n int) bool {
		sum += inWindow(start, end, from, n)
		return true
	})
	return int(math.Round(sum))
}

// GrantsLeft is when n of the grants Meta may count now (Granted) will have left its rolling
// period; false when fewer than n are in it.
func (l Limit) GrantsLeft(b Bucket, now time.Time, n int) (time.Time, bool) {
	from := l.windowFrom(now)
	sum := 0.0
	var at time.Time
	l.eachSlice(b, func(start, end time.Time, c int) bool {
		sum += inWindow(start, end, from, c)
		if sum >= float64(n) {
			at = end.Add(l.Period + l.TokenLife()) // spent by then, out of Meta's period after it
			return false
		}
		return true
	})
	return at, !at.IsZero()
}

// windowFrom is the start of the grants Meta may count at now: a period and a token's life ago.
func (l Limit) windowFrom(now time.Time) time.Time { return now.Add(-l.Period - l.TokenLife()) }

// eachSlice calls f on each grant slice, oldest first, until f returns false.
func (l Limit) eachSlice(b Bucket, f func(start, end time.Time, n int) bool) {
	w := l.slice()
	for i, n := range b.Grants {
		start := b.GrantsFrom.Add(-time.Duration(len(b.Grants)-1-i) * w)
		if n > 0 && !f(start, start.Add(w), n) {
			return
		}
	}
}

// inWindow is the share of a slice's n grants that falls after from.
func inWindow(start, end, from time.Time, n int) float64 {
	switch {
	case !end.After(from):
		return 0
	case !start.Before(from):
		return float64(n)
	}
	return float64(n) * float64(end.Sub(from)) / float64(end.Sub(start))
}
