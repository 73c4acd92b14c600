package sandbox_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

const (
	igID    = "17841400000000001"
	igToken = "IGAAT-sandbox-ig"
	fbID    = "17841400000000002"
	pageID  = "104000000000002"
	fbToken = "EAAB-sandbox-page"
	comment = "17900000000000001"
)

var (
	igAccount = reply.Account{ID: igID, Login: reply.LoginInstagram}
	fbAccount = reply.Account{ID: fbID, Login: reply.LoginFacebook, PageID: pageID}
	t0        = time.Date(2025, 9, 1, 12, 0, 0, 0, time.UTC)
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	sb    *sandbox.Sandbox
	srv   *httptest.Server
	c     *graph.Client
	clock *clock
}

func newEnv(t testing.TB, opts ...sandbox.Option) *env {
	t.Helper()
	e := &env{clock: &clock{t: t0}}
	e.sb = sandbox.New(append([]sandbox.Option{sandbox.WithClock(e.clock.Now)}, opts...)...)
	e.sb.AddAccount(igID, igToken, reply.LoginInstagram, "")
	e.sb.AddAccount(fbID, fbToken, reply.LoginFacebook, pageID)
	e.srv = httptest.NewServer(e.sb)
	t.Cleanup(func() { e.sb.Close(); e.srv.Close() })
	e.c = graph.New(graph.WithBaseURL(e.srv.URL), graph.WithTimeout(2*time.Second))
	return e
}

// send is a private reply from the Instagram Login account; it returns "ok" or Meta's code.
func (e *env) send(t testing.TB, a reply.Account, token, commentID string) string {
	t.Helper()
	_, err := e.c.PrivateReply(context.Background(), a, token, commentID, reply.Message{Text: "hello"})
	return outcome(t, err)
}

func outcome(t testing.TB, err error) string {
	t.Helper()
	if err == nil {
		return "ok"
	}
	var ge *reply.GraphError
	if !errors.As(err, &ge) {
		t.Fatalf("error %T: %v", err, err)
	}
	return ge.CodeString()
}

// TestWire speaks raw HTTP: both hosts reach the sandbox through one base URL, with or without
// the version prefix, with JSON or form bodies and the token in a header or a parameter.
func TestWire(t *testing.T) {
	tests := []struct {
		name, method, path, ctype, auth, file string
		status                                int
		code                                  int
		subcode                               int
	}{
		{name: "versioned, bearer, JSON", method: "POST", path: "/v24.0/" + igID + "/messages", ctype: "application/json",
			auth: "Bearer " + igToken, file: "private_reply.json", status: 200},
		{name: "other version", method: "POST", path: "/v19.0/" + igID + "/messages", ctype: "application/json",
			auth: "Bearer " + igToken, file: "private_reply.json", status: 200},
		{name: "no version, OAuth header", method: "POST", path: "/" + pageID + "/messages", ctype: "application/json; charset=utf-8",
			auth: "OAuth " + fbToken, file: "private_reply.json", status: 200},
		{name: "form body, token parameter", method: "POST", path: "/v24.0/" + igID + "/messages",
			ctype: "application/x-www-form-urlencoded", file: "private_reply_token.form", status: 200},
		{name: "no token", method: "POST", path: "/v24.0/" + igID + "/messages", ctype: "application/json",
			file: "private_reply.json", status: 400, code: 190},
		{name: "page token on the instagram id", method: "POST", path: "/v24.0/" + igID + "/messages", ctype: "application/json",
			auth: "Bearer " + fbToken, file: "private_reply.json", status: 400, code: 100, subcode: 33},
		{name: "truncated JSON", method: "POST", path: "/v24.0/" + igID + "/messages", ctype: "application/json",
			auth: "Bearer " + igToken, file: "private_reply_truncated.json", status: 400, code: 100},
		{name: "a Send API message to a person who never wrote is outside the window", method: "POST", path: "/v24.0/" + igID + "/messages", ctype: "application/json",
			auth: "Bearer " + igToken, file: "send_api_message.json", status: 400, code: 10, subcode: 2018278},
		{name: "public reply, form", method: "POST", path: "/v24.0/" + comment + "/replies", ctype: "application/x-www-form-urlencoded",
			auth: "Bearer " + igToken, file: "public_reply.form", status: 200},
		{name: "GET messages is no route", method: "GET", path: "/v24.0/" + igID + "/messages", auth: "Bearer " + igToken,
			status: 400, code: 2500},
		{name: "unknown path", method: "GET", path: "/v24.0/" + igID + "/media/extra", auth: "Bearer " + igToken,
			status: 400, code: 2500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			var body io.Reader
			if tt.file != "" {
				b, err := os.ReadFile(filepath.Join("testdata", tt.file))
				if err != nil {
					t.Fatal(err)
				}
				body = strings.NewReader(string(b))
			}
			req, _ := http.NewRequest(tt.method, e.srv.URL+tt.path, body)
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got struct {
				MessageID string `json:"message_id"`
				ID        string `json:"id"`
				Error     struct {
					Code      int    `json:"code"`
					Subcode   int    `json:"error_subcode"`
					Message   string `json:"message"`
					FBTraceID string `json:"fbtrace_id"`
				} `json:"error"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
				t.Fatalf("answer is not JSON: %v", err)
			}
			if resp.StatusCode != tt.status || got.Error.Code != tt.code || got.Error.Subcode != tt.subcode {
				t.Fatalf("HTTP %d %+v; want %d %d/%d", resp.StatusCode, got.Error, tt.status, tt.code, tt.subcode)
			}
			if tt.code != 0 && (got.Error.Message == "" || got.Error.FBTraceID == "") {
				t.Errorf("error without message or trace id: %+v", got.Error)
			}
			if tt.status == 200 && got.MessageID == "" && got.ID == "" {
				t.Errorf("no id in the answer")
			}
			if n := len(e.sb.Deliveries()); (tt.status == 200 && got.MessageID != "") != (n == 1) {
				t.Errorf("%d deliveries after HTTP %d", n, resp.StatusCode)
			}
		})
	}
}

func TestOneReplyPerComment(t *testing.T) {
	for _, oneRule := range []bool{true, false} {
		t.Run(fmt.Sprint("rule=", oneRule), func(t *testing.T) {
			var opts []sandbox.Option
			if !oneRule {
				opts = append(opts, sandbox.WithoutOneReplyRule())
			}
			e := newEnv(t, opts...)
			first := e.send(t, igAccount, igToken, comment)
			second := e.send(t, igAccount, igToken, comment)
			wantSecond, wantDelivered, wantDup := "100/2534025", 1, 1
			if !oneRule {
				wantSecond, wantDelivered, wantDup = "ok", 2, 0
			}
			if first != "ok" || second != wantSecond {
				t.Fatalf("answers %s, %s; want ok, %s", first, second, wantSecond)
			}
			st := e.sb.Stats()
			if e.sb.Delivered(comment) != wantDelivered || len(e.sb.Deliveries()) != wantDelivered || st.Duplicates != wantDup {
				t.Errorf("delivered %d, ledger %d, duplicates %d; want %d, %d, %d",
					e.sb.Delivered(comment), len(e.sb.Deliveries()), st.Duplicates, wantDelivered, wantDelivered, wantDup)
			}
			if e.sb.Attempts(comment) != 2 || st.Calls[sandbox.OpPrivateReply] != 2 {
				t.Errorf("attempts %d, calls %v", e.sb.Attempts(comment), st.Calls)
			}
		})
	}
}

func TestWindow(t *testing.T) {
	tests := []struct {
		name string
		age  time.Duration
		want string
	}{
		{name: "fresh", age: 0, want: "ok"},
		{name: "last moment of the window", age: reply.Window, want: "ok"},
		{name: "a nanosecond late", age: reply.Window + time.Nanosecond, want: "10/2534022"},
		{name: "a month old", age: 30 * 24 * time.Hour, want: "10/2534022"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sb.AddComment(sandbox.Comment{ID: comment, AccountID: igID, CreatedAt: t0})
			e.clock.Set(t0.Add(tt.age))
			if got := e.send(t, igAccount, igToken, comment); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestLiveWindow(t *testing.T) {
	e := newEnv(t)
	e.sb.StartBroadcast(igID, "L1")
	e.sb.AddComment(sandbox.Comment{ID: "live-a", AccountID: igID, MediaID: "L1", Live: true})
	e.sb.AddComment(sandbox.Comment{ID: "live-b", AccountID: igID, MediaID: "L1", Live: true})
	e.sb.AddComment(sandbox.Comment{ID: "live-c", AccountID: igID, MediaID: "L9", Live: true}) // starts L9
	if got := e.sb.Live(igID); strings.Join(got, ",") != "L1,L9" {
		t.Fatalf("live %v", got)
	}
	if got := e.send(t, igAccount, igToken, "live-a"); got != "ok" {
		t.Fatalf("during the broadcast: %s", got)
	}
	e.sb.EndBroadcast("L1")
	if got := e.send(t, igAccount, igToken, "live-b"); got != "10/2534022" {
		t.Errorf("after the broadcast: %s, want 10/2534022", got)
	}
	if got := e.send(t, igAccount, igToken, "live-c"); got != "ok" {
		t.Errorf("other broadcast: %s", got)
	}
	ids, err := e.c.LiveMedia(context.Background(), igAccount, igToken)
	if err != nil || strings.Join(ids, ",") != "L9" {
		t.Errorf("live media %v %v", ids, err)
	}
	// No broadcast outlives Instagram's 4-hour limit, even if nobody ends it.
	e.sb.AddComment(sandbox.Comment{ID: "live-d", AccountID: igID, MediaID: "L9", Live: true})
	e.clock.Add(reply.LiveWindow + time.Nanosecond)
	if got := e.send(t, igAccount, igToken, "live-d"); got != "10/2534022" {
		t.Errorf("after 4 hours: %s, want 10/2534022", got)
	}
	if got := e.sb.Live(igID); len(got) != 0 {
		t.Errorf("live after 4 hours: %v", got)
	}
}

// step is one call in a rate-limit scenario: move the clock, send, expect.
type step struct {
	advance time.Duration
	account string // igID (default) or fbID
	live    bool
	want    string
}

func TestRollingLimit(t *testing.T) {
	tests := []struct {
		name  string
		opts  []sandbox.Option
		steps []step
	}{
		{name: "posts 3 per hour, exactly at the boundary",
			opts: []sandbox.Option{sandbox.WithLimit(reply.LanePosts, reply.Limit{Count: 3, Period: time.Hour})},
			steps: []step{
				{want: "ok"},                            // t0
				{advance: 10 * time.Minute, want: "ok"}, // t0+10m
				{advance: 10 * time.Minute, want: "ok"}, // t0+20m
				{advance: 10 * time.Minute, want: "613/2534040"},
				{advance: 30*time.Minute - time.Nanosecond, want: "613/2534040"}, // t0+1h-1ns: t0 still counts
				// t0+1h: the reply at t0 left the window. The refusals above used no allowance.
				{advance: time.Nanosecond, want: "ok"},
				{want: "613/2534040"},                   // t0+10m still counts
				{advance: 10 * time.Minute, want: "ok"}, // t0+1h10m
				{account: fbID, want: "ok"},             // another account has its own allowance
				{live: true, want: "ok"},                // and Live its own lane
			}},
		{name: "Live 100 per second by default", steps: func() []step {
			var s []step
			for range 100 {
				s = append(s, step{live: true, want: "ok"})
			}
			s = append(s, step{live: true, want: "613/2534040"},
				step{advance: time.Second - time.Nanosecond, live: true, want: "613/2534040"},
				step{want: "ok"}, // posts are not Live
				step{advance: time.Nanosecond, live: true, want: "ok"})
			return s
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts...)
			e.sb.StartBroadcast(igID, "L")
			e.sb.StartBroadcast(fbID, "LF")
			for i, s := range tt.steps {
				e.clock.Add(s.advance)
				a, tok, id := igAccount, igToken, fmt.Sprintf("c%d", i)
				if s.account == fbID {
					a, tok = fbAccount, fbToken
				}
				if s.live {
					e.sb.AddComment(sandbox.Comment{ID: id, AccountID: a.ID, MediaID: "L", Live: true})
				}
				if got := e.send(t, a, tok, id); got != s.want {
					t.Fatalf("step %d at %s: %s, want %s", i, e.clock.Now().Sub(t0), got, s.want)
				}
			}
			var ok int
			for _, s := range tt.steps {
				if s.want == "ok" {
					ok++
				}
			}
			if st := e.sb.Stats(); st.Delivered != ok || st.Refused["613/2534040"] != len(tt.steps)-ok {
				t.Errorf("stats %+v, want %d delivered", st, ok)
			}
		})
	}
}

func TestCommentRules(t *testing.T) {
	tests := []struct {
		name    string
		opts    []sandbox.Option
		comment *sandbox.Comment
		account reply.Account
		token   string
		text    string
		want    string
	}{
		{name: "unknown comment accepted at first sight", want: "ok"},
		{name: "unknown comment refused", opts: []sandbox.Option{sandbox.WithUnknownComments(false)}, want: "100/33"},
		{name: "known comment, refusing unknown ones", opts: []sandbox.Option{sandbox.WithUnknownComments(false)},
			comment: &sandbox.Comment{ID: comment, AccountID: igID}, want: "ok"},
		{name: "comment of another account", comment: &sandbox.Comment{ID: comment, AccountID: fbID}, want: "100/33"},
		{name: "facebook login", comment: &sandbox.Comment{ID: comment, AccountID: fbID}, account: fbAccount, token: fbToken, want: "ok"},
		{name: "hidden", comment: &sandbox.Comment{ID: comment, AccountID: igID, Hidden: true}, want: "100/2534025"},
		{name: "deleted", comment: &sandbox.Comment{ID: comment, AccountID: igID, Deleted: true}, want: "100/2534025"},
		{name: "1000 bytes", text: strings.Repeat("€", 333) + "x", want: "ok"},
		{name: "1001 bytes", text: strings.Repeat("€", 333) + "xy", want: "100"},
		{name: "bad token", token: "nope", want: "190"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts...)
			if tt.comment != nil {
				e.sb.AddComment(*tt.comment)
			}
			a, tok, text := igAccount, igToken, "hello"
			if tt.account.ID != "" {
				a = tt.account
			}
			if tt.token != "" {
				tok = tt.token
			}
			if tt.text != "" {
				text = tt.text
			}
			_, err := e.c.PrivateReply(context.Background(), a, tok, comment, reply.Message{Text: text})
			if got := outcome(t, err); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
			if d := e.sb.Delivered(comment); (d == 1) != (tt.want == "ok") {
				t.Errorf("delivered %d", d)
			}
		})
	}
}

func TestPublicReplies(t *testing.T) {
	e := newEnv(t, sandbox.WithLimit(reply.LanePosts, reply.Limit{Count: 1, Period: time.Hour}))
	e.sb.StartBroadcast(igID, "L")
	e.sb.AddComment(sandbox.Comment{ID: "top", AccountID: igID})
	e.sb.AddComment(sandbox.Comment{ID: "child", AccountID: igID, ParentID: "top"})
	e.sb.AddComment(sandbox.Comment{ID: "live", AccountID: igID, MediaID: "L", Live: true})
	e.sb.AddComment(sandbox.Comment{ID: "hidden", AccountID: igID, Hidden: true})
	ctx := context.Background()
	for _, tc := range []struct{ id, token, want string }{
		{"top", igToken, "ok"}, {"top", igToken, "ok"}, {"child", igToken, "100"}, {"live", igToken, "100"},
		{"hidden", igToken, "100/33"}, {"top", "nope", "190"},
	} {
		if got := outcome(t, e.c.PublicReply(ctx, igAccount, tc.token, tc.id, "see DMs")); got != tc.want {
			t.Errorf("public reply to %s: %s, want %s", tc.id, got, tc.want)
		}
	}
	if p := e.sb.PublicReplies(); len(p) != 2 || p[0].ID == p[1].ID {
		t.Errorf("public replies %+v", p)
	}
	// Public replies do not use the private-reply allowance (1 per hour here).
	if got := e.send(t, igAccount, igToken, "top"); got != "ok" {
		t.Errorf("private reply after public ones: %s", got)
	}
}

func TestFaults(t *testing.T) {
	e := newEnv(t)
	e.sb.QueueFault("", sandbox.ServerError(503))
	e.sb.QueueFault("a", sandbox.MetaError(0, 4, 0), sandbox.ServerError(500))
	var mu sync.Mutex
	var seen []sandbox.Call
	e.sb.SetFault(func(c sandbox.Call) sandbox.Fault {
		mu.Lock()
		seen = append(seen, c)
		mu.Unlock()
		if c.CommentID == "b" && c.Attempt == 2 {
			return sandbox.DropAfter()
		}
		return sandbox.Fault{}
	})
	steps := []struct{ id, want string }{
		{"a", "4"},         // the comment's own queue first
		{"a", "1"},         // then its second fault
		{"a", "2"},         // then the queue for any comment
		{"a", "ok"},        // then the hook, which injects nothing
		{"b", "ok"},        // hook: attempt 1 passes
		{"b", "no_answer"}, // hook: attempt 2 is dropped after the rules ran (b already has its reply)
		{"c", "ok"},
	}
	for i, s := range steps {
		if got := e.send(t, igAccount, igToken, s.id); got != s.want {
			t.Fatalf("step %d (%s): %s, want %s", i, s.id, got, s.want)
		}
	}
	// The hook saw only calls no queued fault answered.
	if len(seen) != 4 || seen[0].CommentID != "a" || seen[0].Attempt != 4 || seen[0].AccountID != igID ||
		seen[0].Op != sandbox.OpPrivateReply || seen[0].Text != "hello" || seen[0].At != t0 {
		t.Errorf("hook saw %+v", seen)
	}
	st := e.sb.Stats()
	if st.Faults != 4 || st.Delivered != 3 || st.Duplicates != 1 || e.sb.Delivered("b") != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestDeliveredWithoutAnswer(t *testing.T) {
	for _, f := range []sandbox.Fault{sandbox.TimeoutAfter(), sandbox.DropAfter()} {
		e := newEnv(t)
		e.c = graph.New(graph.WithBaseURL(e.srv.URL), graph.WithTimeout(200*time.Millisecond))
		e.sb.QueueFault(comment, f)
		if got := e.send(t, igAccount, igToken, comment); got != "no_answer" {
			t.Fatalf("%+v: %s", f, got)
		}
		d := e.sb.Deliveries()
		if len(d) != 1 || d[0].Answered || d[0].CommentID != comment {
			t.Fatalf("%+v: ledger %+v", f, d)
		}
		// The retry meets Meta's one-reply rule: that is what makes an uncertain retry safe.
		if got := e.send(t, igAccount, igToken, comment); got != "100/2534025" {
			t.Errorf("%+v: retry %s", f, got)
		}
	}
	// TimeoutBefore delivers nothing; the retry goes out.
	e := newEnv(t)
	e.c = graph.New(graph.WithBaseURL(e.srv.URL), graph.WithTimeout(200*time.Millisecond))
	e.sb.QueueFault(comment, sandbox.TimeoutBefore())
	if got := e.send(t, igAccount, igToken, comment); got != "no_answer" || len(e.sb.Deliveries()) != 0 {
		t.Fatalf("timeout before: %s, %d deliveries", got, len(e.sb.Deliveries()))
	}
	if got := e.send(t, igAccount, igToken, comment); got != "ok" {
		t.Errorf("retry after timeout before: %s", got)
	}
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	e.sb.QueueFault("", sandbox.TokenRevoked())
	for i, want := range []string{"190/460", "190/460"} {
		if got := e.send(t, igAccount, igToken, fmt.Sprint("t", i)); got != want {
			t.Fatalf("call %d: %s, want %s", i, got, want)
		}
	}
	if got := e.send(t, fbAccount, fbToken, "t9"); got != "ok" {
		t.Errorf("other account after a revocation: %s", got)
	}
	e.sb.AddAccount(igID, igToken, reply.LoginInstagram, "") // re-authorised
	if got := e.send(t, igAccount, igToken, "t2"); got != "ok" {
		t.Errorf("after re-auth: %s", got)
	}

	ctx := context.Background()
	nt, _, err := e.c.RefreshToken(ctx, igToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{igToken, nt} { // the old token lives on until it expires
		if got := e.send(t, igAccount, tok, "r-"+tok); got != "ok" {
			t.Errorf("token %d chars: %s", len(tok), got)
		}
	}
	if _, _, err := e.c.RefreshToken(ctx, fbToken); outcome(t, err) != "100" {
		t.Errorf("refreshing a page token: %v", err)
	}
	e.sb.RevokeToken(nt)
	if got := e.send(t, igAccount, nt, "r2"); got != "190/460" {
		t.Errorf("revoked refreshed token: %s", got)
	}
	if err := e.c.Subscribe(ctx, fbAccount, fbToken, []string{"comments", "live_comments"}); err != nil {
		t.Fatal(err)
	}
	if got := e.sb.Subscriptions(fbID); strings.Join(got, ",") != "comments,live_comments" {
		t.Errorf("subscriptions %v", got)
	}
}

func TestHangReleasedByClose(t *testing.T) {
	e := newEnv(t, sandbox.WithMaxHang(time.Hour))
	e.c = graph.New(graph.WithBaseURL(e.srv.URL), graph.WithTimeout(time.Hour))
	e.sb.QueueFault(comment, sandbox.TimeoutAfter())
	done := make(chan string)
	go func() {
		_, err := e.c.PrivateReply(context.Background(), igAccount, igToken, comment, reply.Message{Text: "hi"})
		done <- outcome(t, err)
	}()
	for e.sb.Delivered(comment) == 0 {
		time.Sleep(time.Millisecond)
	}
	e.sb.Close()
	if got := <-done; got != "no_answer" {
		t.Errorf("got %s", got)
	}
}

func TestConcurrentCalls(t *testing.T) {
	tests := []struct {
		name   string
		limit  int
		same   bool
		counts map[string]int
	}{
		// Meta's one-reply rule holds under a race: one delivery, every other call refused.
		{name: "one comment", limit: 750, same: true, counts: map[string]int{"ok": 1, "100/2534025": 31}},
		// The rolling limit holds under a race: exactly the allowance goes out.
		{name: "many comments", limit: 10, counts: map[string]int{"ok": 10, "613/2534040": 22}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sandbox.WithLimit(reply.LanePosts, reply.Limit{Count: tt.limit, Period: time.Hour}))
			var wg sync.WaitGroup
			results := make(chan string, 32)
			for i := range 32 {
				wg.Go(func() {
					id := "same"
					if !tt.same {
						id = fmt.Sprint("other-", i)
					}
					_, err := e.c.PrivateReply(context.Background(), igAccount, igToken, id, reply.Message{Text: "hi"})
					results <- outcome(t, err)
				})
			}
			wg.Wait()
			close(results)
			got := map[string]int{}
			for r := range results {
				got[r]++
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.counts) || len(e.sb.Deliveries()) != tt.counts["ok"] {
				t.Errorf("answers %v, want %v; ledger %d", got, tt.counts, len(e.sb.Deliveries()))
			}
		})
	}
}

func TestLedgerEndpoint(t *testing.T) {
	e := newEnv(t)
	e.send(t, igAccount, igToken, "x")
	e.send(t, igAccount, igToken, "x")
	_ = e.c.PublicReply(context.Background(), igAccount, igToken, "x", "pub")
	resp, err := http.Get(e.srv.URL + "/_sandbox/ledger")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l sandbox.Ledger
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	want := e.sb.Deliveries()
	if len(l.Deliveries) != 1 || !reflect.DeepEqual(l.Deliveries[0], want[0]) || len(l.PublicReplies) != 1 ||
		l.Stats.Calls[sandbox.OpPrivateReply] != 2 || l.Stats.Refused["100/2534025"] != 1 {
		t.Errorf("ledger %+v", l)
	}
	for path, status := range map[string]int{"/_sandbox/stats": 200, "/_sandbox/nothing": 404} {
		r, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != status {
			t.Errorf("%s: HTTP %d", path, r.StatusCode)
		}
	}
}

// TestMe: GET /me with an Instagram Login token names the person who granted it (their
// app-scoped id, what their data-deletion request carries) and the account; a Page token is the
// Page's and names no person, which the client says without asking.
func TestMe(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	me, err := e.c.Me(ctx, igAccount, igToken)
	if err != nil || me.AppUserID != sandbox.DefaultAppUserID(igID) || me.AccountID != igID || me.Username == "" {
		t.Fatalf("Me = %+v, %v", me, err)
	}
	e.sb.SetAppUser(igID, "26000000000000042")
	if me, err = e.c.Me(ctx, igAccount, igToken); err != nil || me.AppUserID != "26000000000000042" {
		t.Errorf("after SetAppUser: %+v, %v", me, err)
	}
	if _, err := e.c.Me(ctx, igAccount, "not-a-token"); outcome(t, err) != "190" {
		t.Errorf("bad token: %v", err)
	}
	calls := e.sb.Stats().Calls[sandbox.OpMe]
	if _, err := e.c.Me(ctx, fbAccount, fbToken); !errors.Is(err, graph.ErrNoAppUser) {
		t.Errorf("page token: %v, want ErrNoAppUser", err)
	}
	if e.sb.Stats().Calls[sandbox.OpMe] != calls {
		t.Error("Me called Meta for a Page token")
	}
	// On the wire: only the fields asked for; an unknown field is Meta's 100.
	for q, want := range map[string]string{
		"fields=id":               `{"id":"26000000000000042"}`,
		"fields=id,user_id":       `{"id":"26000000000000042","user_id":"` + igID + `"}`,
		"fields=id,favourite_cat": `"code":100`,
	} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v24.0/me?"+q, nil)
		req.Header.Set("Authorization", "Bearer "+igToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), want) {
			t.Errorf("GET /me?%s = %s, want %s", q, b, want)
		}
	}
}

// TestOtherAppsShareTheAllowance: another app's private replies for the account count toward its
// rolling limit and show in X-Business-Use-Case-Usage, which is how our client learns of them.
func TestOtherAppsShareTheAllowance(t *testing.T) {
	tests := []struct {
		name      string
		opts      []sandbox.Option
		wantUsage []int // call_count of each ok answer
	}{
		{name: "usage reported", wantUsage: []int{75, 100}},
		{name: "usage headers dropped", opts: []sandbox.Option{sandbox.WithoutUsageHeaders()}, wantUsage: []int{0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, append(tt.opts, sandbox.WithLimit(reply.LanePosts, reply.Limit{Count: 4, Period: time.Hour}))...)
			for _, at := range []time.Time{t0.Add(-30 * time.Minute), t0.Add(-10 * time.Minute)} {
				if !e.sb.OtherApp(igID, reply.LanePosts, at) {
					t.Fatalf("the other app's reply at %s refused", at)
				}
			}
			for i, want := range tt.wantUsage {
				res, err := e.c.PrivateReply(context.Background(), igAccount, igToken, fmt.Sprintf("c%d", i), reply.Message{Text: "hello"})
				if err != nil || res.Usage != want {
					t.Fatalf("reply %d: usage %d, err %v; want %d%%", i, res.Usage, err, want)
				}
			}
			if got := e.send(t, igAccount, igToken, "c2"); got != "613/2534040" {
				t.Fatalf("with the other app's 2 and our 2 of 4: %s, want 613", got)
			}
			if e.sb.OtherApp(igID, reply.LanePosts, t0) {
				t.Fatal("the other app's reply into a full window accepted")
			}
			e.clock.Add(30 * time.Minute) // the other app's first reply leaves the window
			if got := e.send(t, igAccount, igToken, "c3"); got != "ok" {
				t.Fatalf("after the other app's reply aged out: %s", got)
			}
			if st := e.sb.Stats(); st.Delivered != 3 || len(e.sb.Deliveries()) != 3 {
				t.Errorf("delivered %d, ledger %d; want 3 of ours only", st.Delivered, len(e.sb.Deliveries()))
			}
		})
	}
}
