// Package telemetry holds replywindow's logs and metrics: JSON logs through log/slog and counts
// written as CloudWatch Embedded Metric Format lines, which Lambda ships to CloudWatch Metrics
// with no API call on the hot path.
package telemetry

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// Namespace is the CloudWatch namespace of every metric replywindow emits.
const Namespace = "ReplyWindow"

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

// redact is NewLogger's ReplaceAttr: strings and errors lose their secret parameters' values.
func redact(_ []string, a slog.Attr) slog.Attr {
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

// Metrics counts events during an invocation and writes them as EMF lines on Flush. It is safe
// for concurrent use. Every metric carries the Function dimension; an optional second dimension
// (for example Reason) splits it further.
type Metrics struct {
	function string
	mu       sync.Mutex
	counts   map[key]float64
	total    map[key]float64
}

type key struct{ name, dim, value string }

// NewMetrics counts for the named function ("webhook", "replier", "sweeper").
func NewMetrics(function string) *Metrics {
	return &Metrics{function: function, counts: map[key]float64{}, total: map[key]float64{}}
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

// Flush writes the counts gathered since the last Flush as EMF lines to w and resets them.
func (m *Metrics) Flush(w io.Writer) error {
	m.mu.Lock()
	counts := m.counts
	m.counts = map[key]float64{}
	m.mu.Unlock()
	if len(counts) == 0 {
		return nil
	}
	// One line per extra dimension (EMF puts one dimension set on each metric of a line).
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
		keys := groups[g]
		sort.Slice(keys, func(i, j int) bool { return keys[i].name < keys[j].name })
		dims := []string{"Function"}
		line := map[string]any{"Function": m.function}
		if g[0] != "" {
			dims = append(dims, g[0])
			line[g[0]] = g[1]
		}
		defs := make([]map[string]string, 0, len(keys))
		for _, k := range keys {
			defs = append(defs, map[string]string{"Name": k.name, "Unit": "Count"})
			line[k.name] = counts[k]
		}
		line["_aws"] = map[string]any{
			"Timestamp": now,
			"CloudWatchMetrics": []any{map[string]any{
				"Namespace":  Namespace,
				"Dimensions": [][]string{dims},
				"Metrics":    defs,
			}},
		}
		b, err := json.Marshal(line)
		if err != nil {
			return err
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

// Stdout is where Lambda expects EMF lines.
var Stdout io.Writer = os.Stdout
