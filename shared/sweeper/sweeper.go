// Package sweeper is the scheduled keeper of reply records. Each run pages through the records
// that are due (oldest first) and moves every one that waits on time: it expires windows that
// closed, ends Live comments whose broadcast is over, releases parked jobs as each account's rate
// budget allows (oldest deadline first) and re-drives jobs whose queue message was lost. Every
// change is a versioned conditional write, so two sweeps, or a sweep and a replier, can run at
// once: a write that loses is counted and skipped.
package sweeper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// Count names the sweeper emits (fields of its telemetry lines; telemetry.Alarmed says which are metrics).
const (
	MetricExpired = "Expired" // windows closed, Live broadcasts ended included
	// MetricFollowUpsExpired counts follow-ups whose 24-hour window closed while they waited
	// (included in Expired too): the conversation's alarm.
	MetricFollowUpsExpired = "FollowUpsExpired"
	MetricBroadcastEnded   = "BroadcastEnded"      // of Expired: Live comments whose broadcast ended
	MetricAmbiguous        = "Ambiguous"           // closed after a send that may have been delivered (never Expired)
	MetricReleased         = "Released"            // parked jobs sent back to the queue
	MetricRedriven         = "Redriven"            // orphaned jobs sent back to the queue
	MetricBacklog          = "Backlog"             // due records left waiting after the run (dimension Lane)
	MetricOldestDueAge     = "OldestDueAgeSeconds" // how long the oldest due record has waited
	MetricUnhealthyHeld    = "UnhealthyHeld"       // parked jobs held because their account cannot send
	MetricConflicts        = "SweepConflicts"      // writes that lost to another worker
	MetricEnqueueFailed    = "EnqueueFailed"       // released or re-driven jobs the queue refused (re-driven later)
	MetricPartial          = "SweepPartial"        // 1 when the time budget ran out before the due records did
	MetricErrors           = "SweepErrors"         // store, queue or Graph failures
)

// Sweeper runs sweeps. It is safe for concurrent use.
type Sweeper struct {
	cfg    Config
	store  reply.Store
	queue  reply.Queue
	graph  reply.Graph
	tokens reply.Tokens
	clock  reply.Clock
	m      *telemetry.Metrics
	log    *slog.Logger
	// wall is real time: the Lambda deadline is real even when clock is simulated.
	wall func() time.Time

	lines  quietLines
	unused unusedLanes

	mu     sync.Mutex
	resume string   // where a run that ran out of time stopped; the next run continues there
	chores []*chore // run after each sweep when due (AddChore)
}

// New is a Sweeper. Zero tuning fields of cfg take their defaults.
func New(cfg Config, store reply.Store, queue reply.Queue, graph reply.Graph, tokens reply.Tokens, clock reply.Clock, m *telemetry.Metrics, log *slog.Logger) *Sweeper {
	if clock == nil {
		clock = reply.SystemClock{}
	}
	if m == nil {
		m = telemetry.NewMetrics("sweeper")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Sweeper{
		cfg: cfg.withDefaults(), store: store, queue: queue, graph: graph, tokens: tokens,
		clock: clock, m: m, log: log, wall: time.Now,
	}
}

// Report counts what one run did.
type Report struct {
	Pages         int
	Scanned       int // records read: due ones, and those of the lanes' lines (Lined)
	Lined         int // of Scanned: read from the head of a lane's line of jobs waiting for a token
	Expired       int // records moved to EXPIRED (window closed or broadcast ended)
	Ended         int // of Expired: Live comments whose broadcast ended
	Ambiguous     int // closed as AMBIGUOUS: the window or broadcast ended after an uncertain send
	FollowUps     int // of Expired: conversation messages whose 24-hour window closed
	Released      int // parked records sent back to the queue
	Granted       int // of Released: with a rate token reserved for them
	Redriven      int // orphaned records sent back to the queue
	Held          int // parked records of unhealthy or unknown accounts left waiting
	Busy          int // records past their deadline whose live lease lets the holder finish
	Lost          int // conditional writes that lost to another worker
	EnqueueFailed int // jobs whose record moved to QUEUED but the queue refused; re-driven later
	Backlog       map[reply.Lane]int
	OldestDue     time.Duration // age of the oldest due record seen
	Partial       bool          // the time budget ran out first; the next run continues
}

// BacklogTotal is the backlog over all lanes.
func (r Report) BacklogTotal() int {
	n := 0
	for _, v := range r.Backlog {
		n += v
	}
	return n
}

// Handle is the Lambda entry point for the EventBridge schedule.
func (s *Sweeper) Handle(ctx context.Context, ev events.EventBridgeEvent) error {
	rep, err := s.Run(ctx)
	s.runChores(ctx)
	if ferr := s.m.Flush(telemetry.Stdout); ferr != nil {
		s.log.Warn("flush metrics", "err", ferr)
	}
	attrs := []any{
		"event", ev.ID, "scheduled", ev.Time,
		"scanned", rep.Scanned, "expired", rep.Expired, "ambiguous", rep.Ambiguous, "released", rep.Released,
		"redriven", rep.Redriven, "lined", rep.Lined, "held", rep.Held, "lost", rep.Lost,
		"backlog", rep.BacklogTotal(), "oldest_due_s", int64(rep.OldestDue.Seconds()), "partial", rep.Partial,
	}
	if err != nil {
		s.log.Error("sweep failed", append(attrs, "err", err)...)
		return err
	}
	s.log.Info("sweep", attrs...)
	return nil
}

// Run is one sweep: it pages through the due records until they or the time budget run out,
// then releases parked jobs as each account's budget allows. Metrics are flushed once, at the end.
// A lost conditional write is counted, not an error; store, queue and Graph failures are
// returned after the run did what it could.
func (s *Sweeper) Run(ctx context.Context) (Report, error) {
	r := &run{
		s: s, ctx: ctx, now: s.clock.Now(), stop: s.budget(ctx),
		accounts: map[string]*account{}, groups: map[group]*candidates{},
		rep: Report{Backlog: map[reply.Lane]int{}},
	}
	r.scan(ctx)
	r.releaseAll(ctx)
	r.emit()
	if err := s.m.Flush(telemetry.Stdout); err != nil {
		s.log.Warn("flush metrics", "err", err)
	}
	return r.rep, errors.Join(r.errs...)
}

// budget is the real time the scan must stop by: the Lambda deadline less the margin, or one
// interval when there is no deadline (local runs), so a sweep never outlasts its schedule.
func (s *Sweeper) budget(ctx context.Context) time.Time {
	if d, ok := ctx.Deadline(); ok {
		return d.Add(-s.cfg.Margin)
	}
	return s.wall().Add(s.cfg.Interval)
}

func (s *Sweeper) resumeAt() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.resume
}

func (s *Sweeper) setResume(c string) {
	s.mu.Lock()
	s.resume = c
	s.mu.Unlock()
}

// run is the state of one sweep.
type run struct {
	s    *Sweeper
	ctx  context.Context // the invocation's: fail tells its end from a failure by it
	now  time.Time       // the clock at the start: one instant for every decision of the run
	stop time.Time       // real time

	mu       sync.Mutex
	rep      Report
	errs     []error
	accounts map[string]*account
	groups   map[group]*candidates
	oldest   time.Time
}

// account is what a run knows of an account: loaded once, Live broadcasts asked once.
type account struct {
	acct    reply.Account
	err     error
	live    map[string]bool // media ids live now; nil when not asked or unknown
	liveErr error
}

func (r *run) spent() bool { return r.spentIn(0) }

// spentIn reports whether work taking d would end after the budget.
func (r *run) spentIn(d time.Duration) bool { return !r.s.wall().Add(d).Before(r.stop) }

func (r *run) fail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctxDone() && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		// The invocation's time ran out mid-write: the budget's end came early, not a failure.
		// The record keeps its stored state and the next run takes it up.
		r.rep.Partial = true
		return
	}
	r.errs = append(r.errs, err)
	r.s.m.Count(MetricErrors, 1)
}

func (r *run) ctxDone() bool { return r.ctx != nil && r.ctx.Err() != nil }

func (r *run) count(f func(*Report)) {
	r.mu.Lock()
	f(&r.rep)
	r.mu.Unlock()
}

// scan pages through the due records, continuing where an unfinished run stopped.
func (r *run) scan(ctx context.Context) {
	cursor := r.s.resumeAt()
	resumed := cursor != ""
	var slowest time.Duration // the slowest page read so far: the next must fit in what is left
	for {
		if r.spentIn(slowest) {
			r.rep.Partial = true
			r.s.setResume(cursor)
			return
		}
		began := r.s.wall()
		recs, next, err := r.s.store.Due(ctx, r.now, cursor, r.s.cfg.PageSize)
		slowest = max(slowest, r.s.wall().Sub(began))
		if err != nil && resumed {
			// The saved cursor may have gone stale (another store, a changed index): start over.
			r.s.log.Warn("resume sweep from the start", "err", err)
			cursor, resumed = "", false
			continue
		}
		resumed = false
		if err != nil {
			r.fail(fmt.Errorf("read due records: %w", err))
			return
		}
		r.rep.Pages++
		r.rep.Scanned += len(recs)
		if !r.page(ctx, recs) {
			// Stopped inside the page: the next run reads it again; what this one moved is no
			// longer due, so nothing is done twice.
			r.rep.Partial = true
			r.s.setResume(cursor)
			return
		}
		if next == "" {
			r.s.setResume("")
			return
		}
		cursor = next
	}
}

// page works on one page of due records and reports whether it finished it within the budget.
func (r *run) page(ctx context.Context, recs []reply.Record) bool {
	r.prepare(ctx, recs)
	work := make(chan reply.Record)
	var wg sync.WaitGroup
	var redrive []reply.Job
	for range min(r.s.cfg.Workers, len(recs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rec := range work {
				if job, ok := r.visit(ctx, rec); ok {
					r.mu.Lock()
					redrive = append(redrive, job)
					r.mu.Unlock()
				}
			}
		}()
	}
	done := true
	for _, rec := range recs {
		if r.spent() || ctx.Err() != nil {
			done = false
			break
		}
		work <- rec
	}
	close(work)
	wg.Wait()
	r.enqueue(ctx, redrive)
	return done
}

// prepare loads, once per run, the accounts of the page's Live and parked records, asks Meta
// which broadcasts of theirs are live, and reads the rate buckets of the lanes with parked jobs.
func (r *run) prepare(ctx context.Context, recs []reply.Record) {
	for _, rec := range recs {
		if rec.DueAt.IsZero() {
			continue
		}
		if r.oldest.IsZero() || rec.DueAt.Before(r.oldest) {
			r.oldest = rec.DueAt
		}
		if !rec.Deadline.After(r.now) {
			continue // expires whatever else is true of it
		}
		if rec.Lane == reply.LaneLive {
			r.liveMedia(ctx, rec.AccountID)
		}
		if rec.State == reply.StateParked {
			r.group(ctx, rec)
		}
	}
}

func (r *run) account(ctx context.Context, id string) *account {
	if a, ok := r.accounts[id]; ok {
		return a
	}
	acct, err := r.s.store.Account(ctx, id)
	a := &account{acct: acct, err: err}
	if err != nil && !errors.Is(err, reply.ErrNotFound) {
		r.fail(fmt.Errorf("read account %s: %w", id, err))
	}
	r.accounts[id] = a
	return a
}

// liveMedia asks Meta once per run which of the account's broadcasts are live. When it cannot
// tell, Live records wait for their deadline: a comment is never expired on a guess.
func (r *run) liveMedia(ctx context.Context, id string) {
	a := r.account(ctx, id)
	if a.live != nil || a.liveErr != nil || a.err != nil {
		return
	}
	a.liveErr = func() error {
		tok, err := r.s.tokens.Token(ctx, a.acct)
		if err != nil {
			return fmt.Errorf("token of account %s: %w", id, err)
		}
		ids, err := r.s.graph.LiveMedia(ctx, a.acct, tok)
		if err != nil {
			return fmt.Errorf("live media of account %s: %w", id, err)
		}
		a.live = make(map[string]bool, len(ids))
		for _, m := range ids {
			a.live[m] = true
		}
		return nil
	}()
	if a.liveErr != nil {
		r.fail(a.liveErr)
	}
}

// ended reports whether rec is a Live comment on a broadcast Meta says is no longer live.
func (r *run) ended(rec reply.Record) bool {
	if rec.Lane != reply.LaneLive || rec.Job.MediaID == "" {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	a, ok := r.accounts[rec.AccountID]
	return ok && a.live != nil && !a.live[rec.Job.MediaID]
}

// visit moves one due record. It returns the job to re-drive when the record went back to QUEUED
// from an orphaned state.
func (r *run) visit(ctx context.Context, rec reply.Record) (reply.Job, bool) {
	switch {
	case !rec.Deadline.After(r.now):
		n, err := rec.Expire(r.now)
		switch {
		case errors.Is(err, reply.ErrBusy):
			r.count(func(p *Report) { p.Busy++; p.Backlog[rec.Lane]++ })
		case err != nil:
			r.count(func(p *Report) { p.Lost++ })
		case r.write(ctx, n):
			r.count(func(p *Report) { p.closed(n) })
		}
	case r.ended(rec):
		n, err := rec.EndBroadcast(r.now)
		switch {
		case errors.Is(err, reply.ErrBusy):
			r.count(func(p *Report) { p.Busy++; p.Backlog[rec.Lane]++ })
		case err != nil:
			r.count(func(p *Report) { p.Lost++ })
		case r.write(ctx, n):
			r.count(func(p *Report) { p.closed(n) })
		}
	case rec.Orphaned(r.now):
		n, err := rec.Redrive(r.now)
		if err != nil {
			r.count(func(p *Report) { p.Lost++ })
			return reply.Job{}, false
		}
		if r.write(ctx, n) {
			r.count(func(p *Report) { p.Redriven++ })
			return requeued(n.Job), true
		}
	case rec.State == reply.StateParked && !rec.DueAt.After(r.now):
		r.offer(rec)
	default:
		// A live lease that is due (its holder is slow): it ends or expires on a later run.
		r.count(func(p *Report) { p.Busy++; p.Backlog[rec.Lane]++ })
	}
	return reply.Job{}, false
}

// write stores n, reporting whether it won. A lost write is counted; any other failure is an
// error of the run.
func (r *run) write(ctx context.Context, n reply.Record) bool {
	_, err := r.s.store.Update(ctx, n)
	switch {
	case err == nil:
		return true
	case errors.Is(err, reply.ErrConflict), errors.Is(err, reply.ErrNotFound):
		r.count(func(p *Report) { p.Lost++ })
	default:
		r.fail(fmt.Errorf("write comment %s as %s: %w", n.CommentID, n.State, err))
	}
	return false
}

// enqueue sends jobs whose records are already QUEUED. When the queue refuses, the records'
// DueAt (now + reply.OrphanGrace) brings them back to a later sweep as orphans.
func (r *run) enqueue(ctx context.Context, jobs []reply.Job) {
	if len(jobs) == 0 {
		return
	}
	if err := r.s.queue.Enqueue(ctx, jobs); err != nil {
		r.count(func(p *Report) { p.EnqueueFailed += len(jobs) })
		r.fail(fmt.Errorf("enqueue %d jobs (re-driven after %s): %w", len(jobs), reply.OrphanGrace, err))
	}
}

// emit counts the run's report into the metrics.
func (r *run) emit() {
	m, p := r.s.m, r.rep
	if !r.oldest.IsZero() && r.now.After(r.oldest) {
		r.rep.OldestDue = r.now.Sub(r.oldest)
	}
	m.Count(MetricExpired, p.Expired)
	m.Count(MetricFollowUpsExpired, p.FollowUps)
	m.Count(MetricBroadcastEnded, p.Ended)
	m.Count(MetricAmbiguous, p.Ambiguous)
	m.Count(MetricReleased, p.Released)
	m.Count(MetricRedriven, p.Redriven)
	m.Count(MetricUnhealthyHeld, p.Held)
	m.Count(MetricConflicts, p.Lost)
	m.Count(MetricEnqueueFailed, p.EnqueueFailed)
	for _, l := range reply.Lanes {
		m.Count(MetricBacklog, p.Backlog[l], "Lane", string(l))
	}
	m.Add(MetricOldestDueAge, r.rep.OldestDue.Seconds())
	partial := 0
	if p.Partial {
		partial = 1
	}
	m.Count(MetricPartial, partial)
}

// closed counts a record the run closed because its window or broadcast ended.
func (p *Report) closed(n reply.Record) {
	switch {
	case n.State == reply.StateAmbiguous:
		p.Ambiguous++
	case n.Reason == "broadcast_ended":
		p.Expired++
		p.Ended++
	default:
		p.Expired++
		if n.Job.FollowUp != nil {
			p.FollowUps++
		}
	}
}

// requeued is the queue's copy of a job whose record exists (reply.Job.Requeued).
func requeued(j reply.Job) reply.Job {
	j.Requeued = true
	return j
}
