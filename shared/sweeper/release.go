package sweeper

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// group is one account's rate lane: the unit releases are budgeted in.
type group struct {
	account string
	lane    reply.Lane
}

// candidates are a lane's parked jobs that are due, the oldest deadlines kept.
type candidates struct {
	held  bool        // the account cannot send (unhealthy or unknown): nothing is released
	why   string      // why it is held, for the log
	limit reply.Limit // the account's limit for the lane
	keep  int         // how many to keep: the lane's capacity until the next run, and spares
	seen  int         // every due parked record of the lane this run
	heap  byDeadline
	rest  farthest    // due parked records not kept, the latest deadlines: deferral candidates
	lines []time.Time // the deadline of every due parked record seen: places in line
}

// A parked record far back in a long backlog would otherwise be read by every run until its turn.
// Deferring it costs one write (and the due index's delete and insert), about as much as 120
// reads of a 1 KB item from the index at on-demand prices, so only records whose turn is more
// than deferAfter runs away are deferred, to one run before it. maxDeferrals bounds a run's writes.
const (
	deferAfter   = 120
	maxDeferrals = 5000
)

// spares are extra candidates kept beyond the capacity, to stand in for releases that lose to
// another sweep or to a replier.
const spares = 16

// group returns the candidates of rec's lane, creating them on first sight: the account and the
// bucket are read once per run, and the capacity bounds how many candidates are kept in memory.
func (r *run) group(ctx context.Context, rec reply.Record) *candidates {
	g := group{rec.AccountID, rec.Lane}
	if c, ok := r.groups[g]; ok {
		return c
	}
	c := &candidates{}
	r.groups[g] = c
	a := r.account(ctx, rec.AccountID)
	switch {
	case errors.Is(a.err, reply.ErrNotFound):
		c.held, c.why = true, "account not configured"
		return c
	case a.err != nil:
		c.held, c.why = true, "account unreadable"
		return c
	case !a.acct.Healthy():
		c.held, c.why = true, a.acct.Unhealthy
		return c
	}
	c.limit = a.acct.Limit(rec.Lane)
	b, err := r.s.store.Bucket(ctx, rec.AccountID, rec.Lane)
	if err != nil {
		r.fail(fmt.Errorf("read bucket of account %s lane %s: %w", rec.AccountID, rec.Lane, err))
		c.held, c.why = true, "bucket unreadable"
		return c
	}
	c.keep = c.limit.Capacity(b, r.now, r.s.cfg.Interval) + spares
	return c
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
	c.lines = append(c.lines, rec.Deadline)
	if c.heap.Len() >= c.keep {
		if c.keep == 0 || !c.heap.less(&rec, c.heap[0]) {
			c.spare(&rec) // no earlier than every kept candidate (the usual case: backlogs arrive in order)
			return
		}
		c.spare(heap.Pop(&c.heap).(*reply.Record)) // the latest deadline
	}
	heap.Push(&c.heap, &rec)
}

// spare keeps rec as a deferral candidate if it is among the maxDeferrals latest deadlines seen:
// those are the records farthest from their turn, which a deferral saves the most reads of.
func (c *candidates) spare(rec *reply.Record) {
	if c.rest.Len() < maxDeferrals {
		heap.Push(&c.rest, rec)
		return
	}
	if byDeadline.less(nil, c.rest[0], rec) {
		c.rest[0] = rec
		heap.Fix(&c.rest, 0)
	}
}

// deferRest moves the due index entries of the records far back in the lane's backlog to one run
// before the earliest time their turn can come. A record's place in line is the number of due
// records seen with an earlier deadline, less those released now (reply.Limit.Turn); records
// deferred by earlier runs are not seen, so a record later than the last one deferred also
// waits behind it (the lane's tail, kept while the function is warm). Estimates err early, never
// late, and deadlines keep their order.
func (r *run) deferRest(ctx context.Context, g group, c *candidates, released int) {
	if len(c.rest) == 0 {
		return
	}
	horizon := r.now.Add(deferAfter * r.s.cfg.Interval)
	slices.SortFunc(c.lines, time.Time.Compare)
	slices.SortFunc(c.rest, func(a, b *reply.Record) int { return a.Deadline.Compare(b.Deadline) })
	tail := r.s.tail(g)
	for _, rec := range c.rest {
		place, _ := slices.BinarySearchFunc(c.lines, rec.Deadline, time.Time.Compare)
		turn := c.limit.Turn(r.now, place-released)
		if rec.Deadline.After(tail.deadline) && tail.turn.Add(c.limit.Spacing()).After(turn) {
			turn = tail.turn.Add(c.limit.Spacing())
		}
		if !turn.After(horizon) {
			continue
		}
		if ctx.Err() != nil || r.spentIn(0) {
			break
		}
		n, err := rec.Defer(turn.Add(-r.s.cfg.Interval), r.now)
		if err == nil && r.write(ctx, n) {
			r.rep.Deferred++
			tail = deferral{deadline: rec.Deadline, turn: turn}
		}
	}
	r.s.setTail(g, tail)
}

// deferral is the last record a lane deferred: its deadline and the turn it was given.
type deferral struct{ deadline, turn time.Time }

func (s *Sweeper) tail(g group) deferral {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tails[g]
}

func (s *Sweeper) setTail(g group, d deferral) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tails == nil {
		s.tails = map[group]deferral{}
	}
	if d.deadline.After(s.tails[g].deadline) {
		s.tails[g] = d
	}
}

// releaseAll releases each lane's candidates, accounts in a stable order.
func (r *run) releaseAll(ctx context.Context) {
	gs := make([]group, 0, len(r.groups))
	for g := range r.groups {
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].account != gs[j].account {
			return gs[i].account < gs[j].account
		}
		return gs[i].lane < gs[j].lane
	})
	for _, g := range gs {
		if ctx.Err() != nil {
			return
		}
		r.release(ctx, g, r.groups[g])
	}
}

// release sends back to the queue as many of the lane's candidates, oldest deadline first, as
// the account's bucket grants now. The tokens are taken first (a conditional bucket write), so
// two sweeps cannot both spend the same budget, and each record is released with a conditional
// write, so no record goes back twice; a token whose record was lost is spent on the next
// candidate.
func (r *run) release(ctx context.Context, g group, c *candidates) {
	if c.seen == 0 {
		return
	}
	if c.held {
		r.rep.Held += c.seen
		r.rep.Backlog[g.lane] += c.seen
		r.s.log.Warn("parked jobs held", "account", g.account, "lane", g.lane, "jobs", c.seen, "why", c.why)
		return
	}
	cands := c.heap.sorted()
	granted, err := r.take(ctx, g, c, len(cands))
	if err != nil {
		r.fail(err)
	}
	// A lane whose period is shorter than the schedule (Live: 100/s) cannot be budgeted a
	// minute ahead without a burst Meta would refuse; the rest of its capacity goes back
	// without a token and the replier paces it with the bucket.
	extra := 0
	if c.limit.Period < r.s.cfg.Interval {
		extra = max(0, min(len(cands), c.keep-spares)-granted)
	}
	var jobs []reply.Job
	for _, rec := range cands {
		if len(jobs) >= granted+extra || ctx.Err() != nil {
			break
		}
		n, err := rec.Release(len(jobs) < granted, r.now)
		if err != nil {
			r.rep.Lost++
			continue
		}
		if !r.write(ctx, n) {
			continue // counted as lost (or failed) by write
		}
		jobs = append(jobs, requeued(n.Job))
		if n.Granted {
			r.rep.Granted++
		}
	}
	r.rep.Released += len(jobs)
	r.rep.Backlog[g.lane] += c.seen - len(jobs)
	r.enqueue(ctx, jobs)
	r.deferRest(ctx, g, c, len(jobs))
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
		r.rep.Lost++ // a replier or another sweep took from the bucket meanwhile: read it again
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

// farthest is a min-heap on deadline: its root is the earliest of the latest deadlines kept.
type farthest []*reply.Record

func (h farthest) Len() int           { return len(h) }
func (h farthest) Less(i, j int) bool { return byDeadline.less(nil, h[i], h[j]) }
func (h farthest) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *farthest) Push(x any)        { *h = append(*h, x.(*reply.Record)) }
func (h *farthest) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
