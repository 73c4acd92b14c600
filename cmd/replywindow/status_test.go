package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

func TestStatus(t *testing.T) {
	h := opSetup(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	job := func(id string) reply.Job {
		return reply.Job{V: reply.JobVersion, AccountID: "17841400000000001", CommentID: id, MediaID: "m1",
			FromID: "p-" + id, FromUsername: "ana", Text: "recipe", Kind: reply.KindReel, CommentedAt: now.Add(-time.Hour)}
	}
	// A record through the domain's own transitions: claimed, sent.
	sent := reply.NewRecord(job("17900000000000101"), now)
	sent, err := sent.Claim(job("17900000000000101"), "replier-1", now, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if sent, err = h.store.Create(h.ctx, sent); err != nil {
		t.Fatal(err)
	}
	done, _ := sent.Finish(reply.Sent("m_123", "r_456"), true, now)
	done.Rule, done.Variant, done.Sent = "recipe", "B", "Hi ana! The book: https://example.com/b"
	if _, err := h.store.Update(h.ctx, done); err != nil {
		t.Fatal(err)
	}
	// Parked after an uncertain attempt; failed with Meta's code and answer.
	parked := reply.NewParked(job("17900000000000102"), now.Add(10*time.Minute), "throttled", now)
	if _, err := h.store.Create(h.ctx, parked); err != nil {
		t.Fatal(err)
	}
	failed := reply.NewRecord(job("17900000000000103"), now)
	failed, _ = failed.Claim(job("17900000000000103"), "replier-2", now, now.Add(time.Minute))
	if failed, err = h.store.Create(h.ctx, failed); err != nil {
		t.Fatal(err)
	}
	failed, _ = failed.Finish(reply.Outcome{State: reply.StateFailed, Reason: "551/1545041", Detail: "This person isn't available right now."}, true, now)
	if _, err := h.store.Update(h.ctx, failed); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		comment  string
		state    reply.State
		attempts int
		terminal bool
		human    []string
	}{
		{"17900000000000101", reply.StateSent, 1, true, []string{"state:", "SENT", "message m_123 to r_456", "attempts:", "reel (posts lane)",
			"rule:", "recipe", "variant:", "B", "Hi ana! The book: https://example.com/b"}},
		{"17900000000000102", reply.StateParked, 0, false, []string{"PARKED (throttled)", "next look:", "(in 9m", "deadline:"}},
		{"17900000000000103", reply.StateFailed, 1, true, []string{"FAILED (551/1545041)", "This person isn't available right now."}},
	}
	for _, c := range cases {
		t.Run(c.comment, func(t *testing.T) {
			var st opStatus
			if err := json.Unmarshal([]byte(h.must("status", c.comment, "--json")), &st); err != nil {
				t.Fatal(err)
			}
			r := st.Record
			if r.CommentID != c.comment || r.State != c.state || r.Attempts != c.attempts || st.Terminal != c.terminal {
				t.Errorf("status %+v", st)
			}
			if !r.Deadline.Equal(now.Add(-time.Hour).Add(reply.Window)) {
				t.Errorf("deadline %s", r.Deadline)
			}
			if (st.WindowLeftSec > 0) == c.terminal {
				t.Errorf("window left %v s for terminal=%v", st.WindowLeftSec, c.terminal)
			}
			out := h.must("status", c.comment)
			for _, w := range c.human {
				if !strings.Contains(out, w) {
					t.Errorf("status lacks %q:\n%s", w, out)
				}
			}
		})
	}
	if code, _, errs := h.run("status", "17900000000000199"); code != exitFail || !strings.Contains(errs, "no reply record for comment 17900000000000199") {
		t.Errorf("unknown comment: exit %d %q", code, errs)
	}
	if code, _, errs := h.run("status", "c-none"); code != exitUsage || !strings.Contains(errs, `COMMENT_ID: comment id "c-none": not a Meta id`) {
		t.Errorf("comment id that is not digits: exit %d %q", code, errs)
	}
	if code, _, errs := h.run("status"); code != exitUsage || !strings.Contains(errs, "want exactly one COMMENT_ID") {
		t.Errorf("no comment: exit %d %q", code, errs)
	}
	if code, out, _ := h.run("status", "--help"); code != exitOK || !strings.Contains(out, "Examples:") {
		t.Errorf("--help: exit %d %q", code, out)
	}
}
