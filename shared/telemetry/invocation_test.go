package telemetry

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// TestFunctionLoggerKeys: the keys the serverless Go and Powertools world reads, on every line
// logged during an invocation, with the cold start only on the environment's first.
func TestFunctionLoggerKeys(t *testing.T) {
	var buf bytes.Buffer
	log, inv := NewFunctionLogger(&buf, "info", "replier")
	handler := Serve(inv, func(ctx context.Context, n int) (int, error) {
		log.Info("handled", "n", n, "waited", 5*time.Minute)
		return n, nil
	})
	cases := []struct {
		requestID, trace string
		wantCold         bool
		wantTrace        string
	}{
		{"req-1", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1", true, "1-5759e988-bd862e3fe1be46a994272793"},
		{"req-2", "Root=1-5759e988-bd862e3fe1be46a994272794;Sampled=0", false, ""}, // not traced
		{"req-3", "", false, ""},
	}
	for _, c := range cases {
		buf.Reset()
		t.Setenv("_X_AMZN_TRACE_ID", c.trace)
		ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: c.requestID})
		if _, err := handler(ctx, 1); err != nil {
			t.Fatal(err)
		}
		var line map[string]any
		if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
			t.Fatalf("%s: not one JSON line: %q", c.requestID, buf.String())
		}
		for k, want := range map[string]any{"level": "INFO", "msg": "handled", "service": "replier", "function_request_id": c.requestID, "cold_start": c.wantCold, "waited": "5m0s"} {
			if line[k] != want {
				t.Errorf("%s: %s = %v, want %v (%s)", c.requestID, k, line[k], want, buf.String())
			}
		}
		if _, ok := line["time"]; !ok {
			t.Errorf("%s: no time", c.requestID)
		}
		if got, _ := line["xray_trace_id"].(string); got != c.wantTrace {
			t.Errorf("%s: xray_trace_id = %q, want %q", c.requestID, got, c.wantTrace)
		}
	}
	// Outside an invocation (init), a line names the service only.
	buf.Reset()
	log.Info("ready")
	if s := buf.String(); !strings.Contains(s, `"service":"replier"`) || strings.Contains(s, "function_request_id") {
		t.Errorf("init line %s", s)
	}
	// ServeErr keeps the error.
	errh := ServeErr(inv, func(context.Context, string) error { return context.Canceled })
	if err := errh(context.Background(), ""); err != context.Canceled {
		t.Errorf("ServeErr returned %v", err)
	}
}
