package devstack

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

func TestMain(m *testing.M) {
	telemetry.Stdout = io.Discard // the services' EMF lines
	os.Exit(m.Run())
}

// syncBuffer is a bytes.Buffer the stack's goroutines may write to while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func start(t *testing.T, cfg Config) (*Stack, *syncBuffer) {
	t.Helper()
	progress := &syncBuffer{}
	cfg.Addr, cfg.Progress = "127.0.0.1:0", progress
	s, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s, progress
}

// TestDemo runs the demo's deliveries through the embedded stack and through one on moto
// (DynamoDB store, SQS queue pulled by the Poller): the same outcomes either way.
func TestDemo(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(t *testing.T) Config
		wait time.Duration
	}{
		{"embedded", func(*testing.T) Config { return Config{} }, 20 * time.Second},
		// moto serves one request at a time and the queue's long polls hold it a second each: the
		// dozen requests of a sweep and its reconciliation take that many seconds there.
		{"DynamoDB and SQS on moto", func(t *testing.T) Config {
			aws := awstest.Config(t)
			return Config{AWS: &aws, TableName: awstest.Name(t, "table"), Create: true,
				QueueURL: awstest.Endpoint(t) + "/000000000000/" + awstest.Name(t, "jobs")}
		}, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, progress := start(t, tt.cfg(t))
			res, err := s.Demo(context.Background(), DemoCases(), tt.wait)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			res.Print(&out, s)
			if res.Failed() > 0 || len(res.Outcomes) != len(DemoCases()) {
				t.Fatalf("%d case(s) failed:\n%s\nprogress:\n%s", res.Failed(), out.String(), progress.String())
			}
			for _, want := range []string{"→ sent", "→ skipped (no_rule)", "→ skipped (duplicate_person)", "own comment(s) dropped", "bad signature (401)", "DM delivered",
				"reconcile comment 18000000000000009 (reel) found without a webhook → enqueued"} {
				if !strings.Contains(progress.String(), want) {
					t.Errorf("progress lacks %q:\n%s", want, progress.String())
				}
			}
			if got := len(s.Sandbox.Deliveries()); got != 8 || !strings.Contains(out.String(), "8 DM(s) delivered") {
				t.Errorf("ledger holds %d DMs, want 8:\n%s", got, out.String())
			}
			st, err := s.Status(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			// Only the comment whose webhook never came is found by reconciliation: the others
			// have their records by then.
			if st.Records[reply.StateSent] != 8 || st.Records[reply.StateSkipped] != 3 || st.OwnDropped != 1 || st.Rejected != 1 ||
				st.Delivered != 8 || st.Reconciled != 1 {
				t.Errorf("status %+v", st)
			}
			// The conversations after the private replies, on the same store and queue.
			turns, err := DemoFunnel(DemoAccounts()[0])
			if err != nil {
				t.Fatal(err)
			}
			played, err := s.Funnel(context.Background(), turns, tt.wait)
			if err != nil {
				t.Fatal(err)
			}
			proofs, err := s.Prove(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if FunnelFailed(played) > 0 || ProofsFailed(proofs) > 0 || len(proofs) != 3 {
				var out bytes.Buffer
				PrintFunnel(&out, played)
				PrintProofs(&out, proofs)
				t.Errorf("the conversations:\n%s", out.String())
			}
		})
	}
}

// TestDemoNoticesMissedExpectations proves the demo is a smoke test: an expectation the product
// does not meet is reported.
func TestDemoNoticesMissedExpectations(t *testing.T) {
	s, _ := start(t, Config{})
	cases := DemoCases()[:2]
	cases[1].State, cases[1].DMs = reply.StateSent, 1 // "love this" matches no rule: it cannot be sent
	res, err := s.Demo(context.Background(), cases, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed() != 1 || res.Outcomes[1].Problem == "" || res.Outcomes[0].Problem != "" {
		t.Errorf("outcomes %+v, want only the second case failed", res.Outcomes)
	}
}

func TestHandshakeAndStatus(t *testing.T) {
	s, _ := start(t, Config{})
	tests := []struct {
		token, want string
		status      int
	}{
		{DefaultVerifyToken, "1158201444", 200},
		{"wrong", "forbidden", 403},
	}
	for _, tt := range tests {
		q := url.Values{"hub.mode": {"subscribe"}, "hub.verify_token": {tt.token}, "hub.challenge": {"1158201444"}}
		resp, err := http.Get(s.WebhookURL + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || string(b) != tt.want {
			t.Errorf("handshake with %q: %d %q, want %d %q", tt.token, resp.StatusCode, b, tt.status, tt.want)
		}
	}
	resp, err := http.Get(s.URL + "/_status")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"dms_delivered":0`) {
		t.Errorf("status %d %s", resp.StatusCode, b)
	}
}
