package tokens

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/ssm"
	"github.com/replywindow/replywindow/shared/telemetry"
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

type env struct {
	ctx     context.Context
	store   *dynamo.Store
	params  *ssm.Params
	sb      *sandbox.Sandbox
	r       *Refresher
	logs    *bytes.Buffer
	metrics *telemetry.Metrics
	prefix  string
}

var now = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func setup(t *testing.T) *env {
	t.Helper()
	cfg := awstest.Config(t)
	ctx := awstest.Context(t)
	ddb := awsdynamodb.NewFromConfig(cfg)
	table := awstest.Name(t, "tok")
	if err := dynamo.CreateTable(ctx, ddb, table); err != nil {
		t.Fatal(err)
	}
	e := &env{ctx: ctx, store: dynamo.New(ddb, table), params: ssm.NewParams(ssm.NewClient(cfg), time.Minute),
		sb: sandbox.New(), logs: &bytes.Buffer{}, metrics: telemetry.NewMetrics("sweeper"), prefix: "/" + table + "/"}
	srv := httptest.NewServer(e.sb)
	t.Cleanup(func() { e.sb.Close(); srv.Close() })
	e.r = &Refresher{
		Accounts: e.store, Tokens: ssm.Tokens{Params: e.params}, Params: e.params,
		Graph: graph.New(graph.WithBaseURL(srv.URL)), Clock: fixedClock{now},
		Log: telemetry.NewLogger(e.logs, "debug"), Metrics: e.metrics,
	}
	return e
}

// account stores an account whose token (when not "") is in SSM and known to the sandbox.
func (e *env) account(t *testing.T, id string, login reply.Login, expiresIn time.Duration, token, unhealthy string) reply.Account {
	t.Helper()
	a := reply.Account{ID: id, Login: login, TokenParam: e.prefix + id, Version: 1, Unhealthy: unhealthy}
	if login == reply.LoginFacebook {
		a.PageID = "page-" + id
	}
	if expiresIn != 0 {
		a.TokenExpiresAt = now.Add(expiresIn)
	}
	if unhealthy != "" {
		a.UnhealthySince = now.Add(-time.Hour)
	}
	if token != "" {
		if err := e.params.Put(e.ctx, a.TokenParam, token); err != nil {
			t.Fatal(err)
		}
		e.sb.AddAccount(id, token, login, a.PageID)
	}
	if _, err := e.store.PutAccount(e.ctx, a); err != nil {
		t.Fatal(err)
	}
	return a
}

func TestRefresher(t *testing.T) {
	e := setup(t)
	day := 24 * time.Hour
	type want struct {
		action    Action
		refreshed bool   // SSM holds a new token and the expiry moved to now+60d
		unhealthy string // the account's reason afterwards (prefix match)
	}
	cases := []struct {
		id        string
		login     reply.Login
		expiresIn time.Duration
		token     string
		unhealthy string
		fault     sandbox.Fault // for this account's refresh call
		want      want
	}{
		{"due", reply.LoginInstagram, 3 * day, "IGTOKEN-due", "", sandbox.Fault{}, want{ActionRefreshed, true, ""}},
		{"expired-unknown", reply.LoginInstagram, 0, "IGTOKEN-unknown", "", sandbox.Fault{}, want{ActionRefreshed, true, ""}},
		{"on-the-edge", reply.LoginInstagram, 10 * day, "IGTOKEN-edge", "", sandbox.Fault{}, want{ActionRefreshed, true, ""}},
		{"not-due", reply.LoginInstagram, 11 * day, "IGTOKEN-later", "", sandbox.Fault{}, want{ActionNotDue, false, ""}},
		{"facebook", reply.LoginFacebook, 1 * day, "IGTOKEN-page", "", sandbox.Fault{}, want{ActionSkipped, false, ""}},
		{"healed", reply.LoginInstagram, 5 * day, "IGTOKEN-healed", UnhealthyPrefix + "190/460", sandbox.Fault{}, want{ActionRefreshed, true, ""}},
		{"other-reason-kept", reply.LoginInstagram, 5 * day, "IGTOKEN-other", "permission: 200/2534041", sandbox.Fault{}, want{ActionRefreshed, true, "permission: 200/2534041"}},
		{"revoked", reply.LoginInstagram, 5 * day, "IGTOKEN-revoked", "", sandbox.TokenRevoked(), want{ActionFailed, false, UnhealthyPrefix + "190/460"}},
		{"meta-down-early", reply.LoginInstagram, 5 * day, "IGTOKEN-5xx", "", sandbox.ServerError(503), want{ActionDeferred, false, ""}},
		{"meta-down-late", reply.LoginInstagram, day, "IGTOKEN-5xx-late", "", sandbox.ServerError(503), want{ActionFailed, false, UnhealthyPrefix + "2"}},
		{"no-parameter", reply.LoginInstagram, 2 * day, "", "", sandbox.Fault{}, want{ActionFailed, false, UnhealthyPrefix + "token parameter"}},
	}
	faults := map[string]sandbox.Fault{}
	before := map[string]reply.Account{}
	for _, c := range cases {
		before[c.id] = e.account(t, c.id, c.login, c.expiresIn, c.token, c.unhealthy)
		faults[c.id] = c.fault
	}
	e.sb.SetFault(func(c sandbox.Call) sandbox.Fault {
		if c.Op == sandbox.OpRefresh {
			return faults[c.AccountID]
		}
		return sandbox.Fault{}
	})

	res, err := e.r.Run(e.ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := map[string]Outcome{}
	for _, o := range res.Accounts {
		got[o.AccountID] = o
	}
	counts := map[Action]int{}
	for _, c := range cases {
		t.Run(c.id, func(t *testing.T) {
			o := got[c.id]
			counts[c.want.action]++
			if o.Action != c.want.action {
				t.Errorf("action %s (%s), want %s", o.Action, o.Error, c.want.action)
			}
			a, err := e.store.Account(e.ctx, c.id)
			if err != nil {
				t.Fatal(err)
			}
			tok, _ := e.params.Get(e.ctx, a.TokenParam)
			if c.want.refreshed {
				if tok == c.token || !strings.HasPrefix(tok, "sbx-refreshed-"+c.id) {
					t.Errorf("SSM token %q, want the sandbox's new one", tok)
				}
				if !a.TokenExpiresAt.Equal(now.Add(sandbox.TokenLifetime)) || a.Version != 2 {
					t.Errorf("expires %s version %d, want %s version 2", a.TokenExpiresAt, a.Version, now.Add(sandbox.TokenLifetime))
				}
			} else {
				if tok != c.token {
					t.Errorf("SSM token changed to %q", tok)
				}
				if !a.TokenExpiresAt.Equal(before[c.id].TokenExpiresAt) {
					t.Errorf("expiry moved to %s", a.TokenExpiresAt)
				}
			}
			if !strings.HasPrefix(a.Unhealthy, c.want.unhealthy) || (c.want.unhealthy == "") != (a.Unhealthy == "") {
				t.Errorf("unhealthy %q, want %q…", a.Unhealthy, c.want.unhealthy)
			}
			if a.Unhealthy != "" && a.UnhealthySince.IsZero() {
				t.Error("unhealthy without a since")
			}
			if c.unhealthy != "" && a.Unhealthy == c.unhealthy && !a.UnhealthySince.Equal(before[c.id].UnhealthySince) {
				t.Errorf("unhealthy since moved from %s to %s", before[c.id].UnhealthySince, a.UnhealthySince)
			}
		})
	}
	if res.Refreshed != counts[ActionRefreshed] || res.Failed != counts[ActionFailed] || res.Deferred != counts[ActionDeferred] {
		t.Errorf("result %d/%d/%d, want %v", res.Refreshed, res.Failed, res.Deferred, counts)
	}
	// One AccountUnhealthy per failed account: the alarm's metric.
	if m := e.metrics.Get("AccountUnhealthy"); int(m) != counts[ActionFailed] {
		t.Errorf("AccountUnhealthy %v, want %d", m, counts[ActionFailed])
	}
	if m := e.metrics.Get("TokenRefreshed"); int(m) != counts[ActionRefreshed] {
		t.Errorf("TokenRefreshed %v", m)
	}
	// No token, old or new, in any log line, even at debug.
	for _, c := range cases {
		if c.token != "" && strings.Contains(e.logs.String(), c.token) {
			t.Errorf("log holds token %q", c.token)
		}
	}
	if strings.Contains(e.logs.String(), "sbx-refreshed") {
		t.Error("log holds a refreshed token")
	}
	for _, o := range res.Accounts {
		if strings.Contains(o.Error, "IGTOKEN-") || strings.Contains(o.Error, "sbx-refreshed") {
			t.Errorf("outcome error holds a token: %q", o.Error)
		}
	}

	// A second run finds nothing due except what failed, and a failed account stays failed
	// without rewriting it (its version holds).
	v := map[string]int64{}
	for _, c := range cases {
		a, _ := e.store.Account(e.ctx, c.id)
		v[c.id] = a.Version
	}
	res, err = e.r.Run(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Accounts {
		a, _ := e.store.Account(e.ctx, o.AccountID)
		if o.Action == ActionRefreshed {
			t.Errorf("%s refreshed again", o.AccountID)
		}
		if a.Version != v[o.AccountID] {
			t.Errorf("%s rewritten on the second run (version %d → %d)", o.AccountID, v[o.AccountID], a.Version)
		}
	}
}

// A concurrent write to the account between read and update is re-read and re-applied.
func TestRefresherConflict(t *testing.T) {
	e := setup(t)
	e.account(t, "busy", reply.LoginInstagram, 2*24*time.Hour, "IGTOKEN-busy", "")
	stale, _ := e.store.Account(e.ctx, "busy")
	fresh := stale
	fresh.Version++
	fresh.Username = "renamed"
	if _, err := e.store.PutAccount(e.ctx, fresh); err != nil {
		t.Fatal(err)
	}
	o, err := e.r.Refresh(e.ctx, stale)
	if err != nil || o.Action != ActionRefreshed {
		t.Fatalf("Refresh: %+v, %v", o, err)
	}
	a, _ := e.store.Account(e.ctx, "busy")
	if a.Username != "renamed" || a.Version != 3 || !a.TokenExpiresAt.Equal(now.Add(sandbox.TokenLifetime)) {
		t.Errorf("account %+v", a)
	}
}

// Listing accounts failing is the run's error.
func TestRefresherListError(t *testing.T) {
	e := setup(t)
	e.r.Accounts = dynamo.New(awsdynamodb.NewFromConfig(awstest.Config(t)), "no-such-table")
	if _, err := e.r.Run(e.ctx); err == nil || !strings.Contains(err.Error(), "list accounts") {
		t.Errorf("err %v", err)
	}
}

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"10d", 240 * time.Hour, false},
		{"240h", 240 * time.Hour, false},
		{" 1d ", 24 * time.Hour, false},
		{"90m", 90 * time.Minute, false},
		{"0d", 0, true},
		{"-1h", 0, true},
		{"ten days", 0, true},
		{"1.5d", 0, true},
		{"", 0, true},
	}
	for _, c := range cases {
		got, err := ParseDuration(c.in)
		if (err != nil) != c.err || got != c.want {
			t.Errorf("ParseDuration(%q) = %s, %v", c.in, got, err)
		}
	}
	cfg, err := LoadConfig(func(string) string { return "" })
	if err != nil || cfg.Within != DefaultWithin {
		t.Errorf("default config %+v %v", cfg, err)
	}
	cfg, err = LoadConfig(func(k string) string { return map[string]string{EnvWithin: "14d"}[k] })
	if err != nil || cfg.Within != 14*24*time.Hour {
		t.Errorf("14d config %+v %v", cfg, err)
	}
	if _, err := LoadConfig(func(string) string { return "soon" }); err == nil || !strings.Contains(err.Error(), EnvWithin) {
		t.Errorf("bad config error %v", err)
	}
}

// TestRefreshPrintsNoEchoedTokenFinding4 is issue 24's finding 4 as `tokens refresh` sees it: an
// answer that echoes the token (escaped in JSON, in a Location net/http cannot parse, ...) must
// not bring it into the outcome the CLI prints, the account's stored reason, or the logs.
func TestRefreshPrintsNoEchoedTokenFinding4(t *testing.T) {
	e := setup(t)
	for i, shape := range sandbox.EchoShapes {
		token := fmt.Sprintf("IGQV/echo+token=%02d~AbC123", i)
		a := e.account(t, fmt.Sprintf("echo-%d", i), reply.LoginInstagram, 24*time.Hour, token, "")
		e.sb.SetFault(func(sandbox.Call) sandbox.Fault { return sandbox.EchoingToken(shape) })
		out, err := e.r.Refresh(e.ctx, a)
		printed, _ := json.Marshal(out)
		stored, _ := e.store.Account(e.ctx, a.ID)
		for where, s := range map[string]string{"outcome": string(printed), "error": fmt.Sprint(err),
			"reason": stored.Unhealthy, "logs": e.logs.String()} {
			for _, form := range []string{token, url.QueryEscape(token), url.PathEscape(token)} {
				if strings.Contains(s, form) {
					t.Errorf("%s: the token is in the %s: %s", shape, where, s)
				}
			}
		}
		if out.Action == ActionRefreshed {
			t.Errorf("%s: refreshed on an echo", shape)
		}
	}
}
