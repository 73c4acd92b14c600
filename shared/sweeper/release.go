package sweeper

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"

	"github.com/replywindow/replywindow/shared/reply"
)

// group is one account's rate lane: the unit releases are budgeted in.
type group struct {
	account string
	lane    reply.Lane
}

// candidates are a lane's parked jobs that may go now: those the due index handed over (parked
// for a reason other than our own bucket, or written before lanes), the oldest deadlines kept,
// and the head of the lane's line of jobs waiting for a token, read at release.
type candidates struct {
	lane   reply.Lane
	held   bool         // the account cannot send (unhealthy or unknown): nothing is released
	why    string       // why it is held, for the log
	limit  reply.Limit  // the account's limit for the lane
	bucket reply.Bucket // as the run read it
	// readLine is whether the run reads the lane's line (quietLines.plan)
	readLine bool
	keep     int // how many to keep: the lane's capacity until the next run, and spares
	now      int // sends the bucket grants now (at most the burst)
	seen     int // every due parked record of the lane this run
	heap     byDeadline
}

// spares are extra candidates kept beyond the capacity, to stand in for releases that lose to
// another sweep or to a replier; lineSpares, the same for the head of a lane's line, which is
// read at release, right before the bucket is taken from.
const (
	spares     = 16
	lineSpares = 2
)

// group returns the candidates of rec's lane, creating them on first sight: the account and the
// bucket are read once per run, and the capacity bounds how many candidates are kept in memory.
func (r *run) group(ctx context.Context, rec reply.Record) *candidates {
	g := group{rec.AccountID, rec.Lane}
	if c, ok := r.groups[g]; ok {
		return c
	}
	c := &candidates{lane: g.lane}
	r.groups[g] = c
	if !c.admit(r.account(ctx, rec.AccountID)) {
		return c
	}
	b, err := r.s.store.Bucket(ctx, g.account, g.lane)
	if err != nil {
		r.fail(fmt.Errorf("read bucket of account %s lane %s: %w", g.account, g.lane, err))
		c.unreadable()
		return c
	}
	r.size(c, b)
	return c
}

// admit takes a lane's limit from its account, or holds the lane when the account cannot send.
func (c *candidates) admit(a *account) bool {
	switch {
	case errors.Is(a.err, reply.ErrNotFound):
		c.held, c.why = true, "account not configured"
	case a.err != nil:
		c.held, c.why = true, "account unreadable"
	case !a.acct.Healthy():
		c.held, c.why = true, a.acct.Unhealthy
	default:
		c.limit = a.acct.Limit(c.lane)
		return true
	}
	return false
}

// unreadable holds a lane whose bucket could not be read.
func (c *candidates) unreadable() { c.held, c.why = true, "bucket unreadable" }

// size sizes a lane's candidates from its bucket.
func (r *run) size(c *candidates, b reply.Bucket) {
	c.bucket = b
	c.keep = c.limit.Capacity(b, r.now, r.s.cfg.Interval) + spares
	c.now = c.limit.Available(b, r.now)
}

// lanes makes sure every account lane is released this run, not only those the due index
// named: a lane's line of waiting jobs is read from its head at release, never from the index.
// Their buckets are read at once (BucketsOf): a thousand accounts' four lanes are forty requests.
func (r *run) lanes(ctx context.Context) {
	accts, err := r.s.store.ListAccounts(ctx)
	if err != nil {
		r.fail(fmt.Errorf("list accounts for their lanes: %w", err))
		return
	}
	var todo []reply.AccountLane
	for _, a := range accts {
		if _, ok := r.accounts[a.ID]; !ok {
			r.accounts[a.ID] = &account{acct: a}
		}
		for _, l := range reply.Lanes {
			g := group{a.ID, l}
			if _, ok := r.groups[g]; ok {
				continue
			}
			if r.s.unused.skip(a, g, r.now) {
				continue // nothing can wait there (unusedLanes): no candidates, no bucket read
			}
			c := &candidates{lane: l}
			r.groups[g] = c
			if c.admit(r.accounts[a.ID]) {
				todo = append(todo, reply.AccountLane{AccountID: a.ID, Lane: l})
			}
		}
	}
	if len(todo) == 0 {
		return
	}
	bs, err := r.s.store.BucketsOf(ctx, todo)
	if err != nil {
		r.fail(fmt.Errorf("read the buckets of %d lanes: %w", len(todo), err))
	}
	for i, l := range todo {
		c := r.groups[group{l.AccountID, l.Lane}]
		if err != nil {
			c.unreadable()
			continue
		}
		r.size(c, bs[i])
		r.s.unused.read(r.accounts[l.AccountID].acct, group{l.AccountID, l.Lane}, bs[i], r.now)
	}
}

// parallel calls fn(0..n-1), Workers at a time, and returns when all are done.
func (r *run) parallel(n int, fn func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(r.s.cfg.Workers, n) {
		wg.Go(func() {
			for i := range work {
				fn(i)
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}

// offer adds a due parked record to its lane's candidates, keeping the oldest deadlines.
func (r *run) offer(rec reply.Record) {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.groups[group{rec.AccountID, rec.Lane}] // prepare made it
	c.seen++
	if c.held {
		return
	}
	if c.heap.Len() >= c.keep {
		if c.keep == 0 || !c.heap.less(&rec, c.heap[0]) {
			return // no earlier than every kept candidate: a later run takes it
		}
		heap.Pop(&c.heap) // the latest deadline
	}
	heap.Push(&c.heap, &rec)
}

// releaseAll releases each lane's candidates, Workers lanes at a time: each costs its line's
// read, a bucket write and its records' writes, and the lanes of different accounts share
// nothing.
func (r *run) releaseAll(ctx context.Context) {
	r.lanes(ctx)
	gs := make([]group, 0, len(r.groups))
	ls := make([]lane, 0, len(r.groups))
	for g, c := range r.groups {
		gs = append(gs, g)
		if !c.held {
			ls = append(ls, lane{g, c.limit, c.bucket})
		}
	}
	for g := range r.s.lines.plan(ls, r.now, r.s.cfg.Interval) {
		r.groups[g].readLine = true
	}
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].account != gs[j].account {
			return gs[i].account < gs[j].account
		}
		return gs[i].lane < gs[j].lane
	})
	r.parallel(len(gs), func(i int) {
		if ctx.Err() == nil {
			r.release(ctx, gs[i], r.groups[gs[i]])
		}
	})
}

// release sends back to the queue as many of the lane's candidates, oldest deadline first, as
// the account's bucket grants now: the due ones and the head of the lane's line, read only as
// far as it can go. The tokens are taken first (a conditional bucket write), so two sweeps cannot
// both spend the same budget, and each record is released with a conditional write, so no
// record goes back twice; a token whose record was lost is spent on the next candidate.
func (r *run) release(ctx context.Context, g group, c *candidates) {
	if c.held {
		if c.seen > 0 {
			r.count(func(p *Report) { p.Held += c.seen; p.Backlog[g.lane] += c.seen })
			r.s.log.Warn("parked jobs held", "account", g.account, "lane", g.lane, "jobs", c.seen, "why", c.why)
		}
		return
	}
	// A lane whose period is shorter than the schedule (Live: 100/s) cannot be budgeted a
	// minute ahead without a burst Meta would refuse; the rest of its capacity goes back
	// without a token and the replier paces it with the bucket.
	short := c.limit.Period < r.s.cfg.Interval
	room := c.now
	if short {
		room = c.keep - spares
	}
	cands := c.heap.sorted()
	lined := 0
	if line := room - len(cands); line > 0 && c.readLine {
		head, err := r.s.store.Waiting(ctx, g.account, g.lane, line+lineSpares)
		if err != nil {
			r.fail(fmt.Errorf("read the line of account %s lane %s: %w", g.account, g.lane, err))
		} else {
			r.s.lines.read(g, r.now, len(head))
		}
		lined = len(head)
		if len(head) > 0 {
			r.mu.Lock()
			if r.oldest.IsZero() || head[0].DueAt.Before(r.oldest) {
				r.oldest = head[0].DueAt // how long the line's head has waited
			}
			r.mu.Unlock()
		}
		cands = merge(cands, head)
	}
	var jobs []reply.Job
	granted := 0
	defer func() {
		// What was read and stays: a line is read only as far as the bucket reaches, so a long
		// one shows here by its read part (and by OldestDueAgeSeconds, its head's wait).
		r.count(func(p *Report) {
			p.Scanned += lined
			p.Lined += lined
			p.Released += len(jobs)
			p.Granted += min(granted, len(jobs))
			p.Backlog[g.lane] += max(0, c.seen+lined-len(jobs))
		})
	}()
	if len(cands) == 0 {
		return
	}
	granted, err := r.take(ctx, g, c, len(cands))
	if err != nil {
		r.fail(err)
	}
	extra := 0
	if short {
		extra = max(0, min(len(cands), room)-granted)
	}
	if g.lane == reply.LaneLive {
		r.liveMedia(ctx, g.account)
	}
	for _, rec := range cands {
		if len(jobs) >= granted+extra || ctx.Err() != nil {
			break
		}
		if r.ended(rec) {
			r.visit(ctx, rec) // a line's Live comment whose broadcast is over: closed, not sent
			continue
		}
		n, err := rec.Release(len(jobs) < granted, r.now)
		if err != nil {
			r.count(func(p *Report) { p.Lost++ })
			continue
		}
		if !r.write(ctx, n) {
			continue // counted as lost (or failed) by write
		}
		jobs = append(jobs, requeued(n.Job))
	}
	r.enqueue(ctx, jobs)
}

// merge is a and b (each oldest deadline first) in one list, oldest deadline first; a record in
// both (the index lags) appears once.
func merge(a, b []reply.Record) []reply.Record {
	out := make([]reply.Record, 0, len(a)+len(b))
	seen := make(map[string]bool, len(a))
	for _, r := range a {
		seen[r.Key] = true
	}
	out = append(out, a...)
	for _, r := range b {
		if !seen[r.Key] {
			out = append(out, r)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return byDeadline.less(nil, &out[i], &out[j]) })
	return out
}

// take reserves up to want sends of the lane's bucket that conform now. Only sends that conform
// now are taken, although the candidates kept are sized to the whole interval: the replier sends
// a granted job as soon as it gets it, so a token from the future would be spent early and a
// rolling hour could hold more than the limit.
func (r *run) take(ctx context.Context, g group, c *candidates, want int) (int, error) {
	for attempt := 0; attempt < 5 && want > 0; attempt++ {
		b, err := r.s.store.Bucket(ctx, g.account, g.lane)
		if err != nil {
			return 0, fmt.Errorf("read bucket of account %s lane %s: %w", g.account, g.lane, err)
		}
		n, next, _ := c.limit.Take(b, r.now, want)
		if n == 0 {
			return 0, nil
		}
		_, err = r.s.store.SaveBucket(ctx, next)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, reply.ErrConflict) {
			return 0, fmt.Errorf("take %d sends of account %s lane %s: %w", n, g.account, g.lane, err)
		}
		r.count(func(p *Report) { p.Lost++ }) // a replier or another sweep took from the bucket meanwhile: read it again
	}
	return 0, nil
}

// byDeadline is a max-heap on Deadline (then Key), so the latest deadline is dropped first. It
// holds pointers: records are large, and a backlog offers thousands a run.
type byDeadline []*reply.Record

// less orders a before b: earlier deadline, then key.
func (byDeadline) less(a, b *reply.Record) bool {
	if !a.Deadline.Equal(b.Deadline) {
		return a.Deadline.Before(b.Deadline)
	}
	return a.Key < b.Key
}

func (h byDeadline) Len() int           { return len(h) }
func (h byDeadline) Less(i, j int) bool { return h.less(h[j], h[i]) }
func (h byDeadline) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *byDeadline) Push(x any)        { *h = append(*h, x.(*reply.Record)) }
func (h *byDeadline) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// sorted is the candidates oldest deadline first.
func (h byDeadline) sorted() []reply.Record {
	out := make([]reply.Record, 0, len(h))
	for _, r := range h {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return h.less(&out[i], &out[j]) })
	return out
}
