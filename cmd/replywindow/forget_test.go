package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestForget: the commenter's records go, others' stay, and a job still queued for one of the
// person's earlier comments can create nothing.
func TestForget(t *testing.T) {
	h := opSetup(t)
	acct, person := opID(t), "17841400000000777"
	now := time.Now().UTC()
	job := func(i int, from string) reply.Job {
		return reply.Job{V: reply.JobVersion, AccountID: acct, CommentID: fmt.Sprintf("179000000000%05d", i), MediaID: "18000000000000001",
			FromID: from, Kind: reply.KindPost, CommentedAt: now.Add(-time.Hour)}
	}
	for i := range 5 {
		from := person
		if i%2 == 1 {
			from = "17841400000000888"
		}
		if _, err := h.store.Create(h.ctx, reply.NewSkipped(job(i, from), reply.SkipNoRule, now)); err != nil {
			t.Fatal(err)
		}
	}
	// --dry-run counts and writes nothing: no deletion, no tombstone.
	if text := h.must("forget", "--person", person, "--dry-run"); !strings.Contains(text, "forget would remove 3 reply records, 0 conversations, 0 leads and 0 click records of person "+person) {
		t.Errorf("--dry-run: %s", text)
	}
	if text := h.must("forget", "--person", "17841400000000999", "--dry-run"); !strings.Contains(text, "nothing in table "+h.table+" names person 17841400000000999") {
		t.Errorf("--dry-run of nobody: %s", text)
	}
	if _, err := h.store.ByComment(h.ctx, job(0, "").CommentID); err != nil {
		t.Errorf("--dry-run removed a record: %v", err)
	}
	var out struct {
		Code    string `json:"code"`
		State   string `json:"state"`
		Removed int    `json:"removed"`
	}
	if err := json.Unmarshal([]byte(h.must("forget", "--person", person, "--json")), &out); err != nil {
		t.Fatal(err)
	}
	if out.State != reply.DeletionDone || out.Removed != 3 {
		t.Errorf("forget: %+v, want done with 3 removed", out)
	}
	for i := range 5 {
		_, err := h.store.ByComment(h.ctx, job(i, "").CommentID)
		if gone := errors.Is(err, reply.ErrNotFound); gone != (i%2 == 0) {
			t.Errorf("comment %d: %v", i, err)
		}
	}
	if _, err := h.store.Create(h.ctx, reply.NewSkipped(job(9, person), reply.SkipNoRule, now)); !errors.Is(err, reply.ErrForgotten) {
		t.Errorf("a queued job of the forgotten person: %v, want ErrForgotten", err)
	}
	if text := h.must("forget", "--person", person); !strings.HasPrefix(text, "nothing in the table named person "+person) {
		t.Errorf("again (nothing left to match): %s", text)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"forget"}, "--person is required"},
		{[]string{"forget", "--person", "ana"}, `--person: person id "ana": not a Meta id`},
		{[]string{"forget", "--person", person, "--budget", "0s"}, "want a positive duration"},
	} {
		if code, _, errs := h.run(c.args...); code != exitUsage || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d %q, want %q", c.args, code, errs, c.want)
		}
	}
}
