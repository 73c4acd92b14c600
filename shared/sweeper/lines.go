package sweeper

import (
	"sync"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// quietLines remembers the lanes whose line of waiting jobs this instance found empty, so that an
// idle lane costs a bucket read a run and not also a query of its line: of a thousand accounts'
// four thousand lanes, a few have lines. A job enters a line only after its lane's bucket
// refused it (reply.Limit.RefusedSince), and shows in the lane index within lineLag of that; so
// a line found empty at E is still empty while its bucket has refused nothing since E-lineLag.
// (A bucket read a moment stale can only put the line's read off to the next run.)
// The memory is this warm instance's: a cold start reads every line once, and each line is read
// again at least every lineRecheck, which bounds what a job parked more slowly than lineLag (or
// parked behind a hold that did not reach the store) can wait.
type quietLines struct {
	mu    sync.Mutex
	empty map[group]time.Time // when each line was last read empty
}

const (
	// lineLag covers a replier's invocation from its refused take to its park (30 s at most,
	// the function's timeout) and the lane index's eventual consistency.
	lineLag = time.Minute
	// lineRecheck is how often a quiet line is read anyway.
	lineRecheck = 10 * time.Minute
)

// quiet reports whether g's line is known to be empty at now, its bucket as b.
func (q *quietLines) quiet(g group, lim reply.Limit, b reply.Bucket, now time.Time) bool {
	q.mu.Lock()
	e, ok := q.empty[g]
	q.mu.Unlock()
	return ok && now.Sub(e) < lineRecheck && !lim.RefusedSince(b, e.Add(-lineLag))
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
