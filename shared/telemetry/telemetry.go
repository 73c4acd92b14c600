// Package telemetry holds replywindow's logs and metrics: JSON logs through log/slog and counts
// written as CloudWatch Embedded Metric Format lines, which Lambda ships to CloudWatch Metrics
// with no API call on the hot path.
package telemetry

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// Namespace is the CloudWatch namespace when none is configured (a local run). In AWS each
// stack names its own (METRICS_NAMESPACE, ReplyWindow/<stack>), so two stacks in one account
// never add into each other's alarms and no metric filter has to copy the lines.
const Namespace = "ReplyWindow"

// NamespaceEnv is the variable the functions read their namespace from.
const NamespaceEnv = "METRICS_NAMESPACE"

// Alarmed maps each count that something alarms on to the CloudWatch metric it feeds. Only
// these become metrics (CloudWatch bills $0.30 a month for each); every other count stays a
// field of the same JSON line, which the dashboard's Logs Insights widgets and an operator read.
// Several conditions share Attention: each alone needs a person, so one alarm watches them all
// and its notification says where to look (replywindow doctor, the README's query).
var Alarmed = map[string]string{
	"Expired":          MetricAttention,
	"FollowUpsExpired": MetricAttention,
	"AccountUnhealthy": MetricAttention,
	"Resubscribed":     MetricAttention,
	// An account's token expires within TOKEN_ALARM_WITHIN and could not be refreshed (tokens).
	"TokenExpiring": MetricAttention,
	// The click route cannot read its secret: every tracked link answers 503 (links).
	"LinkKeyUnavailable": MetricAttention,
	// Funnel events the bus has refused for longer than events.StuckAfter (events).
	"EventsStuck": MetricAttention,
	"Failed":      "Failed",
	"Reconciled":  "Reconciled",
	"ChoreFailed": "ChoreFailed",
}

// MetricAttention is the metric several alarm conditions share; see Alarmed.
const MetricAttention = "Attention"

// AlarmMetrics are the distinct metrics the functions emit (each in the stack's namespace,
// without dimensions): what an alarm may watch, and what the cost counts.
func AlarmMetrics() []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range Alarmed {
		if !seen[m] {
			seen[m] = true
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out
}

// NewLogger is a JSON logger at the level named by LOG_LEVEL-style text ("debug", "info", ...).
// Whatever it writes has the values of secret-bearing parameters (access_token=...) redacted, a
// last guard for text that came from elsewhere (an error page quoting a request).
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l, ReplaceAttr: redact}))
}

// redact is NewLogger's ReplaceAttr: strings and errors lose their secret parameters' values,
// and durations are written as a person reads them ("5m0s"), not in nanoseconds.
func redact(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
		return a
	}
	switch v := a.Value.Any().(type) {
	case string:
		if r := reply.RedactSecrets(v); r != v {
			a.Value = slog.StringValue(r)
		}
	case error:
		if s := v.Error(); reply.RedactSecrets(s) != s {
			a.Value = slog.StringValue(reply.RedactSecrets(s))
		}
	}
	return a
}

// Metrics counts events during an invocation and writes them as JSON lines on Flush. It is
// safe for concurrent use. A line carries the function and, optionally, one extra dimension (for
// example Reason) as plain fields; the counts listed in Alarmed also become CloudWatch metrics
// through the line's EMF directive, in the namespace and without dimensions, the shape the
// template's alarms watch.
type Metrics struct {
	function  string
	namespace string
	mu        sync.Mutex
	counts    map[key]float64
	total     map[key]float64
}

type key struct{ name, dim, value string }

// NewMetrics counts for the named function ("webhook", "replier", "sweeper") in Namespace.
func NewMetrics(function string) *Metrics {
	return &Metrics{function: function, namespace: Namespace, counts: map[key]float64{}, total: map[key]float64{}}
}

// In sets the CloudWatch namespace (the stack's); empty keeps Namespace.
func (m *Metrics) In(namespace string) *Metrics {
	if namespace != "" {
		m.namespace = namespace
	}
	return m
}

// Count adds n to the metric. dim and value, when given, name one extra dimension.
func (m *Metrics) Count(name string, n int, dim ...string) {
	m.Add(name, float64(n), dim...)
}

// Add adds v to the metric; see Count.
func (m *Metrics) Add(name string, v float64, dim ...string) {
	k := key{name: name}
	if len(dim) >= 2 {
		k.dim, k.value = dim[0], dim[1]
	}
	m.mu.Lock()
	m.counts[k] += v
	m.total[k] += v
	m.mu.Unlock()
}

// Get is the metric's total since the Metrics was made (tests and the local stack read it).
// Name it "Name" or "Name|Dim=Value".
func (m *Metrics) Get(name string) float64 {
	n, rest, _ := strings.Cut(name, "|")
	k := key{name: n}
	if rest != "" {
		k.dim, k.value, _ = strings.Cut(rest, "=")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.total[k]
}

// Flush writes the counts gathered since the last Flush to w, one JSON line per extra dimension
// value, and resets them.
func (m *Metrics) Flush(w io.Writer) error {
	m.mu.Lock()
	counts := m.counts
	m.counts = map[key]float64{}
	m.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	groups := map[[2]string][]key{}
	for k := range counts {
		g := [2]string{k.dim, k.value}
		groups[g] = append(groups[g], k)
	}
	order := make([][2]string, 0, len(groups))
	for g := range groups {
		order = append(order, g)
	}
	sort.Slice(order, func(i, j int) bool { return order[i][0]+order[i][1] < order[j][0]+order[j][1] })
	now := time.Now().UnixMilli()
	for _, g := range order {
		line := map[string]any{"Function": m.function}
		if g[0] != "" {
			line[g[0]] = g[1]
		}
		alarmed := map[string]float64{}
		for _, k := range groups[g] {
			line[k.name] = counts[k]
			if a, ok := Alarmed[k.name]; ok {
				alarmed[a] += counts[k]
			}
		}
		if len(alarmed) > 0 {
			names := make([]string, 0, len(alarmed))
			for a := range alarmed {
				names = append(names, a)
			}
			sort.Strings(names)
			defs := make([]map[string]string, 0, len(names))
			for _, a := range names {
				defs = append(defs, map[string]string{"Name": a, "Unit": "Count"})
				line[a] = alarmed[a]
			}
			// An empty dimension set: the metric is the stack's whole count, which is what the
			// alarms read (an alarm must name every dimension of the metric it watches).
			line["_aws"] = map[string]any{
				"Timestamp": now,
				"CloudWatchMetrics": []any{map[string]any{
					"Namespace":  m.namespace,
					"Dimensions": [][]string{{}},
					"Metrics":    defs,
				}},
			}
		}
		b, err := json.Marshal(line)
		if err != nil {
			return fmt.Errorf("metrics of %s: %w", m.function, err)
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("metrics of %s: %w", m.function, err)
		}
	}
	return nil
}

// Stdout is where Lambda expects EMF lines.
var Stdout io.Writer = os.Stdout
