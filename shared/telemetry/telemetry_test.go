package telemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestFlushWritesEMF checks the lines against CloudWatch's Embedded Metric Format: one line per
// dimension set, every metric named in the directive and present as a member.
func TestFlushWritesEMF(t *testing.T) {
	m := NewMetrics("replier")
	m.Count("Sent", 2)
	m.Count("Sent", 1)
	m.Count("Skipped", 1, "Reason", "no_rule")
	m.Count("Skipped", 2, "Reason", "duplicate_person")
	var buf bytes.Buffer
	if err := m.Flush(&buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3 (no dimension, and one per Reason):\n%s", len(lines), buf.String())
	}
	got := map[string]float64{}
	for _, l := range lines {
		var line map[string]any
		if err := json.Unmarshal([]byte(l), &line); err != nil {
			t.Fatalf("not JSON: %s", l)
		}
		aws := line["_aws"].(map[string]any)
		d := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
		if d["Namespace"] != Namespace || line["Function"] != "replier" {
			t.Errorf("namespace/function wrong: %s", l)
		}
		dims := d["Dimensions"].([]any)[0].([]any)
		for _, mdef := range d["Metrics"].([]any) {
			name := mdef.(map[string]any)["Name"].(string)
			key := name
			if len(dims) == 2 {
				key += "|Reason=" + line["Reason"].(string)
			}
			got[key] = line[name].(float64)
		}
	}
	want := map[string]float64{"Sent": 3, "Skipped|Reason=no_rule": 1, "Skipped|Reason=duplicate_person": 2}
	for k, v := range want {
		if got[k] != v || m.Get(k) != v {
			t.Errorf("%s = %v in EMF, %v from Get; want %v", k, got[k], m.Get(k), v)
		}
	}
	// Flush resets the lines, not the totals.
	buf.Reset()
	if err := m.Flush(&buf); err != nil || buf.Len() != 0 {
		t.Errorf("second flush wrote %q, %v", buf.String(), err)
	}
	if m.Get("Sent") != 3 {
		t.Errorf("total after flush = %v", m.Get("Sent"))
	}
}

func TestNewLoggerLevel(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, "warn")
	log.Info("hidden")
	log.Warn("shown")
	if s := buf.String(); strings.Contains(s, "hidden") || !strings.Contains(s, `"msg":"shown"`) {
		t.Errorf("log output %q", s)
	}
	buf.Reset()
	NewLogger(&buf, "nonsense").Info("info by default")
	if !strings.Contains(buf.String(), "info by default") {
		t.Errorf("an unknown level did not fall back to info: %q", buf.String())
	}
}

// TestLoggerRedactsSecretParameters: text from elsewhere (an error quoting a request) loses the
// values of access_token and its kin in messages, attributes and errors alike.
func TestLoggerRedactsSecretParameters(t *testing.T) {
	var buf bytes.Buffer
	log := NewLogger(&buf, "info")
	const tok = "EAAGm0PX4ZCpsBAKZCZA"
	log.Info("refresh failed: GET /refresh_access_token?access_token="+tok,
		"err", errors.New("502: GET /x?access_token="+tok), "page", "<pre>input_token="+tok+"</pre>", "count", 3)
	out := buf.String()
	if strings.Contains(out, tok) {
		t.Fatalf("the token is in the log: %s", out)
	}
	if strings.Count(out, "access_token=[redacted]") != 2 || !strings.Contains(out, "input_token=[redacted]") || !strings.Contains(out, `"count":3`) {
		t.Errorf("log line %s", out)
	}
}
