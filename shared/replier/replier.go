// Package replier is the SQS-triggered service that answers each queued comment with its one
// private reply: it picks the rule, guards the reply with a leased record in the store, keeps the
// account inside Meta's rate limits, sends through the Graph API and records what Meta said.
package replier

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// Action is what processing one job did.
type Action string

const (
	ActionSent    Action = "sent"    // we sent the reply (or learned an earlier attempt delivered it)
	ActionSkipped Action = "skipped" // recorded SKIPPED (Decision.Reason says why)
	ActionExpired Action = "expired" // recorded EXPIRED without or after a call
	ActionFailed  Action = "failed"  // Meta refused for good (Decision.Reason is code/subcode)
	ActionParked  Action = "parked"  // waiting in the store until Decision.RetryAt; the sweeper releases it
	ActionBusy    Action = "busy"    // another worker holds the record, or it is parked: theirs to finish
	ActionDone    Action = "done"    // the record was already terminal: a duplicate delivery
	ActionInvalid Action = "invalid" // the job can never be processed
)

// Park reasons recorded on PARKED records (and the Parked metric's Reason dimension).
const (
	ParkRateLimited = "rate_limited"      // our own bucket had no token
	ParkThrottled   = "throttled"         // Meta said to slow down
	ParkUncertain   = "uncertain"         // the send may have happened; retry later
	ParkUnhealthy   = "account_unhealthy" // the account cannot send until an operator fixes it
)

// Reasons recorded on terminal records besides Meta's codes and the domain's skip reasons.
const (
	ReasonDeliveredBefore = "delivered_before" // 2534025 after an uncertain attempt: it arrived
	ReasonInvalidMessage  = "invalid_message"  // the rule's text could not be rendered for this person
)

// Metric names (EMF, namespace ReplyWindow, dimension Function=replier).
const (
	MetricSent              = "Sent"
	MetricSkipped           = "Skipped" // dimension Reason
	MetricExpired           = "Expired"
	MetricFailed            = "Failed" // dimension Code
	MetricThrottled         = "Throttled"
	MetricParked            = "Parked" // dimension Reason
	MetricUncertain         = "Uncertain"
	MetricAccountUnhealthy  = "AccountUnhealthy"
	MetricPublicReplyFailed = "PublicReplyFailed"
	MetricInvalidJob        = "InvalidJob"
)

// ErrNoTime means the invocation has too little time left to hold a lease; the job is returned
// to the queue untouched.
var ErrNoTime = errors.New("too little time left in the invocation")

// Decision is what became of one job.
type Decision struct {
	Action  Action
	Reason  string       // skip reason, Meta's code/subcode, or park reason
	Record  reply.Record // the record as stored after the decision (zero for invalid jobs)
	RetryAt time.Time    // parked: the earliest next attempt
}

// minLease is the shortest lease worth taking: enough for one Graph call and one write.
const minLease = time.Second

// maxRounds bounds how often one job re-decides after losing a conditional write; each loss
// means someone else moved the record, so a handful of rounds always settles.
const maxRounds = 5

// Replier processes reply jobs. It is safe for concurrent use; its caches live as long as the
// Lambda execution environment.
type Replier struct {
	cfg    Config
	store  reply.Store
	graph  reply.Graph
	tokens reply.Tokens
	clock  reply.Clock
	m      *telemetry.Metrics
	log    *slog.Logger
	id     string
	seq    atomic.Uint64

	mu       sync.Mutex
	accounts map[string]cachedAccount
	live     map[string]cachedLive
	buckets  map[string]*bucketSlot
}

type cachedAccount struct {
	acct  reply.Account
	err   error // ErrNotFound is cached too: unknown accounts should not cost a read per comment
	until time.Time
}

type cachedLive struct {
	media map[string]bool
	until time.Time
}

// New is a Replier. The clock is the seam for simulations: leases, windows, caches and rate
// buckets all read it, so a fake clock runs days of traffic in milliseconds.
func New(cfg Config, store reply.Store, graph reply.Graph, tokens reply.Tokens, clock reply.Clock, m *telemetry.Metrics, log *slog.Logger) *Replier {
	if clock == nil {
		clock = reply.SystemClock{}
	}
	if m == nil {
		m = telemetry.NewMetrics("replier")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &Replier{
		cfg: cfg.withDefaults(), store: store, graph: graph, tokens: tokens, clock: clock, m: m, log: log,
		id:       "replier-" + hex.EncodeToString(b),
		accounts: map[string]cachedAccount{},
		live:     map[string]cachedLive{},
		buckets:  map[string]*bucketSlot{},
	}
}

// Process decides and carries out one job. An error wrapping reply.ErrInvalidJob means the job
// can never succeed; any other error means it should be retried (the store or a token was
// unavailable, or ErrNoTime).
func (r *Replier) Process(ctx context.Context, job reply.Job) (Decision, error) {
	d, err := r.process(ctx, job)
	if err != nil {
		return d, fmt.Errorf("comment %s: %w", job.CommentID, err)
	}
	r.decided(job, d)
	return d, nil
}

func (r *Replier) process(ctx context.Context, job reply.Job) (Decision, error) {
	if err := job.Validate(); err != nil {
		return Decision{Action: ActionInvalid}, err
	}
	lease, err := r.leaseLength(ctx)
	if err != nil {
		return Decision{}, err
	}
	if job.Own() {
		// Defence in depth: the webhook drops the account's own comments too; a reply would loop.
		return r.skip(ctx, job, reply.SkipOwnComment)
	}
	acct, err := r.account(ctx, job.AccountID)
	if errors.Is(err, reply.ErrNotFound) {
		return r.skip(ctx, job, reply.SkipNoAccount)
	}
	if err != nil {
		return Decision{}, err
	}
	rule, ok := acct.Match(job)
	if !ok {
		return r.skip(ctx, job, reply.SkipNoRule)
	}
	w := &work{r: r, job: job, acct: acct, rule: rule, key: job.Key(!acct.RepeatPerPerson), lease: lease, owner: r.owner(ctx)}
	w.text, w.renderErr = rule.Render(job.FromUsername, acct.Disclosure)
	return w.run(ctx)
}

// leaseLength is how long a claim may hold the record: until shortly before the Lambda deadline,
// so a crashed invocation's claim can be taken over once it could no longer be sending.
func (r *Replier) leaseLength(ctx context.Context) (time.Duration, error) {
	dl, ok := ctx.Deadline()
	if !ok {
		return r.cfg.DefaultLease, nil
	}
	d := time.Until(dl) - r.cfg.LeaseMargin
	if d < minLease {
		return 0, ErrNoTime
	}
	return d, nil
}

func (r *Replier) owner(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return r.id + "/" + lc.AwsRequestID + "/" + strconv.FormatUint(r.seq.Add(1), 10)
	}
	return r.id + "/" + strconv.FormatUint(r.seq.Add(1), 10)
}

// skip records a decision taken before any lease: a terminal SKIPPED record on the comment's own
// key (never the funnel key, which belongs to the comment that may still be answered).
func (r *Replier) skip(ctx context.Context, job reply.Job, reason string) (Decision, error) {
	rec := reply.NewSkipped(job, reason, r.clock.Now())
	stored, err := r.store.Create(ctx, rec)
	switch {
	case errors.Is(err, reply.ErrExists):
		return Decision{Action: ActionDone, Reason: stored.Reason, Record: stored}, nil
	case err != nil:
		return Decision{}, fmt.Errorf("skip comment %s (%s): %w", job.CommentID, reason, err)
	}
	d := Decision{Action: ActionSkipped, Reason: reason, Record: rec}
	r.count(d)
	return d, nil
}

// decided logs the decision; the comment's text only at debug level.
func (r *Replier) decided(job reply.Job, d Decision) {
	attrs := []any{"account", job.AccountID, "comment", job.CommentID, "kind", job.Kind, "action", d.Action}
	if d.Reason != "" {
		attrs = append(attrs, "reason", d.Reason)
	}
	if !d.RetryAt.IsZero() {
		attrs = append(attrs, "retry_at", d.RetryAt)
	}
	r.log.Info("job decided", attrs...)
	r.log.Debug("job text", "comment", job.CommentID, "text", job.Text)
}

// account is the account's configuration, from memory while fresh.
func (r *Replier) account(ctx context.Context, id string) (reply.Account, error) {
	now := r.clock.Now()
	r.mu.Lock()
	c, ok := r.accounts[id]
	r.mu.Unlock()
	if ok && now.Before(c.until) {
		return c.acct, c.err
	}
	a, err := r.store.Account(ctx, id)
	if err != nil && !errors.Is(err, reply.ErrNotFound) {
		return a, fmt.Errorf("account %s: %w", id, err)
	}
	r.remember(id, a, err, now)
	return a, err
}

// remember caches the account (or its absence) for AccountCacheTTL.
func (r *Replier) remember(id string, a reply.Account, err error, now time.Time) {
	r.mu.Lock()
	r.accounts[id] = cachedAccount{acct: a, err: err, until: now.Add(r.cfg.AccountCacheTTL)}
	r.mu.Unlock()
}

// markUnhealthy records that the account cannot send (an alarm watches the metric). It is best
// effort: the job's own outcome is recorded whether or not this write lands.
func (r *Replier) markUnhealthy(ctx context.Context, a reply.Account, why string) reply.Account {
	for range maxRounds {
		if !a.Healthy() {
			r.remember(a.ID, a, nil, r.clock.Now())
			return a
		}
		now := r.clock.Now()
		n := a
		n.Unhealthy, n.UnhealthySince, n.UpdatedAt = why, now, now
		n.Version++
		stored, err := r.store.PutAccount(ctx, n)
		if errors.Is(err, reply.ErrConflict) {
			a = stored
			continue
		}
		if err != nil {
			r.log.Error("mark account unhealthy", "account", a.ID, "why", why, "err", err)
			return a
		}
		r.m.Count(MetricAccountUnhealthy, 1)
		r.log.Warn("account unhealthy", "account", a.ID, "why", why)
		r.remember(n.ID, n, nil, now)
		return n
	}
	r.log.Error("mark account unhealthy: kept conflicting", "account", a.ID, "why", why)
	return a
}

// liveNow reports whether the account's broadcast media is live, asking Meta at most once per
// LiveCacheTTL per account: a busy Live sends up to 100 replies a second.
func (r *Replier) liveNow(ctx context.Context, a reply.Account, token, media string) (bool, error) {
	now := r.clock.Now()
	r.mu.Lock()
	c, ok := r.live[a.ID]
	r.mu.Unlock()
	if !ok || !now.Before(c.until) {
		ids, err := r.graph.LiveMedia(ctx, a, token)
		if err != nil {
			return false, fmt.Errorf("live media of account %s: %w", a.ID, err)
		}
		c = cachedLive{media: make(map[string]bool, len(ids)), until: now.Add(r.cfg.LiveCacheTTL)}
		for _, id := range ids {
			c.media[id] = true
		}
		r.mu.Lock()
		r.live[a.ID] = c
		r.mu.Unlock()
	}
	return c.media[media], nil
}
