package funnel

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// Dimensions a report groups by.
const (
	ByRule    = "rule"
	ByVariant = "variant"
	ByMedia   = "media"
	ByDay     = "day"
)

// Line is one group of a report: the summed counts of the rows that share its key.
type Line struct {
	Key    string           `json:"key"`
	Counts map[string]int64 `json:"counts"`
}

// Group sums rows by dimension; a variant line is keyed "rule/variant" (variants are a rule's).
func Group(rows []Row, by string) ([]Line, error) {
	key := map[string]func(Row) string{
		ByRule:    func(r Row) string { return r.Rule },
		ByVariant: func(r Row) string { return r.Rule + "/" + orDash(r.Variant) },
		ByMedia:   func(r Row) string { return orDash(r.Media) },
		ByDay:     func(r Row) string { return r.Day },
	}[by]
	if key == nil {
		return nil, fmt.Errorf("by: %q, want rule, variant, media or day", by)
	}
	sums := map[string]map[string]int64{}
	for _, r := range rows {
		k := key(r)
		if sums[k] == nil {
			sums[k] = map[string]int64{}
		}
		for n, v := range r.Counts {
			sums[k][n] += v
		}
	}
	lines := make([]Line, 0, len(sums))
	for k, c := range sums {
		lines = append(lines, Line{Key: k, Counts: c})
	}
	slices.SortFunc(lines, func(a, b Line) int { return strings.Compare(a.Key, b.Key) })
	return lines, nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Columns are the counts a report shows, in order (without CountPrefix); reasons stay in the
// JSON and CSV output.
var Columns = []string{"matched", "sent", "skipped", "expired", "failed", "ambiguous", "taps", "gates_met",
	"gates_passed", "followups_sent", "clicks", "unique_clicks"}

// Interval is a proportion with its 95% Wilson score interval. Wilson rather than the normal
// approximation: funnels have small counts and rates near 0, where the normal interval runs
// below zero and claims too much.
type Interval struct {
	Hits, Of int64
	Rate     float64
	Low      float64
	High     float64
}

const z95 = 1.959963984540054

// Wilson is hits of n with its 95% Wilson interval (all zero when n is 0).
func Wilson(hits, n int64) Interval {
	if n <= 0 {
		return Interval{Hits: hits}
	}
	p, nf := float64(hits)/float64(n), float64(n)
	d := 1 + z95*z95/nf
	c := (p + z95*z95/(2*nf)) / d
	h := z95 * math.Sqrt(p*(1-p)/nf+z95*z95/(4*nf*nf)) / d
	return Interval{Hits: hits, Of: n, Rate: p, Low: math.Max(0, c-h), High: math.Min(1, c+h)}
}

// Compare is the two-sided two-proportion z-test of a against b (pooled): the p-value, and
// whether it tells them apart at 5%. The test asks one question of two independent groups of
// people, which is what a fixed per-person variant makes them; it needs a few successes and
// failures in each (5 each, the usual rule), below which it answers "no difference yet".
func Compare(a, b Interval) (p float64, differ bool) {
	if a.Of == 0 || b.Of == 0 || min(a.Hits, a.Of-a.Hits, b.Hits, b.Of-b.Hits) < 5 {
		return 1, false
	}
	pool := float64(a.Hits+b.Hits) / float64(a.Of+b.Of)
	se := math.Sqrt(pool * (1 - pool) * (1/float64(a.Of) + 1/float64(b.Of)))
	if se == 0 {
		return 1, false
	}
	zs := math.Abs(a.Rate-b.Rate) / se
	p = math.Erfc(zs / math.Sqrt2)
	return p, p < 0.05
}
