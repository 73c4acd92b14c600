package sweeper

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// TestHandleScheduledEvent runs the sample event `sam local invoke SweeperFunction -e
// events/sweeper-scheduled.json` sends through the real handler, with a Lambda-like deadline,
// and checks the work and the EMF lines CloudWatch would get.
func TestHandleScheduledEvent(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", "sweeper-scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatalf("decode the sample event: %v", err)
	}
	if ev.DetailType != "Scheduled Event" || ev.Source != "aws.scheduler" || len(ev.Resources) != 1 {
		t.Fatalf("not the Scheduler's input (template.yaml, SweeperSchedule): %+v", ev)
	}

	// The configuration sam local invoke --env-vars events/env.json gives the function.
	var envFile map[string]map[string]string
	raw, err = os.ReadFile(filepath.Join("..", "..", "events", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &envFile); err != nil {
		t.Fatalf("env.json: %v", err)
	}
	if envFile["SweeperFunction"] == nil {
		t.Fatal("env.json has no SweeperFunction section")
	}
	getenv := func(k string) string {
		if v, ok := envFile["SweeperFunction"][k]; ok {
			return v
		}
		return envFile["Parameters"][k]
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		t.Fatalf("LoadConfig from env.json: %v", err)
	}
	if _, err := memory.ParseTokens(cfg.AccountTokens); err != nil {
		t.Fatalf("env.json ACCOUNT_TOKENS: %v", err)
	}

	e := newEnv(t, backends[0])
	e.account(t, "A1", nil)
	closed := t0.Add(-reply.Window - time.Minute)
	seed(t, e.store, parked(job("A1", "c1", reply.KindReel, "m1", closed), closed, t0))
	open := t0.Add(-time.Hour)
	seed(t, e.store, parked(job("A1", "c2", reply.KindReel, "m1", open), open, t0))

	var out bytes.Buffer
	prev := telemetry.Stdout
	telemetry.Stdout = &out
	defer func() { telemetry.Stdout = prev }()
	var logs bytes.Buffer
	s := New(cfg, e.store, e.queue, e.graph, e.tokens, e.clock, e.m, telemetry.NewLogger(&logs, cfg.LogLevel))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Handle(ctx, ev); err != nil {
		t.Fatalf("handle: %v", err)
	}
	got := states(t, e.store, []string{"c1", "c2"})
	if got["c1"].State != reply.StateExpired || got["c2"].State != reply.StateQueued {
		t.Errorf("c1 %s, c2 %s; want EXPIRED and QUEUED", got["c1"].State, got["c2"].State)
	}
	if q := ids(e.drain(t)); len(q) != 1 || q[0] != "c2" {
		t.Errorf("enqueued %v, want [c2]", q)
	}
	metrics := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("EMF line %q: %v", line, err)
		}
		if m["Function"] != "sweeper" {
			t.Fatalf("metrics line without the function: %s", line)
		}
		// Every count is a field; the ones an alarm watches also carry the EMF directive.
		if aws, ok := m["_aws"].(map[string]any); ok {
			cw, _ := aws["CloudWatchMetrics"].([]any)
			if len(cw) != 1 || cw[0].(map[string]any)["Namespace"] != telemetry.Namespace {
				t.Fatalf("EMF line without the namespace: %s", line)
			}
		}
		for name, v := range m {
			f, ok := v.(float64)
			if !ok {
				continue
			}
			if lane, ok := m["Lane"]; ok {
				name += "|" + lane.(string)
			}
			metrics[name] = f
		}
	}
	if metrics[telemetry.MetricAttention] != 1 {
		t.Errorf("Attention = %v, want the one expiry", metrics[telemetry.MetricAttention])
	}
	for name, want := range map[string]float64{MetricExpired: 1, MetricReleased: 1, MetricRedriven: 0, MetricBacklog + "|posts": 0, MetricBacklog + "|live": 0, MetricPartial: 0} {
		if got, ok := metrics[name]; !ok || got != want {
			t.Errorf("EMF %s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if !strings.Contains(logs.String(), `"msg":"sweep"`) || !strings.Contains(logs.String(), ev.ID) {
		t.Errorf("no sweep log line naming the event: %s", logs.String())
	}
	if strings.Contains(logs.String(), "token-A1") || strings.Contains(out.String(), "token-A1") {
		t.Error("a token reached the logs")
	}
}
