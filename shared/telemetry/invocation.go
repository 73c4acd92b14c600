package telemetry

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Invocation is the Lambda invocation a function is serving, for its log lines: the keys the
// serverless Go and Powertools world reads (function_request_id, cold_start, xray_trace_id when
// tracing is on). Lambda runs one invocation at a time in an execution environment, so one
// current invocation per process is exact.
type Invocation struct {
	cur    atomic.Pointer[invocation]
	served atomic.Bool
}

type invocation struct {
	requestID, traceID string
	cold               bool
}

// begin records the invocation ctx carries and whether it is the environment's first.
func (inv *Invocation) begin(ctx context.Context) {
	c := &invocation{cold: !inv.served.Swap(true)}
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		c.requestID = lc.AwsRequestID
	}
	c.traceID = traceRoot(os.Getenv("_X_AMZN_TRACE_ID"))
	inv.cur.Store(c)
}

func (inv *Invocation) end() { inv.cur.Store(nil) }

// traceRoot is the Root of an X-Ray trace header ("Root=1-...;Parent=...;Sampled=1"), when the
// invocation is traced (Sampled=1): with tracing off there is no trace to look up.
func traceRoot(header string) string {
	root, sampled := "", false
	for _, part := range strings.Split(header, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Root":
			root = v
		case "Sampled":
			sampled = v == "1"
		}
	}
	if !sampled {
		return ""
	}
	return root
}

// Serve wraps a Lambda handler so that every line logged during an invocation names it.
func Serve[E, R any](inv *Invocation, h func(context.Context, E) (R, error)) func(context.Context, E) (R, error) {
	return func(ctx context.Context, ev E) (R, error) {
		inv.begin(ctx)
		defer inv.end()
		return h(ctx, ev)
	}
}

// ServeErr is Serve for a handler that returns only an error.
func ServeErr[E any](inv *Invocation, h func(context.Context, E) error) func(context.Context, E) error {
	return func(ctx context.Context, ev E) error {
		inv.begin(ctx)
		defer inv.end()
		return h(ctx, ev)
	}
}

// NewFunctionLogger is NewLogger for a Lambda function: every line says the service (the
// function) and, during an invocation Serve wrapped, its request id, whether it is the cold
// start and its X-Ray trace when traced.
func NewFunctionLogger(w io.Writer, level, service string) (*slog.Logger, *Invocation) {
	inv := &Invocation{}
	base := NewLogger(w, level).Handler()
	return slog.New(invocationHandler{Handler: base, inv: inv}).With("service", service), inv
}

// invocationHandler adds the current invocation's keys to each record.
type invocationHandler struct {
	slog.Handler
	inv *Invocation
}

func (h invocationHandler) Handle(ctx context.Context, r slog.Record) error {
	if c := h.inv.cur.Load(); c != nil {
		r = r.Clone()
		r.AddAttrs(slog.String("function_request_id", c.requestID), slog.Bool("cold_start", c.cold))
		if c.traceID != "" {
			r.AddAttrs(slog.String("xray_trace_id", c.traceID))
		}
	}
	return h.Handler.Handle(ctx, r)
}

func (h invocationHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return invocationHandler{Handler: h.Handler.WithAttrs(as), inv: h.inv}
}

func (h invocationHandler) WithGroup(name string) slog.Handler {
	return invocationHandler{Handler: h.Handler.WithGroup(name), inv: h.inv}
}
