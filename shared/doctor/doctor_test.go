package doctor

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/subscription"
)

var t0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

const acct, token = "17841400000000001", "tok-1"

// account has a rule whose private reply carries a postback button: it needs comments,
// live_comments and messaging_postbacks.
func account() reply.Account {
	return reply.Account{ID: acct, Login: reply.LoginInstagram, TokenParam: "/replywindow/tokens/" + acct, Version: 1,
		Rules: []reply.Rule{{Name: "recipe", Match: reply.MatchAny, Message: "hi",
			Buttons: []reply.Button{{Type: reply.ButtonPostback, Title: "Send it", Payload: "SEND"}}}}}
}

type fakeWebhooks map[string]time.Time

func (f fakeWebhooks) LastWebhooks(context.Context, string) (map[string]time.Time, error) {
	return f, nil
}

type fixture struct {
	sb     *sandbox.Sandbox
	store  *memory.Store
	tokens memory.Tokens
	doc    *Doctor
}

func newFixture(t *testing.T, opts ...sandbox.Option) *fixture {
	t.Helper()
	clock := memory.NewClock(t0)
	sb := sandbox.New(append([]sandbox.Option{sandbox.WithClock(clock.Now)}, opts...)...)
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	sb.AddAccount(acct, token, reply.LoginInstagram, "")
	sb.SetTokenExpiry(token, t0.Add(50*24*time.Hour))
	store := memory.NewStore()
	if _, err := store.PutAccount(context.Background(), account()); err != nil {
		t.Fatal(err)
	}
	f := &fixture{sb: sb, store: store, tokens: memory.Tokens{acct: token}}
	f.doc = &Doctor{
		Accounts: store, Tokens: f.tokens, Meta: graph.New(graph.WithBaseURL(srv.URL)),
		Webhooks: fakeWebhooks{reply.FieldComments: t0.Add(-3 * time.Minute)}, Parked: DueScan{Records: store},
		AppIDs: []string{sandbox.DefaultAppID}, Version: "v24.0", Clock: clock,
	}
	return f
}

func find(t *testing.T, r Report, name string) Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == name && c.Account == acct {
			return c
		}
	}
	t.Fatalf("no %s check in %+v", name, r.Checks)
	return Check{}
}

func TestAccountChecks(t *testing.T) {
	tests := []struct {
		name   string
		opts   []sandbox.Option
		setup  func(f *fixture)
		check  string
		want   Status
		detail string // a part of the detail
		absent string // what the detail must not say; "" for nothing
		fix    string // a part of the fix
	}{
		{name: "token ok", check: "token", want: OK, detail: "expires in 50d (Meta's inspection)"},
		{name: "token expires soon", check: "token", want: Warn, detail: "expires in 3d",
			setup: func(f *fixture) { f.sb.SetTokenExpiry(token, t0.Add(3*24*time.Hour+time.Hour)) }, fix: "tokens refresh --account " + acct},
		{name: "token expired", check: "token", want: Fail, detail: "refused the token: inspect token of account " + acct + ": graph api: HTTP 400, code 190/463",
			setup: func(f *fixture) { f.sb.SetTokenExpiry(token, t0.Add(-time.Hour)) }, fix: "accounts put"},
		{name: "token revoked", check: "token", want: Fail, detail: "code 190/460",
			setup: func(f *fixture) { f.sb.RevokeToken(token) }, fix: "accounts put"},
		{name: "no token", check: "token", want: Fail, detail: "no token in SSM /replywindow/tokens/" + acct,
			setup: func(f *fixture) { delete(f.tokens, acct) }, fix: "--token-stdin"},
		{name: "token of another app", check: "token", want: Fail, detail: "belongs to app " + sandbox.DefaultAppID,
			setup: func(f *fixture) { f.doc.AppIDs = []string{"2000000000000002"} }},
		{name: "no inspection, expiry from the refresh", check: "token", want: Warn, opts: []sandbox.Option{sandbox.WithoutTokenInspection()},
			setup: func(f *fixture) {
				a := account()
				a.TokenExpiresAt, a.Version = t0.Add(5*24*time.Hour), 2
				f.store.PutAccount(context.Background(), a)
			}, detail: "expires in 5d", fix: "tokens refresh"},
		{name: "no inspection, never refreshed", check: "token", want: Warn, opts: []sandbox.Option{sandbox.WithoutTokenInspection()},
			detail: "expiry unknown", fix: "tokens refresh --account"},
		{name: "permissions ok", check: "permissions", want: OK, detail: "instagram_business_manage_messages"},
		{name: "permission missing", check: "permissions", want: Fail, detail: "lacks instagram_business_manage_comments",
			setup: func(f *fixture) {
				f.sb.SetTokenScopes(token, []string{"instagram_business_basic", "instagram_business_manage_messages"})
			}},
		{name: "subscription ok", check: "subscription", want: OK, detail: "comments,live_comments,messaging_postbacks"},
		{name: "unsubscribed from postbacks", check: "subscription", want: Fail, detail: "also need messaging_postbacks",
			setup: func(f *fixture) {
				f.sb.Subscribe(acct, []string{reply.FieldComments, reply.FieldLiveComments, reply.FieldMessages})
			}, fix: "replywindow subscribe --account " + acct},
		{name: "only another app subscribed", check: "subscription", want: Fail, detail: "our app (" + sandbox.DefaultAppID + ") is not subscribed",
			setup: func(f *fixture) {
				f.sb.Subscribe(acct, nil)
				f.sb.SubscribeOtherApp(acct, "3000000000000003", reply.WebhookFields)
			}},
		{name: "subscribed without a field Meta refused by both names", check: "subscription", want: OK, opts: []sandbox.Option{sandbox.WithRefusedFields(reply.FieldReactions, "message_reactions")},
			detail: "not subscribed to messaging_reactions, which the rules do not need (a field Meta refuses by both its names is left out: replywindow subscribe names it)",
			setup: func(f *fixture) {
				if res, err := subscription.Subscribe(context.Background(), f.doc.Meta.(*graph.Client), account(), token, nil); err != nil || len(res.Refused) != 2 {
					t.Errorf("subscribe: %+v %v", res, err)
				}
			}},
		{name: "subscribed to a field by its other name", check: "subscription", want: OK, opts: []sandbox.Option{sandbox.WithRefusedFields(reply.FieldReactions)},
			detail: "our app has every field the rules need: comments,live_comments,messaging_postbacks", absent: "not subscribed",
			setup: func(f *fixture) {
				if res, err := subscription.Subscribe(context.Background(), f.doc.Meta.(*graph.Client), account(), token, nil); err != nil || !slices.Contains(res.Fields, "message_reactions") {
					t.Errorf("subscribe: %+v %v", res, err)
				}
			}},
		{name: "subscription without our app id", check: "subscription", want: Warn, detail: "judged without our app id",
			setup: func(f *fixture) { f.doc.AppIDs = nil }, fix: "META_APP_IDS"},
		{name: "messenger profile: none on either side", check: "messenger profile", want: OK, detail: "declares no ice breakers or menu, and Meta shows none"},
		{name: "messenger profile matches", check: "messenger profile", want: OK, detail: "Meta's match the file: 1 ice breaker(s), 2 menu item(s)",
			setup: func(f *fixture) { declareProfile(t, f, fileProfile); f.sb.SetMessengerProfile(acct, fileProfile) }},
		{name: "an ice breaker differs", check: "messenger profile", want: Warn,
			detail: `Meta's differ from the file: ice_breakers[0]: Meta "Other?" → OTHER, file "What's cooking?" → SEND`,
			setup: func(f *fixture) {
				declareProfile(t, f, fileProfile)
				f.sb.SetMessengerProfile(acct, reply.MessengerProfile{IceBreakers: []reply.IceBreaker{{Question: "Other?", Payload: "OTHER"}}, Menu: fileProfile.Menu})
			}, fix: "replywindow accounts put --file <file> (sets them on Meta)"},
		{name: "the menu missing on Meta", check: "messenger profile", want: Warn,
			detail: `persistent_menu[0]: Meta (none), file "Recipe" → SEND; persistent_menu[1]: Meta (none), file "Shop" → https://shop.example.com`,
			setup: func(f *fixture) {
				declareProfile(t, f, fileProfile)
				f.sb.SetMessengerProfile(acct, reply.MessengerProfile{IceBreakers: fileProfile.IceBreakers})
			}, fix: "accounts put --file"},
		{name: "Meta shows what the file does not declare", check: "messenger profile", want: Warn,
			detail: `the file declares none, Meta shows 1 ice breaker(s), 0 menu item(s) (their taps start nothing here): ice_breakers[0]: Meta "Other?" → OTHER, file (none)`,
			setup: func(f *fixture) {
				f.sb.SetMessengerProfile(acct, reply.MessengerProfile{IceBreakers: []reply.IceBreaker{{Question: "Other?", Payload: "OTHER"}}})
			}, fix: "remove them in the tool that set them"},
		{name: "messenger profile unreadable", check: "messenger profile", want: Warn,
			detail: "could not read Meta's ice breakers and menu: messenger profile of account " + acct + ": graph api: HTTP 500",
			setup: func(f *fixture) {
				declareProfile(t, f, fileProfile)
				f.sb.SetFault(faultOn(sandbox.OpMessengerProfile, sandbox.Fault{Status: 500, Code: 2, Message: "Service temporarily unavailable"}))
			}, fix: "run doctor again"},
		{name: "messenger profile read refused", check: "messenger profile", want: Warn,
			detail: "code 10/0", setup: func(f *fixture) {
				f.sb.SetFault(faultOn(sandbox.OpMessengerProfile, sandbox.Fault{Code: 10, Message: "(#10) Application does not have permission for this action"}))
			}, fix: "granting the messaging permission"},
		{name: "webhooks recent", check: "webhooks", want: OK, detail: "comments 3m ago"},
		{name: "webhooks never", check: "webhooks", want: Warn, detail: "no webhook recorded",
			setup: func(f *fixture) { f.doc.Webhooks = fakeWebhooks{} }},
		{name: "webhooks quiet", check: "webhooks", want: Warn, detail: "none for 8d0h",
			setup: func(f *fixture) { f.doc.Webhooks = fakeWebhooks{reply.FieldComments: t0.Add(-8 * 24 * time.Hour)} }},
		{name: "paused", check: "paused", want: Warn, detail: "comments are skipped", fix: "accounts resume " + acct,
			setup: func(f *fixture) {
				a := account()
				a.Paused, a.Version = true, 2
				f.store.PutAccount(context.Background(), a)
			}},
		{name: "nothing parked", check: "parked", want: OK, detail: "nothing parked"},
		{name: "parked recently", check: "parked", want: OK, detail: "1 parked, the oldest for 2h0m",
			setup: func(f *fixture) { park(t, f.store, "c1", t0.Add(-2*time.Hour)) }},
		{name: "parked for long", check: "parked", want: Warn, detail: "2 parked, the oldest for 1d6h",
			setup: func(f *fixture) {
				park(t, f.store, "c1", t0.Add(-2*time.Hour))
				park(t, f.store, "c2", t0.Add(-30*time.Hour))
			}, fix: "accounts show"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.opts...)
			if tt.setup != nil {
				tt.setup(f)
			}
			r, err := f.doc.Run(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			c := find(t, r, tt.check)
			if c.Status != tt.want || !strings.Contains(c.Detail, tt.detail) || !strings.Contains(c.Fix, tt.fix) ||
				tt.absent != "" && strings.Contains(c.Detail, tt.absent) {
				t.Errorf("%s = %s %q (fix %q), want %s with %q, without %q (fix %q)", tt.check, c.Status, c.Detail, c.Fix, tt.want, tt.detail, tt.absent, tt.fix)
			}
			if c.Status != OK && c.Fix == "" && tt.check != "webhooks" {
				t.Errorf("%s is %s without a fix", tt.check, c.Status)
			}
			if r.Worst < c.Status {
				t.Errorf("worst %s below a %s check", r.Worst, c.Status)
			}
		})
	}
}

// fileProfile is what declareProfile gives the account file: an ice breaker, a postback and a
// link in the menu.
var fileProfile = reply.MessengerProfile{
	IceBreakers: []reply.IceBreaker{{Question: "What's cooking?", Payload: "SEND"}},
	Menu: []reply.MenuItem{{Type: reply.ButtonPostback, Title: "Recipe", Payload: "SEND"},
		{Type: reply.ButtonURL, Title: "Shop", URL: "https://shop.example.com"}},
}

// declareProfile stores the account with p as its file's ice breakers and menu.
func declareProfile(t *testing.T, f *fixture, p reply.MessengerProfile) {
	t.Helper()
	a := account()
	a.IceBreakers, a.PersistentMenu, a.Version = p.IceBreakers, p.Menu, 2
	if _, err := f.store.PutAccount(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}

// faultOn answers every call of op with fault, and every other call by Meta's rules.
func faultOn(op sandbox.Op, fault sandbox.Fault) func(sandbox.Call) sandbox.Fault {
	return func(c sandbox.Call) sandbox.Fault {
		if c.Op == op {
			return fault
		}
		return sandbox.Fault{}
	}
}

// An account without a token fails its token check; the checks that need the token, the
// messenger profile among them, are left out rather than guessed.
func TestNoTokenLeavesProfileOut(t *testing.T) {
	f := newFixture(t)
	declareProfile(t, f, fileProfile)
	delete(f.tokens, acct)
	r, err := f.doc.Run(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	if c := find(t, r, "token"); c.Status != Fail {
		t.Errorf("token = %s, want fail", c.Status)
	}
	for _, c := range r.Checks {
		if c.Name == "messenger profile" {
			t.Errorf("a messenger profile check without a token: %+v", c)
		}
	}
}

// park stores a PARKED record of the account, last parked at at.
func park(t *testing.T, store *memory.Store, comment string, at time.Time) {
	t.Helper()
	job := reply.Job{AccountID: acct, CommentID: comment, Kind: reply.KindPost, CommentedAt: t0.Add(-2 * 24 * time.Hour), DeliveredAt: t0.Add(-2 * 24 * time.Hour)}
	rec := reply.NewParked(job, t0.Add(time.Hour), "account_unhealthy", at)
	if _, err := store.Create(context.Background(), rec); err != nil {
		t.Fatal(err)
	}
}

func TestVersionCheck(t *testing.T) {
	tests := []struct {
		version string
		now     time.Time
		want    Status
		detail  string
	}{
		{"v24.0", t0, OK, "served until 2028-02-01"},
		{"v21.0", t0, Warn, "until 2027-01-21 (in 45d)"},
		{"21.0", t0, Warn, "v21.0"},
		{"v20.0", t0, Fail, "stopped serving it on 2026-09-24"},
		{"v26.0", t0, OK, "not announced"},
		{"v19.0", t0, Warn, "not in replywindow's table"},
		{"v24.0", time.Date(2027, 11, 5, 0, 0, 0, 0, time.UTC), Warn, "in 88d"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			c := (&Doctor{Version: tt.version}).version(tt.now)
			if c.Status != tt.want || !strings.Contains(c.Detail, tt.detail) {
				t.Errorf("%s at %s = %s %q, want %s with %q", tt.version, tt.now, c.Status, c.Detail, tt.want, tt.detail)
			}
		})
	}
}

func TestStackPieces(t *testing.T) {
	f := newFixture(t)
	f.doc.Pieces = []Piece{
		{Name: "table t", Probe: func(context.Context) error { return nil }},
		{Name: "queue q", Probe: func(context.Context) error { return errors.New("AWS.SimpleQueueService.NonExistentQueue") }, Fix: "check QUEUE_URL"},
	}
	r, err := f.doc.Run(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Checks[0]; c.Status != OK || c.Detail != "table t reachable" {
		t.Errorf("table: %+v", c)
	}
	if c := r.Checks[1]; c.Status != Fail || !strings.Contains(c.Detail, "NonExistentQueue") || c.Fix != "check QUEUE_URL" {
		t.Errorf("queue: %+v", c)
	}
	if r.Worst != Fail || r.Worst.ExitCode() != 2 {
		t.Errorf("worst %s (exit %d), want fail (2)", r.Worst, r.Worst.ExitCode())
	}
}

func TestUnknownAccount(t *testing.T) {
	f := newFixture(t)
	if _, err := f.doc.Run(context.Background(), "17841400000000099"); err == nil || !strings.Contains(err.Error(), "no account 17841400000000099") {
		t.Fatalf("err = %v, want no account", err)
	}
}

func TestWriteText(t *testing.T) {
	r := Report{}
	r.add(Check{Name: "graph api version", Detail: "v24.0"})
	r.add(Check{Account: acct, Name: "token", Status: Warn, Detail: "expires in 3d", Fix: "replywindow tokens refresh"})
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"-                  graph api version  ok", acct + "  token              warn    expires in 3d", "→ replywindow tokens refresh", "1 ok, 1 warn, 0 fail"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if r.Worst.ExitCode() != 1 {
		t.Errorf("exit %d, want 1", r.Worst.ExitCode())
	}
}
