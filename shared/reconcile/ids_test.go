package reconcile

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestIDsReadFromMetaAreCheckedLikeTheWebhooks is issue 24's finding 8: reconciliation and
// backfill take comment, media, person and parent ids from Meta's answers, where they go into
// Graph paths, table keys and jobs. An id that is not digits (reply.ValidID, the webhook's rule)
// leaves its item out, counted in the Report and the ReconcileIDRefused metric; the good items
// beside it are answered.
func TestIDsReadFromMetaAreCheckedLikeTheWebhooks(t *testing.T) {
	const (
		goodMedia = "18000000000000001"
		badMedia  = "18000000000000002/comments?x=1"
		badLive   = "18000000000000003#"
		good      = "17900000000000001"
	)
	setup := func(t *testing.T) *harness {
		h := newHarness(t, Config{})
		// Meta's rule, as New sets it (the paging tests widen it to their fixtures' names).
		h.rec = New(h.rec.cfg, h.store, h.queue, h.graph, h.tokens, h.clock, h.metrics, nil)
		h.rec.sleep = func(_ context.Context, d time.Duration) error { h.clock.Add(d); return nil }
		made := at(-2 * time.Hour)
		h.media(goodMedia, made.Add(-time.Hour))
		h.media(badMedia, made.Add(-time.Hour))
		h.sb.StartBroadcast(igID, badLive)
		add := func(id, media, from, parent string) {
			h.sb.AddComment(sandbox.Comment{ID: id, AccountID: igID, MediaID: media, FromID: from, FromName: "fan",
				ParentID: parent, Text: "RECIPE please", CreatedAt: made, WithoutWebhook: true})
		}
		add(good, goodMedia, "17841400000000501", "")
		add("1790000000000000x", goodMedia, "17841400000000502", "")         // comment id
		add("17900000000000004", goodMedia, "p-17841400000000503", "")       // person id
		add("17900000000000005", goodMedia, "17841400000000504", "../../me") // parent id
		add("17900000000000006", badMedia, "17841400000000505", "")          // on a media with a bad id
		return h
	}
	check := func(t *testing.T, h *harness, rep Report, enqueued []string) {
		t.Helper()
		if rep.IDRefused != 5 {
			t.Errorf("report %+v: %d ids refused, want 5 (media, live media, comment, person, parent)", rep, rep.IDRefused)
		}
		if got := h.metrics.Get(MetricIDRefused); got != 5 {
			t.Errorf("metric %s = %v, want 5", MetricIDRefused, got)
		}
		if !slices.Equal(enqueued, []string{good}) {
			t.Errorf("enqueued %v, want only %s", enqueued, good)
		}
	}

	t.Run("reconcile", func(t *testing.T) {
		h := setup(t)
		rep := h.pass()
		var ids []string
		for _, j := range h.queue.take() {
			ids = append(ids, j.CommentID)
		}
		check(t, h, rep, ids)
		for id := range h.cursor().Media {
			if !reply.ValidID(id) {
				t.Errorf("the cursor keeps media %q", id)
			}
		}
	})
	t.Run("backfill", func(t *testing.T) {
		h := setup(t)
		res, err := h.rec.Backfill(context.Background(), igID, BackfillOptions{})
		if err != nil {
			t.Fatalf("Backfill: %v", err)
		}
		var ids []string
		for _, f := range res.Found {
			ids = append(ids, f.Job.CommentID)
		}
		check(t, h, res.Report, ids)
		for _, m := range res.Media {
			if !reply.ValidID(m.ID) {
				t.Errorf("backfill read media %q", m.ID)
			}
		}
	})
}
