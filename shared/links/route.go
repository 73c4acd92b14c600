package links

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// RoutePrefix is the click route's path before the code: GET /l/{code}.
const RoutePrefix = "/l/"

// Keys gives the route its Sealer (the secret from SSM, cached).
type Keys interface {
	Sealer(ctx context.Context) (*Sealer, error)
}

// Route serves GET /l/{code} (and HEAD): a redirect to the link, after counting the click when
// a person made it.
type Route struct {
	Keys   Keys
	Clicks reply.Clicks
	Clock  reply.Clock
	// Budget is how long the click's write may hold the redirect; past it the person is
	// redirected anyway and the click is logged as not recorded.
	Budget time.Duration
	MaxAge time.Duration // how long a sent link is counted (the guards' lifetime)
	// Events marks each first click for its LinkClicked event in the guard's own write (no put
	// here: the redirect waits for one DynamoDB round trip; the sweeper publishes it).
	Events  bool
	Metrics *telemetry.Metrics
	Log     *slog.Logger
}

// Metric names the route emits (EMF, namespace ReplyWindow, function links).
const (
	MetricClicks         = "LinkClicks"           // clicks by a person, counted
	MetricUniqueClicks   = "LinkUniqueClicks"     // of which first clicks
	MetricNotClicks      = "LinkNotClicks"        // redirects that are not clicks (dimension reason)
	MetricRejected       = "LinkRejected"         // 404s (dimension reason: malformed, forged, stale)
	MetricNotRecorded    = "LinkClickNotRecorded" // a click the store did not take in Budget
	MetricKeyUnavailable = "LinkKeyUnavailable"   // the secret could not be read: 503
)

var notFound = events.APIGatewayV2HTTPResponse{
	StatusCode: http.StatusNotFound,
	Headers:    map[string]string{"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"},
	Body:       "404 page not found\n",
}

// Handle answers one request of API Gateway's HTTP API (payload 2.0).
func (r *Route) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	method := req.RequestContext.HTTP.Method
	if method != http.MethodGet && method != http.MethodHead {
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusMethodNotAllowed,
			Headers: map[string]string{"Allow": "GET, HEAD", "Content-Type": "text/plain; charset=utf-8"}, Body: "405 method not allowed\n"}, nil
	}
	keys, err := r.Keys.Sealer(ctx)
	if err != nil {
		r.metrics().Count(MetricKeyUnavailable, 1)
		r.log().Error("links secret unavailable", "err", err)
		return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusServiceUnavailable,
			Headers: map[string]string{"Content-Type": "text/plain; charset=utf-8", "Retry-After": "5"}, Body: "503 service unavailable\n"}, nil
	}
	now := r.now()
	l, err := keys.Open(req.PathParameters["code"], now)
	if err != nil {
		reason := "malformed"
		switch {
		case errors.Is(err, ErrForged):
			reason = "forged"
		case errors.Is(err, ErrStale):
			reason = "stale"
		}
		r.metrics().Count(MetricRejected, 1, "Reason", reason)
		r.log().Info("link code rejected", "reason", reason) // never the code: it is a person's
		return notFound, nil
	}
	if ok, why := Counts(method, req.Headers); !ok {
		r.metrics().Count(MetricNotClicks, 1, "Reason", why)
	} else {
		r.record(ctx, l, now)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: http.StatusFound,
		Headers: map[string]string{
			"Location": l.Target,
			// Each request must reach the route to be counted, and the code must not leak to
			// the target in a Referer.
			"Cache-Control":   "no-store, private",
			"Referrer-Policy": "no-referrer",
			"X-Robots-Tag":    "noindex, nofollow",
		},
	}, nil
}

// record counts the click with the store's one round trip, within Budget.
func (r *Route) record(ctx context.Context, l Link, now time.Time) {
	budget := r.Budget
	if budget <= 0 {
		budget = DefaultBudget
	}
	ctx, cancel := context.WithTimeout(ctx, budget)
	defer cancel()
	until := l.Issued.Add(r.MaxAge + 24*time.Hour)
	first, err := r.Clicks.RecordClick(ctx, reply.Click{Origin: l.Origin, Link: LinkID(l.Target), Target: l.Target,
		At: now, Issued: l.Issued, Until: until, Events: r.Events})
	switch {
	case errors.Is(err, reply.ErrForgotten):
		r.metrics().Count(MetricClicks, 1) // the anonymous count took it; the person is forgotten
	case err != nil:
		r.metrics().Count(MetricNotRecorded, 1)
		r.log().Warn("click not recorded", "account", l.Account, "rule", l.Rule, "err", err)
	default:
		r.metrics().Count(MetricClicks, 1)
		if first {
			r.metrics().Count(MetricUniqueClicks, 1)
		}
	}
}

func (r *Route) now() time.Time {
	if r.Clock == nil {
		return time.Now()
	}
	return r.Clock.Now()
}

func (r *Route) metrics() *telemetry.Metrics {
	if r.Metrics == nil {
		r.Metrics = telemetry.NewMetrics("links")
	}
	return r.Metrics
}

func (r *Route) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}

// Serve is Handle for the Lambda: the metrics are flushed as EMF after each request.
func (r *Route) Serve(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	res, err := r.Handle(ctx, req)
	if ferr := r.metrics().Flush(telemetry.Stdout); ferr != nil {
		r.log().Error("flush metrics", "err", ferr)
	}
	return res, err
}
