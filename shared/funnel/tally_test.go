package funnel

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTallyKeys(t *testing.T) {
	at := time.Date(2026, 12, 6, 23, 59, 0, 0, time.FixedZone("x", -3600)) // 00:59 UTC next day
	cases := []struct {
		name                          string
		account, rule, variant, media string
		wantKey                       string
	}{
		{"plain", "17841", "recipe", "A", "9001", "N#17841#2026-12-07#recipe#A#9001"},
		{"no variant", "17841", "recipe", "", "9001", "N#17841#2026-12-07#recipe##9001"},
		{"names cannot forge parts", "17841", "a#b", "%23", "9001", "N#17841#2026-12-07#a%23b#%2523#9001"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := NewTally(c.account, c.rule, c.variant, c.media, at)
			if got.Key != c.wantKey {
				t.Errorf("key %q, want %q", got.Key, c.wantKey)
			}
			if got.Day != "2026-12-07" {
				t.Errorf("day %q, want the UTC day", got.Day)
			}
		})
	}
}

func TestClick(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		unique bool
		key    string
		want   []string
	}{
		{false, "N#17841#2026-12-06#recipe#B#9001#k#L%231", []string{"c_clicks", "c_clicks:L#1"}},
		{true, "N#17841#2026-12-06#recipe#B#9001#ku#L%231", []string{"c_unique_clicks", "c_unique_clicks:L#1"}},
	}
	for _, c := range cases {
		got := Click("17841", "recipe", "B", "9001", "L#1", at, c.unique)
		if !slices.Equal(got.Add, c.want) {
			t.Errorf("unique=%v: adds %v, want %v", c.unique, got.Add, c.want)
		}
		if got.Key != c.key || !strings.HasPrefix(got.Key, KeyPrefix("17841")+"2026-12-06#") {
			t.Errorf("unique=%v: key %q, want %q (listed with the day's counter items)", c.unique, got.Key, c.key)
		}
	}
}
