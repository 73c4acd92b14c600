package telemetry

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// TestFlushWritesEMF checks the lines against CloudWatch's Embedded Metric Format: one line per
// extra dimension value with every count as a field, and an EMF directive, in the namespace and
// without dimensions, for exactly the counts an alarm watches (Alarmed), summed per metric.
func TestFlushWritesEMF(t *testing.T) {
	type want struct {
		fields  map[string]float64 // fields of the line with that dimension value ("" none)
		metrics map[string]float64 // what its directive defines, with the values it carries
	}
	cases := []struct {
		name      string
		namespace string
		count     func(m *Metrics)
		lines     map[string]want
	}{
		{
			name: "counts nothing alarms on: plain lines, no metric",
			count: func(m *Metrics) {
				m.Count("Sent", 2)
				m.Count("Sent", 1)
				m.Count("Skipped", 1, "Reason", "no_rule")
				m.Count("Skipped", 2, "Reason", "duplicate_person")
			},
			lines: map[string]want{
				"":                 {fields: map[string]float64{"Sent": 3}},
				"no_rule":          {fields: map[string]float64{"Skipped": 1}},
				"duplicate_person": {fields: map[string]float64{"Skipped": 2}},
			},
		},
		{
			name:      "conditions sharing Attention add up, in the stack's namespace",
			namespace: "ReplyWindow/prod",
			count: func(m *Metrics) {
				m.Count("Expired", 2)
				m.Count("AccountUnhealthy", 1)
				m.Count("Sent", 4)
				m.Count("Failed", 3, "Reason", "2534041")
			},
			lines: map[string]want{
				"":        {fields: map[string]float64{"Expired": 2, "AccountUnhealthy": 1, "Sent": 4}, metrics: map[string]float64{MetricAttention: 3}},
				"2534041": {fields: map[string]float64{"Failed": 3}, metrics: map[string]float64{"Failed": 3}},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := NewMetrics("replier").In(c.namespace)
			c.count(m)
			var buf bytes.Buffer
			if err := m.Flush(&buf); err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			if len(lines) != len(c.lines) {
				t.Fatalf("%d lines, want %d:\n%s", len(lines), len(c.lines), buf.String())
			}
			ns := c.namespace
			if ns == "" {
				ns = Namespace
			}
			for _, l := range lines {
				var line map[string]any
				if err := json.Unmarshal([]byte(l), &line); err != nil {
					t.Fatalf("not JSON: %s", l)
				}
				dim, _ := line["Reason"].(string)
				w, ok := c.lines[dim]
				if !ok || line["Function"] != "replier" {
					t.Fatalf("unexpected line %s", l)
				}
				for f, v := range w.fields {
					if line[f] != v {
						t.Errorf("%s: %s = %v, want %v", l, f, line[f], v)
					}
				}
				aws, has := line["_aws"].(map[string]any)
				if has != (w.metrics != nil) {
					t.Fatalf("%s: EMF directive %v, want %v", l, has, w.metrics != nil)
				}
				if !has {
					continue
				}
				d := aws["CloudWatchMetrics"].([]any)[0].(map[string]any)
				if d["Namespace"] != ns {
					t.Errorf("namespace %v, want %s", d["Namespace"], ns)
				}
				if dims, _ := json.Marshal(d["Dimensions"]); string(dims) != "[[]]" {
					t.Errorf("dimensions %s, want [[]] (the alarms name none)", dims)
				}
				defs := d["Metrics"].([]any)
				if len(defs) != len(w.metrics) {
					t.Errorf("%s defines %v, want %v", l, defs, w.metrics)
				}
				for _, def := range defs {
					name := def.(map[string]any)["Name"].(string)
					if line[name] != w.metrics[name] {
						t.Errorf("%s: metric %s = %v, want %v", l, name, line[name], w.metrics[name])
					}
				}
			}
			// Flush resets the lines, not the totals.
			buf.Reset()
			if err := m.Flush(&buf); err != nil || buf.Len() != 0 {
				t.Errorf("second flush wrote %q, %v", buf.String(), err)
			}
		})
	}
	m := NewMetrics("replier")
	m.Count("Skipped", 2, "Reason", "no_rule")
	_ = m.Flush(&bytes.Buffer{})
	if m.Get("Skipped|Reason=no_rule") != 2 {
		t.Errorf("total after flush = %v", m.Get("Skipped|Reason=no_rule"))
	}
	if got := AlarmMetrics(); len(got) != 4 {
		t.Errorf("AlarmMetrics() = %v, want the four the template's alarms watch", got)
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
