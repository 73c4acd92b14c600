package funnel

import (
	"math"
	"testing"
)

func TestWilson(t *testing.T) {
	cases := []struct {
		hits, n   int64
		low, high float64
	}{
		{0, 0, 0, 0},
		{0, 10, 0, 0.2775},
		{5, 10, 0.2366, 0.7634},
		{81, 263, 0.2553, 0.3662},
	}
	for _, c := range cases {
		got := Wilson(c.hits, c.n)
		if math.Abs(got.Low-c.low) > 0.0005 || math.Abs(got.High-c.high) > 0.0005 {
			t.Errorf("Wilson(%d, %d) = [%.4f, %.4f], want [%.4f, %.4f]", c.hits, c.n, got.Low, got.High, c.low, c.high)
		}
	}
}

func TestCompare(t *testing.T) {
	cases := []struct {
		name        string
		a, b        Interval
		differ      bool
		pLow, pHigh float64
	}{
		{"clear difference", Wilson(300, 1000), Wilson(200, 1000), true, 0, 1e-6},
		{"same rate", Wilson(100, 1000), Wilson(100, 1000), false, 0.99, 1},
		{"too few to tell", Wilson(3, 4), Wilson(0, 4), false, 1, 1},
		{"close, large", Wilson(520, 5000), Wilson(500, 5000), false, 0.05, 1},
	}
	for _, c := range cases {
		p, differ := Compare(c.a, c.b)
		if differ != c.differ || p < c.pLow || p > c.pHigh {
			t.Errorf("%s: p=%.6f differ=%v, want differ=%v p in [%g, %g]", c.name, p, differ, c.differ, c.pLow, c.pHigh)
		}
	}
}

func TestGroup(t *testing.T) {
	rows := []Row{
		{Day: "2026-12-01", Rule: "recipe", Variant: "A", Media: "1", Counts: map[string]int64{"sent": 2, "taps": 1}},
		{Day: "2026-12-02", Rule: "recipe", Variant: "B", Media: "1", Counts: map[string]int64{"sent": 3}},
		{Day: "2026-12-02", Rule: "book", Media: "2", Counts: map[string]int64{"sent": 1}},
	}
	cases := []struct {
		by   string
		want map[string]int64 // key -> sent
	}{
		{ByRule, map[string]int64{"recipe": 5, "book": 1}},
		{ByVariant, map[string]int64{"recipe/A": 2, "recipe/B": 3, "book/-": 1}},
		{ByMedia, map[string]int64{"1": 5, "2": 1}},
		{ByDay, map[string]int64{"2026-12-01": 2, "2026-12-02": 4}},
	}
	for _, c := range cases {
		lines, err := Group(rows, c.by)
		if err != nil {
			t.Fatal(err)
		}
		if len(lines) != len(c.want) {
			t.Errorf("by %s: %d lines, want %d", c.by, len(lines), len(c.want))
		}
		for _, l := range lines {
			if l.Counts["sent"] != c.want[l.Key] {
				t.Errorf("by %s: %s sent %d, want %d", c.by, l.Key, l.Counts["sent"], c.want[l.Key])
			}
		}
	}
	if _, err := Group(rows, "person"); err == nil {
		t.Error("by person: no error")
	}
}
