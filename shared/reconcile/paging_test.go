package reconcile

import (
	"context"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestExpiredCursorStartsTheMediaOver: a pass the read budget stopped part way keeps Meta's
// cursor of the next page; a later pass goes on from it while Meta honours it, and when Meta
// refuses it as expired (2642) reads the media from the top again in the same pass: nothing is
// lost, nothing is counted as a failure, and the pass is no error.
func TestExpiredCursorStartsTheMediaOver(t *testing.T) {
	tests := []struct {
		name  string
		later time.Duration // when the second pass runs
		reads int           // its Graph reads
	}{
		// live_media, media, pages 2 and 3, subscribed_apps
		{name: "the cursor is still honoured", later: 5 * time.Minute, reads: 5},
		// live_media, media, the refused cursor, pages 1 to 3, subscribed_apps
		{name: "the cursor expired", later: sandbox.DefaultCursorLifetime + 10*time.Minute, reads: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A burst of 3 reads: live_media, media and the first page of comments.
			h := newHarness(t, Config{ReadLimit: reply.Limit{Count: 45, Period: time.Hour, Burst: 3}})
			h.media("M", at(-48*time.Hour))
			h.many("m", "M", 150, at(-47*time.Hour))
			rep := h.pass()
			h.answer()
			if got := h.ids(); got != names("m", 100, 150) || rep.Stopped != 1 || !h.cursor().Media["M"].Resuming() {
				t.Fatalf("first pass: enqueued %q, report %+v, cursor %+v", got, rep, h.cursor().Media["M"])
			}
			h.rec.cfg.ReadLimit = Config{}.withDefaults().ReadLimit
			h.clock.Set(at(tt.later))
			rep, err := h.rec.Run(context.Background())
			if err != nil {
				t.Fatalf("second pass: %v", err)
			}
			if got := h.ids(); got != names("m", 0, 100) || rep.Calls != tt.reads || rep.MediaFailed != 0 || rep.Stopped != 0 {
				t.Fatalf("second pass: %d reads, enqueued %q, report %+v; want %d reads, m000..m099", rep.Calls, got, rep, tt.reads)
			}
			if mc := h.cursor().Media["M"]; mc.Resuming() || mc.Count != 150 {
				t.Errorf("cursor after the look: %+v", mc)
			}
		})
	}
}

// TestRepliesPastTheNestedPage: Meta nests 50 of a comment's replies; the reconciler follows the
// replies' paging for the rest, on the first look and on a whole read, and not when the nested
// page already ends below the floor.
func TestRepliesPastTheNestedPage(t *testing.T) {
	h := newHarness(t, Config{})
	h.media("M", at(-48*time.Hour))
	h.comment("top", "M", at(-3*time.Hour))
	for i := range 120 {
		h.comment(names("r", i, i+1), "M", at(-2*time.Hour+time.Duration(i)*time.Second), func(c *sandbox.Comment) { c.ParentID = "top" })
	}
	steps := []struct {
		at    time.Duration
		do    func()
		reads int
		enq   string
	}{
		// live_media, media, comments (top and 50 replies), two pages of replies, subscribed_apps
		{at: 0, reads: 6, enq: names("r", 0, 120) + ",top"},
		// A new reply is the newest: the nested page holds it and ends below the floor.
		{at: 5 * time.Minute, reads: 2 + 1, enq: "r120", do: func() {
			h.comment("r120", "M", at(2*time.Minute), func(c *sandbox.Comment) { c.ParentID = "top" })
		}},
		// Six hours on, the whole read follows every page again: a reply a deletion hid is found
		// (and, found without a webhook, has the subscription checked again).
		{at: 6*time.Hour + time.Minute, reads: 2 + 1 + 2 + 1, enq: "r121", do: func() {
			h.comment("r121", "M", at(3*time.Minute), func(c *sandbox.Comment) { c.ParentID = "top" })
			h.sb.DeleteComment("r000")
		}},
	}
	for i, s := range steps {
		h.clock.Set(at(s.at))
		if s.do != nil {
			s.do()
		}
		rep := h.pass()
		h.answer()
		if got := h.ids(); rep.Calls != s.reads || got != s.enq {
			t.Fatalf("step %d: %d reads, enqueued %q; want %d, %q\nreport %+v", i, rep.Calls, got, s.reads, s.enq, rep)
		}
	}
}
