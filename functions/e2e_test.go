package functions

// The end-to-end test: the three real bootstrap binaries, run as Lambda runs them (through the
// Runtime API, served here), with the template's environment pointed at moto and at the Graph
// sandbox. It catches what in-process tests cannot: wiring in main.go, configuration read from
// the environment, secrets read from SSM, the JSON that crosses the Runtime API.

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/devstack"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/events/eventstest"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/sqs"
	"github.com/replywindow/replywindow/shared/ssm"
	"github.com/replywindow/replywindow/shared/webhook"
)

// e2eRuntime is a Lambda Runtime API for one function process: invocations wait in next until
// the process asks for them, and their answers come back by request id.
type e2eRuntime struct {
	name    string
	timeout time.Duration
	srv     *httptest.Server
	next    chan e2eInvocation

	mu      sync.Mutex
	seq     int
	answers map[string]chan e2eAnswer
	initErr string
}

type e2eInvocation struct {
	id       string
	payload  []byte
	deadline time.Time
}

type e2eAnswer struct {
	body []byte
	err  string // the function's error, as posted to /error
}

const e2ePrefix = "/2018-06-01/runtime/"

func newE2ERuntime(t *testing.T, name string, timeout time.Duration) *e2eRuntime {
	r := &e2eRuntime{name: name, timeout: timeout, next: make(chan e2eInvocation), answers: map[string]chan e2eAnswer{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *e2eRuntime) serve(w http.ResponseWriter, req *http.Request) {
	rest, ok := strings.CutPrefix(req.URL.Path, e2ePrefix)
	if !ok {
		http.NotFound(w, req)
		return
	}
	body, _ := io.ReadAll(req.Body)
	switch {
	case req.Method == http.MethodGet && rest == "invocation/next":
		select {
		case <-req.Context().Done():
			return
		case inv := <-r.next:
			h := w.Header()
			h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:replywindow-"+r.name)
			h.Set("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0")
			h.Set("Content-Type", "application/json")
			_, _ = w.Write(inv.payload)
		}
	case req.Method == http.MethodPost && rest == "init/error":
		r.mu.Lock()
		r.initErr = string(body)
		r.mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	case req.Method == http.MethodPost && strings.HasPrefix(rest, "invocation/"):
		id, kind, _ := strings.Cut(strings.TrimPrefix(rest, "invocation/"), "/")
		r.mu.Lock()
		ch := r.answers[id]
		delete(r.answers, id)
		r.mu.Unlock()
		if ch == nil {
			http.Error(w, "unknown request id", http.StatusBadRequest)
			return
		}
		switch kind {
		case "response":
			ch <- e2eAnswer{body: body}
		case "error":
			ch <- e2eAnswer{err: string(body) + " " + req.Header.Get("Lambda-Runtime-Function-Error-Type")}
		default:
			http.NotFound(w, req)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	default:
		http.NotFound(w, req)
	}
}

// invoke hands payload to the function and waits for its answer, as a synchronous Invoke does.
func (r *e2eRuntime) invoke(ctx context.Context, payload any) ([]byte, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.seq++
	id := fmt.Sprintf("%s-%04d", r.name, r.seq)
	ch := make(chan e2eAnswer, 1)
	r.answers[id] = ch
	r.mu.Unlock()
	inv := e2eInvocation{id: id, payload: b, deadline: time.Now().Add(r.timeout)}
	wait := time.NewTimer(r.timeout + 5*time.Second)
	defer wait.Stop()
	select {
	case r.next <- inv:
	case <-wait.C:
		return nil, fmt.Errorf("%s never asked for invocation %s (init error: %s)", r.name, id, r.initError())
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case a := <-ch:
		if a.err != "" {
			return nil, fmt.Errorf("%s invocation %s failed: %s", r.name, id, a.err)
		}
		return a.body, nil
	case <-wait.C:
		return nil, fmt.Errorf("%s invocation %s: no answer within %s", r.name, id, r.timeout)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *e2eRuntime) initError() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.initErr
}

// e2eBuild builds the functions' bootstraps for this machine, as the Makefile builds them for
// Lambda (lambda.norpc: the Runtime API only).
func e2eBuild(dir string, names ...string) (map[string]string, error) {
	out := map[string]string{}
	args := []string{"build", "-trimpath", "-tags", "lambda.norpc", "-o", dir + string(filepath.Separator)}
	for _, n := range names {
		args = append(args, "./"+n)
		out[n] = filepath.Join(dir, n)
	}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out, nil
}

// e2eProcess is one running function: its bootstrap, its Runtime API and what it printed.
type e2eProcess struct {
	rt     *e2eRuntime
	cmd    *exec.Cmd
	output *e2eLog
}

type e2eLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *e2eLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *e2eLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func e2eStart(t *testing.T, name, bin string, timeout time.Duration, env map[string]string) *e2eProcess {
	t.Helper()
	rt := newE2ERuntime(t, name, timeout)
	p := &e2eProcess{rt: rt, output: &e2eLog{}}
	p.cmd = exec.Command(bin)
	// Lambda's environment, and nothing from the test's: credentials, region and endpoint
	// come from here alone.
	p.cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(rt.srv.URL, "http://"),
		"AWS_LAMBDA_FUNCTION_NAME=replywindow-" + name, "AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256", "_HANDLER=bootstrap", "TZ=UTC",
		"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_EC2_METADATA_DISABLED=true",
	}
	for k, v := range env {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.output.String())
		}
	})
	return p
}

// e2eEnv is the function's environment as the template sets it, with every resource the
// template creates replaced by its moto counterpart. A placeholder left over means the test
// does not know a resource the function now reads: it fails rather than run half-configured.
func e2eEnv(t *testing.T, tpl *template, id string, set map[string]string) map[string]string {
	t.Helper()
	env := tpl.envOf(t, id, nil)
	for k, v := range set {
		env[k] = v
	}
	for k, v := range env {
		if strings.Contains(v, "placeholder") {
			t.Fatalf("%s: %s = %q is a template resource this test does not provide", id, k, v)
		}
	}
	return env
}

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds three binaries; run without -short")
	}
	ctx := awstest.Context(t)
	type built struct {
		bins map[string]string
		err  error
	}
	bins, dir := make(chan built, 1), t.TempDir()
	go func() { // while moto starts
		b, err := e2eBuild(dir, "webhook", "replier", "sweeper")
		bins <- built{b, err}
	}()

	// AWS on moto: the table, the jobs queue with its dead-letter queue, the secrets in SSM.
	cfg := awstest.Config(t)
	endpoint := awstest.Endpoint(t)
	ddb, sq, sm := dynamodb.NewFromConfig(cfg), awssqs.NewFromConfig(cfg), ssm.NewClient(cfg)
	table := awstest.Name(t, "table")
	if err := dynamo.CreateTable(ctx, ddb, table); err != nil {
		t.Fatal(err)
	}
	queueURL, dlqURL := e2eQueues(t, ctx, sq)
	store := dynamo.New(ddb, table)
	bus := eventstest.Listen(t) // the stack's event bus, and a user's rule sending every event to a queue
	tpl := loadTemplate(t)
	webhookEnv := e2eEnv(t, tpl, "WebhookFunction", map[string]string{
		"QUEUE_URL": queueURL, "TABLE_NAME": table, "AWS_ENDPOINT_URL": endpoint, "LOG_LEVEL": "info"})
	acct := devstack.DemoAccounts()[0]
	acct.UpdatedAt = time.Now().Add(-time.Hour) // connected an hour ago: the reconciler watches from then
	const appSecret, verifyToken, accountToken = "e2e-app-secret-7f3a", "replywindow-local-verify-token", "sbx-e2e-token-91c2"
	params := ssm.NewParams(sm, 0)
	for name, value := range map[string]string{
		webhookEnv["APP_SECRETS_PARAMS"]: appSecret, webhookEnv["VERIFY_TOKEN_PARAM"]: verifyToken, acct.TokenParam: accountToken,
	} {
		if name == "" {
			t.Fatalf("the template names no SSM parameter for a secret: %v", webhookEnv)
		}
		if err := params.Put(ctx, name, value); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.PutAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}

	// Meta, played by the sandbox.
	sbx := sandbox.New()
	sbx.AddAccount(acct.ID, accountToken, acct.Login, acct.PageID)
	sbx.StartBroadcast(acct.ID, devstack.DemoLiveMedia)
	graphSrv := httptest.NewServer(sbx)
	t.Cleanup(func() { sbx.Close(); graphSrv.Close() })

	bb := <-bins
	if bb.err != nil {
		t.Fatal(bb.err)
	}
	b := bb.bins
	hook := e2eStart(t, "webhook", b["webhook"], 10*time.Second, webhookEnv)
	rep := e2eStart(t, "replier", b["replier"], 30*time.Second, e2eEnv(t, tpl, "ReplierFunction", map[string]string{
		"TABLE_NAME": table, "GRAPH_API_URL": graphSrv.URL, "AWS_ENDPOINT_URL": endpoint, "META_APP_IDS": sandbox.DefaultAppID,
		"LINK_BASE_URL":  "https://links.e2e.example", // the demo account tracks no link: no secret is read
		"EVENT_BUS_NAME": bus.Bus, "EVENT_PUT_TIMEOUT": "20s"}))
	sweep := e2eStart(t, "sweeper", b["sweeper"], 50*time.Second, e2eEnv(t, tpl, "SweeperFunction", map[string]string{
		"TABLE_NAME": table, "QUEUE_URL": queueURL, "GRAPH_API_URL": graphSrv.URL, "AWS_ENDPOINT_URL": endpoint,
		"EVENT_BUS_NAME": bus.Bus, "EVENT_PUT_TIMEOUT": "20s"}))

	// The event source mapping between the queue and the replier.
	mapping := sqs.Mapping{Source: sqs.NewPoller(sq, queueURL), Handler: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		var resp events.SQSEventResponse
		out, err := rep.rt.invoke(ctx, ev)
		if err == nil {
			err = json.Unmarshal(out, &resp)
		}
		return resp, err
	}}
	drain := func(t *testing.T) {
		t.Helper()
		for range 50 {
			d, err := mapping.Once(ctx)
			if err != nil {
				t.Fatalf("event source mapping: %v", err)
			}
			if d.Err != nil {
				t.Fatalf("replier: %v", d.Err)
			}
			if d.Received == 0 {
				return
			}
			if d.Failed > 0 {
				t.Fatalf("replier failed %d of %d messages", d.Failed, d.Received)
			}
		}
		t.Fatal("the jobs queue never drained")
	}

	t.Run("handshake from events/", func(t *testing.T) {
		var req events.APIGatewayV2HTTPRequest
		e2eReadEvent(t, "webhook-handshake.json", &req)
		resp := e2eCall(t, ctx, hook, req)
		if resp.StatusCode != 200 || resp.Body != "1158201444" {
			t.Errorf("handshake answered %d %q", resp.StatusCode, resp.Body)
		}
	})

	// Each sample delivery: signed → webhook → SQS → replier → sandbox → DynamoDB, one at a
	// time so that the second comment by the same person meets the first one's record.
	for _, c := range devstack.DemoCases() {
		t.Run(c.Name, func(t *testing.T) {
			body := c.Body(time.Now())
			secret := appSecret
			if c.Forged {
				secret = devstack.DefaultAppSecret // a secret, not this app's
			} else {
				sbx.AddComment(c.Known())
			}
			req := events.APIGatewayV2HTTPRequest{
				Version: "2.0", RouteKey: "POST /webhook", RawPath: webhook.Path, Body: string(body),
				Headers: map[string]string{"content-type": "application/json", "x-hub-signature-256": webhook.Sign(body, secret)},
				RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "$default", RouteKey: "POST /webhook",
					HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: webhook.Path}},
			}
			for range c.Times {
				if resp := e2eCall(t, ctx, hook, req); resp.StatusCode != c.Status {
					t.Fatalf("webhook answered %d %q, want %d", resp.StatusCode, resp.Body, c.Status)
				}
			}
			if c.NoWebhook {
				// Only Meta has it, older than the reconciler's grace: the sweeper's reconcile
				// chore must find it and enqueue it.
				known := c.Known()
				known.CreatedAt = time.Now().Add(-5 * time.Minute)
				sbx.AddMedia(sandbox.Media{ID: c.MediaID, AccountID: acct.ID, ProductType: c.Product, CreatedAt: time.Now().Add(-time.Hour)})
				sbx.AddComment(known)
				var ev events.EventBridgeEvent
				e2eReadEvent(t, "sweeper-scheduled.json", &ev)
				if _, err := sweep.rt.invoke(ctx, ev); err != nil {
					t.Fatal(err)
				}
			}
			drain(t)
			rec, err := store.ByComment(ctx, c.CommentID)
			switch {
			case c.State == "" && !errors.Is(err, reply.ErrNotFound):
				t.Errorf("record %+v (%v), want none", rec, err)
			case c.State != "" && err != nil:
				t.Errorf("no record: %v", err)
			case c.State != "" && (rec.State != c.State || c.Reason != "" && rec.Reason != c.Reason):
				t.Errorf("record %s (%s), want %s (%s)", rec.State, rec.Reason, c.State, c.Reason)
			}
			if got := sbx.Delivered(c.CommentID); got != c.DMs {
				t.Errorf("sandbox delivered %d DMs, want %d", got, c.DMs)
			}
		})
	}

	// The sweeper, on the schedule's event from events/: a job parked earlier (rate limit) is
	// released and sent; one whose window closed while parked is expired and never sent.
	t.Run("sweeper releases and expires", func(t *testing.T) {
		now := time.Now()
		parked := e2eJob(acct.ID, "18000000000000101", "900000101", now.Add(-time.Hour))
		stale := e2eJob(acct.ID, "18000000000000102", "900000102", now.Add(-reply.Window-time.Hour))
		for _, j := range []reply.Job{parked, stale} {
			r := reply.NewParked(j, now.Add(-time.Minute), "rate_limited", now.Add(-2*time.Minute))
			if _, err := store.Create(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		var ev events.EventBridgeEvent
		e2eReadEvent(t, "sweeper-scheduled.json", &ev)
		if _, err := sweep.rt.invoke(ctx, ev); err != nil {
			t.Fatal(err)
		}
		drain(t)
		for _, w := range []struct {
			job   reply.Job
			state reply.State
			dms   int
		}{{parked, reply.StateSent, 1}, {stale, reply.StateExpired, 0}} {
			rec, err := store.ByComment(ctx, w.job.CommentID)
			if err != nil || rec.State != w.state {
				t.Errorf("comment %s: %s (%v), want %s", w.job.CommentID, rec.State, err, w.state)
			}
			if got := sbx.Delivered(w.job.CommentID); got != w.dms {
				t.Errorf("comment %s: %d DMs, want %d", w.job.CommentID, got, w.dms)
			}
		}
	})

	// The conversation after a private reply, through the real bootstraps: the funnel's taps,
	// posted to the webhook as Meta signs them, and the replier's follow-ups to the sandbox.
	t.Run("conversation after the private reply", func(t *testing.T) {
		post := func(body []byte) {
			t.Helper()
			req := events.APIGatewayV2HTTPRequest{
				Version: "2.0", RouteKey: "POST /webhook", RawPath: webhook.Path, Body: string(body),
				Headers: map[string]string{"content-type": "application/json", "x-hub-signature-256": webhook.Sign(body, appSecret)},
				RequestContext: events.APIGatewayV2HTTPRequestContext{Stage: "$default", RouteKey: "POST /webhook",
					HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: webhook.Path}},
			}
			if resp := e2eCall(t, ctx, hook, req); resp.StatusCode != 200 {
				t.Fatalf("webhook answered %d %q", resp.StatusCode, resp.Body)
			}
			drain(t)
		}
		turns, err := devstack.DemoFunnel(acct)
		if err != nil {
			t.Fatal(err)
		}
		for _, turn := range turns {
			if turn.Late > 0 {
				continue // the demo's backdating is the local stack's; TestFunnel covers late events
			}
			if turn.Follow {
				sbx.SetFollows(acct.ID, turn.Person, true)
			}
			before := len(devstack.Received(sbx, turn.Person))
			if turn.Entry != nil { // a story mention, an ig.me ref, an ice breaker (issue 25)
				post(turn.Entry(sbx, acct.ID, turn.Person))
			} else if turn.Payload != "" {
				_, body := sbx.Postback(acct.ID, turn.Person, turn.Payload, turn.Title)
				post(body)
			} else {
				_, body := sbx.Message(acct.ID, turn.Person, turn.Text)
				post(body)
			}
			got, where := devstack.Read(devstack.Received(sbx, turn.Person)[before:], acct.Disclosure)
			if strings.Join(got, "|") != strings.Join(turn.Want, "|") || where != cmp.Or(turn.Disclosure, devstack.DisclosedNone) {
				t.Errorf("%s: got %q (disclosure %s), want %q (disclosure %s)", turn.Name, got, where, turn.Want, turn.Disclosure)
			}
		}
		// Our own sends come back as echoes: they must not pause the conversation.
		for _, echo := range sbx.TakeEchoes() {
			post(echo)
		}
		if c, err := store.Conversation(ctx, acct.ID, "900000001"); err != nil || c.Paused(time.Now()) || c.Rule != "sourdough" {
			t.Errorf("conversation after our echoes: %+v (%v), want in the sourdough flow (the latest) and not paused", c, err)
		}
	})

	t.Run("funnel events on the bus", func(t *testing.T) {
		e2eCheckEvents(t, bus.Received(t), len(sbx.Deliveries()))
	})

	t.Run("ledger, dead letters and logs", func(t *testing.T) {
		if got := len(sbx.Deliveries()); got != 9 || sbx.Stats().Duplicates != 0 {
			t.Errorf("sandbox ledger: %d DMs, %d second replies; want 9 and 0: %+v", got, sbx.Stats().Duplicates, sbx.Deliveries())
		}
		if out := sweep.output.String(); !strings.Contains(out, `"Reconciled":1`) || !strings.Contains(out, "comment found without a webhook") {
			t.Errorf("the sweeper neither logged nor counted the comment it reconciled:\n%s", out)
		}
		if v, f, err := sqs.NewPoller(sq, dlqURL).Depth(ctx); err != nil || v+f != 0 {
			t.Errorf("dead-letter queue holds %d (%v)", v+f, err)
		}
		for _, p := range []*e2eProcess{hook, rep, sweep} {
			out := p.output.String()
			for _, secret := range []string{appSecret, accountToken} {
				if strings.Contains(out, secret) {
					t.Errorf("%s logged a secret", p.rt.name)
				}
			}
			// The log keys the serverless Go world reads, from the real runtime API's invocations.
			for _, key := range []string{`"service":"` + p.rt.name + `"`, `"function_request_id":"`, `"cold_start":true`, `"cold_start":false`} {
				if !strings.Contains(out, key) {
					t.Errorf("%s logged no %s:\n%s", p.rt.name, key, out)
				}
			}
			// Counts are JSON lines naming the function; only those an alarm watches carry EMF.
			if !strings.Contains(out, `"Function":"`+p.rt.name+`"`) {
				t.Errorf("%s wrote no counts:\n%s", p.rt.name, out)
			}
		}
	})
}

func e2eQueues(t *testing.T, ctx context.Context, sq *awssqs.Client) (queueURL, dlqURL string) {
	t.Helper()
	dlq, err := sq.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, "dlq"))})
	if err != nil {
		t.Fatal(err)
	}
	a, err := sq.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	q, err := sq.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, "jobs")),
		Attributes: map[string]string{"VisibilityTimeout": "180",
			"RedrivePolicy": fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"5"}`, a.Attributes["QueueArn"])}})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(q.QueueUrl), aws.ToString(dlq.QueueUrl)
}

func e2eReadEvent(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("events/%s: %v", name, err)
	}
}

func e2eCall(t *testing.T, ctx context.Context, p *e2eProcess, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	out, err := p.rt.invoke(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("webhook response %s: %v", out, err)
	}
	return resp
}

func e2eJob(account, comment, person string, at time.Time) reply.Job {
	return reply.Job{V: reply.JobVersion, AccountID: account, CommentID: comment, MediaID: "17800000000000002", ProductType: "REELS",
		FromID: person, FromUsername: "fan" + person[len(person)-3:], Text: "RECIPE", Kind: reply.KindReel,
		CommentedAt: at.Truncate(time.Second), DeliveredAt: at.Truncate(time.Second)}
}
