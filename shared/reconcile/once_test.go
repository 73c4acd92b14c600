package reconcile

import (
	"context"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/replier"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestFoundByWebhookAndByReconciliation: a comment the webhook brought and the reconciler found
// too gets one record and one reply, in either order; one the webhook brought and the replier
// answered is not enqueued again.
func TestFoundByWebhookAndByReconciliation(t *testing.T) {
	h := newHarness(t, Config{})
	ctx := context.Background()
	rep := replier.New(replier.Config{TableName: "test", DefaultLease: 20 * time.Second}, h.store, h.graph, h.tokens, h.clock, nil, nil)
	h.media("M", at(-2*time.Hour))
	webhook := func(id string) reply.Job {
		// The webhook's job: no creation time, so the delivery's stands in for it.
		return reply.Job{V: reply.JobVersion, AccountID: igID, CommentID: id, MediaID: "M", ProductType: "REELS",
			FromID: "p-" + id, FromUsername: "fan_" + id, Text: "RECIPE please", Kind: reply.KindReel,
			CommentedAt: at(-time.Minute), DeliveredAt: at(-time.Minute)}
	}
	for _, id := range []string{"answered", "reconciled-first", "webhook-first"} {
		h.comment(id, "M", at(-90*time.Minute), func(c *sandbox.Comment) { c.FromID = "p-" + id; c.WithoutWebhook = false })
	}
	process := func(j reply.Job) replier.Action {
		t.Helper()
		d, err := rep.Process(ctx, j)
		if err != nil {
			t.Fatalf("process %s: %v", j.CommentID, err)
		}
		return d.Action
	}
	if a := process(webhook("answered")); a != replier.ActionSent {
		t.Fatalf("the webhook's comment: %s", a)
	}
	if a := process(webhook("webhook-first")); a != replier.ActionSent {
		t.Fatalf("webhook-first: %s", a)
	}
	r := h.pass()
	if r.Known != 2 || r.Reconciled != 1 {
		t.Fatalf("report %+v: want 2 known, 1 reconciled", r)
	}
	found := h.queue.take()
	if len(found) != 1 || found[0].CommentID != "reconciled-first" {
		t.Fatalf("found %+v", found)
	}
	if a := process(found[0]); a != replier.ActionSent {
		t.Fatalf("the found job: %s", a)
	}
	// The webhook's job for it arrives late (Meta retried): the record turns it away.
	if a := process(webhook("reconciled-first")); a != replier.ActionDone {
		t.Errorf("the late webhook job: %s, want %s", a, replier.ActionDone)
	}
	for _, id := range []string{"answered", "reconciled-first", "webhook-first"} {
		if n := h.sb.Delivered(id); n != 1 {
			t.Errorf("%s: %d DMs", id, n)
		}
	}
	rec, err := h.store.ByComment(ctx, "reconciled-first")
	if err != nil || rec.State != reply.StateSent || !rec.Deadline.Equal(at(-90*time.Minute).Add(reply.Window)) {
		t.Errorf("record %+v, %v: want SENT with the deadline from Meta's timestamp", rec, err)
	}
	recs, _, err := h.store.Scan(ctx, "", 100)
	if err != nil || len(recs) != 3 {
		t.Errorf("%d records, want 3 (%v)", len(recs), err)
	}
}
