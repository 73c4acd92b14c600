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
	Taps          *Taps         // people tapping the private reply's button; none when nil
	Log           *slog.Logger  // nil: no logs
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
	Deliveries     int                 // jobs handed to the replier (SQS receives)
	Invocations    int                 // replier invocations (batches)
	SweeperRuns    int
	Released       int
	Redriven       int
	Scanned        int // due records the sweeper read, over all runs
	Deferred       int // parked records the sweeper moved to their turn
	Expired        int // by the sweeper
	DeadLetters    int
	FirstSend      time.Time
	LastSend       time.Time
	Drained        time.Duration // from the first comment to the last reply
	MaxWait        time.Duration // longest time from a comment to its reply
	Taps           TapResult     // the conversation half, when Config.Taps is set
}

// DeliveriesPerComment is replier deliveries over comments.
func (r Result) DeliveriesPerComment() float64 { return float64(r.Deliveries) / float64(r.Comments) }

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
	sb := sandbox.New(sandbox.WithClock(clock.Now), sandbox.WithLimit(reply.LanePosts, cfg.Limit))
	defer sb.Close()
	srv := httptest.NewServer(sb)
	defer srv.Close()
	const token = "sim-token"
	sb.AddAccount(Account, token, reply.LoginInstagram, "")
	acct := reply.Account{
		ID: Account, Login: reply.LoginInstagram, TokenParam: "/replywindow/tokens/sim", Version: 1,
		Limits: map[reply.Lane]reply.Limit{reply.LanePosts: cfg.Limit},
		Rules:  []reply.Rule{{Name: "recipe", Match: reply.MatchWord, Keywords: []string{"recipe"}, Message: "Here it is, {username}: https://example.com/recipe"}},
	}
	cfg.Taps.funnel(&acct)
	if _, err := store.PutAccount(ctx, acct); err != nil {
		return Result{}, fmt.Errorf("put account: %w", err)
	}
	tokens := memory.Tokens{Account: token}
	g := graph.New(graph.WithBaseURL(srv.URL))
	rp := replier.New(replier.Config{AppIDs: []string{sandbox.DefaultAppID}}, store, g, tokens, clock, telemetry.NewMetrics("replier"), cfg.Log)
	rp.Converse(g)
	sw := sweeper.New(sweeper.Config{Interval: cfg.SweepInterval}, store, queue, g, tokens, clock, telemetry.NewMetrics("sweeper"), cfg.Log)

	jobs := make([]reply.Job, cfg.Comments)
	for i := range jobs {
		at := cfg.Start.Add(time.Duration(i) * cfg.Arrival / time.Duration(cfg.Comments))
		jobs[i] = reply.Job{
			V: reply.JobVersion, AccountID: Account, CommentID: fmt.Sprintf("1790%011d", i), MediaID: "reel-1",
			ProductType: "REELS", FromID: fmt.Sprintf("1784150%010d", i), FromUsername: fmt.Sprintf("fan%d", i),
			Text: "RECIPE please!", Kind: reply.KindReel, CommentedAt: at, DeliveredAt: at,
		}
		sb.AddComment(sandbox.Comment{ID: jobs[i].CommentID, AccountID: Account, MediaID: "reel-1", FromID: jobs[i].FromID, CreatedAt: at})
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
		// The webhook: every comment made by now is on the queue.
		var batch []reply.Job
		for next < len(jobs) && !jobs[next].CommentedAt.After(now) {
			batch = append(batch, jobs[next])
			next++
		}
		if len(batch) > 0 {
			if err := queue.Enqueue(ctx, batch); err != nil {
				return res, fmt.Errorf("webhook enqueue: %w", err)
			}
		}
		if _, err := taps.due(ctx, now, queue); err != nil {
			return res, err
		}
		if err := drain(ctx, queue, rp, cfg.Batch, &res); err != nil {
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
			res.Deferred += rep.Deferred
			res.Redriven += rep.Redriven
			res.Expired += rep.Expired
			nextSweep = nextSweep.Add(cfg.SweepInterval)
			if err := drain(ctx, queue, rp, cfg.Batch, &res); err != nil {
				return res, err
			}
			taps.learn(byComment)
		}
		if next == len(jobs) && queue.Len() == 0 && taps.next().IsZero() {
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
		now = step
	}
	res.DeadLetters = queue.Counts().Dead
	res.Taps = taps.result()
	return res, ledger(ctx, store, sb, jobs, cfg, &res)
}

// drain hands every visible message to the replier in batches, as the SQS event source does,
// and deletes what the replier acknowledged.
func drain(ctx context.Context, q *memory.Queue, rp *replier.Replier, batch int, res *Result) error {
	for {
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
		if err := q.Delete(ctx, ack...); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
	}
}

// ledger reads the outcome: the records' states and what the sandbox delivered.
func ledger(ctx context.Context, store *memory.Store, sb *sandbox.Sandbox, jobs []reply.Job, cfg Config, res *Result) error {
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
