// Package reconcile finds the comments whose webhook never came and answers them the way the
// webhook would have: Meta's webhooks are not guaranteed (deliveries are dropped, an app whose
// endpoint failed for a while is unsubscribed, some comments never produce one), so the sweeper
// reads each account's recent media as well (design.md §2 "reading comments", §4.5).
//
// A pass per account (every Config.Every) lists the media that can still hold comments inside
// their window (GET /{ig-id}/media, newest first, paged, stopping past 7 days) and, for each whose
// comments_count moved since the last look, reads its comments newest first down to what the last
// look saw. Every comment without a record becomes a job on the replier's queue, exactly as the
// webhook enqueues it (own comments dropped, replies to comments kept), with Meta's timestamp as
// its creation time; the replier's exactly-once rules then decide, so a comment found both by
// webhook and by reconciliation still gets one record and one reply. A cursor per account and
// media (reply.Cursor) keeps each pass incremental and lets a pass the budget stopped go on.
//
// While an account is live, its broadcasts' comments are read every Config.LiveEvery. Reads are
// bounded per account by a rolling budget (lane reads in the table), slowed down by Meta's usage
// headers and throttling answers; private replies keep their own lanes. Once a day (sooner once
// comments turned up without a webhook) the pass checks GET subscribed_apps and subscribes the
// app again when our app's entry (by META_APP_IDS; Meta lists every app on the account) lacks a
// field the account's configuration needs (reply.Account.NeededFields): taps come only on
// messaging_postbacks, so an app subscribed to comments alone is no working subscription.
//
// Backfill reads the same way for the comments made before the account was connected.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/subscription"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// Count names (fields of the sweeper's telemetry lines; telemetry.Alarmed says which are metrics).
const (
	MetricReconciled     = "Reconciled"     // comments found without a webhook, enqueued
	MetricReconcileCalls = "ReconcileCalls" // Graph reads made by reconciliation
	MetricResubscribed   = "Resubscribed"   // accounts whose app subscription Meta had dropped
	// MetricMediaFailed counts looks at one media whose comments could not be read (Meta's 5xx,
	// code 1 or 2, a refusal of that media alone): the pass went on with the account's other media,
	// and the failed one is read again on the next pass. No dimension: the log line names it.
	MetricMediaFailed = "ReconcileMediaFailed"
	// MetricIDRefused counts media, comments and replies of Meta's answers left out because an
	// id they carry (the media's, the comment's, the person's or the parent's) is not digits,
	// the rule the webhook applies (reply.ValidID).
	MetricIDRefused = "ReconcileIDRefused"
)

// Graph is what reconciliation asks of Meta; *graph.Client implements it.
type Graph interface {
	Media(ctx context.Context, a reply.Account, token, after string) (reply.Page[reply.Media], error)
	Comments(ctx context.Context, a reply.Account, token, mediaID, after string, limit int) (reply.Page[reply.Comment], error)
	Replies(ctx context.Context, a reply.Account, token, commentID, after string, limit int) (reply.Page[reply.Comment], error)
	LiveMedia(ctx context.Context, a reply.Account, token string) ([]string, error)
	SubscribedApps(ctx context.Context, a reply.Account, token string) ([]reply.SubscribedApp, error)
	Subscribe(ctx context.Context, a reply.Account, token string, fields []string) error
}

// Store is the part of the table reconciliation uses: accounts, the read budgets, the cursors,
// and whether a comment has a record.
type Store interface {
	reply.Accounts
	reply.Buckets
	reply.Cursors
	ByComment(ctx context.Context, commentID string) (reply.Record, error)
}

// Reconciler runs reconcile passes and backfills. It is safe for concurrent use; two passes over
// one account (overlapping sweeps) waste reads but never answer a comment twice.
type Reconciler struct {
	cfg    Config
	store  Store
	queue  reply.Queue
	graph  Graph
	tokens reply.Tokens
	clock  reply.Clock
	m      *telemetry.Metrics
	log    *slog.Logger
	// sleep waits in real time (backfill waiting for its budget); tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
	// validID says whether an id in Meta's answers is one (reply.ValidID, the webhook's rule).
	// The paging tests, whose fixtures name media and comments in words, widen it to those names.
	validID func(string) bool
}

// New is a Reconciler. Zero fields of cfg take their defaults; m and log may be nil.
func New(cfg Config, store Store, queue reply.Queue, graph Graph, tokens reply.Tokens, clock reply.Clock, m *telemetry.Metrics, log *slog.Logger) *Reconciler {
	if clock == nil {
		clock = reply.SystemClock{}
	}
	if m == nil {
		m = telemetry.NewMetrics("sweeper")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reconciler{cfg: cfg.withDefaults(), store: store, queue: queue, graph: graph, tokens: tokens, clock: clock, m: m, log: log, sleep: sleep, validID: reply.ValidID}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Report counts what a pass (or a backfill) did.
type Report struct {
	Accounts     int `json:"accounts"`      // accounts read
	Calls        int `json:"graph_reads"`   // Graph calls made
	Media        int `json:"media_read"`    // media (and broadcasts) whose comments were read
	Comments     int `json:"comments"`      // comments old enough to check, the account's own left out
	Known        int `json:"known"`         // of Comments: a record existed
	Own          int `json:"own"`           // the account's own comments, dropped
	Young        int `json:"too_young"`     // too young to check: the next pass looks again
	Reconciled   int `json:"reconciled"`    // of Comments: no record; enqueued
	Resubscribed int `json:"resubscribed"`  // accounts subscribed again
	MediaFailed  int `json:"media_failed"`  // looks at a media whose read failed; read again next pass
	IDRefused    int `json:"ids_refused"`   // media and comments of Meta's answers left out: an id not digits
	Stopped      int `json:"budget_stops"`  // accounts whose pass the read budget (or Meta's throttle) stopped
	Unfinished   int `json:"no_time_stops"` // accounts whose pass the invocation's end stopped
}

func (r *Report) add(o Report) {
	r.Accounts += o.Accounts
	r.Calls += o.Calls
	r.Media += o.Media
	r.Comments += o.Comments
	r.Known += o.Known
	r.Own += o.Own
	r.Young += o.Young
	r.Reconciled += o.Reconciled
	r.Resubscribed += o.Resubscribed
	r.MediaFailed += o.MediaFailed
	r.IDRefused += o.IDRefused
	r.Stopped += o.Stopped
	r.Unfinished += o.Unfinished
}

// ReadsPerFound is the Graph reads spent per comment found without a webhook (0 when none).
func (r Report) ReadsPerFound() float64 {
	if r.Reconciled == 0 {
		return 0
	}
	return float64(r.Calls) / float64(r.Reconciled)
}

// Run makes the pass of every account that is due: healthy, with something to subscribe for (an
// account with DM rules alone has no comments to read, but its subscription is checked). A
// spent budget or the invocation's end is no error; the next run goes on where this one stopped.
func (r *Reconciler) Run(ctx context.Context) (Report, error) {
	var rep Report
	accounts, err := r.store.ListAccounts(ctx)
	if err != nil {
		return rep, fmt.Errorf("reconcile: list accounts: %w", err)
	}
	var errs []error
	for _, a := range accounts {
		if !a.Healthy() || len(a.NeededFields()) == 0 {
			continue
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < r.cfg.MinLeft {
			rep.Unfinished++
			break
		}
		ar, err := r.account(ctx, a)
		rep.add(ar)
		if err != nil {
			errs = append(errs, err)
		}
	}
	r.m.Count(MetricReconcileCalls, rep.Calls)
	r.m.Count(MetricResubscribed, rep.Resubscribed)
	r.m.Count(MetricMediaFailed, rep.MediaFailed)
	r.m.Count(MetricIDRefused, rep.IDRefused)
	if rep.Accounts > 0 {
		r.log.Info("reconcile", "accounts", rep.Accounts, "reads", rep.Calls, "media", rep.Media, "comments", rep.Comments,
			"known", rep.Known, "reconciled", rep.Reconciled, "own", rep.Own, "young", rep.Young,
			"resubscribed", rep.Resubscribed, "budget_stops", rep.Stopped, "media_failed", rep.MediaFailed, "ids_refused", rep.IDRefused)
	}
	return rep, errors.Join(errs...)
}

// pass is one account's pass.
type pass struct {
	scan
	cur reply.Cursor
}

// account makes the account's pass when one is due and saves its cursor.
func (r *Reconciler) account(ctx context.Context, a reply.Account) (Report, error) {
	now := r.clock.Now()
	cur, err := r.store.Cursor(ctx, a.ID)
	if err != nil {
		return Report{}, fmt.Errorf("reconcile account %s: %w", a.ID, err)
	}
	full := !now.Before(cur.NextPass)
	live := len(cur.Live) > 0 && !now.Before(cur.NextLive)
	if !full && !live && !r.subscriptionDue(cur, now, false) {
		return Report{}, nil
	}
	rd, err := r.reader(ctx, a)
	if err != nil {
		return Report{}, err
	}
	rep := Report{Accounts: 1}
	p := &pass{scan: scan{r: r, rd: rd, acct: a, now: now, rep: &rep}, cur: cur}
	if p.cur.From.IsZero() {
		// The first pass: comments made before the account was stored predate the watch.
		p.cur.From = now
		if !a.UpdatedAt.IsZero() && a.UpdatedAt.Before(now) {
			p.cur.From = maxTime(a.UpdatedAt, now.Add(-reply.Window))
		}
	}
	if p.cur.Media == nil {
		p.cur.Media = map[string]reply.MediaCursor{}
	}
	err = p.run(ctx, full)
	rep.Calls, rep.IDRefused = rd.calls, rd.refused
	switch {
	case errors.Is(err, errBudget):
		rep.Stopped++
		r.log.Info("reconcile: read budget spent; the next run goes on", "account", a.ID, "err", err)
		err = nil
	case errors.Is(err, errNoTime):
		rep.Unfinished++
		err = nil
	}
	if serr := r.save(ctx, p.cur, now); serr != nil {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return rep, fmt.Errorf("reconcile account %s: %w", a.ID, err)
	}
	return rep, nil
}

// reader is the account's reader: its token and its read budget.
func (r *Reconciler) reader(ctx context.Context, a reply.Account) (*reader, error) {
	tok, err := r.tokens.Token(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("token of account %s: %w", a.ID, err)
	}
	b, err := newBudget(ctx, r.store, a.ID, r.cfg.ReadLimit, r.clock)
	if err != nil {
		return nil, err
	}
	return &reader{r: r, acct: a, token: tok, budget: b}, nil
}

// save writes the cursor. Losing to another pass is no error: the two read the same comments,
// and whichever cursor stands, the next pass goes on from it.
func (r *Reconciler) save(ctx context.Context, c reply.Cursor, now time.Time) error {
	c.Version++
	c.UpdatedAt = now
	_, err := r.store.SaveCursor(ctx, c)
	if errors.Is(err, reply.ErrConflict) {
		r.log.Info("reconcile: another pass saved the cursor first", "account", c.AccountID)
		return nil
	}
	return err
}

// subscriptionDue reports whether the app's subscription must be checked: once a day, or sooner
// (at most hourly) when comments turned up without a webhook.
func (r *Reconciler) subscriptionDue(c reply.Cursor, now time.Time, foundSome bool) bool {
	every := r.cfg.SubscriptionEvery
	if foundSome {
		every = r.cfg.SubscriptionSoon
	}
	return c.SubscriptionCheckedAt.IsZero() || !now.Before(c.SubscriptionCheckedAt.Add(every))
}

// run is the pass: broadcasts, then media (on a full pass), then the subscription. Only what is
// the whole account's stops it (the read budget or Meta's throttle, the invocation's end, the
// token): one media that cannot be read is that media's failure
// (lookAt), and even a listing that failed leaves the subscription to be checked, since an
// unsubscribed app is what leaves the comments to the reconciler in the first place.
func (p *pass) run(ctx context.Context, full bool) error {
	r, now := p.r, p.now
	var errs []error
	if len(p.acct.Rules) == 0 {
		full = false // no comment rule: no comment to find
		p.cur.NextPass = now.Add(r.cfg.Every)
	}
	if full || len(p.cur.Live) > 0 && !now.Before(p.cur.NextLive) {
		if err := p.broadcasts(ctx); err != nil {
			if accountWide(ctx, err) {
				return err
			}
			errs = append(errs, err)
		}
	}
	if full {
		if err := p.media(ctx); err != nil {
			if accountWide(ctx, err) {
				return err
			}
			errs = append(errs, err) // NextPass stays: the next run lists the media again
		} else {
			p.cur.NextPass = now.Add(r.cfg.Every)
		}
	}
	if r.subscriptionDue(p.cur, now, p.rep.Reconciled > 0) {
		if err := p.subscription(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// accountWide reports whether a pass's error is the whole account's, so that reading on is
// pointless: the read budget is spent (Meta's throttles hold it), the invocation is ending, or
// Meta refused the token. A permission refusal may be one media's (Meta does not say), so it is
// left to that media: if it is the account's, every media fails and is counted, at one read each.
func accountWide(ctx context.Context, err error) bool {
	if errors.Is(err, errBudget) || errors.Is(err, errNoTime) || ctx.Err() != nil {
		return true
	}
	var ge *reply.GraphError
	if !errors.As(err, &ge) {
		return false
	}
	switch ge.Verdict() {
	case reply.VerdictAuth, reply.VerdictThrottled:
		return true
	}
	return false
}

// broadcasts reads the comments of every broadcast on air, and again those of a broadcast that
// ended until a read leaves no comment too young to check (the comments made in its last moments;
// the replier expires them).
func (p *pass) broadcasts(ctx context.Context) error {
	ids, err := p.rd.live(ctx)
	if err != nil {
		return fmt.Errorf("live media: %w", err)
	}
	polled := ids
	for _, id := range slices.Concat(ids, p.cur.Live) {
		mc, seen := p.cur.Media[id]
		if seen && mc.LookedAt.Equal(p.now) {
			continue // read in this pass already
		}
		if !seen {
			mc = reply.MediaCursor{CreatedAt: p.now, Live: true}
		}
		if err := p.lookAt(ctx, reply.Media{ID: id, ProductType: "LIVE"}, mc); err != nil {
			return err
		}
		switch {
		case slices.Contains(ids, id):
		case p.cur.Media[id].Again:
			polled = append(polled, id)
		default:
			delete(p.cur.Media, id)
		}
	}
	p.cur.Live = polled
	p.cur.NextLive = p.now.Add(p.r.cfg.LiveEvery)
	return nil
}

// media lists the account's media inside the window and reads those whose comments moved.
func (p *pass) media(ctx context.Context) error {
	listed := map[string]bool{}
	after := ""
	for {
		page, err := p.rd.media(ctx, after)
		if err != nil {
			return fmt.Errorf("media: %w", err)
		}
		past := false
		for _, m := range page.Items {
			if m.CreatedAt.Before(p.window()) {
				past = true // newest first: the rest is older still
				break
			}
			listed[m.ID] = true
			if !readable(m) {
				continue
			}
			mc, ok := p.cur.Media[m.ID]
			if !ok {
				mc = reply.MediaCursor{CreatedAt: m.CreatedAt}
			}
			if !mc.NeedsLook(m.CommentsCount, p.now, p.r.cfg.Revisit) {
				continue
			}
			if err := p.lookAt(ctx, m, mc); err != nil {
				return err
			}
		}
		if past || page.After == "" {
			break
		}
		after = page.After
	}
	// The whole window was listed: what it no longer holds (deleted, or past the window) goes.
	for id, mc := range p.cur.Media {
		if !mc.Live && !listed[id] {
			delete(p.cur.Media, id)
		}
	}
	return nil
}

// readable reports whether comments on m can get a private reply: not a story (story replies are
// messages) and not a broadcast (read through live_media).
func readable(m reply.Media) bool { return m.ProductType != "STORY" && m.ProductType != "LIVE" }

// lookAt reads one media and keeps its cursor. A failure of that media alone (Meta's 5xx or code
// 1 every time, a media Meta no longer serves) is counted and left for the next pass, its cursor
// where the last good look left it: the pass goes on with the account's other media. A resumed
// look whose saved Meta cursor went stale starts the media over at once.
func (p *pass) lookAt(ctx context.Context, m reply.Media, mc reply.MediaCursor) error {
	p.rep.Media++
	n, err := p.look(ctx, m, mc, p.cur.From)
	if errors.Is(err, errStaleCursor) {
		p.r.log.Info("reconcile: Meta's cursor went stale; the media is read from the top", "account", p.acct.ID, "media", m.ID, "err", err)
		n, err = p.look(ctx, m, n, p.cur.From)
	}
	p.cur.Media[m.ID] = n
	if err == nil || accountWide(ctx, err) || !errors.As(err, new(*mediaError)) {
		return err
	}
	p.rep.MediaFailed++
	// Read again on the next pass whatever its count says: a broadcast that ended is otherwise
	// dropped after this, its one read since the end, and its unfound comments with it.
	n.Again = true
	p.cur.Media[m.ID] = n
	p.r.log.Warn("reconcile: media unreadable in this pass; the next pass reads it again", "account", p.acct.ID, "media", m.ID, "err", err)
	return nil
}

// subscription checks that our app's subscription of the account holds every field the
// account's configuration needs, and subscribes it again when Meta dropped it or it lacks one:
// webhooks come back, and the alarm tells the operator why they stopped. Only our app's entry
// counts: another tool subscribed to the account delivers nothing to us.
func (p *pass) subscription(ctx context.Context) error {
	apps, err := p.rd.subscribed(ctx)
	if err != nil {
		return fmt.Errorf("subscribed apps: %w", err)
	}
	needed := p.acct.NeededFields()
	missing, had := reply.SubscriptionGap(apps, p.r.cfg.AppIDs, needed)
	if len(p.r.cfg.AppIDs) == 0 && len(apps) > 1 {
		p.r.log.Info("reconcile: several apps subscribed to the account and no META_APP_IDS to tell ours; each judged alone",
			"account", p.acct.ID, "apps", len(apps))
	}
	if len(missing) > 0 {
		// Through subscription.Subscribe: a field Meta refuses by name is left out, so one name
		// Meta does not take never keeps the needed fields from being renewed.
		res, err := subscription.Subscribe(ctx, budgeted{p.rd}, p.acct, p.rd.token, reply.SubscribeFields(had))
		if len(res.Refused) > 0 {
			p.r.log.Warn("Meta refused webhook fields; subscribed without them", "account", p.acct.ID, "refused", res.Refused)
		}
		if err != nil {
			return fmt.Errorf("subscribe again: %w", err)
		}
		p.rep.Resubscribed++
		p.r.log.Warn("app's subscription lacked fields the account needs; subscribed again", "account", p.acct.ID,
			"missing", missing, "had", had, "now", res.Fields)
	}
	p.cur.SubscriptionCheckedAt = p.now
	return nil
}
