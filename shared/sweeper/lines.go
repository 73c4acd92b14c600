package sweeper

import (
	"sort"
	"sync"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// quietLines remembers when this instance last read each lane's line of waiting jobs empty, so
// that an idle lane costs a bucket read a run and not also a query of its line: of a thousand
// accounts' four thousand lanes, a few have lines. A job enters a line only after its lane's
// bucket refused it (reply.Limit.RefusedSince), and shows in the lane index within lineLag of
// that; so a line read empty at E is still empty while its bucket has refused nothing since
// E-lineLag. (A bucket read a moment stale can only put the line's read off to the next run.)
//
// Lines that may have jobs are read every run: after a cold start (the memory is this warm
// instance's) that is every lane whose bucket was ever written, so a backlog left by an outage is
// found at once. The others are read anyway, the longest unread first, a share each run that
// reads every one within lineRecheck: that bounds what a job parked more slowly than lineLag (or
// behind a hold that did not reach the store) can wait, and spreads the rechecks over the runs.
type quietLines struct {
	mu    sync.Mutex
	empty map[group]time.Time // when each line was last read empty
}

const (
	// lineLag covers a replier's invocation from its refused take to its park (30 s at most,
	// the function's timeout) and the lane index's eventual consistency.
	lineLag = time.Minute
	// lineRecheck is how often a quiet line is read all the same.
	lineRecheck = 10 * time.Minute
)

// lane is one lane the run may read the line of.
type lane struct {
	g      group
	limit  reply.Limit
	bucket reply.Bucket
}

// plan picks the lanes whose lines the run reads: those that may have jobs, and of the rest the
// longest unread, as many as make each read within lineRecheck at runs interval apart.
func (q *quietLines) plan(lanes []lane, now time.Time, interval time.Duration) map[group]bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	read := map[group]bool{}
	type quiet struct {
		g    group
		last time.Time // zero: never read by this instance
	}
	var rest []quiet
	for _, l := range lanes {
		e, known := q.empty[l.g]
		switch {
		case known && l.limit.RefusedSince(l.bucket, e.Add(-lineLag)),
			!known && l.bucket.Version > 0: // a cold start cannot tell: a used lane is read
			read[l.g] = true
		default: // quiet, or a bucket never written, which never refused
			rest = append(rest, quiet{l.g, e})
		}
	}
	sort.Slice(rest, func(i, j int) bool { // the longest unread first; a total order, so a run replays
		a, b := rest[i], rest[j]
		if !a.last.Equal(b.last) {
			return a.last.Before(b.last)
		}
		if a.g.account != b.g.account {
			return a.g.account < b.g.account
		}
		return a.g.lane < b.g.lane
	})
	share := len(rest)
	if runs := int(lineRecheck / max(interval, time.Nanosecond)); runs > 1 {
		share = (len(rest) + runs - 1) / runs
	}
	for _, r := range rest[:share] {
		read[r.g] = true
	}
	return read
}

// read records what a read of g's line at now found: n jobs.
func (q *quietLines) read(g group, now time.Time, n int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if n > 0 {
		delete(q.empty, g)
		return
	}
	if q.empty == nil {
		q.empty = map[group]time.Time{}
	}
	q.empty[g] = now
}
