package simulation

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
)

func TestPriceQuery(t *testing.T) {
	many := func(n, b int) []int {
		s := make([]int, n)
		for i := range s {
			s[i] = b
		}
		return s
	}
	cases := []struct {
		name     string
		sizes    []int
		requests int
		rru      float64
	}{
		{"nothing: one empty query, half a unit", nil, 1, 0.5},
		{"one small item", []int{300}, 1, 0.5},
		{"4 KB exactly", many(8, 512), 1, 0.5},
		{"a byte over 4 KB", append(many(8, 512), 1), 1, 1.0},
		{"summed, not per item: 30 items of 400 bytes", many(30, 400), 1, 1.5},
		{"over 1 MB: a second page (800,000 then 400,000 bytes)", many(3, 400_000), 2, 196*0.5 + 98*0.5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := priceQuery(c.sizes)
			if got.Items != len(c.sizes) || got.Requests != c.requests || got.RRU != c.rru {
				t.Errorf("priceQuery: %d items, %d requests, %.1f RRU; want %d, %d, %.1f", got.Items, got.Requests, got.RRU, len(c.sizes), c.requests, c.rru)
			}
		})
	}
}

func TestNumberBytes(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want int
	}{{0, 1}, {1, 2}, {12, 2}, {123, 3}, {1000, 2}, {-45, 2}, {1_790_000_000, 3}, {1_780_123_456, 6}} {
		if got := numberBytes(c.n); got != c.want {
			t.Errorf("numberBytes(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

// TestCounterBytes sizes one counter item by hand, attribute by attribute.
func TestCounterBytes(t *testing.T) {
	row := funnel.Row{Account: "178", Day: "2026-03-01", Rule: "recipe", Variant: "a", Media: "m1",
		Counts: map[string]int64{"sent": 750, "matched": 1000}}
	fixed := len("pk") + len("N#178#2026-03-01#recipe#a#m1") +
		len("list") + len("N#178#") +
		len("n_day") + 10 + len("n_rule") + 6 + len("n_variant") + 1 + len("n_media") + 2 +
		len("expires_at") + 5 // 1806883200 (day + 400 days): 8 significant digits
	if got, want := counterBytes(row), fixed+len("c_sent")+2+len("c_matched")+2; got != want {
		t.Errorf("counterBytes = %d, want %d", got, want)
	}
	click := row
	click.Counts = map[string]int64{"clicks": 3, "clicks:abc": 3}
	if got, want := counterBytes(click), fixed+len("#k#abc")+len("c_clicks")+2+len("c_clicks:abc")+2; got != want {
		t.Errorf("a click item's size %d, want %d (its key names the kind and the link)", got, want)
	}
}

// wrapped is a store decorator, as the outbox is: the reader is found through Unwrap.
type wrapped struct{ reply.Store }

func (w wrapped) Unwrap() reply.Store { return w.Store }

// opaque hides the memory store's funnel.Reader.
type opaque struct{ reply.Store }

// TestReportCost reads ReportDays of counter items and no more, through a wrapped store, and
// says so when the store reads no counts.
func TestReportCost(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	for d := range ReportDays + 5 { // 5 days older than the report
		day := now.AddDate(0, 0, -d)
		for _, rule := range []string{"recipe", "guide"} {
			if err := store.AddCounts(ctx, funnel.NewTally(Account, rule, "", "reel-1", day).With(funnel.Sent, funnel.Matched)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := store.AddCounts(ctx, funnel.NewTally("17841400000000099", "recipe", "", "reel-1", now).With(funnel.Sent)); err != nil {
		t.Fatal(err)
	}
	got, err := reportCost(ctx, wrapped{store}, Account, now)
	if err != nil {
		t.Fatal(err)
	}
	if got.Items != 2*ReportDays || got.Requests != 1 || got.RRU <= 0 || got.Bytes <= 0 {
		t.Errorf("report cost %+v, want %d items in one query", got, 2*ReportDays)
	}
	if want := readUnits(float64(got.Bytes), false); got.RRU != want {
		t.Errorf("%.1f RRU for %d bytes, want %.1f", got.RRU, got.Bytes, want)
	}
	if _, err := reportCost(ctx, opaque{store}, Account, now); err == nil || !strings.Contains(err.Error(), "reads no funnel counts") {
		t.Errorf("a store without funnel counts: err %v", err)
	}
}

// TestReportCostOfABusyMonth is the README's month of a viral account with 2 rules, 2 variants
// and 5 reels, every count of the funnel on every item: 600 counter items, still one Query.
func TestReportCostOfABusyMonth(t *testing.T) {
	ctx := context.Background()
	store := memory.NewStore()
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	all := []string{funnel.Matched, funnel.Sent, funnel.WithReason(funnel.Skipped, "no_rule"), funnel.WithReason(funnel.Expired, "window"),
		funnel.Taps, funnel.GatesMet, funnel.GatesPassed, funnel.FollowUps}
	for d := range ReportDays {
		for _, rule := range []string{"recipe", "sourdough-guide"} {
			for _, v := range []string{"short", "long"} {
				for m := range 5 {
					tally := funnel.NewTally(Account, rule, v, fmt.Sprintf("1790000000000%04d", m), now.AddDate(0, 0, -d)).With(all...)
					for range 500 { // three-digit counts
						if err := store.AddCounts(ctx, tally); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		}
	}
	got, err := reportCost(ctx, store, Account, now)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a busy month: %d items, %d bytes, %d queries, %.1f RRU", got.Items, got.Bytes, got.Requests, got.RRU)
	if got.Items != 600 || got.Requests != 1 {
		t.Errorf("a busy month: %+v, want 600 items in one Query", got)
	}
}
