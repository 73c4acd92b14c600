package reply

import (
	"fmt"
	"time"
)

// Limit is a rate limit: at most Count sends in any rolling Period.
type Limit struct {
	Count  int           `json:"count"`
	Period time.Duration `json:"period"`
	// Burst is how many may go back to back; 0 is a fiftieth of Count (burst). A budget whose
	// calls are spent the moment they are taken (Graph reads) may set a larger one.
	Burst int `json:"burst,omitempty"`
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
	if l.Burst < 0 || l.Burst > l.Count {
		return fmt.Errorf("limit %d per %s: burst %d must be between 0 and the count", l.Count, l.Period, l.Burst)
	}
	return nil
}

// burst is how many sends may go back to back: a fiftieth of the limit, so the steady rate stays
// near Meta's (750/hour: 15, the steady rate 97.6% of it). The burst's span (burst-1 spacings,
// 69 s at 750/hour) must cover the sweeper's period, or a backlog released once a period is held
// below the steady rate: a limit of 100/hour with a one-minute sweep loses about 9%.
func (l Limit) burst() int {
	if l.Burst > 0 {
		return l.Burst
	}
	b := l.Count / 50
	if b < 1 {
		b = 1
	}
	return b
}

// BurstSize is how many sends the bucket grants at one instant at most.
func (l Limit) BurstSize() int { return l.burst() }

// TokenLife is how long a granted send stays valid: a send may reach Meta up to this long after
// the moment its token conformed, and a token not spent by then is void (the sweeper's grants
// wait on the queue). The spacing leaves room for it, so sends made within their tokens' life
// still hold Meta's count in every rolling Period.
func (l Limit) TokenLife() time.Duration { return l.Period / 240 }

// interval is the steady spacing between sends. The GCRA admits at most burst + (Period+d)/interval
// sends in any span of Period+d; with d = TokenLife, sends made at any time within their tokens'
// life hold at most Count in a rolling Period.
func (l Limit) interval() time.Duration {
	steady := l.Count - l.burst()
	if steady < 1 {
		steady = 1
	}
	span := l.Period + l.TokenLife()
	iv := span / time.Duration(steady)
	if iv*time.Duration(steady) < span {
		iv++ // round up: a shorter spacing would let one send too many into a Period
	}
	return iv
}

// Bucket is the stored state of one account's rate lane, a GCRA "theoretical arrival time".
type Bucket struct {
	AccountID string    `json:"account"`
	Lane      Lane      `json:"lane"`
	TAT       time.Time `json:"tat"`
	// Grants counts the lane's grants in each sixtieth of its period, oldest first; the newest
	// slice begins at GrantsFrom (Granted).
	Grants     []int     `json:"grants,omitempty"`
	GrantsFrom time.Time `json:"grants_from,omitempty"`
	Version    int64     `json:"version"`
}

// AccountLane names one account's rate lane.
type AccountLane struct {
	AccountID string
	Lane      Lane
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
		next = l.record(next, now, granted)
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

// Capacity is how many sends may be granted within d from now at most: the burst plus the steady
// rate over d. The sweeper uses it to release no more than the budget can send before its next run.
func (l Limit) Capacity(b Bucket, now time.Time, d time.Duration) int {
	_, g := l.fill(b, now, now.Add(d), l.burst()+int(d/l.interval())+1)
	return g
}
