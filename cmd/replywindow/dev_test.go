package main

import (
	"bytes"
	"cmp"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/replywindow/replywindow/shared/devstack"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/webhook"
)

// lockedBuffer lets the test read what the running command writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startDev runs `replywindow dev` on free ports until ctx ends; done hears its exit code.
func startDev(ctx context.Context, t *testing.T, statusEvery string, stdout, stderr *lockedBuffer) (*devstack.Stack, chan int) {
	t.Helper()
	ready := make(chan *devstack.Stack, 1)
	devReady = func(s *devstack.Stack) { ready <- s }
	t.Cleanup(func() { devReady = nil })
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"dev", "-addr", "127.0.0.1:0", "-sandbox-addr", "127.0.0.1:0", "-status-every", statusEvery}, stdout, stderr)
	}()
	select {
	case s := <-ready:
		return s, done
	case code := <-done:
		t.Fatalf("dev exited %d before it was ready:\n%s", code, stderr.String())
		return nil, nil
	}
}

// TestDevCommand runs `replywindow dev` until interrupted, posts a signed comment to it and
// checks that it was answered and that progress and status were shown.
func TestDevCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	s, done := startDev(ctx, t, "50ms", &stdout, &stderr)
	c := devstack.DemoCases()[0]
	body := c.Body(time.Now())
	req, _ := http.NewRequest(http.MethodPost, s.WebhookURL, bytes.NewReader(body))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(body, devstack.DefaultAppSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	recs, err := s.WaitTerminal(wctx, c.CommentID)
	wcancel()
	if err != nil || resp.StatusCode != 200 || recs[c.CommentID].State != reply.StateSent {
		t.Fatalf("delivery answered %d; record %+v, %v", resp.StatusCode, recs[c.CommentID], err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stdout.String(), "sent 1 ·") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("dev exit %d, want 0; stderr:\n%s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"replywindow dev", s.WebhookURL, "sandbox at " + s.SandboxURL, "token " + devstack.DemoToken, "→ sent", "DM delivered", "sent 1 ·", "DMs in sandbox ledger 1", "stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

// TestDevSandboxPort: the sandbox listens on a fixed port unless told, so the URL and token dev
// prints hold from one run to the next.
func TestDevSandboxPort(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"dev", "--help"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("dev --help: exit %d", code)
	}
	if !strings.Contains(stderr.String(), `(default "`+devSandboxAddr+`")`) || devSandboxAddr == "127.0.0.1:0" {
		t.Errorf("dev --help does not show the fixed sandbox address %s:\n%s", devSandboxAddr, stderr.String())
	}
}

func TestDevUsage(t *testing.T) {
	for _, args := range [][]string{{"dev", "extra"}, {"dev", "-nope"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// TestDevRefusesToExposeRealAccounts: with a real Graph API or table, `dev` listens on loopback
// only and will not take the app secret and verify token committed in this repository.
func TestDevRefusesToExposeRealAccounts(t *testing.T) {
	moto := map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}
	awsReal := map[string]string{}
	own := func(c devstack.Config) devstack.Config {
		c.AppSecret, c.VerifyToken = "my-own-app-secret", "my-own-verify-token"
		return c
	}
	tests := []struct {
		name string
		cfg  devstack.Config
		env  map[string]string
		want string // part of the error; "" = allowed
	}{
		{"embedded, any address", devstack.Config{Addr: "0.0.0.0:8080"}, awsReal, ""},
		{"moto table, committed secret", devstack.Config{TableName: "t"}, moto, ""},
		{"moto table and queue, committed secret, any address", devstack.Config{Addr: "0.0.0.0:8080", TableName: "t", QueueURL: "http://127.0.0.1:5000/000000000000/q"}, moto, ""},
		{"sandbox on this machine", devstack.Config{GraphAPIURL: "http://127.0.0.1:8089"}, awsReal, ""},
		{"real table, committed secret", devstack.Config{TableName: "t"}, awsReal, "set APP_SECRETS"},
		{"real table, own secret, committed token", devstack.Config{TableName: "t", AppSecret: "mine"}, awsReal, "set VERIFY_TOKEN"},
		{"real table, own secrets", own(devstack.Config{TableName: "t"}), awsReal, ""},
		{"real queue, even on loopback with own secrets", own(devstack.Config{QueueURL: "https://sqs.eu-west-1.amazonaws.com/1/q"}), awsReal, "is an AWS queue"},
		{"moto table, real queue", devstack.Config{TableName: "t", QueueURL: "https://sqs.eu-west-1.amazonaws.com/1/q"}, moto, "is an AWS queue"},
		{"real table on all interfaces", own(devstack.Config{TableName: "t", Addr: "0.0.0.0:8080"}), awsReal, "loopback address only"},
		{"real table on a LAN address", own(devstack.Config{TableName: "t", Addr: "192.168.1.20:8080"}), awsReal, "loopback address only"},
		{"real table on every address", own(devstack.Config{TableName: "t", Addr: ":8080"}), awsReal, "loopback address only"},
		{"real table on localhost", own(devstack.Config{TableName: "t", Addr: "localhost:8080"}), awsReal, ""},
		{"real Graph API", devstack.Config{GraphAPIURL: "https://graph.instagram.com"}, awsReal, "Graph API at https://graph.instagram.com"},
		{"real Graph API, own secrets, [::]", own(devstack.Config{GraphAPIURL: "https://graph.instagram.com", Addr: "[::]:8080"}), awsReal, "loopback address only"},
		{"dynamodb endpoint wins", devstack.Config{TableName: "t"}, map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_DYNAMODB": "https://dynamodb.eu-west-1.amazonaws.com"}, "set APP_SECRETS"},
		{"moto with a real SQS endpoint on all interfaces", devstack.Config{Addr: "0.0.0.0:8080", TableName: "t", QueueURL: "http://127.0.0.1:5000/000000000000/q"},
			map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_ENDPOINT_URL_SQS": "https://sqs.eu-west-1.amazonaws.com"}, "SQS at https://sqs.eu-west-1.amazonaws.com"},
		{"moto ignored on all interfaces", devstack.Config{Addr: "0.0.0.0:8080", TableName: "t"},
			map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "DynamoDB on AWS"},
	}
	// -create's default follows the endpoints too: moto ignored is AWS, where nothing is created.
	for _, c := range []struct {
		env  map[string]string
		want bool
	}{
		{moto, true},
		{map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, false},
		{map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:5000"}, false}, // the queue on AWS
	} {
		cfg := devstack.Config{TableName: "t", QueueURL: "http://127.0.0.1:5000/000000000000/q", AWS: devAWSConfig(t, c.env)}
		if got := devCreate(cfg); got != c.want {
			t.Errorf("-create's default with %v: %v, want %v", c.env, got, c.want)
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.TableName != "" || cfg.QueueURL != "" {
				cfg.AWS = devAWSConfig(t, tt.env)
			}
			err := devSafe(cfg)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
				t.Errorf("%v, want %q", err, tt.want)
			}
		})
	}
	// The command stops before it starts anything; it judges the endpoints its clients resolve.
	devAWSConfig(t, map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"})
	t.Setenv("APP_SECRETS", "")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"dev", "-addr", "0.0.0.0:0", "-table", "replywindow-prod-Table-1ABC"}, &stdout, &stderr)
	if code != exitUsage || !strings.Contains(stderr.String(), "loopback address only") || stdout.Len() != 0 {
		t.Errorf("dev on all interfaces with a real table: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
}

// devAWSConfig sets the environment to env alone (every other endpoint variable unset, no
// shared config, test credentials) and loads the aws.Config as the command does.
func devAWSConfig(t *testing.T, env map[string]string) *aws.Config {
	t.Helper()
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SSM",
		"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"} {
		t.Setenv(k, "") // restored after the test
		if err := os.Unsetenv(k); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	for k, v := range env {
		t.Setenv(k, v)
	}
	c, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &c
}

// runningDev starts `replywindow dev` on free ports until the test ends; to points dev's senders
// (comment, dm, tap) at it.
func runningDev(t *testing.T) (ctx context.Context, s *devstack.Stack, to []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var devOut, devErr lockedBuffer
	s, done := startDev(ctx, t, "0", &devOut, &devErr)
	t.Cleanup(func() { cancel(); <-done })
	return ctx, s, []string{"--webhook", s.WebhookURL, "--sandbox", s.SandboxURL}
}

// TestDevSend: `replywindow dev dm TEXT` and `dev tap PAYLOAD` against a running dev stack post
// the sandbox's webhook signed with the stack's secret, and the stack accepts them; without a
// running stack or an argument, a clear error.
func TestDevSend(t *testing.T) {
	ctx, s, to := runningDev(t)
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"dm", append(append([]string{"dev", "dm"}, to...), "PRICE"), exitOK, "webhook answered 200"},
		{"tap", append(append([]string{"dev", "tap"}, to...), "RECIPE_LINK"), exitOK, "webhook answered 200"},
		{"no text", append([]string{"dev", "dm"}, to...), exitUsage, ""},
		{"nothing running", []string{"dev", "dm", "--sandbox", "http://127.0.0.1:1", "hi"}, exitFail, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(ctx, tt.args, &stdout, &stderr); code != tt.code || !strings.Contains(stdout.String(), tt.out) {
				t.Fatalf("exit %d, want %d; stdout %q (want %q); stderr %q", code, tt.code, stdout.String(), tt.out, stderr.String())
			}
		})
	}
	st, err := s.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Deliveries != 2 || st.Rejected != 0 {
		t.Errorf("stack saw %d deliveries, %d rejected; want 2 and 0", st.Deliveries, st.Rejected)
	}
}

// TestDevComment: `replywindow dev comment TEXT` against a running dev stack makes the comment in
// the sandbox (Meta's world) and posts its signed webhook; the stack answers it with one private
// reply in the sandbox's ledger. A comment no rule matches gets none; bad input is a clear error.
func TestDevComment(t *testing.T) {
	ctx, s, to := runningDev(t)
	tests := []struct {
		name  string
		args  []string
		code  int
		state reply.State // of the comment's record; "" for none
		dms   int         // private replies the sandbox delivered for it
		out   string      // part of stdout, or of stderr when the exit is not 0
	}{
		{"matching comment", append(append([]string{"dev", "comment"}, to...), "RECIPE please"), exitOK, reply.StateSent, 1, "webhook answered 200"},
		{"another person and media", append(append([]string{"dev", "comment", "--person", "6000000000000002", "--media", "17800000000000002"}, to...), "sourdough?"), exitOK, reply.StateSent, 1, "webhook answered 200"},
		{"no rule matches", append(append([]string{"dev", "comment", "--person", "6000000000000003"}, to...), "nice bread"), exitOK, reply.StateSkipped, 0, "webhook answered 200"},
		{"no text", append([]string{"dev", "comment"}, to...), exitUsage, "", 0, "want one TEXT"},
		{"empty text", append(append([]string{"dev", "comment"}, to...), ""), exitUsage, "", 0, "want one TEXT"},
		{"the sandbox refuses", append(append([]string{"dev", "comment", "--media", devstack.DemoLiveMedia, "--account", "17841400000000009"}, to...), "hi"), exitFail, "", 0, "dev comment: the sandbox refused it: POST " + s.SandboxURL + "/_sandbox/people/comment answered 400 Bad Request: bad action: broadcast " + devstack.DemoLiveMedia + " is account " + devstack.DemoAccountID + "'s"},
		{"nothing running", []string{"dev", "comment", "--sandbox", "http://127.0.0.1:1", "RECIPE"}, exitFail, "", 0, "is replywindow dev running?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(ctx, tt.args, &stdout, &stderr)
			out := stdout.String()
			if code != exitOK {
				out = stderr.String()
			}
			if code != tt.code || !strings.Contains(out, tt.out) {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q, want %q", code, tt.code, stdout.String(), stderr.String(), tt.out)
			}
			if tt.state == "" {
				return
			}
			t.Log(strings.TrimSpace(stdout.String()))
			id := strings.TrimSuffix(strings.Fields(stdout.String())[1], ":")
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			defer wcancel()
			recs, err := s.WaitTerminal(wctx, id)
			if err != nil || recs[id].State != tt.state || s.Sandbox.Delivered(id) != tt.dms {
				t.Errorf("comment %s: record %+v (%v), %d DM(s) in the ledger; want %s and %d", id, recs[id], err, s.Sandbox.Delivered(id), tt.state, tt.dms)
			}
		})
	}
}

// TestDevFollowGate walks the README's loop against a running dev stack: a comment gets the
// private reply with its button; a tap by a person who does not follow gets the gate's message;
// `dev follow`, then the same tap again, gets the step itself. Bad input is a clear error.
func TestDevFollowGate(t *testing.T) {
	ctx, s, to := runningDev(t)
	const person = "6000000000000007"
	who := []string{"--person", person}
	texts := func() []string { // what the person got after the private reply, in order
		var out []string
		for _, m := range s.Sandbox.Messages() {
			if m.PersonID == person {
				out = append(out, cmp.Or(m.Text, string(m.Kind)))
			}
		}
		return out
	}
	waitFor := func(n int) []string {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if got := texts(); len(got) >= n {
				return got
			}
		}
		t.Fatalf("the person got %q, want %d message(s)", texts(), n)
		return nil
	}
	steps := []struct {
		args []string
		code int
		out  string // part of stdout, or of stderr when the exit is not 0
		msgs int    // messages the person has had after it (the private reply is not one)
	}{
		{append(append([]string{"dev", "comment"}, to...), append(who, "RECIPE please")...), exitOK, "webhook answered 200", 0},
		{append(append([]string{"dev", "tap"}, to...), append(who, "RECIPE_LINK")...), exitOK, "webhook answered 200", 1},
		{append([]string{"dev", "follow", "--sandbox", s.SandboxURL}, who...), exitOK, "person " + person + " now follows account " + devstack.DemoAccountID, 1},
		{append(append([]string{"dev", "tap"}, to...), append(who, "RECIPE_LINK")...), exitOK, "webhook answered 200", 3},
		{[]string{"dev", "follow", "--sandbox", s.SandboxURL, "extra"}, exitUsage, `dev follow: unexpected argument "extra"`, 3},
		{[]string{"dev", "follow", "--sandbox", s.SandboxURL, "--person", ""}, exitFail, "the sandbox refused it", 3},
		{[]string{"dev", "follow", "--sandbox", "http://127.0.0.1:1"}, exitFail, "is replywindow dev running?", 3},
	}
	for i, st := range steps {
		var stdout, stderr bytes.Buffer
		code := run(ctx, st.args, &stdout, &stderr)
		out := stdout.String()
		if code != exitOK {
			out = stderr.String()
		}
		if code != st.code || !strings.Contains(out, st.out) {
			t.Fatalf("step %d %q: exit %d, want %d; stdout %q stderr %q, want %q", i, st.args, code, st.code, stdout.String(), stderr.String(), st.out)
		}
		if i == 0 {
			id := strings.TrimSuffix(strings.Fields(out)[1], ":")
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			recs, err := s.WaitTerminal(wctx, id)
			wcancel()
			if err != nil || recs[id].State != reply.StateSent {
				t.Fatalf("comment %s: %+v, %v; want it sent", id, recs[id], err)
			}
		}
		if st.msgs > 0 {
			waitFor(st.msgs)
		}
	}
	got := texts()
	if len(got) != 3 || !strings.HasPrefix(got[0], "Follow us") || strings.HasPrefix(got[1], "Follow us") {
		t.Errorf("the person got %q; want the gate's message, then the link step's messages", got)
	}
	t.Logf("the person got %q", got)
}
