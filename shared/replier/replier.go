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

	"github.com/replywindow/replywindow/shared/conversation"
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
	// ActionAmbiguous: recorded AMBIGUOUS, a send may have been delivered and Meta cannot tell.
	ActionAmbiguous Action = "ambiguous"
	ActionParked    Action = "parked"  // waiting in the store until Decision.RetryAt; the sweeper releases it
	ActionBusy      Action = "busy"    // another worker holds the record, or it is parked: theirs to finish
	ActionDone      Action = "done"    // the record was already terminal: a duplicate delivery
	ActionInvalid   Action = "invalid" // the job can never be processed
)

// Park reasons recorded on PARKED records (and the Parked metric's Reason dimension).
const (
	ParkRateLimited = reply.ReasonRateLimited // our own bucket had no token: the job waits in its lane
	ParkThrottled   = "throttled"             // Meta said to slow down
	ParkUncertain   = "uncertain"             // the send may have happened; retry later
	ParkUnhealthy   = "account_unhealthy"     // the account cannot send until an operator fixes it
	// Failures before anything was decided: the record is written PARKED so the sweeper owns the
	// comment, instead of an SQS message on its way to the dead-letter queue.
	ParkAccountUnavailable = "account_unavailable" // the account's configuration could not be read
	ParkTokenUnavailable   = "token_unavailable"   // the account's token could not be read (SSM)
	ParkLookup             = "comment_lookup"      // Meta could not say whose comment it is, or on what
	ParkNoTime             = "no_time"             // the invocation had too little time left to hold a lease
	// The one-DM-per-person guard is wanted but Meta's lookup named no media (or no person): the
	// reply waits, the sweeper has the lookup asked again, and the comment's deadline ends it
	// EXPIRED (its Detail says why) if Meta never says. It is never sent without the guard.
	ParkMediaUnknown  = "media_unknown"
	ParkPersonUnknown = "person_unknown"
)

// unavailableWait and maxParkWait bound how long a comment parked for an unavailable dependency
// waits before the sweeper releases it again (parkWait).
const (
	unavailableWait = 30 * time.Second
	maxParkWait     = 15 * time.Minute
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
	MetricAmbiguous         = "Ambiguous" // dimension Reason
	MetricTokenUnavailable  = "TokenUnavailable"
	MetricCommentLookups    = "CommentLookups" // comments whose media or person was asked of Meta
	// MetricLookupIDRefused counts ids in Meta's answer to a comment lookup (its media's, its
	// person's) that are not digits (reply.ValidID, the webhook's rule): taken as not named.
	MetricLookupIDRefused = "LookupIDRefused"
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

	conv  *conversation.Service // nil until Converse
	links reply.Linker          // nil until TrackLinks: links go as written

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

// Converse has the replier carry conversations on (messaging events and follow-ups) through m,
// the Send API and the user profile API; without it such jobs are retried until the queue's
// dead-letter queue holds them.
func (r *Replier) Converse(m reply.Messenger) {
	r.conv = conversation.New(r.store, m, r.tokens, lanes{r}, r.account, r.cfg.AppIDs, r.clock, r.m, r.log)
	r.conv.TrackLinks(r.links)
}

// TrackLinks has the links of every message the replier sends (private replies and, once
// Converse was called, follow-ups) go through l (shared/links: the click route).
func (r *Replier) TrackLinks(l reply.Linker) {
	r.links = l
	if r.conv != nil {
		r.conv.TrackLinks(l)
	}
}

// lanes is the replier's rate buckets as the conversation's Send API lanes.
type lanes struct{ r *Replier }

func (l lanes) Take(ctx context.Context, a reply.Account, lane reply.Lane) (bool, time.Time, error) {
	return l.r.take(ctx, a, lane)
}

// converse hands a messaging event or a follow-up to the conversation service.
func (r *Replier) converse(ctx context.Context, job reply.Job) (Decision, error) {
	if err := job.Validate(); err != nil {
		return Decision{Action: ActionInvalid}, err
	}
	if r.conv == nil {
		return Decision{}, errors.New("conversations are not wired (Replier.Converse)")
	}
	until, err := r.leaseUntil(ctx)
	if err != nil {
		return Decision{}, err
	}
	res, err := r.conv.Handle(ctx, job, conversation.Lease{Owner: r.owner(ctx), Until: until})
	if err != nil {
		return Decision{}, fmt.Errorf("conversation %s: %w", job.Key(), err)
	}
	return Decision{Action: Action(res.Action), Reason: res.Reason}, nil
}

// Process decides and carries out one job. An error wrapping reply.ErrInvalidJob means the job
// can never succeed; any other error means it should be retried (the store or a token was
// unavailable, or ErrNoTime).
func (r *Replier) Process(ctx context.Context, job reply.Job) (Decision, error) {
	if job.Event != nil || job.FollowUp != nil {
		d, err := r.converse(ctx, job)
		if err == nil {
			r.log.Info("conversation job decided", "account", job.AccountID, "key", job.Key(), "action", d.Action, "reason", d.Reason)
		}
		return d, err
	}
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
	w := &work{r: r, job: job, owner: r.owner(ctx)}
	if _, err := r.leaseUntil(ctx); err != nil {
		return w.parkFirst(ctx, ParkNoTime, err)
	}
	if job.Own() {
		// Defence in depth: the webhook drops the account's own comments too; a reply would loop.
		w.skip = reply.SkipOwnComment
		return w.run(ctx)
	}
	acct, err := r.account(ctx, job.AccountID)
	switch {
	case errors.Is(err, reply.ErrNotFound):
		w.skip = reply.SkipNoAccount
		return w.run(ctx)
	case err != nil:
		return w.parkFirst(ctx, ParkAccountUnavailable, err)
	}
	w.acct = acct
	if acct.Paused {
		// The operator stopped the answers; decided before any Graph read.
		w.skip = reply.SkipPaused
		return w.run(ctx)
	}
	if reason, err := w.complete(ctx); err != nil {
		return w.parkFirst(ctx, reason, err)
	}
	if w.finished != nil {
		return w.run(ctx) // the stored outcome answers, whatever the rules say now
	}
	rule, ok := acct.Match(w.job)
	if !acct.RepeatPerPerson {
		w.funnel = w.job.Funnel()
		w.guardUnknown(ok)
	}
	if !ok && w.skip == "" && w.parked == "" {
		w.skip = reply.SkipNoRule
	}
	w.variant, rule = rule.Variant(acct.ID, w.job.FromID)
	w.rule = rule
	w.text, w.renderErr = rule.Render(w.job.FromUsername, acct.Disclosure)
	return w.run(ctx)
}

// complete asks Meta for what the funnel needs and the webhook left out (the media, the person)
// and, on the way, the comment's true creation time. The person is always asked for: without
// them their tombstone cannot be checked, and a forgotten person would get a DM. It returns a
// park reason with an error when Meta could not answer; a comment Meta no longer knows is
// skipped. The comment's record is read first: a comment whose outcome is already recorded (a
// delivery Meta retried, or one replayed) is decided from it, and costs no Graph read of the
// account's.
func (w *work) complete(ctx context.Context) (string, error) {
	job := w.job
	if job.FromID != "" && (job.Funnel() != "" || (w.acct.RepeatPerPerson && !w.acct.MediaRules())) {
		return "", nil
	}
	// A read that fails is no reason to stop: the lookup and the record's conditional create
	// decide as they did before this read.
	if rec, err := w.r.store.Get(ctx, job.Key()); err == nil && rec.State.Terminal() {
		w.finished = &rec
		return "", nil
	}
	if err := w.needToken(ctx); err != nil {
		return ParkTokenUnavailable, err
	}
	info, err := w.r.graph.Comment(ctx, w.acct, w.token, job.CommentID)
	switch v := reply.Classify(err); {
	case err == nil:
	case v == reply.VerdictAuth:
		w.acct = w.r.markUnhealthy(ctx, w.acct, codeOf(err)) // parked as unhealthy by the decision
		return "", nil
	case v == reply.VerdictPermanent || v == reply.VerdictAlreadyReplied:
		w.skip = reply.SkipCommentGone
		return "", nil
	default:
		return ParkLookup, fmt.Errorf("look up comment %s: %w", job.CommentID, err)
	}
	w.r.m.Count(MetricCommentLookups, 1)
	for _, id := range []*string{&info.MediaID, &info.FromID} {
		if *id != "" && !reply.ValidID(*id) {
			w.r.m.Count(MetricLookupIDRefused, 1)
			w.r.log.Warn("comment lookup: Meta answered an id that is not digits; taken as not named", "account", job.AccountID,
				"comment", job.CommentID, "id", truncate(*id, 40))
			*id = ""
		}
	}
	if job.MediaID == "" {
		job.MediaID = info.MediaID
	}
	if job.FromID == "" {
		job.FromID, job.FromUsername = info.FromID, info.FromUsername
	}
	if !info.CreatedAt.IsZero() && info.CreatedAt.Before(job.CommentedAt) {
		job.CommentedAt = info.CreatedAt // the true window start (design.md §4.4)
	}
	w.job = job
	if job.Own() {
		w.skip = reply.SkipOwnComment
	}
	return "", nil
}

// guardUnknown parks the comment when the account wants its one-DM-per-person guard and neither
// the delivery nor Meta's lookup named the comment's media (or person): without them there is no
// guard to take, and a reply could be the person's second DM on the post. matched says a rule
// answers the comment as it is known; with rules per media, one may once the media is known.
func (w *work) guardUnknown(matched bool) {
	job := w.job
	if w.funnel != "" || w.skip != "" || w.parked != "" || !w.acct.Healthy() || !matched && !w.acct.MediaRules() {
		return
	}
	w.parked, w.detail = ParkPersonUnknown, "Meta's comment lookup named no person: the one-DM-per-person guard cannot be taken"
	if job.FunnelMedia() == "" {
		w.parked, w.detail = ParkMediaUnknown, "Meta's comment lookup named no media: the one-DM-per-person guard cannot be taken"
	}
	w.r.log.Warn("funnel guard unknown: parked, the lookup is asked again", "account", job.AccountID, "comment", job.CommentID, "reason", w.parked)
}

// parkFirst parks the comment's record when something failed before any decision (the account
// or its token could not be read, too little time): the sweeper owns the comment then, retries
// it and, should the cause last, expires it — it never waits in the dead-letter queue. A new
// comment's record is created PARKED; a record that exists is claimed and parked again, later
// each time (parkWait).
func (w *work) parkFirst(ctx context.Context, reason string, cause error) (Decision, error) {
	w.r.log.Warn("parked before deciding", "account", w.job.AccountID, "comment", w.job.CommentID, "reason", reason, "err", cause)
	w.parked = reason
	d, err := w.run(ctx)
	if err != nil {
		return d, fmt.Errorf("park comment %s (%s: %v): %w", w.job.CommentID, reason, cause, err)
	}
	return d, nil
}

// parkWait is how long a comment parked for an unavailable dependency waits: unavailableWait at
// first, then as long as it has waited so far (doubling), at most maxParkWait.
func parkWait(reason string, rec reply.Record, now time.Time) time.Duration {
	if reason == ParkNoTime {
		return 0
	}
	if rec.Version == 0 {
		return unavailableWait
	}
	return min(max(now.Sub(rec.CreatedAt), unavailableWait), maxParkWait)
}

// leaseUntil is when a claim taken now must end: shortly before the Lambda deadline, so a
// crashed invocation's claim can be taken over once it could no longer be sending. It is
// computed at the claim, not at the start of processing, so time spent before it never stretches
// a lease past the deadline.
func (r *Replier) leaseUntil(ctx context.Context) (time.Time, error) {
	now := r.clock.Now()
	dl, ok := ctx.Deadline()
	if !ok {
		return now.Add(r.cfg.DefaultLease), nil
	}
	d := time.Until(dl) - r.cfg.LeaseMargin
	if d < minLease {
		return time.Time{}, ErrNoTime
	}
	return now.Add(d), nil
}

func (r *Replier) owner(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		return r.id + "/" + lc.AwsRequestID + "/" + strconv.FormatUint(r.seq.Add(1), 10)
	}
	return r.id + "/" + strconv.FormatUint(r.seq.Add(1), 10)
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
