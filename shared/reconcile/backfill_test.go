package reconcile

import (
	"context"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/replier"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// backfillWorld is an account connected now with a week of comments: two reels, a broadcast on
// air, an own comment, one no rule matches, one older than --since and one past the window.
func backfillWorld(h *harness) {
	h.media("R1", at(-6*24*time.Hour))
	h.media("R2", at(-24*time.Hour))
	h.media("OLD", at(-9*24*time.Hour))
	h.comment("old", "OLD", at(-2*time.Hour)) // on media past the window: only --media reads it
	h.comment("a", "R1", at(-5*24*time.Hour))
	h.comment("b", "R2", at(-20*time.Hour))
	h.comment("c", "R2", at(-10*time.Hour), func(c *sandbox.Comment) { c.Text = "nice" })
	h.comment("own", "R2", at(-9*time.Hour), func(c *sandbox.Comment) { c.FromID = igID })
	h.sb.StartBroadcast(igID, "L")
	h.comment("l", "L", at(-10*time.Minute), func(c *sandbox.Comment) { c.Live, c.Text = true, "LINK" })
}

func TestBackfill(t *testing.T) {
	tests := []struct {
		name  string
		opts  BackfillOptions
		found map[string]Outcome // comment -> outcome, for the comments without a record
		media []string
	}{
		{name: "dry run", opts: BackfillOptions{DryRun: true}, media: []string{"L", "R2", "R1"},
			found: map[string]Outcome{"a": OutcomeWouldSend, "b": OutcomeWouldSend, "c": OutcomeWouldSkip, "l": OutcomeWouldSend}},
		{name: "since 24h", opts: BackfillOptions{Since: 24 * time.Hour}, media: []string{"L", "R2", "R1"},
			found: map[string]Outcome{"b": OutcomeEnqueued, "c": OutcomeEnqueued, "l": OutcomeEnqueued}},
		{name: "one media", opts: BackfillOptions{Media: "R1"}, media: []string{"R1"},
			found: map[string]Outcome{"a": OutcomeEnqueued}},
		{name: "one media past the window", opts: BackfillOptions{Media: "OLD"}, media: []string{"OLD"},
			found: map[string]Outcome{"old": OutcomeEnqueued}},
		{name: "the broadcast", opts: BackfillOptions{Media: "L"}, media: []string{"L"},
			found: map[string]Outcome{"l": OutcomeEnqueued}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			backfillWorld(h)
			res, err := h.rec.Backfill(context.Background(), igID, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]Outcome{}
			for _, f := range res.Found {
				got[f.Job.CommentID] = f.Outcome
			}
			var media []string
			for _, m := range res.Media {
				media = append(media, m.ID)
			}
			if !maps.Equal(got, tt.found) || !slices.Equal(media, tt.media) {
				t.Errorf("found %v on %v; want %v on %v", got, media, tt.found, tt.media)
			}
			jobs := h.queue.take()
			if tt.opts.DryRun != (len(jobs) == 0) || !tt.opts.DryRun && len(jobs) != len(tt.found) {
				t.Errorf("%d jobs enqueued (dry run %v)", len(jobs), tt.opts.DryRun)
			}
			if c := h.cursor(); c.Version != 0 {
				t.Errorf("backfill moved the reconciler's cursor: %+v", c)
			}
		})
	}
}

// TestBackfillTwice: the real run answers each eligible comment once; a second run finds records
// for all of them and enqueues nothing.
func TestBackfillTwice(t *testing.T) {
	h := newHarness(t, Config{})
	backfillWorld(h)
	ctx := context.Background()
	rep := replier.New(replier.Config{TableName: "test", DefaultLease: 20 * time.Second}, h.store, h.graph, h.tokens, h.clock, nil, nil)
	first, err := h.rec.Backfill(ctx, igID, BackfillOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range h.queue.take() {
		if _, err := rep.Process(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
	second, err := h.rec.Backfill(ctx, igID, BackfillOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if first.Total(OutcomeEnqueued) != 4 || second.Total(OutcomeEnqueued) != 0 || second.Total(OutcomeKnown) != 4 || len(h.queue.take()) != 0 {
		t.Errorf("first enqueued %d, second %d (known %d)", first.Total(OutcomeEnqueued), second.Total(OutcomeEnqueued), second.Total(OutcomeKnown))
	}
	for id, want := range map[string]int{"a": 1, "b": 1, "c": 0, "l": 1, "own": 0} {
		if got := h.sb.Delivered(id); got != want {
			t.Errorf("%s: %d DMs, want %d", id, got, want)
		}
	}
	if first.Total(OutcomeOwn) != 1 || second.Report.Own != 1 {
		t.Errorf("own comments: %d, %d", first.Total(OutcomeOwn), second.Report.Own)
	}
}

// TestBackfillWaitsForBudget: a backfill larger than the budget's burst waits for each next read
// instead of stopping, and says so.
func TestBackfillWaitsForBudget(t *testing.T) {
	h := newHarness(t, Config{ReadLimit: reply.Limit{Count: 30, Period: time.Hour, Burst: 2}})
	h.media("R", at(-time.Hour))
	h.many("c", "R", 120, at(-50*time.Minute))
	var waits []time.Time
	res, err := h.rec.Backfill(context.Background(), igID, BackfillOptions{DryRun: true, Progress: func(p Progress) {
		if !p.WaitUntil.IsZero() {
			waits = append(waits, p.WaitUntil)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	// live_media, media, three pages: two at once, three after a wait each.
	if res.Report.Calls != 5 || len(waits) != 3 || res.Total(OutcomeWouldSend) != 120 || !h.clock.Now().After(t0.Add(5*time.Minute)) {
		t.Errorf("reads %d, waits %v, would send %d, clock %s", res.Report.Calls, waits, res.Total(OutcomeWouldSend), h.clock.Now())
	}
}

// TestBackfillReadsWhole: a reply made since --since under an older comment is found even when
// that comment is pages below the floor.
func TestBackfillReadsWhole(t *testing.T) {
	h := newHarness(t, Config{})
	h.media("R", at(-6*24*time.Hour))
	h.comment("old", "R", at(-5*24*time.Hour))
	h.many("n", "R", 60, at(-4*24*time.Hour)) // older than --since: the thread is on the second page
	h.comment("reply", "R", at(-3*time.Hour), func(c *sandbox.Comment) { c.ParentID = "old" })
	res, err := h.rec.Backfill(context.Background(), igID, BackfillOptions{Since: 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if got := h.ids(); got != "reply" || res.Report.Calls != 4 { // live_media, media, two pages
		t.Errorf("enqueued %q with %d reads", got, res.Report.Calls)
	}
}

func TestBackfillRefuses(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	if _, err := h.rec.Backfill(ctx, "17841499999999999", BackfillOptions{}); !errors.Is(err, reply.ErrNotFound) {
		t.Errorf("unknown account: %v", err)
	}
	if _, err := h.rec.Backfill(ctx, igID, BackfillOptions{Media: "nope"}); !errors.Is(err, ErrNoMedia) {
		t.Errorf("unknown media: %v", err)
	}
	a, _ := h.store.Account(ctx, igID)
	a.Unhealthy, a.Version = "190", a.Version+1
	if _, err := h.store.PutAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := h.rec.Backfill(ctx, igID, BackfillOptions{}); err == nil {
		t.Error("backfill of an account that cannot send")
	}
}
