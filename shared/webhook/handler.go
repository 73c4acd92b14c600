// Package webhook is replywindow's front door: the API Gateway (HTTP API, payload 2.0) handler
// that answers Meta's subscription handshake, verifies each delivery's signature over the raw
// bytes, splits it into one job per comment and answers 200 only once every job is enqueued.
package webhook

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// Path is where Meta calls: GET for the handshake, POST for deliveries.
const Path = "/webhook"

// Metric names (CloudWatch namespace ReplyWindow, dimension Function=webhook).
const (
	MetricAccepted          = "Accepted"          // deliveries answered 200
	MetricEnqueued          = "Enqueued"          // jobs accepted by the queue
	MetricOwnCommentDropped = "OwnCommentDropped" // the account's own comments
	MetricSignatureRejected = "SignatureRejected" // 401s
	MetricIgnored           = "Ignored"           // items that are not comments to answer
	MetricMalformed         = "Malformed"         // 400s and 413s: bodies the webhook cannot take
	MetricMessagingReceived = "MessagingReceived" // messages, taps, reactions and echoes enqueued for the replier
	MetricSeen              = "MessagingSeen"     // messaging_seen (read) events, counted and dropped
	MetricEnqueueFailed     = "EnqueueFailed"     // deliveries answered 500 because jobs were not enqueued
	MetricRejected          = "Rejected"          // items with an id or a time Meta never sends, left out
	MetricStale             = "Stale"             // events older than Meta retries (StaleAfter): replays, left out
	MetricJobsRefused       = "JobsRefused"       // jobs the queue can never take (left out; logged)
	MetricNotEnqueued       = "NotEnqueued"       // jobs of deliveries answered 500 (Meta delivers them again)
	MetricBudgetSpent       = "BudgetSpent"       // deliveries answered 500 because the answer budget ran out
)

// deadlineMargin is kept between the answer and the Lambda deadline, so a function whose
// timeout is shorter than the answer budget still answers and logs before it is stopped.
const deadlineMargin = 500 * time.Millisecond

// Route answers requests for a path the webhook does not own (the data-deletion callback).
type Route func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Handler is the webhook function's handler.
type Handler struct {
	// Extra routes requests outside Path, keyed by path prefix ("/data-deletion" matches itself
	// and everything under "/data-deletion/"); the longest prefix wins.
	Extra map[string]Route

	cfg     Config
	queue   reply.Queue
	secrets Secrets
	metrics *telemetry.Metrics
	log     *slog.Logger
	now     func() time.Time
	emf     io.Writer // where metrics are flushed after each request

	webhooks reply.Webhooks // when accounts' webhooks last arrived (seen.go); nil: not recorded
	seen     seenMemo
}

// New is a handler enqueueing to q. m and log may be nil (no metrics, no logs).
func New(cfg Config, q reply.Queue, s Secrets, m *telemetry.Metrics, log *slog.Logger) *Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.AnswerBudget <= 0 {
		cfg.AnswerBudget = DefaultAnswerBudget
	}
	if cfg.MaxEventAge <= 0 {
		cfg.MaxEventAge = StaleAfter
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, queue: q, secrets: s, metrics: m, log: log, now: time.Now, emf: telemetry.Stdout}
}

// SetClock makes the handler judge events' age (and cap their times) by now instead of the real
// clock: for simulations whose deliveries carry a fake clock's times.
func (h *Handler) SetClock(now func() time.Time) { h.now = now }

// Handle answers one API Gateway request. It returns an error only for a panic-worthy state;
// every outcome Meta should see is a status code.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if h.metrics != nil {
		defer func() {
			if err := h.metrics.Flush(h.emf); err != nil {
				h.log.WarnContext(ctx, "flush metrics", "err", err)
			}
		}()
	}
	log := h.requestLogger(ctx, req)
	path := routePath(req)
	if path != Path && path != Path+"/" {
		if r := h.extra(path); r != nil {
			return r(ctx, req)
		}
		return text(http.StatusNotFound, "not found"), nil
	}
	switch method(req) {
	case http.MethodGet:
		return h.handshake(ctx, log, req), nil
	case http.MethodPost:
		return h.deliver(ctx, log, req), nil
	}
	resp := text(http.StatusMethodNotAllowed, "method not allowed")
	resp.Headers["Allow"] = "GET, POST"
	return resp, nil
}

// handshake answers Meta's subscription check: the challenge back when the token matches.
func (h *Handler) handshake(ctx context.Context, log *slog.Logger, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	q := query(req)
	want, err := h.secrets.VerifyToken(ctx)
	if err != nil {
		log.ErrorContext(ctx, "handshake: verify token unavailable", "err", err)
		return text(http.StatusInternalServerError, "internal error")
	}
	challenge := q.Get("hub.challenge")
	ok := q.Get("hub.mode") == "subscribe" && want != "" && challenge != "" &&
		subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(want)) == 1
	if !ok {
		log.WarnContext(ctx, "handshake refused", "mode", q.Get("hub.mode"))
		return text(http.StatusForbidden, "forbidden")
	}
	log.InfoContext(ctx, "handshake accepted")
	return text(http.StatusOK, challenge)
}

// deliver verifies, parses and enqueues one delivery, and answers within the answer budget.
func (h *Handler) deliver(ctx context.Context, log *slog.Logger, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	start := time.Now()
	ctx, cancel := h.budget(ctx, start)
	defer cancel()
	body, status := h.body(req)
	if status != 0 {
		h.count(MetricMalformed, 1)
		log.WarnContext(ctx, "delivery refused", "status", status, "bytes", len(req.Body), "base64", req.IsBase64Encoded)
		return text(status, http.StatusText(status))
	}
	secrets, err := h.secrets.AppSecrets(ctx)
	if err != nil {
		log.ErrorContext(ctx, "delivery: app secrets unavailable", "err", err)
		return text(http.StatusInternalServerError, "internal error")
	}
	if err := Verify(body, header(req.Headers, SignatureHeader), secrets); err != nil {
		if errors.Is(err, ErrNoSecrets) {
			log.ErrorContext(ctx, "delivery: no app secret configured")
			return text(http.StatusInternalServerError, "internal error")
		}
		h.count(MetricSignatureRejected, 1)
		log.WarnContext(ctx, "delivery: signature rejected", "reason", err.Error(), "bytes", len(body))
		return text(http.StatusUnauthorized, "bad signature")
	}
	now := h.now()
	d, err := Parse(body, now)
	if err != nil {
		h.count(MetricMalformed, 1)
		log.WarnContext(ctx, "delivery: malformed", "err", err, "bytes", len(body))
		return text(http.StatusBadRequest, "malformed delivery")
	}
	d.DropStale(now, h.cfg.MaxEventAge)
	h.count(MetricOwnCommentDropped, d.OwnDropped)
	h.count(MetricIgnored, d.Ignored)
	h.count(MetricRejected, d.Rejected)
	h.count(MetricStale, d.Stale)
	h.count(MetricMessagingReceived, d.Messaging)
	h.count(MetricSeen, d.Seen)
	if d.Rejected > 0 {
		// Signed by Meta's secret, yet holding ids or times Meta never sends: worth a look, never
		// worth a 400 (the rest of the delivery is good) or a 500 (a retry brings the same bytes).
		log.WarnContext(ctx, "delivery: items rejected", "rejected", d.Rejected, "bytes", len(body))
	}
	if d.Stale > 0 {
		// Signed, but older than Meta ever retries: a replay of a captured delivery. Answered 200
		// (a 4xx or 5xx would only be retried) with the stale events left out.
		log.WarnContext(ctx, "delivery: stale events left out", "stale", d.Stale, "bytes", len(body))
	}
	if log.Enabled(ctx, slog.LevelDebug) {
		for _, j := range d.Jobs {
			log.DebugContext(ctx, "comment", "account", j.AccountID, "comment", j.CommentID, "media", j.MediaID, "kind", j.Kind, "from", j.FromID, "text", j.Text)
		}
	}
	enqueued := len(d.Jobs)
	h.recordSeen(ctx, log, d.Jobs, now)
	if err := h.enqueue(ctx, d.Jobs); err != nil {
		var refused *reply.RefusedJobsError
		if !errors.As(err, &refused) {
			h.count(MetricEnqueueFailed, 1)
			h.count(MetricNotEnqueued, len(d.Jobs))
			if errors.Is(err, errBudgetSpent) {
				h.count(MetricBudgetSpent, 1)
			}
			log.ErrorContext(ctx, "delivery: jobs not enqueued; Meta will retry", "err", err, "jobs", len(d.Jobs),
				"ms", time.Since(start).Milliseconds())
			return text(http.StatusInternalServerError, "not enqueued")
		}
		// Every other job is queued, and the same bytes would be refused again: a 500 would only
		// make Meta retry for hours, then unsubscribe the app.
		comments := make([]string, len(refused.Jobs))
		for i, j := range refused.Jobs {
			comments[i] = j.CommentID
		}
		h.count(MetricJobsRefused, len(refused.Jobs))
		enqueued -= len(refused.Jobs)
		log.ErrorContext(ctx, "delivery: jobs the queue can never take were left out", "err", err, "comments", comments)
	}
	h.count(MetricEnqueued, enqueued)
	h.count(MetricAccepted, 1)
	log.InfoContext(ctx, "delivery accepted", "object", d.Object, "jobs", enqueued, "own_dropped", d.OwnDropped,
		"ignored", d.Ignored, "rejected", d.Rejected, "stale", d.Stale, "messaging", d.Messaging, "bytes", len(body), "ms", time.Since(start).Milliseconds())
	return text(http.StatusOK, "EVENT_RECEIVED")
}

// budget is the context a delivery is answered within: the configured answer budget from start,
// and never later than deadlineMargin before the invocation's own deadline.
func (h *Handler) budget(ctx context.Context, start time.Time) (context.Context, context.CancelFunc) {
	end := start.Add(h.cfg.AnswerBudget)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-deadlineMargin).Before(end) {
		end = dl.Add(-deadlineMargin)
	}
	return context.WithDeadlineCause(ctx, end, errBudgetSpent)
}

// errBudgetSpent is why a delivery's context ends when its answer budget runs out.
var errBudgetSpent = errors.New("answer budget spent")

// enqueue hands the jobs to the queue and returns when it answers or when ctx ends, whichever
// comes first: a queue that does not heed ctx cannot hold the answer past the budget.
func (h *Handler) enqueue(ctx context.Context, jobs []reply.Job) error {
	done := make(chan error, 1)
	go func() { done <- h.queue.Enqueue(ctx, jobs) }()
	select {
	case err := <-done:
		if err != nil && context.Cause(ctx) == errBudgetSpent {
			return fmt.Errorf("%w after %s: %w", errBudgetSpent, h.cfg.AnswerBudget, err)
		}
		return err
	case <-ctx.Done():
		return fmt.Errorf("enqueue %d jobs: %w", len(jobs), context.Cause(ctx))
	}
}

// body is the raw delivery, or the status to refuse it with.
func (h *Handler) body(req events.APIGatewayV2HTTPRequest) ([]byte, int) {
	limit := h.cfg.MaxBodyBytes
	if !req.IsBase64Encoded {
		if len(req.Body) > limit {
			return nil, http.StatusRequestEntityTooLarge
		}
		return []byte(req.Body), 0
	}
	if len(req.Body) > base64.StdEncoding.EncodedLen(limit) {
		return nil, http.StatusRequestEntityTooLarge
	}
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		return nil, http.StatusBadRequest
	}
	if len(b) > limit {
		return nil, http.StatusRequestEntityTooLarge
	}
	return b, 0
}

func (h *Handler) extra(path string) Route {
	prefixes := make([]string, 0, len(h.Extra))
	for p := range h.Extra {
		prefixes = append(prefixes, p)
	}
	sort.Slice(prefixes, func(i, j int) bool { return len(prefixes[i]) > len(prefixes[j]) })
	for _, p := range prefixes {
		base := strings.TrimRight(p, "/")
		if path == base || strings.HasPrefix(path, base+"/") {
			return h.Extra[p]
		}
	}
	return nil
}

func (h *Handler) count(name string, n int) {
	if h.metrics != nil && n > 0 {
		h.metrics.Count(name, n)
	}
}

// requestLogger carries the Lambda request id (and API Gateway's) on every line of a request.
func (h *Handler) requestLogger(ctx context.Context, req events.APIGatewayV2HTTPRequest) *slog.Logger {
	log := h.log
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		log = log.With("request_id", lc.AwsRequestID)
	}
	if id := req.RequestContext.RequestID; id != "" {
		log = log.With("api_request_id", id)
	}
	return log
}

// routePath is the request's path without a named stage's prefix.
func routePath(req events.APIGatewayV2HTTPRequest) string {
	p := req.RawPath
	if p == "" {
		p = req.RequestContext.HTTP.Path
	}
	if st := req.RequestContext.Stage; st != "" && st != "$default" {
		if rest, ok := strings.CutPrefix(p, "/"+st); ok && (rest == "" || rest[0] == '/') {
			p = rest
		}
	}
	if p == "" {
		p = "/"
	}
	return p
}

func method(req events.APIGatewayV2HTTPRequest) string {
	return strings.ToUpper(req.RequestContext.HTTP.Method)
}

func query(req events.APIGatewayV2HTTPRequest) url.Values {
	if req.RawQueryString != "" {
		if v, err := url.ParseQuery(req.RawQueryString); err == nil {
			return v
		}
	}
	v := url.Values{}
	for k, val := range req.QueryStringParameters {
		v.Set(k, val)
	}
	return v
}

// header finds a header whatever its case (API Gateway lower-cases names; tests may not).
func header(h map[string]string, name string) string {
	if v, ok := h[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

func text(status int, body string) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8"},
		Body:       body,
	}
}
