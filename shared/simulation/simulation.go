// Package simulation runs replywindow's pipeline on a fake clock: the real replier and sweeper,
// the memory store and queue, and the Graph sandbox over real HTTP, so days of a viral post's
// traffic play out in seconds and what Meta saw can be checked from the sandbox's ledger.
package simulation

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/replier"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/sweeper"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// Config is one scenario: Comments on one account's reel, arriving evenly over Arrival.
type Config struct {
	Start         time.Time
	Comments      int
	Arrival       time.Duration
	Limit         reply.Limit   // the account's posts lane, enforced by the sandbox too
	SweepInterval time.Duration // the schedule (default 1m)
	Batch         int           // SQS batch size of the replier's event source (default 10)
	Visibility    time.Duration // the queue's visibility timeout (default 3m)
	Horizon       time.Duration // give up after this much simulated time (default 8 days)
	// QueueDelay holds every job handed to the queue (by the webhook or a sweeper release) up to
	// this long before the replier may see it, as a slow SQS poller would.
	QueueDelay time.Duration
	// OtherAppPerHour is private replies another app on the account sends each hour, evenly
	// from Start: Meta counts them in the account's allowance and in its usage header.
	OtherAppPerHour int
	NoUsageHeaders  bool // the sandbox leaves out X-Business-Use-Case-Usage: our brake is off
	// Repliers is how many replier instances share the store (default 1), each batch handed to
	// the next in turn as Lambda spreads them over concurrent instances: each instance sees only
	// its own calls' usage headers and bucket copy.
	Repliers int
	// Live makes the comments a Live broadcast's (on air throughout), Limit the Live lane's.
	Live bool
	Taps *Taps        // people tapping the private reply's button; none when nil
	Log  *slog.Logger // nil: no logs
}

// Result is what the run did and what Meta (the sandbox) saw.
type Result struct {
	Comments       int
	States         map[reply.State]int // final record states
	Delivered      int                 // private replies in the sandbox ledger
	Duplicates     int                 // comments with more than one private reply
	Late           int                 // private replies sent after the comment's window
	Refused        map[string]int      // Meta errors the sandbox answered, by code
	MaxRollingHour int                 // most private replies in any rolling hour (the ledger)
	OtherApp       int                 // the other app's private replies Meta accepted meanwhile
	MaxAccountHour int                 // most private replies of every app in any rolling hour
	Deliveries     int                 // jobs handed to the replier (SQS receives)
	Invocations    int                 // replier invocations (batches)
	SweeperRuns    int
	Released       int
	Redriven       int
	Scanned        int // due records the sweeper read, over all runs
	SweeperWrites  int // the sweeper's conditional writes (records and buckets)
	Lined          int // of Scanned: read from the head of the lane's line
	Expired        int // by the sweeper
	DeadLetters    int
	FirstSend      time.Time
	LastSend       time.Time
	Drained        time.Duration // from the first comment to the last reply
	MaxWait        time.Duration // longest time from a comment to its reply
	Taps           TapResult     // the conversation half, when Config.Taps is set
	Report         ReportCost    // reading the account's report for ReportDays after the run
}

// DeliveriesPerComment is replier deliveries over comments.
func (r Result) DeliveriesPerComment() float64 { return float64(r.Deliveries) / float64(r.Comments) }

// IdealHours is how long the comments take at exactly the limit.
func (r Result) IdealHours(lim reply.Limit) float64 {
	return float64(r.Comments) / float64(lim.Count) * lim.Period.Hours()
}

// Refused613 is how many calls Meta refused for the rate limit.
func (r Result) Refused613() int {
	n := 0
	for code, k := range r.Refused {
		if code == "613" || strings.HasPrefix(code, "613/") {
			n += k
		}
	}
	return n
}

// SweeperReadsPerComment and SweeperWritesPerComment are the sweeper's records read (due and
// from the lanes' lines) and its writes (records and buckets) over comments.
func (r Result) SweeperReadsPerComment() float64 { return float64(r.Scanned) / float64(r.Comments) }

func (r Result) SweeperWritesPerComment() float64 {
	return float64(r.SweeperWrites) / float64(r.Comments)
}

// Summary is the run's one line: name, then key=value fields.
func (r Result) Summary(name string, lim reply.Limit) string {
	return fmt.Sprintf("%s: sent=%d busiest_hour=%d drain_hours=%.3f ideal_hours=%.3f drain_ratio=%.4f refused_613=%d "+
		"sweeper_reads_per_comment=%.2f sweeper_writes_per_comment=%.2f deliveries_per_comment=%.3f other_app=%d busiest_account_hour=%d "+
		"report_items_30d=%d report_bytes_30d=%d report_queries_30d=%d report_rru_30d=%.1f",
		name, r.States[reply.StateSent], r.MaxRollingHour, r.Drained.Hours(), r.IdealHours(lim), r.Drained.Hours()/r.IdealHours(lim), r.Refused613(),
		r.SweeperReadsPerComment(), r.SweeperWritesPerComment(), r.DeliveriesPerComment(), r.OtherApp, r.MaxAccountHour,
		r.Report.Items, r.Report.Bytes, r.Report.Requests, r.Report.RRU)
}

// Account is the simulated account's id.
const Account = "17841400000000042"

func (c Config) withDefaults() Config {
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = time.Minute
	}
	if c.Batch <= 0 {
		c.Batch = memory.MaxBatch
	}
	if c.Visibility <= 0 {
		c.Visibility = 3 * time.Minute
	}
	if c.Horizon <= 0 {
		c.Horizon = 8 * 24 * time.Hour
	}
	if c.Limit == (reply.Limit{}) {
		c.Limit = reply.DefaultPostsLimit
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Run plays the scenario until every comment's record is terminal or the horizon passes.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg = cfg.withDefaults()
	clock := memory.NewClock(cfg.Start)
	store := memory.NewStore()
	queue := memory.NewQueue(memory.QueueOptions{Clock: clock, Visibility: cfg.Visibility, MaxReceive: 5})
	lane, kind, media, product := reply.LanePosts, reply.KindReel, "reel-1", "REELS"
	if cfg.Live {
		lane, kind, media, product = reply.LaneLive, reply.KindLive, "live-1", "LIVE"
	}
	opts := []sandbox.Option{sandbox.WithClock(clock.Now), sandbox.WithLimit(lane, cfg.Limit)}
	if cfg.NoUsageHeaders {
		opts = append(opts, sandbox.WithoutUsageHeaders())
	}
	sb := sandbox.New(opts...)
	defer sb.Close()
	srv := httptest.NewServer(sb)
	defer srv.Close()
	const token = "sim-token"
	sb.AddAccount(Account, token, reply.LoginInstagram, "")
	acct := reply.Account{
		ID: Account, Login: reply.LoginInstagram, TokenParam: "/replywindow/tokens/sim", Version: 1,
		Limits: map[reply.Lane]reply.Limit{lane: cfg.Limit},
		Rules:  []reply.Rule{{Name: "recipe", Match: reply.MatchWord, Keywords: []string{"recipe"}, Message: "Here it is, {username}: https://example.com/recipe"}},
	}
	cfg.Taps.funnel(&acct)
	if _, err := store.PutAccount(ctx, acct); err != nil {
		return Result{}, fmt.Errorf("put account: %w", err)
	}
	tokens := memory.Tokens{Account: token}
	g := graph.New(graph.WithBaseURL(srv.URL))
	rcfg := replier.Config{AppIDs: []string{sandbox.DefaultAppID}}
	if cfg.Live {
		// The sandbox answers at once and a wait on the simulated clock takes no real time, so
		// concurrent workers would reach Meta at times shifted by each other's waits for the next
		// token (10 ms apart): one worker, which alone reaches 100/s here.
		rcfg.Concurrency = 1
	}
	rps := &repliers{all: make([]*replier.Replier, max(cfg.Repliers, 1))}
	for i := range rps.all {
		rps.all[i] = replier.New(rcfg, store, g, tokens, clock, telemetry.NewMetrics("replier"), cfg.Log)
		rps.all[i].Converse(g)
	}
	swStore := &counted{Store: store}
	held := &delayed{q: queue, max: cfg.QueueDelay, now: clock.Now}
	sw := sweeper.New(sweeper.Config{Interval: cfg.SweepInterval}, swStore, held, g, tokens, clock, telemetry.NewMetrics("sweeper"), cfg.Log)
	var others []time.Time // the other app's sends, in order
	if cfg.OtherAppPerHour > 0 {
		every := time.Hour / time.Duration(cfg.OtherAppPerHour)
		for at := cfg.Start; at.Before(cfg.Start.Add(cfg.Horizon)); at = at.Add(every) {
			others = append(others, at)
		}
	}
	nextOther := 0
	var sent []time.Time // the other app's replies Meta accepted

	if cfg.Live {
		sb.StartBroadcast(Account, media)
	}
	jobs := make([]reply.Job, cfg.Comments)
	for i := range jobs {
		at := cfg.Start.Add(time.Duration(i) * cfg.Arrival / time.Duration(cfg.Comments))
		jobs[i] = reply.Job{
			V: reply.JobVersion, AccountID: Account, CommentID: fmt.Sprintf("1790%011d", i), MediaID: media,
			ProductType: product, FromID: fmt.Sprintf("1784150%010d", i), FromUsername: fmt.Sprintf("fan%d", i),
			Text: "RECIPE please!", Kind: kind, CommentedAt: at, DeliveredAt: at,
		}
		sb.AddComment(sandbox.Comment{ID: jobs[i].CommentID, AccountID: Account, MediaID: media, FromID: jobs[i].FromID, CreatedAt: at, Live: cfg.Live})
	}

	byComment := make(map[string]reply.Job, len(jobs))
	for _, j := range jobs {
		byComment[j.CommentID] = j
	}
	taps := newTapper(cfg.Taps, sb)
	res := Result{Comments: cfg.Comments}
	next := 0 // next comment to arrive
	nextSweep := cfg.Start.Add(cfg.SweepInterval)
	end := cfg.Start.Add(cfg.Horizon)
	for now := cfg.Start; !now.After(end); {
		clock.Set(now)
		now = clock.Now() // a replier that waited for a token moved the clock on
		for nextOther < len(others) && !others[nextOther].After(now) {
			if sb.OtherApp(Account, lane, others[nextOther]) {
				sent = append(sent, others[nextOther])
			}
			nextOther++
		}
		if err := held.release(ctx); err != nil {
			return res, err
		}
		// The webhook: every comment made by now is on the queue.
		var batch []reply.Job
		for next < len(jobs) && !jobs[next].CommentedAt.After(now) {
			batch = append(batch, jobs[next])
			next++
		}
		if len(batch) > 0 {
			if err := held.Enqueue(ctx, batch); err != nil {
				return res, fmt.Errorf("webhook enqueue: %w", err)
			}
		}
		if _, err := taps.due(ctx, now, queue); err != nil {
			return res, err
		}
		if err := rps.drain(ctx, queue, cfg.Batch, &res); err != nil {
			return res, err
		}
		taps.learn(byComment)
		if !now.Before(nextSweep) {
			rep, err := sw.Run(ctx)
			if err != nil {
				return res, fmt.Errorf("sweep at %s: %w", now.Format(time.RFC3339), err)
			}
			res.SweeperRuns++
			res.Released += rep.Released
			res.Scanned += rep.Scanned
			res.Lined += rep.Lined
			res.Redriven += rep.Redriven
			res.Expired += rep.Expired
			nextSweep = nextSweep.Add(cfg.SweepInterval)
			if err := rps.drain(ctx, queue, cfg.Batch, &res); err != nil {
				return res, err
			}
			taps.learn(byComment)
		}
		if next == len(jobs) && queue.Len() == 0 && held.len() == 0 && taps.next().IsZero() {
			pending, _, err := store.Due(ctx, end.Add(reply.Window), "", 1)
			if err != nil {
				return res, fmt.Errorf("due: %w", err)
			}
			if len(pending) == 0 {
				break // every record is terminal
			}
		}
		// Jump to the next thing that happens: an arrival (a second at most, like a webhook
		// delivery), the schedule, or a message coming back to the queue.
		step := nextSweep
		if next < len(jobs) {
			step = minTime(step, maxTime(jobs[next].CommentedAt, now.Add(time.Second)))
		}
		if nv := queue.Counts().NextVisible; !nv.IsZero() {
			step = minTime(step, nv)
		}
		if nt := taps.next(); !nt.IsZero() {
			step = minTime(step, maxTime(nt, now.Add(time.Millisecond)))
		}
		if at, ok := held.next(); ok {
			step = minTime(step, maxTime(at, now.Add(time.Millisecond)))
		}
		if nextOther < len(others) && next == len(jobs) {
			step = minTime(step, maxTime(others[nextOther], now.Add(time.Millisecond)))
		}
		now = step
	}
	res.DeadLetters = queue.Counts().Dead
	res.Taps = taps.result()
	res.SweeperWrites = int(swStore.writes.Load())
	res.OtherApp = len(sent)
	report, err := reportCost(ctx, store, Account, clock.Now())
	if err != nil {
		return res, err
	}
	res.Report = report
	return res, ledger(ctx, store, sb, jobs, sent, cfg, &res)
}

// drain hands every visible message to the replier in batches, as the SQS event source does,
// and deletes what the replier acknowledged.
// repliers are the instances of the replier function; batches go to them in turn.
type repliers struct {
	all  []*replier.Replier
	turn int
}

// drain hands the queue's messages to the instances in turn until none is visible.
func (rps *repliers) drain(ctx context.Context, q *memory.Queue, batch int, res *Result) error {
	for {
		rp := rps.all[rps.turn%len(rps.all)]
		rps.turn++
		msgs, err := q.Receive(ctx, batch, 0)
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		if len(msgs) == 0 {
			return nil
		}
		res.Invocations++
		res.Deliveries += len(msgs)
		out, err := rp.Handle(ctx, events.SQSEvent{Records: msgs})
		if err != nil {
			return fmt.Errorf("replier: %w", err)
		}
		if err := q.Delete(ctx, acked(msgs, out)...); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
	}
}

// acked is the receipt handles of the messages the replier did not report as failed: what the
// SQS event source deletes.
func acked(msgs []events.SQSMessage, out events.SQSEventResponse) []string {
	failed := map[string]bool{}
	for _, f := range out.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var ack []string
	for _, m := range msgs {
		if !failed[m.MessageId] {
			ack = append(ack, m.ReceiptHandle)
		}
	}
	return ack
}

// ledger reads the outcome: the records' states and what the sandbox delivered.
func ledger(ctx context.Context, store *memory.Store, sb *sandbox.Sandbox, jobs []reply.Job, others []time.Time, cfg Config, res *Result) error {
	res.States = map[reply.State]int{}
	for cursor := ""; ; {
		recs, next, err := store.Scan(ctx, cursor, 1000)
		if err != nil {
			return fmt.Errorf("scan: %w", err)
		}
		for _, r := range recs {
			if r.Job.FollowUp == nil { // the comments' records; follow-ups are Taps'
				res.States[r.State]++
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	made := make(map[string]time.Time, len(jobs))
	for _, j := range jobs {
		made[j.CommentID] = j.CommentedAt
	}
	ds := sb.Deliveries()
	sort.Slice(ds, func(i, j int) bool { return ds[i].At.Before(ds[j].At) })
	per := map[string]int{}
	for i, d := range ds {
		per[d.CommentID]++
		if per[d.CommentID] == 2 {
			res.Duplicates++
		}
		if d.At.After(made[d.CommentID].Add(reply.Window)) {
			res.Late++
		}
		res.MaxWait = max(res.MaxWait, d.At.Sub(made[d.CommentID]))
		// Replies in the rolling hour that ends with this one: (d.At-1h, d.At].
		from := sort.Search(i+1, func(k int) bool { return ds[k].At.After(d.At.Add(-cfg.Limit.Period)) })
		last := i
		for last+1 < len(ds) && ds[last+1].At.Equal(d.At) {
			last++
		}
		res.MaxRollingHour = max(res.MaxRollingHour, last-from+1)
	}
	res.MaxAccountHour = busiest(others, ds, cfg.Limit.Period)
	res.Delivered = len(ds)
	if len(ds) > 0 {
		res.FirstSend, res.LastSend = ds[0].At, ds[len(ds)-1].At
		res.Drained = res.LastSend.Sub(cfg.Start)
	}
	res.Refused = sb.Stats().Refused
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// busiest is the most sends of every app in any rolling period (t-period, t].
func busiest(others []time.Time, ds []sandbox.Delivery, period time.Duration) int {
	at := append([]time.Time(nil), others...)
	for _, d := range ds {
		at = append(at, d.At)
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	most, from := 0, 0
	for i := range at {
		for !at[from].After(at[i].Add(-period)) {
			from++
		}
		most = max(most, i-from+1)
	}
	return most
}

// counted is the sweeper's store, counting its writes (from its workers at once).
type counted struct {
	*memory.Store
	writes atomic.Int64
}

func (c *counted) Create(ctx context.Context, rec reply.Record) (reply.Record, error) {
	c.writes.Add(1)
	return c.Store.Create(ctx, rec)
}

func (c *counted) Update(ctx context.Context, rec reply.Record) (reply.Record, error) {
	c.writes.Add(1)
	return c.Store.Update(ctx, rec)
}

func (c *counted) Delete(ctx context.Context, key string) error {
	c.writes.Add(1)
	return c.Store.Delete(ctx, key)
}

func (c *counted) SaveBucket(ctx context.Context, b reply.Bucket) (reply.Bucket, error) {
	c.writes.Add(1)
	return c.Store.SaveBucket(ctx, b)
}

// delayed holds each job for up to max (the same delay for the same comment and hand-over,
// spread evenly) before it reaches the queue, as an SQS poller that is late would.
type delayed struct {
	mu      sync.Mutex // the sweeper enqueues from its workers at once
	q       *memory.Queue
	max     time.Duration
	now     func() time.Time
	pending []heldJob // in order of release
	seq     int
}

type heldJob struct {
	at  time.Time
	job reply.Job
}

func (d *delayed) Enqueue(ctx context.Context, jobs []reply.Job) error {
	if d.max <= 0 {
		return d.q.Enqueue(ctx, jobs)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	for _, j := range jobs {
		d.seq++
		// A fixed permutation of the delays: deterministic, and every delay up to max occurs.
		frac := float64((d.seq*7919)%1000) / 999
		d.pending = append(d.pending, heldJob{at: now.Add(time.Duration(frac * float64(d.max))), job: j})
	}
	sort.SliceStable(d.pending, func(a, b int) bool { return d.pending[a].at.Before(d.pending[b].at) })
	return nil
}

// release hands the jobs whose delay is over to the queue.
func (d *delayed) release(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	n := 0
	for n < len(d.pending) && !d.pending[n].at.After(now) {
		n++
	}
	if n == 0 {
		return nil
	}
	jobs := make([]reply.Job, n)
	for i := range n {
		jobs[i] = d.pending[i].job
	}
	d.pending = d.pending[n:]
	if err := d.q.Enqueue(ctx, jobs); err != nil {
		return fmt.Errorf("delayed enqueue: %w", err)
	}
	return nil
}

func (d *delayed) len() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.pending)
}

func (d *delayed) next() (time.Time, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.pending) == 0 {
		return time.Time{}, false
	}
	return d.pending[0].at, true
}
