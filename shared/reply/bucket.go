package reply

import (
	"fmt"
	"time"
)

// Limit is a rate limit: at most Count sends in any rolling Period.
type Limit struct {
	Count  int           `json:"count"`
	Period time.Duration `json:"period"`
}

// Default limits per account (Meta's private-reply limits).
var (
	DefaultPostsLimit = Limit{Count: 750, Period: time.Hour}
	DefaultLiveLimit  = Limit{Count: 100, Period: time.Second}
)

// Send API lanes per account (Meta: 300/s text, links, reactions, stickers; 10/s audio, video).
var (
	DefaultTextLimit  = Limit{Count: 300, Period: time.Second}
	DefaultMediaLimit = Limit{Count: 10, Period: time.Second}
)

// DefaultLimit is Meta's limit for lane.
func DefaultLimit(l Lane) Limit {
	switch l {
	case LaneLive:
		return DefaultLiveLimit
	case LaneText:
		return DefaultTextLimit
	case LaneMedia:
		return DefaultMediaLimit
	}
	return DefaultPostsLimit
}

// Validate reports a limit that cannot be enforced.
func (l Limit) Validate() error {
	if l.Count < 1 || l.Period <= 0 {
		return fmt.Errorf("limit %d per %s: count and period must be positive", l.Count, l.Period)
	}
	return nil
}

// burst is how many sends may go back to back. The GCRA below admits at most
// burst + (Count-burst) = Count sends in any rolling Period, so Meta's rolling limit holds.
func (l Limit) burst() int {
	b := l.Count / 15
	if b < 1 {
		b = 1
	}
	return b
}

// interval is the steady spacing between sends.
func (l Limit) interval() time.Duration {
	steady := l.Count - l.burst()
	if steady < 1 {
		steady = 1
	}
	iv := l.Period / time.Duration(steady)
	if iv*time.Duration(steady) < l.Period {
		iv++ // round up: a shorter spacing would let one send too many into a Period
	}
	return iv
}

// Bucket is the stored state of one account's rate lane, a GCRA "theoretical arrival time".
type Bucket struct {
	AccountID string    `json:"account"`
	Lane      Lane      `json:"lane"`
	TAT       time.Time `json:"tat"`
	Version   int64     `json:"version"`
}

// BucketKey is the stored key of an account's lane.
func BucketKey(account string, lane Lane) string { return "R#" + account + "#" + string(lane) }

// Take grants up to n sends at now. It returns how many were granted, the bucket to store (with
// Version advanced when anything was granted) and, when fewer than n were granted, the earliest
// time the next send conforms.
func (l Limit) Take(b Bucket, now time.Time, n int) (granted int, next Bucket, retryAt time.Time) {
	tat, granted := l.fill(b, now, now, n)
	next = b
	if granted > 0 {
		next.TAT = tat
		next.Version++
	}
	if granted < n {
		retryAt = tat.Add(-l.tolerance())
	}
	return granted, next, retryAt
}

func (l Limit) tolerance() time.Duration { return l.interval() * time.Duration(l.burst()-1) }

// fill counts the sends (at most n) that conform by `by`, starting from the bucket as it is at now.
func (l Limit) fill(b Bucket, now, by time.Time, n int) (time.Time, int) {
	iv, tolerance := l.interval(), l.tolerance()
	tat := b.TAT
	if tat.Before(now) {
		tat = now
	}
	granted := 0
	for granted < n && tat.Sub(by) <= tolerance {
		tat = tat.Add(iv)
		granted++
	}
	return tat, granted
}

// Available is how many sends the bucket would grant at now, without taking them.
func (l Limit) Available(b Bucket, now time.Time) int {
	g, _, _ := l.Take(b, now, l.burst())
	return g
}

// Spacing is the steady time between two sends.
func (l Limit) Spacing() time.Duration { return l.interval() }

// Turn is the earliest time the send `ahead` places back in line can conform: at best the burst
// goes at once and the rest at the steady spacing. The sweeper defers a long backlog by it.
func (l Limit) Turn(now time.Time, ahead int) time.Time {
	n := max(0, ahead-l.burst())
	return now.Add(time.Duration(n) * l.interval())
}

// Capacity is how many sends may be granted within d from now at most: the burst plus the steady
// rate over d. The sweeper uses it to release no more than the budget can send before its next run.
func (l Limit) Capacity(b Bucket, now time.Time, d time.Duration) int {
	_, g := l.fill(b, now, now.Add(d), l.burst()+int(d/l.interval())+1)
	return g
}
