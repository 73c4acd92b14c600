package deletion

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// Route is the path Meta posts to; a request's status lives under Route + "/" + code.
const Route = "/data-deletion"

// DefaultMaxAge is how old a signed request may be. Meta calls back as the person asks, so an
// old request is a replay; an hour leaves room for Meta's retries.
const DefaultMaxAge = time.Hour

// maxBody caps the form body: a signed request is a few hundred bytes.
const maxBody = 16 << 10

// Secrets returns the app secrets a signed request may be signed with (Instagram-Login and
// Facebook-Login apps, and the old one during a rotation).
type Secrets func(ctx context.Context) ([]string, error)

// StaticSecrets is a Secrets that always returns list (tests and the local stack).
func StaticSecrets(list ...string) Secrets {
	return func(context.Context) ([]string, error) { return list, nil }
}

// Handler answers Meta's data-deletion callback (POST /data-deletion) and the status page it
// links to (GET /data-deletion/{code}). Both methods fit webhook.Route.
type Handler struct {
	Store   reply.Deletions
	Secrets Secrets
	// BaseURL is the public base the status URL is built on (e.g. "https://api.example.com");
	// empty means the domain and stage of the request itself.
	BaseURL string
	MaxAge  time.Duration // 0 means DefaultMaxAge
	Clock   reply.Clock   // nil means the system clock
	Log     *slog.Logger  // nil means no logs
	Metrics *telemetry.Metrics
}

// Serve answers both routes by method, for a router keyed by path prefix (webhook.Handler.Extra
// under Route): POST is Request, GET and HEAD are Status.
func (h *Handler) Serve(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	switch req.RequestContext.HTTP.Method {
	case http.MethodPost:
		return h.Request(ctx, req)
	case http.MethodGet, http.MethodHead:
		return h.Status(ctx, req)
	}
	return answer(http.StatusMethodNotAllowed, map[string]string{"error": "use POST, or GET for a status"}), nil
}

// Request is POST /data-deletion: it verifies signed_request, records a pending deletion and
// answers {"url", "confirmation_code"}. A request that is unsigned, tampered with or too old gets
// 400 and records nothing.
func (h *Handler) Request(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if m := req.RequestContext.HTTP.Method; m != "" && m != http.MethodPost {
		return answer(http.StatusMethodNotAllowed, map[string]string{"error": "use POST"}), nil
	}
	body, err := bodyOf(req)
	if err != nil {
		h.reject("body")
		return answer(http.StatusBadRequest, map[string]string{"error": "body is not valid base64"}), nil
	}
	if len(body) > maxBody {
		h.reject("too_large")
		return answer(http.StatusRequestEntityTooLarge, map[string]string{"error": "body too large"}), nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		h.reject("form")
		return answer(http.StatusBadRequest, map[string]string{"error": "body is not a form"}), nil
	}
	signed := form.Get("signed_request")
	secrets, err := h.Secrets(ctx)
	if err != nil {
		h.logger().ErrorContext(ctx, "data deletion: app secrets unavailable", "err", err)
		return answer(http.StatusInternalServerError, map[string]string{"error": "try again later"}), nil
	}
	now := h.now()
	p, key, err := verify(signed, secrets, now, h.maxAge())
	if err != nil {
		reason := rejectReason(err)
		h.reject(reason)
		// The signed request itself is never logged: it carries the signature.
		h.logger().WarnContext(ctx, "data deletion: signed request refused", "reason", reason, "err", err)
		return answer(http.StatusBadRequest, map[string]string{"error": "invalid signed_request"}), nil
	}
	d := reply.Deletion{Code: Code(key, reply.DeletionUser, p.UserID, time.Unix(p.IssuedAt, 0)), Kind: reply.DeletionUser,
		UserID: p.UserID, State: reply.DeletionPending, RequestedAt: now, Version: 1}
	stored, err := h.Store.OpenDeletion(ctx, d)
	switch {
	case errors.Is(err, reply.ErrExists):
		// The same request delivered or encoded again, or another while the user's first is
		// pending: the one deletion under way answers for all of them.
	case err != nil:
		h.logger().ErrorContext(ctx, "data deletion: store request", "code", d.Code, "err", err)
		return answer(http.StatusInternalServerError, map[string]string{"error": "try again later"}), nil
	case h.Metrics != nil:
		h.Metrics.Count("DeletionRequested", 1)
	}
	code := stored.Code
	h.logger().InfoContext(ctx, "data deletion requested", "code", code)
	return answer(http.StatusOK, map[string]string{
		"url":               h.statusURL(req, code),
		"confirmation_code": code,
	}), nil
}

// StatusAnswer is what GET /data-deletion/{code} answers: what Meta requires of the page (a
// human-readable status of the request the code names), and nothing more. No times and no
// counts: a page anyone holding the code can open must not tell when a person asked, when it
// was done or how much was removed (issue 24, finding 2). We never refuse a deletion, so there
// is no refusal to justify.
type StatusAnswer struct {
	ConfirmationCode string `json:"confirmation_code"`
	Status           string `json:"status"`      // reply.DeletionPending or reply.DeletionDone
	Explanation      string `json:"explanation"` // the status in words
}

// Explanations of each status, as the status page words them.
const (
	ExplainPending = "We received your request to delete your data and are deleting it. Check this page again to see when it is done."
	ExplainDone    = "Your data has been deleted."
)

// Status is GET /data-deletion/{code}: where the deletion stands. It never shows whose it is.
func (h *Handler) Status(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	if m := req.RequestContext.HTTP.Method; m != "" && m != http.MethodGet && m != http.MethodHead {
		return answer(http.StatusMethodNotAllowed, map[string]string{"error": "use GET"}), nil
	}
	code := req.PathParameters["code"]
	if code == "" {
		code = path.Base(req.RawPath)
	}
	if !validCode(code) {
		return answer(http.StatusNotFound, map[string]string{"error": "unknown confirmation code"}), nil
	}
	d, err := h.Store.Deletion(ctx, code)
	switch {
	case errors.Is(err, reply.ErrNotFound):
		return answer(http.StatusNotFound, map[string]string{"error": "unknown confirmation code"}), nil
	case err != nil:
		h.logger().ErrorContext(ctx, "data deletion: read status", "code", code, "err", err)
		return answer(http.StatusInternalServerError, map[string]string{"error": "try again later"}), nil
	}
	a := StatusAnswer{ConfirmationCode: d.Code, Status: reply.DeletionPending, Explanation: ExplainPending}
	if d.State == reply.DeletionDone {
		a.Status, a.Explanation = reply.DeletionDone, ExplainDone
	}
	return answer(http.StatusOK, a), nil
}

func bodyOf(req events.APIGatewayV2HTTPRequest) ([]byte, error) {
	if !req.IsBase64Encoded {
		return []byte(req.Body), nil
	}
	r := base64.NewDecoder(base64.StdEncoding, strings.NewReader(req.Body))
	return io.ReadAll(io.LimitReader(r, maxBody+1))
}

func rejectReason(err error) string {
	switch {
	case errors.Is(err, ErrUnsigned):
		return "unsigned"
	case errors.Is(err, ErrBadSignature):
		return "bad_signature"
	case errors.Is(err, ErrExpired):
		return "expired"
	}
	return "malformed"
}

func (h *Handler) reject(reason string) {
	if h.Metrics != nil {
		h.Metrics.Count("DeletionRejected", 1, "Reason", reason)
	}
}

// statusURL is where the person can follow the deletion. Without a configured base it is built
// from the request: its domain, and whatever stage prefix precedes the route in the path.
func (h *Handler) statusURL(req events.APIGatewayV2HTTPRequest, code string) string {
	base := strings.TrimRight(h.BaseURL, "/")
	if base == "" {
		host := req.RequestContext.DomainName
		if host == "" {
			host = req.Headers["host"]
		}
		prefix := req.RawPath
		if i := strings.LastIndex(prefix, Route); i >= 0 {
			prefix = prefix[:i]
		} else {
			prefix = ""
		}
		base = "https://" + host + strings.TrimRight(prefix, "/")
	}
	return base + Route + "/" + url.PathEscape(code)
}

func (h *Handler) now() time.Time {
	if h.Clock == nil {
		return time.Now()
	}
	return h.Clock.Now()
}

func (h *Handler) maxAge() time.Duration {
	if h.MaxAge <= 0 {
		return DefaultMaxAge
	}
	return h.MaxAge
}

func (h *Handler) logger() *slog.Logger {
	if h.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Log
}

func answer(status int, v any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"error":%q}`, err.Error()))
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: status,
		Headers:    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		Body:       string(b),
	}
}
