package webhook

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

const (
	testSecret  = "replywindow-test-app-secret"
	otherSecret = "replywindow-test-fb-app-secret"
	testToken   = "replywindow-test-verify-token"
)

// recorder is a reply.Queue that keeps what it is given, or refuses it with err.
type recorder struct {
	mu   sync.Mutex
	jobs []reply.Job
	err  error
}

func (r *recorder) Enqueue(_ context.Context, jobs []reply.Job) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.jobs = append(r.jobs, jobs...)
	return nil
}

// failingSecrets cannot reach its store.
type failingSecrets struct{}

func (failingSecrets) AppSecrets(context.Context) ([]string, error) {
	return nil, errors.New("ssm down")
}
func (failingSecrets) VerifyToken(context.Context) (string, error) { return "", errors.New("ssm down") }

func post(body []byte, sig string) events.APIGatewayV2HTTPRequest {
	req := request(http.MethodPost, "/webhook", "")
	req.Body = string(body)
	req.Headers["content-type"] = "application/json"
	if sig != "" {
		req.Headers["x-hub-signature-256"] = sig
	}
	return req
}

func request(method, path, rawQuery string) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: path, RawQueryString: rawQuery,
		Headers: map[string]string{"user-agent": "facebookexternalua"},
	}
	req.RequestContext.HTTP.Method = method
	req.RequestContext.HTTP.Path = path
	req.RequestContext.Stage = "$default"
	req.RequestContext.RequestID = "api-req-1"
	return req
}

type harness struct {
	h       *Handler
	queue   *recorder
	metrics *telemetry.Metrics
	logs    *bytes.Buffer
	emf     *bytes.Buffer
}

func newHarness(t testing.TB, level slog.Level) *harness {
	t.Helper()
	cfg := Config{MaxBodyBytes: 64 << 10}
	hs := &harness{queue: &recorder{}, metrics: telemetry.NewMetrics("webhook"), logs: &bytes.Buffer{}, emf: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(hs.logs, &slog.HandlerOptions{Level: level}))
	hs.h = New(cfg, hs.queue, StaticSecrets{Apps: []string{testSecret, otherSecret}, Token: testToken}, hs.metrics, log)
	hs.h.now = func() time.Time { return now }
	hs.h.emf = hs.emf
	return hs
}

func TestHandle(t *testing.T) {
	comment := delivery(t, "comment.json")
	// The same delivery as re-marshalled JSON: ä instead of \u00e4, / instead of \/. Signing
	// these bytes must not verify the bytes Meta sent, and vice versa.
	var v any
	if err := json.Unmarshal(comment, &v); err != nil {
		t.Fatal(err)
	}
	remarshalled, _ := json.Marshal(v)
	big := append(append([]byte(`{"object":"instagram","entry":[],"pad":"`), bytes.Repeat([]byte("x"), 64<<10)...), `"}`...)

	tests := []struct {
		name     string
		req      events.APIGatewayV2HTTPRequest
		secrets  Secrets
		queueErr error
		status   int
		body     string // exact answer body, when set
		jobs     int
		metrics  map[string]float64
	}{
		{
			name:   "handshake",
			req:    request("GET", "/webhook", "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token="+testToken),
			status: 200, body: "1158201444",
		},
		{
			name:   "handshake from the parameter map",
			req:    withQuery(request("GET", "/webhook", ""), map[string]string{"hub.mode": "subscribe", "hub.challenge": "42", "hub.verify_token": testToken}),
			status: 200, body: "42",
		},
		{name: "handshake with a wrong token", req: request("GET", "/webhook", "hub.mode=subscribe&hub.challenge=1&hub.verify_token=guess"), status: 403},
		{name: "handshake with a token prefix", req: request("GET", "/webhook", "hub.mode=subscribe&hub.challenge=1&hub.verify_token=replywindow"), status: 403},
		{name: "handshake with a wrong mode", req: request("GET", "/webhook", "hub.mode=unsubscribe&hub.challenge=1&hub.verify_token="+testToken), status: 403},
		{name: "handshake without a challenge", req: request("GET", "/webhook", "hub.mode=subscribe&hub.verify_token="+testToken), status: 403},
		{name: "handshake without a configured token", req: request("GET", "/webhook", "hub.mode=subscribe&hub.challenge=1&hub.verify_token="), secrets: StaticSecrets{Apps: []string{testSecret}}, status: 403},
		{name: "handshake while secrets are unreachable", req: request("GET", "/webhook", "hub.mode=subscribe&hub.challenge=1&hub.verify_token="+testToken), secrets: failingSecrets{}, status: 500},
		{
			name: "signed comment", req: post(comment, Sign(comment, testSecret)), status: 200, jobs: 1,
			metrics: map[string]float64{MetricAccepted: 1, MetricEnqueued: 1},
		},
		{
			name: "signed with the second app secret", req: post(comment, Sign(comment, otherSecret)), status: 200, jobs: 1,
			metrics: map[string]float64{MetricAccepted: 1, MetricEnqueued: 1},
		},
		{
			name: "header name in any case", req: withHeader(post(comment, ""), "X-Hub-Signature-256", Sign(comment, testSecret)), status: 200, jobs: 1,
		},
		{
			name: "base64-encoded body", req: base64Body(post(comment, Sign(comment, testSecret))), status: 200, jobs: 1,
		},
		{name: "no signature", req: post(comment, ""), status: 401, metrics: map[string]float64{MetricSignatureRejected: 1, MetricAccepted: 0}},
		{name: "signature by another secret", req: post(comment, Sign(comment, "not-the-secret")), status: 401, metrics: map[string]float64{MetricSignatureRejected: 1}},
		{name: "sha1 signature format", req: post(comment, "sha1="+strings.Repeat("a", 40)), status: 401},
		{name: "signature of the re-marshalled body", req: post(comment, Sign(remarshalled, testSecret)), status: 401},
		{name: "re-marshalled body under Meta's signature", req: post(remarshalled, Sign(comment, testSecret)), status: 401},
		{name: "signature over a body with a byte changed", req: post(bytes.Replace(comment, []byte("Rezept"), []byte("Rezepz"), 1), Sign(comment, testSecret)), status: 401},
		{
			name: "malformed JSON, validly signed", req: post(delivery(t, "truncated.json"), Sign(delivery(t, "truncated.json"), testSecret)),
			status: 400, metrics: map[string]float64{MetricMalformed: 1, MetricAccepted: 0},
		},
		{name: "invalid base64", req: base64Raw(post(nil, Sign(nil, testSecret)), "%%%"), status: 400, metrics: map[string]float64{MetricMalformed: 1}},
		{name: "body over the cap", req: post(big, Sign(big, testSecret)), status: 413, metrics: map[string]float64{MetricSignatureRejected: 0, MetricMalformed: 1}},
		{name: "base64 body over the cap", req: base64Body(post(big, Sign(big, testSecret))), status: 413},
		{
			name: "other object", req: signed(t, "other-object.json"), status: 200,
			metrics: map[string]float64{MetricIgnored: 1, MetricAccepted: 1, MetricEnqueued: 0},
		},
		{
			name: "good and unknown items", req: signed(t, "mixed.json"), status: 200, jobs: 2,
			metrics: map[string]float64{MetricIgnored: 5, MetricEnqueued: 2},
		},
		{
			name: "own comment", req: signed(t, "own.json"), status: 200,
			metrics: map[string]float64{MetricOwnCommentDropped: 1, MetricEnqueued: 0, MetricAccepted: 1},
		},
		{
			name: "messaging events are enqueued; reads counted and dropped", req: signed(t, "messaging.json"), status: 200, jobs: 8,
			metrics: map[string]float64{MetricMessagingReceived: 8, MetricSeen: 1, MetricIgnored: 3, MetricEnqueued: 8},
		},
		{
			name: "a malformed messaging event is counted, never a 500", req: signed(t, "messaging-odd.json"), status: 200, jobs: 2,
			metrics: map[string]float64{MetricMessagingReceived: 2, MetricIgnored: 2, MetricRejected: 1, MetricEnqueued: 2},
		},
		{
			// What a retry cannot fix never earns a 500: Meta would resend the same bytes for hours.
			name: `"time":"NaN" and ids that are not digits`, req: signed(t, "bad-values.json"), status: 200, jobs: 2,
			metrics: map[string]float64{MetricRejected: 9, MetricEnqueued: 2, MetricAccepted: 1},
		},
		{
			name: "queue refuses a job for good", req: post(comment, Sign(comment, testSecret)),
			queueErr: &reply.RefusedJobsError{Jobs: []reply.Job{{CommentID: "17900000000000001"}}, Err: errors.New("InvalidMessageContents")},
			status:   200, metrics: map[string]float64{MetricAccepted: 1, MetricEnqueued: 0, MetricJobsRefused: 1, MetricEnqueueFailed: 0},
		},
		{
			name: "queue refuses", req: post(comment, Sign(comment, testSecret)), queueErr: errors.New("enqueue: 1 of 1 jobs not accepted by SQS"),
			status: 500, metrics: map[string]float64{MetricAccepted: 0, MetricEnqueued: 0, MetricEnqueueFailed: 1, MetricNotEnqueued: 1, MetricBudgetSpent: 0},
		},
		{name: "secrets unreachable", req: post(comment, Sign(comment, testSecret)), secrets: failingSecrets{}, status: 500},
		{name: "no app secret configured", req: post(comment, Sign(comment, "")), secrets: StaticSecrets{Token: testToken}, status: 500},
		{name: "PUT", req: request("PUT", "/webhook", ""), status: 405},
		{name: "other path", req: request("POST", "/hooks", ""), status: 404},
		{name: "path sharing the prefix", req: request("GET", "/webhooks", ""), status: 404},
		{name: "named stage prefix", req: withStage(request("GET", "/prod/webhook", "hub.mode=subscribe&hub.challenge=7&hub.verify_token="+testToken), "prod"), status: 200, body: "7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, slog.LevelInfo)
			if tt.secrets != nil {
				hs.h.secrets = tt.secrets
			}
			hs.queue.err = tt.queueErr
			resp, err := hs.h.Handle(context.Background(), tt.req)
			if err != nil {
				t.Fatalf("Handle: %v", err)
			}
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d (%s), want %d", resp.StatusCode, resp.Body, tt.status)
			}
			if tt.body != "" && resp.Body != tt.body {
				t.Errorf("body %q, want %q", resp.Body, tt.body)
			}
			if ct := resp.Headers["Content-Type"]; !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q, want text/plain", ct)
			}
			if len(hs.queue.jobs) != tt.jobs {
				t.Errorf("%d jobs enqueued, want %d", len(hs.queue.jobs), tt.jobs)
			}
			for name, want := range tt.metrics {
				if got := hs.metrics.Get(name); got != want {
					t.Errorf("metric %s = %v, want %v", name, got, want)
				}
			}
			// The counts are flushed as the function's JSON line (EMF only for what an alarm reads).
			if len(tt.metrics) > 0 && !strings.Contains(hs.emf.String(), `"Function":"webhook"`) {
				t.Errorf("no counts line flushed: %q", hs.emf.String())
			}
			if resp.StatusCode == 405 && resp.Headers["Allow"] != "GET, POST" {
				t.Errorf("405 without Allow: %v", resp.Headers)
			}
		})
	}
}

func TestHandleExtraRoutes(t *testing.T) {
	hs := newHarness(t, slog.LevelInfo)
	var got []string
	route := func(name string) Route {
		return func(_ context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			got = append(got, name+" "+req.RawPath)
			return events.APIGatewayV2HTTPResponse{StatusCode: 202}, nil
		}
	}
	hs.h.Extra = map[string]Route{"/data-deletion": route("deletion"), "/data-deletion/admin/": route("admin")}
	tests := []struct {
		path   string
		status int
		want   string
	}{
		{"/data-deletion", 202, "deletion /data-deletion"},
		{"/data-deletion/ABC123", 202, "deletion /data-deletion/ABC123"},
		{"/data-deletion/admin/x", 202, "admin /data-deletion/admin/x"},
		{"/data-deletionx", 404, ""},
		{"/webhook", 405, ""}, // the webhook's own path is never handed out
	}
	for _, tt := range tests {
		got = nil
		resp, err := hs.h.Handle(context.Background(), request("DELETE", tt.path, ""))
		if err != nil || resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, %v; want %d", tt.path, resp.StatusCode, err, tt.status)
		}
		if (tt.want == "" && len(got) != 0) || (tt.want != "" && (len(got) != 1 || got[0] != tt.want)) {
			t.Errorf("%s: routed %v, want %q", tt.path, got, tt.want)
		}
	}
}

// TestHandleLogs: no secret, token or signature in any log line; comment text only at debug.
func TestHandleLogs(t *testing.T) {
	comment := delivery(t, "comment.json")
	sig := Sign(comment, testSecret)
	reqs := []events.APIGatewayV2HTTPRequest{
		post(comment, sig),
		post(comment, Sign(comment, "wrong")),
		post(comment, ""),
		request("GET", "/webhook", "hub.mode=subscribe&hub.challenge=1&hub.verify_token="+testToken),
		request("GET", "/webhook", "hub.mode=subscribe&hub.challenge=1&hub.verify_token=attacker-guess"),
	}
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo} {
		hs := newHarness(t, level)
		for _, r := range reqs {
			if _, err := hs.h.Handle(context.Background(), r); err != nil {
				t.Fatal(err)
			}
		}
		logs := hs.logs.String()
		for _, secret := range []string{testSecret, otherSecret, testToken, sig[len("sha256="):], Sign(comment, "wrong")[len("sha256="):], "attacker-guess"} {
			if strings.Contains(logs, secret) {
				t.Errorf("level %v: logs contain %q:\n%s", level, secret, logs)
			}
		}
		hasText := strings.Contains(logs, "Rezept bitte")
		if hasText != (level == slog.LevelDebug) {
			t.Errorf("level %v: comment text in logs = %v", level, hasText)
		}
		if !strings.Contains(logs, `"api_request_id":"api-req-1"`) {
			t.Errorf("level %v: no request id in logs:\n%s", level, logs)
		}
	}
}

func signed(t testing.TB, file string) events.APIGatewayV2HTTPRequest {
	b := delivery(t, file)
	return post(b, Sign(b, testSecret))
}

func withQuery(req events.APIGatewayV2HTTPRequest, q map[string]string) events.APIGatewayV2HTTPRequest {
	req.QueryStringParameters = q
	return req
}

func withHeader(req events.APIGatewayV2HTTPRequest, k, v string) events.APIGatewayV2HTTPRequest {
	req.Headers[k] = v
	return req
}

func withStage(req events.APIGatewayV2HTTPRequest, stage string) events.APIGatewayV2HTTPRequest {
	req.RequestContext.Stage = stage
	return req
}

func base64Body(req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPRequest {
	return base64Raw(req, base64.StdEncoding.EncodeToString([]byte(req.Body)))
}

func base64Raw(req events.APIGatewayV2HTTPRequest, body string) events.APIGatewayV2HTTPRequest {
	req.Body, req.IsBase64Encoded = body, true
	return req
}

// stuckQueue never answers by itself: it returns when ctx ends, or (ignoresCtx) only when the
// test is over, as an SDK call stuck below the context would.
type stuckQueue struct {
	ignoresCtx bool
	release    chan struct{}
}

func (q stuckQueue) Enqueue(ctx context.Context, _ []reply.Job) error {
	if q.ignoresCtx {
		<-q.release
		return errors.New("released")
	}
	<-ctx.Done()
	return fmt.Errorf("send message batch: %w", ctx.Err())
}

// TestHandleAnswersWithinBudget: a queue that does not answer gets the delivery a 500 and
// BudgetSpent once the answer budget or the invocation's deadline (less a margin) comes, never
// a Lambda timeout without an answer.
func TestHandleAnswersWithinBudget(t *testing.T) {
	comment := delivery(t, "comment.json")
	tests := []struct {
		name       string
		budget     time.Duration
		deadline   time.Duration // the invocation's deadline from now; 0 for none
		ignoresCtx bool
	}{
		{name: "queue heeds the context", budget: 20 * time.Millisecond},
		{name: "queue ignores the context", budget: 20 * time.Millisecond, ignoresCtx: true},
		{name: "invocation deadline before the budget", budget: time.Hour, deadline: deadlineMargin + 20*time.Millisecond, ignoresCtx: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, slog.LevelInfo)
			q := stuckQueue{ignoresCtx: tt.ignoresCtx, release: make(chan struct{})}
			t.Cleanup(func() { close(q.release) })
			hs.h.queue = q
			hs.h.cfg.AnswerBudget = tt.budget
			ctx := context.Background()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.deadline)
				defer cancel()
			}
			resp, err := hs.h.Handle(ctx, post(comment, Sign(comment, testSecret)))
			if err != nil || resp.StatusCode != 500 {
				t.Fatalf("status %d, err %v; want 500", resp.StatusCode, err)
			}
			want := map[string]float64{MetricBudgetSpent: 1, MetricEnqueueFailed: 1, MetricNotEnqueued: 1, MetricAccepted: 0}
			for name, w := range want {
				if got := hs.metrics.Get(name); got != w {
					t.Errorf("metric %s = %v, want %v", name, got, w)
				}
			}
			if !strings.Contains(hs.logs.String(), errBudgetSpent.Error()) {
				t.Errorf("no log line names the spent budget: %s", hs.logs.String())
			}
		})
	}
}
