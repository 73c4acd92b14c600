// Package doctor tells an operator what is wrong with the setup before a commenter notices: per
// account, whether its token works and what Meta says of its expiry and permissions, whether our
// app's webhook subscription holds every field the account's configuration needs, whether Meta's
// ice breakers and persistent menu are the file's, when its webhooks last arrived, and what waits
// parked; for the stack, the Graph API version against
// Meta's end of availability and whether the table, queues and SSM names are reachable.
//
// Each check is a line with a status (ok, warn, fail), what was found and what to do. The checks
// reach the world through the small interfaces below, so the sandbox and moto stand for Meta and
// AWS in the tests.
package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
)

// Status is a check's outcome; the worse the higher.
type Status int

const (
	OK Status = iota
	Warn
	Fail
)

func (s Status) String() string {
	switch s {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	}
	return "fail"
}

// MarshalJSON writes the status as its name.
func (s Status) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// ExitCode is the process exit code of a run whose worst check is s: 0 ok, 1 warn, 2 fail, so a
// cron job can tell them apart.
func (s Status) ExitCode() int { return int(s) }

// Check is one line of the report.
type Check struct {
	Account string `json:"account,omitempty"` // empty for the stack's own checks
	Name    string `json:"check"`
	Status  Status `json:"status"`
	Detail  string `json:"detail"`
	Fix     string `json:"fix,omitempty"` // what to do; empty when ok
}

// Report is every check of a run, stack first, then account by account.
type Report struct {
	Checks []Check `json:"checks"`
	Worst  Status  `json:"worst"`
}

func (r *Report) add(c Check) {
	r.Checks = append(r.Checks, c)
	if c.Status > r.Worst {
		r.Worst = c.Status
	}
}

// Meta is what the checks ask Meta; *graph.Client implements it.
type Meta interface {
	InspectToken(ctx context.Context, a reply.Account, token string) (graph.TokenInfo, error)
	SubscribedApps(ctx context.Context, a reply.Account, token string) ([]reply.SubscribedApp, error)
	MessengerProfile(ctx context.Context, a reply.Account, token string) (reply.MessengerProfile, error)
}

// Webhooks says when the account's webhooks last arrived, by field (the webhook function
// records them at most once a minute per account). A field never seen is absent.
type Webhooks interface {
	LastWebhooks(ctx context.Context, account string) (map[string]time.Time, error)
}

// Parked is what waits parked for an account: how many records and the oldest one's park time.
type Parked interface {
	Parked(ctx context.Context, account string, now time.Time) (n int, oldest time.Time, err error)
}

// Piece is a part of the stack the caller's credentials must reach ("table replywindow-prod").
type Piece struct {
	Name  string
	Probe func(ctx context.Context) error
	Fix   string // what to check when the probe fails
}

// Doctor runs the checks. Accounts, Tokens and Meta are required; a nil Webhooks or Parked
// leaves its check out (said in the report).
type Doctor struct {
	Accounts reply.Accounts
	Tokens   reply.Tokens
	Meta     Meta
	Webhooks Webhooks
	Parked   Parked
	Pieces   []Piece
	// AppIDs are our app's ids (META_APP_IDS): which of Meta's subscribed apps is ours.
	AppIDs []string
	// Version is the Graph API version the functions call (GRAPH_API_VERSION or the default).
	Version string
	Clock   reply.Clock // nil: the system clock
	// TokenWarn is how close to its expiry a token is a warning (0: DefaultTokenWarn).
	TokenWarn time.Duration
	// Quiet is how long without any webhook an account with rules is a warning (0: DefaultQuiet).
	Quiet time.Duration
	// ParkedWarn is how long the oldest parked record may wait before it is a warning (0:
	// DefaultParkedWarn).
	ParkedWarn time.Duration
}

const (
	// DefaultTokenWarn matches the token alarm's default (TokenExpiryAlarmDays).
	DefaultTokenWarn = 7 * 24 * time.Hour
	// DefaultQuiet: a week without a webhook is unusual for an account with rules.
	DefaultQuiet = 7 * 24 * time.Hour
	// DefaultParkedWarn: a rate-limit backlog drains within hours; a day means something holds it.
	DefaultParkedWarn = 24 * time.Hour
	// VersionWarn is how far ahead of a Graph API version's end the check warns.
	VersionWarn = 90 * 24 * time.Hour
)

func (d *Doctor) now() time.Time {
	if d.Clock != nil {
		return d.Clock.Now()
	}
	return time.Now()
}

func orDefault(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// Run checks the stack and every account, or only the account named by only. A failure to list
// the accounts (or to find only) is an error: nothing can be said of them.
func (d *Doctor) Run(ctx context.Context, only string) (Report, error) {
	var r Report
	now := d.now()
	for _, p := range d.Pieces {
		r.add(d.piece(ctx, p))
	}
	r.add(d.version(now))
	var accounts []reply.Account
	if only != "" {
		a, err := d.Accounts.Account(ctx, only)
		if errors.Is(err, reply.ErrNotFound) {
			return r, fmt.Errorf("no account %s (see: replywindow accounts list)", only)
		}
		if err != nil {
			return r, fmt.Errorf("read account %s: %w", only, err)
		}
		accounts = []reply.Account{a}
	} else {
		var err error
		if accounts, err = d.Accounts.ListAccounts(ctx); err != nil {
			return r, fmt.Errorf("list accounts: %w", err)
		}
		if len(accounts) == 0 {
			r.add(Check{Name: "accounts", Status: Warn, Detail: "no accounts stored", Fix: "replywindow accounts put --file account.yaml --token-stdin"})
		}
	}
	for _, a := range accounts {
		for _, c := range d.account(ctx, a, now) {
			c.Account = a.ID
			r.add(c)
		}
	}
	return r, nil
}

func (d *Doctor) piece(ctx context.Context, p Piece) Check {
	c := Check{Name: "stack", Detail: p.Name + " reachable"}
	if err := p.Probe(ctx); err != nil {
		c.Status, c.Detail, c.Fix = Fail, fmt.Sprintf("%s: %v", p.Name, err), p.Fix
	}
	return c
}

// version judges the Graph API version against Meta's published end of availability.
func (d *Doctor) version(now time.Time) Check {
	c := Check{Name: "graph api version"}
	v, ok := graph.VersionInfo(d.Version)
	switch {
	case !ok:
		c.Status, c.Detail = Warn, fmt.Sprintf("%s is not in replywindow's table of Meta's versions", d.Version)
		c.Fix = "set GRAPH_API_VERSION to a version Meta serves (https://developers.facebook.com/docs/graph-api/changelog/versions)"
	case v.AvailableUntil.IsZero():
		c.Detail = fmt.Sprintf("%s: Meta has not announced its end yet", v.Name)
	case !now.Before(v.AvailableUntil):
		c.Status, c.Detail = Fail, fmt.Sprintf("%s: Meta stopped serving it on %s", v.Name, v.AvailableUntil.Format(time.DateOnly))
		c.Fix = "set GRAPH_API_VERSION (the stack's GraphApiVersion) to a newer version and deploy"
	case v.AvailableUntil.Sub(now) <= VersionWarn:
		c.Status, c.Detail = Warn, fmt.Sprintf("%s: Meta serves it until %s (in %s)", v.Name, v.AvailableUntil.Format(time.DateOnly), days(v.AvailableUntil.Sub(now)))
		c.Fix = "move GRAPH_API_VERSION (the stack's GraphApiVersion) to a newer version before then"
	default:
		c.Detail = fmt.Sprintf("%s: served until %s", v.Name, v.AvailableUntil.Format(time.DateOnly))
	}
	return c
}

// days is d in whole days ("3d"), or hours under a day.
func days(d time.Duration) string {
	if d < 24*time.Hour {
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
