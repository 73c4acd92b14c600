package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

const (
	igID     = "17841400000000001"
	igToken  = "IGAAT-secret-instagram-token"
	fbID     = "17841400000000002"
	pageID   = "104000000000002"
	fbToken  = "EAAB-secret-page-token"
	otherTok = "IGAAT-some-other-token"
)

var (
	igAccount = reply.Account{ID: igID, Login: reply.LoginInstagram, TokenParam: "/t/ig"}
	fbAccount = reply.Account{ID: fbID, Login: reply.LoginFacebook, PageID: pageID, TokenParam: "/t/fb"}
	secrets   = []string{igToken, fbToken, otherTok}
)

// env is a sandbox behind a real HTTP server, a client pointed at it through the base URL (as
// GRAPH_API_URL does), and a record of every URL the sandbox was asked for.
type env struct {
	sb    *sandbox.Sandbox
	srv   *httptest.Server
	c     *graph.Client
	clock *memory.Clock
	mu    sync.Mutex
	urls  []string
}

func newEnv(t *testing.T, timeout time.Duration, opts ...sandbox.Option) *env {
	t.Helper()
	e := &env{clock: memory.NewClock(time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC))}
	e.sb = sandbox.New(append([]sandbox.Option{sandbox.WithClock(e.clock.Now)}, opts...)...)
	e.sb.AddAccount(igID, igToken, reply.LoginInstagram, "")
	e.sb.AddAccount(fbID, fbToken, reply.LoginFacebook, pageID)
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.urls = append(e.urls, r.URL.String())
		e.mu.Unlock()
		e.sb.ServeHTTP(w, r)
	}))
	t.Cleanup(func() {
		e.sb.Close()
		e.srv.Close()
		// The token goes in the Authorization header, never in a URL a proxy or log could keep;
		// only Meta's refresh endpoint takes it in the query.
		e.mu.Lock()
		defer e.mu.Unlock()
		for _, u := range e.urls {
			for _, s := range secrets {
				if strings.Contains(u, s) && !strings.Contains(u, "refresh_access_token") {
					t.Errorf("token in URL %s", u)
				}
			}
		}
	})
	e.c = graph.New(graph.WithBaseURL(e.srv.URL), graph.WithTimeout(timeout))
	return e
}

func TestPrivateReplyVerdicts(t *testing.T) {
	old := -8 * 24 * time.Hour
	tests := []struct {
		name    string
		account reply.Account
		token   string
		text    string
		setup   func(sb *sandbox.Sandbox, c *memory.Clock) // may add comments, faults
		before  int                                        // private replies to the same comment sent first
		fill    int                                        // accepted private replies to other comments sent first
		want    reply.Verdict
		status  int // HTTP status of the last answer; 0: none
		code    string
		deliver int // the comment's deliveries in the ledger afterwards
	}{
		{name: "sent, instagram login", account: igAccount, token: igToken, want: reply.VerdictSent, deliver: 1},
		{name: "sent, facebook login", account: fbAccount, token: fbToken, want: reply.VerdictSent, deliver: 1},
		{name: "sent, 1000 bytes", account: igAccount, token: igToken, text: strings.Repeat("é", 500), want: reply.VerdictSent, deliver: 1},
		{name: "expired after 7 days", account: igAccount, token: igToken,
			setup: func(sb *sandbox.Sandbox, c *memory.Clock) {
				sb.AddComment(sandbox.Comment{ID: "C", AccountID: igID, CreatedAt: c.Now().Add(old)})
			}, want: reply.VerdictExpired, status: 400, code: "10/2534022"},
		{name: "expired, broadcast ended", account: igAccount, token: igToken,
			setup: func(sb *sandbox.Sandbox, c *memory.Clock) {
				sb.AddComment(sandbox.Comment{ID: "C", AccountID: igID, MediaID: "L1", Live: true})
				sb.EndBroadcast("L1")
			}, want: reply.VerdictExpired, status: 400, code: "10/2534022"},
		{name: "already replied", account: igAccount, token: igToken, before: 1,
			want: reply.VerdictAlreadyReplied, status: 400, code: "100/2534025", deliver: 1},
		{name: "deleted comment", account: igAccount, token: igToken,
			setup: func(sb *sandbox.Sandbox, c *memory.Clock) { sb.DeleteComment("C") },
			want:  reply.VerdictAlreadyReplied, status: 400, code: "100/2534025"},
		{name: "hidden comment", account: igAccount, token: igToken,
			setup: func(sb *sandbox.Sandbox, c *memory.Clock) { sb.HideComment("C") },
			want:  reply.VerdictAlreadyReplied, status: 400, code: "100/2534025"},
		{name: "text over 1000 bytes", account: igAccount, token: igToken, text: strings.Repeat("é", 500) + "x",
			want: reply.VerdictPermanent, status: 400, code: "100"},
		{name: "no matching user", account: igAccount, token: igToken, setup: fault(sandbox.MetaError(400, 100, 2534014)),
			want: reply.VerdictPermanent, status: 400, code: "100/2534014"},
		{name: "person unavailable 551", account: igAccount, token: igToken, setup: fault(sandbox.MetaError(400, 551, 0)),
			want: reply.VerdictPermanent, status: 400, code: "551"},
		{name: "person unavailable 551/1545041", account: igAccount, token: igToken, setup: fault(sandbox.MetaError(400, 551, 1545041)),
			want: reply.VerdictPermanent, status: 400, code: "551/1545041"},
		{name: "person unavailable 200/1545041", account: igAccount, token: igToken, setup: fault(sandbox.MetaError(403, 200, 1545041)),
			want: reply.VerdictPermanent, status: 403, code: "200/1545041"},
		{name: "account 200/2534041", account: igAccount, token: igToken, setup: fault(sandbox.MetaError(403, 200, 2534041)),
			want: reply.VerdictAccount, status: 403, code: "200/2534041"},
		{name: "account 100/2534029", account: igAccount, token: igToken, setup: fault(sandbox.MetaError(400, 100, 2534029)),
			want: reply.VerdictAccount, status: 400, code: "100/2534029"},
		{name: "account 10/2534077", account: igAccount, token: igToken, setup: fault(sandbox.MetaError(400, 10, 2534077)),
			want: reply.VerdictAccount, status: 400, code: "10/2534077"},
		{name: "account 100/2534013", account: igAccount, token: igToken, setup: fault(sandbox.MetaError(400, 100, 2534013)),
			want: reply.VerdictAccount, status: 400, code: "100/2534013"},
		{name: "unknown token 190", account: igAccount, token: "IGAAT-nobody", want: reply.VerdictAuth, status: 400, code: "190"},
		{name: "token of another account", account: fbAccount, token: igToken, want: reply.VerdictPermanent, status: 400, code: "100/33"},
		{name: "revoked token 190/460", account: igAccount, token: igToken, setup: fault(sandbox.TokenRevoked()),
			want: reply.VerdictAuth, status: 400, code: "190/460"},
		{name: "expired token 190/463", account: igAccount, token: igToken, setup: fault(sandbox.MetaError(400, 190, 463)),
			want: reply.VerdictAuth, status: 400, code: "190/463"},
		{name: "app not installed 458", account: igAccount, token: igToken, setup: fault(sandbox.MetaError(400, 458, 0)),
			want: reply.VerdictAuth, status: 400, code: "458"},
		{name: "throttled 4", account: igAccount, token: igToken, setup: fault(sandbox.MetaError(403, 4, 0)),
			want: reply.VerdictThrottled, status: 403, code: "4"},
		{name: "throttled 17", account: igAccount, token: igToken, setup: fault(sandbox.MetaError(403, 17, 0)),
			want: reply.VerdictThrottled, status: 403, code: "17"},
		{name: "throttled 32", account: igAccount, token: igToken, setup: fault(sandbox.MetaError(403, 32, 0)),
			want: reply.VerdictThrottled, status: 403, code: "32"},
		{name: "throttled 613", account: igAccount, token: igToken, setup: fault(sandbox.MetaError(400, 613, 0)),
			want: reply.VerdictThrottled, status: 400, code: "613"},
		{name: "throttled 613/2534040 by the rolling limit", account: igAccount, token: igToken, fill: 750,
			want: reply.VerdictThrottled, status: 400, code: "613/2534040"},
		{name: "HTTP 429", account: igAccount, token: igToken, setup: fault(sandbox.TooManyRequests(30 * time.Second)),
			want: reply.VerdictThrottled, status: 429, code: "http_429"},
		{name: "transient 1", account: igAccount, token: igToken, setup: fault(sandbox.ServerError(500)),
			want: reply.VerdictUncertain, status: 500, code: "1"},
		{name: "transient 2", account: igAccount, token: igToken, setup: fault(sandbox.ServerError(503)),
			want: reply.VerdictUncertain, status: 503, code: "2"},
		{name: "HTTP 502 from a proxy", account: igAccount, token: igToken, setup: fault(sandbox.HTTPStatus(502)),
			want: reply.VerdictUncertain, status: 502, code: "http_502"},
		{name: "timeout, not delivered", account: igAccount, token: igToken, setup: fault(sandbox.TimeoutBefore()),
			want: reply.VerdictUncertain, code: "no_answer"},
		{name: "timeout, delivered", account: igAccount, token: igToken, setup: fault(sandbox.TimeoutAfter()),
			want: reply.VerdictUncertain, code: "no_answer", deliver: 1},
		{name: "connection dropped, delivered", account: igAccount, token: igToken, setup: fault(sandbox.DropAfter()),
			want: reply.VerdictUncertain, code: "no_answer", deliver: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, 300*time.Millisecond)
			ctx := context.Background()
			for i := range tt.fill {
				if _, err := e.c.PrivateReply(ctx, tt.account, tt.token, "F"+itoa(i), reply.Message{Text: "hi"}); err != nil {
					t.Fatalf("filling the allowance, reply %d: %v", i, err)
				}
			}
			for range tt.before {
				if _, err := e.c.PrivateReply(ctx, tt.account, tt.token, "C", reply.Message{Text: "hello"}); err != nil {
					t.Fatalf("first reply: %v", err)
				}
			}
			if tt.setup != nil {
				tt.setup(e.sb, e.clock)
			}
			text := tt.text
			if text == "" {
				text = "Here is the recipe: https://example.com/r"
			}
			res, err := e.c.PrivateReply(ctx, tt.account, tt.token, "C", reply.Message{Text: text})
			if got := reply.Classify(err); got != tt.want {
				t.Fatalf("verdict %s, want %s (err %v)", got, tt.want, err)
			}
			if got := e.sb.Delivered("C"); got != tt.deliver {
				t.Errorf("comment delivered %d times, want %d", got, tt.deliver)
			}
			if tt.want == reply.VerdictSent {
				d := e.sb.Deliveries()
				last := d[len(d)-1]
				if res.MessageID == "" || res.MessageID != last.MessageID || res.RecipientID != last.RecipientID || last.Text != text {
					t.Errorf("result %+v, ledger %+v", res, last)
				}
				if last.AccountID != tt.account.ID {
					t.Errorf("delivered from account %s, want %s", last.AccountID, tt.account.ID)
				}
				return
			}
			var ge *reply.GraphError
			if !errors.As(err, &ge) {
				t.Fatalf("error %T %v, want *reply.GraphError", err, err)
			}
			if ge.Status != tt.status || ge.CodeString() != tt.code {
				t.Errorf("status %d code %s, want %d %s", ge.Status, ge.CodeString(), tt.status, tt.code)
			}
			if ge.Status != 0 && ge.Code != 0 && ge.TraceID == "" {
				t.Errorf("no fbtrace_id in %+v", ge)
			}
			if ge.Status == 0 && errors.Is(err, graph.ErrNotSent) {
				t.Errorf("a written request reported as not sent: %v", err)
			}
			for _, s := range secrets {
				if strings.Contains(err.Error(), s) {
					t.Errorf("token in error %q", err)
				}
			}
		})
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// fault queues f for the next private reply to comment C.
func fault(f sandbox.Fault) func(*sandbox.Sandbox, *memory.Clock) {
	return func(sb *sandbox.Sandbox, _ *memory.Clock) { sb.QueueFault("C", f) }
}

func TestUsageAndRetryAfter(t *testing.T) {
	e := newEnv(t, time.Second, sandbox.WithLimit(reply.LanePosts, reply.Limit{Count: 4, Period: time.Hour}))
	ctx := context.Background()
	for i, want := range []int{25, 50, 75, 100} {
		res, err := e.c.PrivateReply(ctx, igAccount, igToken, "U"+itoa(i), reply.Message{Text: "hi"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Usage != want {
			t.Errorf("reply %d: usage %d%%, want %d%%", i, res.Usage, want)
		}
	}
	e.clock.Add(20 * time.Minute)
	res, err := e.c.PrivateReply(ctx, igAccount, igToken, "U9", reply.Message{Text: "hi"})
	var ge *reply.GraphError
	if !errors.As(err, &ge) || ge.CodeString() != "613/2534040" {
		t.Fatalf("fifth reply: %v, want 613/2534040", err)
	}
	// The oldest reply leaves the hour 40 minutes from now.
	if res.Usage != 100 || res.RegainAfter != 40*time.Minute || ge.RetryAfter != 40*time.Minute {
		t.Errorf("usage %d%%, regain %s, retry after %s; want 100%%, 40m, 40m", res.Usage, res.RegainAfter, ge.RetryAfter)
	}

	e.sb.QueueFault("R", sandbox.TooManyRequests(90*time.Second))
	_, err = e.c.PrivateReply(ctx, igAccount, igToken, "R", reply.Message{Text: "hi"})
	if !errors.As(err, &ge) || ge.RetryAfter != 90*time.Second {
		t.Errorf("429: %v, retry after %v; want 90s", err, ge)
	}
}

func TestUsageHeaders(t *testing.T) {
	b, err := os.ReadFile("testdata/usage.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name       string `json:"name"`
		BUC        string `json:"business_use_case"`
		App        string `json:"app_usage"`
		Percent    int    `json:"want_percent"`
		RegainMins int    `json:"want_regain_minutes"`
	}
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			h := http.Header{}
			if tc.BUC != "" {
				h.Set("X-Business-Use-Case-Usage", tc.BUC)
			}
			if tc.App != "" {
				h.Set("X-App-Usage", tc.App)
			}
			p, regain := graph.Usage(h)
			if p != tc.Percent || regain != time.Duration(tc.RegainMins)*time.Minute {
				t.Errorf("Usage = %d%%, %s; want %d%%, %dm", p, regain, tc.Percent, tc.RegainMins)
			}
		})
	}
}

// TestAnswers replays Meta's answers from testdata through a plain server: the client must read
// them the same way whatever served them.
func TestAnswers(t *testing.T) {
	tests := []struct {
		file    string
		status  int
		header  map[string]string
		want    reply.Verdict
		code    string
		message string
		retry   time.Duration
	}{
		{file: "sent.json", status: 200, want: reply.VerdictSent},
		{file: "oauth_190.json", status: 400, want: reply.VerdictAuth, code: "190/463", message: "Session has expired"},
		{file: "outside_window.json", status: 400, want: reply.VerdictExpired, code: "10/2534022", message: "outside of allowed window"},
		{file: "error_with_200.json", status: 200, want: reply.VerdictAlreadyReplied, code: "100/2534025", message: "invalid for a private reply"},
		{file: "proxy_502.html", status: 502, want: reply.VerdictUncertain, code: "http_502", message: "502 Bad Gateway"},
		{file: "outside_window.json", status: 400, header: map[string]string{"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"},
			want: reply.VerdictExpired, code: "10/2534022", retry: time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "answers", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v24.0/"+igID+"/messages" || r.Header.Get("Authorization") != "Bearer "+igToken {
					t.Errorf("request %s %s", r.URL.Path, r.Header.Get("Authorization"))
				}
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write(body)
			}))
			defer srv.Close()
			c := graph.New(graph.WithBaseURL(srv.URL))
			res, err := c.PrivateReply(context.Background(), igAccount, igToken, "C", reply.Message{Text: "hi"})
			if got := reply.Classify(err); got != tt.want {
				t.Fatalf("verdict %s, want %s (%v)", got, tt.want, err)
			}
			if tt.want == reply.VerdictSent {
				if res.MessageID == "" || res.RecipientID != "1254459154682919" {
					t.Errorf("result %+v", res)
				}
				return
			}
			var ge *reply.GraphError
			errors.As(err, &ge)
			if ge.CodeString() != tt.code || !strings.Contains(ge.Message, tt.message) || ge.RetryAfter < tt.retry {
				t.Errorf("%+v; want code %s, message with %q, retry after ≥ %s", ge, tt.code, tt.message, tt.retry)
			}
		})
	}
}

func TestNotSent(t *testing.T) {
	// A port nobody listens on: the connection is refused before anything is written.
	srv := httptest.NewServer(http.NotFoundHandler())
	dead := srv.URL
	srv.Close()
	tests := []struct {
		name string
		c    *graph.Client
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{name: "connection refused", c: graph.New(graph.WithBaseURL(dead)),
			ctx: func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }},
		{name: "deadline inside the reserve", c: graph.New(graph.WithBaseURL(dead), graph.WithReserve(time.Second)),
			ctx: func() (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.Background(), 500*time.Millisecond)
			}},
		{name: "context already done", c: graph.New(graph.WithBaseURL(dead)),
			ctx: func() (context.Context, context.CancelFunc) {
				ctx, cancel := context.WithCancel(context.Background())
				cancel()
				return ctx, cancel
			}},
		{name: "bad base URL", c: graph.New(graph.WithBaseURL("ftp://example.com")),
			ctx: func() (context.Context, context.CancelFunc) { return context.WithCancel(context.Background()) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := tt.ctx()
			defer cancel()
			_, err := tt.c.PrivateReply(ctx, igAccount, igToken, "C", reply.Message{Text: "hi"})
			var ge *reply.GraphError
			if !errors.As(err, &ge) || ge.Status != 0 || !errors.Is(err, graph.ErrNotSent) {
				t.Fatalf("err %v, want a *reply.GraphError with Status 0 wrapping ErrNotSent", err)
			}
			if reply.Classify(err) != reply.VerdictUncertain {
				t.Errorf("verdict %s", reply.Classify(err))
			}
		})
	}
}

// TestDeadline: a call gives up before the caller's deadline, leaving the reserve to record it.
func TestDeadline(t *testing.T) {
	e := newEnv(t, 10*time.Second)
	c := graph.New(graph.WithBaseURL(e.srv.URL), graph.WithReserve(400*time.Millisecond))
	e.sb.QueueFault("C", sandbox.TimeoutAfter())
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	_, err := c.PrivateReply(ctx, igAccount, igToken, "C", reply.Message{Text: "hi"})
	if reply.Classify(err) != reply.VerdictUncertain || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v, want an uncertain deadline error", err)
	}
	if ctx.Err() != nil {
		t.Errorf("the call used the caller's reserve: %v", ctx.Err())
	}
}

func TestPaths(t *testing.T) {
	tests := []struct {
		name    string
		opts    []graph.Option
		account reply.Account
		want    string
	}{
		{name: "instagram login", account: igAccount, want: "/v24.0/" + igID + "/messages"},
		{name: "facebook login sends from the page", account: fbAccount, want: "/v24.0/" + pageID + "/messages"},
		{name: "version", opts: []graph.Option{graph.WithVersion("21.0")}, account: igAccount, want: "/v21.0/" + igID + "/messages"},
		{name: "base path prefix", opts: []graph.Option{graph.WithVersion("v22.0")}, account: igAccount, want: "/graph/v22.0/" + igID + "/messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got = r.URL.Path
				_, _ = w.Write([]byte(`{"recipient_id":"r","message_id":"m"}`))
			}))
			defer srv.Close()
			base := srv.URL
			if strings.HasPrefix(tt.want, "/graph/") {
				base += "/graph/"
			}
			c := graph.New(append([]graph.Option{graph.WithBaseURL(base)}, tt.opts...)...)
			if _, err := c.PrivateReply(context.Background(), tt.account, igToken, "C", reply.Message{Text: "hi"}); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("path %s, want %s", got, tt.want)
			}
		})
	}
	env := map[string]string{graph.EnvURL: "http://127.0.0.1:1", graph.EnvVersion: "v23.0"}
	if len(graph.OptionsFromEnv(func(k string) string { return env[k] })) != len(graph.Env) {
		t.Errorf("OptionsFromEnv reads other variables than graph.Env lists")
	}
}

func TestPublicReplyLiveSubscribeRefresh(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := context.Background()
	e.sb.AddComment(sandbox.Comment{ID: "top", AccountID: fbID})
	e.sb.AddComment(sandbox.Comment{ID: "child", AccountID: fbID, ParentID: "top"})
	if err := e.c.PublicReply(ctx, fbAccount, fbToken, "top", "Check your DMs ✉️"); err != nil {
		t.Fatalf("public reply: %v", err)
	}
	err := e.c.PublicReply(ctx, fbAccount, fbToken, "child", "no")
	if reply.Classify(err) != reply.VerdictPermanent {
		t.Errorf("public reply to a reply: %v", err)
	}
	if p := e.sb.PublicReplies(); len(p) != 1 || p[0].Text != "Check your DMs ✉️" || p[0].CommentID != "top" {
		t.Errorf("public replies %+v", p)
	}

	e.sb.StartBroadcast(igID, "L2")
	e.sb.StartBroadcast(igID, "L1")
	e.sb.StartBroadcast(fbID, "L3")
	e.sb.EndBroadcast("L2")
	ids, err := e.c.LiveMedia(ctx, igAccount, igToken)
	if err != nil || strings.Join(ids, ",") != "L1" {
		t.Errorf("live media %v, %v; want [L1]", ids, err)
	}
	if _, err := e.c.LiveMedia(ctx, igAccount, "bad"); reply.Classify(err) != reply.VerdictAuth {
		t.Errorf("live media with a bad token: %v", err)
	}

	if err := e.c.Subscribe(ctx, igAccount, igToken, nil); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if got := strings.Join(e.sb.Subscriptions(igID), ","); got != "comments,live_comments,messages,messaging_postbacks,messaging_reactions,messaging_referral" {
		t.Errorf("subscribed to %s", got)
	}
	if err := e.c.Subscribe(ctx, fbAccount, "bad", []string{"comments"}); reply.Classify(err) != reply.VerdictAuth {
		t.Errorf("subscribe with a bad token: %v", err)
	}

	nt, exp, err := e.c.RefreshToken(ctx, igToken)
	if err != nil || nt == "" || nt == igToken || exp != sandbox.TokenLifetime {
		t.Fatalf("refresh: %q %s %v", nt, exp, err)
	}
	if _, err := e.c.PrivateReply(ctx, igAccount, nt, "after-refresh", reply.Message{Text: "hi"}); err != nil {
		t.Errorf("reply with the refreshed token: %v", err)
	}
	_, _, err = e.c.RefreshToken(ctx, otherTok)
	if reply.Classify(err) != reply.VerdictAuth || strings.Contains(err.Error(), otherTok) {
		t.Errorf("refresh with a bad token: %v", err)
	}
}

// TestRefreshTokenNeverInErrors: the refresh URL carries the token; no failure may print it.
func TestRefreshTokenNeverInErrors(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	dead := srv.URL
	srv.Close()
	hang := sandbox.New()
	hang.SetFault(func(sandbox.Call) sandbox.Fault { return sandbox.TimeoutBefore() })
	hsrv := httptest.NewServer(hang)
	defer func() { hang.Close(); hsrv.Close() }()
	garbage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"token": "` + r.URL.Query().Get("access_token") + `"}`))
	}))
	defer garbage.Close()
	for _, base := range []string{dead, hsrv.URL, garbage.URL} {
		c := graph.New(graph.WithBaseURL(base), graph.WithTimeout(200*time.Millisecond))
		_, _, err := c.RefreshToken(context.Background(), igToken)
		if err == nil || strings.Contains(err.Error(), igToken) {
			t.Errorf("refresh through %s: %v", base, err)
		}
	}
}

// TestBaseURLIsHTTPSUnlessLocal: calls carry access tokens, so a base URL in clear text is
// refused (nothing is sent) unless it names this machine.
func TestBaseURLIsHTTPSUnlessLocal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"recipient_id":"r","message_id":"m"}`))
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	tests := []struct {
		base string
		ok   bool
	}{
		{"http://127.0.0.1:" + port, true},
		{"http://localhost:" + port + "/graph", true},
		{"http://graph.facebook.com", false},
		{"http://10.0.0.8:8089", false},
		{"http://host.docker.internal.example.com", false},
		{"ftp://127.0.0.1", false},
		{"https://", false},
	}
	for _, tt := range tests {
		t.Run(tt.base, func(t *testing.T) {
			_, err := graph.New(graph.WithBaseURL(tt.base)).PrivateReply(context.Background(), igAccount, igToken, "C", reply.Message{Text: "hi"})
			if tt.ok && err != nil {
				t.Errorf("refused: %v", err)
			}
			if !tt.ok && !errors.Is(err, graph.ErrNotSent) {
				t.Errorf("err %v, want the call refused before anything is sent", err)
			}
		})
	}
	for host, want := range map[string]bool{
		"127.0.0.1": true, "127.8.9.10": true, "::1": true, "LOCALHOST": true, "api.localhost": true,
		"host.docker.internal": true, "graph.sandbox.invalid": true, "localhost.": true,
		"192.168.1.2": false, "graph.instagram.com": false, "invalid.example.com": false, "": false,
	} {
		if got := graph.LocalHost(host); got != want {
			t.Errorf("LocalHost(%q) = %v, want %v", host, got, want)
		}
	}
}

// TestErrorPagesLoseTheToken: an error page that quotes the request (a proxy's 502 with the
// request line and headers) brings the token back in its body; the error says the status and
// the page's size, and quotes nothing of the page: neither the token, nor the request line.
func TestErrorPagesLoseTheToken(t *testing.T) {
	e := newEnv(t, time.Second)
	e.sb.SetFault(func(sandbox.Call) sandbox.Fault { return sandbox.EchoingError(502) })
	ctx := context.Background()
	_, _, refreshErr := e.c.RefreshToken(ctx, igToken)
	_, sendErr := e.c.PrivateReply(ctx, igAccount, igToken, "17900000000000001", reply.Message{Text: "hi"})
	subErr := e.c.Subscribe(ctx, igAccount, igToken, nil)
	for name, err := range map[string]error{"refresh": refreshErr, "private reply": sendErr, "subscribe": subErr} {
		if err == nil {
			t.Fatalf("%s: no error from a 502", name)
		}
		msg := err.Error()
		if strings.Contains(msg, igToken) {
			t.Errorf("%s: the token is in the error: %s", name, msg)
		}
		if !strings.Contains(msg, "HTTP 502") || !strings.Contains(msg, "not Meta's JSON") || strings.Contains(msg, "Authorization") || strings.Contains(msg, "subscribed_apps") {
			t.Errorf("%s: %q, want the status and the page's size, nothing of the page", name, msg)
		}
		if reply.Classify(err) != reply.VerdictUncertain {
			t.Errorf("%s: verdict %s, want uncertain (a 502)", name, reply.Classify(err))
		}
	}
}

// TestMeShapes: Meta's examples give /me as the node itself and as a one-element data list;
// an answer without an app-scoped id is an error, not an empty id stored with the account.
func TestMeShapes(t *testing.T) {
	for body, want := range map[string]string{
		`{"id":"26000000000000001","user_id":"17841400000000001","username":"bakery"}`:            "26000000000000001",
		`{"data":[{"id":"26000000000000002","user_id":"17841400000000001","username":"bakery"}]}`: "26000000000000002",
		`{"user_id":"17841400000000001"}`: "",
		`{"id":"me"}`:                     "",
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/v24.0/me" || r.URL.Query().Get("fields") != "id,user_id,username" {
				t.Errorf("called %s", r.URL)
			}
			_, _ = w.Write([]byte(body))
		}))
		me, err := graph.New(graph.WithBaseURL(srv.URL)).Me(context.Background(), igAccount, igToken)
		srv.Close()
		if me.AppUserID != want || (want == "") != (err != nil) {
			t.Errorf("%s: Me = %+v, %v; want id %q", body, me, err, want)
		}
	}
}
