package replier

import (
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestAttribution: a SENT record names the rule, the person's variant and the text exactly as
// Meta received it; a record that never tried to send keeps no text.
func TestAttribution(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(func(a *reply.Account) {
				a.Rules[0].PublicReplies = nil
				a.Rules[0].Variants = []reply.Variant{{Name: "A", Weight: 1}, {Name: "B", Weight: 1, Message: "Hey {username}, the book: https://example.com/b"}}
			})
			delivered := map[string]string{}
			seen := map[string]bool{}
			for i := range 8 {
				job := sampleJob(t, i)
				if d := e.process(job); d.Action != ActionSent {
					t.Fatalf("job %d: %s(%s)", i, d.Action, d.Reason)
				}
				for _, d := range e.sb.Deliveries() {
					delivered[d.CommentID] = d.Text
				}
				rec := e.record(job)
				want, _ := e.acct.Rules[0].Variant(e.acct.ID, job.FromID)
				if rec.Rule != "recipe" || rec.Variant != want {
					t.Fatalf("job %d: rule %q variant %q, want recipe %q", i, rec.Rule, rec.Variant, want)
				}
				if rec.Sent == "" || rec.Sent != delivered[job.CommentID] {
					t.Fatalf("job %d: record says %q was sent, Meta got %q", i, rec.Sent, delivered[job.CommentID])
				}
				seen[rec.Variant] = true
			}
			if !seen["A"] || !seen["B"] {
				t.Errorf("variants sent: %v, want both over 8 people", seen)
			}
			// No rule: SKIPPED, and nothing of a message on the record.
			job := sampleJob(t, 100)
			job.Text = "nice reel"
			if d := e.process(job); d.Action != ActionSkipped {
				t.Fatalf("no rule: %s", d.Action)
			}
			if rec := e.record(job); rec.Rule != "" || rec.Sent != "" {
				t.Errorf("skipped record carries rule %q text %q", rec.Rule, rec.Sent)
			}
		})
	}
}
