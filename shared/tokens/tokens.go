// Package tokens keeps long-lived Instagram Login tokens alive: Meta issues them for 60 days and
// refreshes one (GET /refresh_access_token?grant_type=ig_refresh_token) once it is a day old, so
// a scheduled run refreshes each token well before it expires, stores the new one in SSM and
// marks the account unhealthy when Meta will not refresh it.
package tokens

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

const (
	// LongLived is how long Meta's long-lived Instagram Login tokens last.
	LongLived = 60 * 24 * time.Hour
	// DefaultWithin is how close to its expiry a token is refreshed: early enough that several
	// days of failed refreshes (and their alarm) still leave the operator time to act.
	DefaultWithin = 10 * 24 * time.Hour
	// urgent is how close to expiry a transient failure (Meta or the network down) is no longer
	// waited out: the account is marked unhealthy so the alarm fires while the token still works.
	urgent = 2 * 24 * time.Hour
)

// UnhealthyPrefix starts the unhealthy reason a failed refresh leaves on the account; a later
// successful refresh clears only reasons with this prefix.
const UnhealthyPrefix = "token_refresh_failed: "

// Graph refreshes a token at Meta; *graph.Client implements it.
type Graph interface {
	RefreshToken(ctx context.Context, token string) (string, time.Duration, error)
}

// Params stores a secret under a name (the account's token parameter, an SSM SecureString).
type Params interface {
	Put(ctx context.Context, name, value string) error
}

// Refresher refreshes the tokens of Instagram Login accounts that expire within Within. Facebook
// Login accounts use Page tokens, which do not expire this way, and are left alone.
type Refresher struct {
	Accounts reply.Accounts
	Tokens   reply.Tokens // reads the current token
	Params   Params       // stores the new one
	Graph    Graph
	Within   time.Duration // 0 means DefaultWithin
	Clock    reply.Clock   // nil means the system clock
	Log      *slog.Logger  // nil means no logs
	Metrics  *telemetry.Metrics

	// AlarmWithin is how close to its expiry a token that cannot be refreshed is counted as
	// TokenExpiring (0 means DefaultAlarmWithin).
	AlarmWithin time.Duration
}

// Action is what a run did with one account.
type Action string

const (
	ActionRefreshed Action = "refreshed" // a new token is stored
	ActionFailed    Action = "failed"    // refresh failed; the account is marked unhealthy
	ActionDeferred  Action = "deferred"  // refresh failed for a passing reason; the next run retries
	ActionNotDue    Action = "not_due"   // the token is far from its expiry
	ActionSkipped   Action = "skipped"   // not an Instagram Login account
)

// Outcome is one account's part of a run. Error never holds a token.
type Outcome struct {
	AccountID string    `json:"account"`
	Action    Action    `json:"action"`
	ExpiresAt time.Time `json:"token_expires_at,omitzero"`
	Error     string    `json:"error,omitempty"`
}

// Result is what a run did, account by account in id order.
type Result struct {
	Accounts  []Outcome `json:"accounts"`
	Refreshed int       `json:"refreshed"`
	Failed    int       `json:"failed"`
	Deferred  int       `json:"deferred"`
}

// Due reports whether a's token should be refreshed at now.
func (r *Refresher) Due(a reply.Account, now time.Time) bool {
	if a.Login != reply.LoginInstagram {
		return false
	}
	// An unknown expiry is treated as due: refreshing early costs one call, expiring costs the
	// account.
	return a.TokenExpiresAt.IsZero() || !a.TokenExpiresAt.After(now.Add(r.within()))
}

// Run refreshes every due token. An error is returned only when the accounts cannot be listed
// or an account's new state cannot be stored; Meta refusing is an Outcome, not an error.
func (r *Refresher) Run(ctx context.Context) (Result, error) {
	accounts, err := r.Accounts.ListAccounts(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("refresh tokens: list accounts: %w", err)
	}
	var res Result
	var errs []error
	for _, a := range accounts {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		o, err := r.refresh(ctx, a)
		if err != nil {
			errs = append(errs, err)
		}
		res.Accounts = append(res.Accounts, o)
		switch o.Action {
		case ActionRefreshed:
			res.Refreshed++
		case ActionFailed:
			res.Failed++
		case ActionDeferred:
			res.Deferred++
		}
	}
	if r.Metrics != nil {
		r.Metrics.Count("TokenRefreshed", res.Refreshed)
		r.Metrics.Count("TokenRefreshFailed", res.Failed+res.Deferred)
		r.Metrics.Count(MetricExpiring, r.Expiring(res.Accounts, r.now()))
	}
	return res, errors.Join(errs...)
}

// MetricExpiring counts, each run, the accounts whose token expires within AlarmWithin and was
// not refreshed: a refresh Meta refused or that failed, or a token no refresh renews (a Page
// token with an expiry). The stack's AttentionAlarm fires on it days before the account
// stops answering, not after.
const MetricExpiring = "TokenExpiring"

// Expiring is how many of a run's outcomes count as MetricExpiring at now.
func (r *Refresher) Expiring(outcomes []Outcome, now time.Time) int {
	within := r.AlarmWithin
	if within <= 0 {
		within = DefaultAlarmWithin
	}
	n := 0
	for _, o := range outcomes {
		stuck := o.Action == ActionFailed || o.Action == ActionDeferred || o.Action == ActionSkipped
		if stuck && !o.ExpiresAt.IsZero() && o.ExpiresAt.Before(now.Add(within)) {
			n++
		}
	}
	return n
}

// Refresh refreshes one account's token whether or not it is due (the operator asked for it).
func (r *Refresher) Refresh(ctx context.Context, a reply.Account) (Outcome, error) {
	if a.Login != reply.LoginInstagram {
		return Outcome{AccountID: a.ID, Action: ActionSkipped, ExpiresAt: a.TokenExpiresAt}, nil
	}
	return r.do(ctx, a)
}

func (r *Refresher) refresh(ctx context.Context, a reply.Account) (Outcome, error) {
	switch {
	case a.Login != reply.LoginInstagram:
		return Outcome{AccountID: a.ID, Action: ActionSkipped, ExpiresAt: a.TokenExpiresAt}, nil
	case !r.Due(a, r.now()):
		return Outcome{AccountID: a.ID, Action: ActionNotDue, ExpiresAt: a.TokenExpiresAt}, nil
	}
	return r.do(ctx, a)
}

func (r *Refresher) do(ctx context.Context, a reply.Account) (Outcome, error) {
	log := r.logger().With("account", a.ID)
	now := r.now()
	token, err := r.Tokens.Token(ctx, a)
	if err != nil {
		if errors.Is(err, reply.ErrNotFound) {
			return r.fail(ctx, a, "token parameter "+a.TokenParam+" not found", err)
		}
		return r.postpone(ctx, a, fmt.Errorf("read token: %w", err))
	}
	fresh, expiresIn, err := r.Graph.RefreshToken(ctx, token)
	if err != nil {
		var ge *reply.GraphError
		switch v := reply.Classify(err); {
		case (v == reply.VerdictUncertain || v == reply.VerdictThrottled) && !r.urgent(a, now):
			return r.postpone(ctx, a, err)
		case errors.As(err, &ge):
			return r.fail(ctx, a, ge.CodeString(), err)
		default:
			return r.fail(ctx, a, "no_answer", err)
		}
	}
	if expiresIn <= 0 {
		expiresIn = LongLived
	}
	if err := r.Params.Put(ctx, a.TokenParam, fresh); err != nil {
		// Meta's new token is lost, but the old one still works until its own expiry: retry.
		return r.postpone(ctx, a, fmt.Errorf("store token in %s: %w", a.TokenParam, err))
	}
	expires := now.Add(expiresIn).UTC().Truncate(time.Second)
	stored, err := r.update(ctx, a, func(a *reply.Account) bool {
		a.TokenExpiresAt = expires
		if strings.HasPrefix(a.Unhealthy, UnhealthyPrefix) {
			a.Unhealthy, a.UnhealthySince = "", time.Time{}
		}
		return true
	})
	if err != nil {
		return Outcome{AccountID: a.ID, Action: ActionFailed, Error: err.Error()}, err
	}
	log.InfoContext(ctx, "token refreshed", "token_expires_at", stored.TokenExpiresAt)
	return Outcome{AccountID: a.ID, Action: ActionRefreshed, ExpiresAt: stored.TokenExpiresAt}, nil
}

// urgent reports whether a's token expires too soon to wait out a passing failure.
func (r *Refresher) urgent(a reply.Account, now time.Time) bool {
	return a.TokenExpiresAt.IsZero() || !a.TokenExpiresAt.After(now.Add(urgent))
}

// postpone records a passing failure: counted and logged, retried by the next run.
func (r *Refresher) postpone(ctx context.Context, a reply.Account, cause error) (Outcome, error) {
	r.logger().WarnContext(ctx, "token refresh deferred", "account", a.ID, "err", cause)
	return Outcome{AccountID: a.ID, Action: ActionDeferred, ExpiresAt: a.TokenExpiresAt, Error: cause.Error()}, nil
}

// fail marks the account unhealthy, unless it already is for another reason (which stays: it is
// the older and likely the root cause), and counts AccountUnhealthy on every failed run so that
// the alarm stays on while the token cannot be refreshed.
func (r *Refresher) fail(ctx context.Context, a reply.Account, why string, cause error) (Outcome, error) {
	reason := UnhealthyPrefix + why
	now := r.now()
	_, err := r.update(ctx, a, func(a *reply.Account) bool {
		if a.Unhealthy != "" && !strings.HasPrefix(a.Unhealthy, UnhealthyPrefix) || a.Unhealthy == reason {
			return false
		}
		if a.Unhealthy == "" {
			a.UnhealthySince = now
		}
		a.Unhealthy = reason
		return true
	})
	if r.Metrics != nil {
		r.Metrics.Count("AccountUnhealthy", 1)
	}
	r.logger().ErrorContext(ctx, "token refresh failed: account unhealthy", "account", a.ID, "reason", reason, "err", cause)
	o := Outcome{AccountID: a.ID, Action: ActionFailed, ExpiresAt: a.TokenExpiresAt, Error: cause.Error()}
	return o, err
}

// update applies change to the account and stores it with a conditional write, re-reading and
// re-applying when someone else wrote it first. change reports whether anything is to be stored.
func (r *Refresher) update(ctx context.Context, a reply.Account, change func(*reply.Account) bool) (reply.Account, error) {
	for range 3 {
		next := a
		if !change(&next) {
			return a, nil
		}
		next.Version++
		next.UpdatedAt = r.now()
		stored, err := r.Accounts.PutAccount(ctx, next)
		if err == nil {
			return stored, nil
		}
		if !errors.Is(err, reply.ErrConflict) {
			return a, fmt.Errorf("store account %s: %w", a.ID, err)
		}
		if a, err = r.Accounts.Account(ctx, a.ID); err != nil {
			return a, fmt.Errorf("re-read account %s: %w", a.ID, err)
		}
	}
	return a, fmt.Errorf("store account %s: %w three times in a row", a.ID, reply.ErrConflict)
}

func (r *Refresher) within() time.Duration {
	if r.Within <= 0 {
		return DefaultWithin
	}
	return r.Within
}

func (r *Refresher) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

func (r *Refresher) logger() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}
