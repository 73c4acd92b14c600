package replier

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/reply"
)

// TestFlowVariants: a person's variant carries through the flow: the step with variants sends
// that variant's message, a step without variants counts under the rule's variant, and the
// records and the funnel counts say so.
func TestFlowVariants(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			rule := flowRule("book",
				reply.Step{Name: "link", On: reply.Trigger{Payload: "BOOK_LINK"}, Messages: []reply.Message{text("link")},
					Variants: []reply.StepVariant{{Name: "A", Weight: 1, Messages: []reply.Message{text("link A")}},
						{Name: "B", Weight: 1, Messages: []reply.Message{text("link B")}}}},
				tapStep("more", "BOOK_MORE", text("more")))
			rule.Buttons = []reply.Button{{Type: reply.ButtonPostback, Title: "The book", Payload: "BOOK_LINK"}}
			rule.Variants = []reply.Variant{{Name: "A", Weight: 1}, {Name: "B", Weight: 1, Message: "Tap below, {username}"}}
			e.put(func(a *reply.Account) { a.Rules = []reply.Rule{rule} })
			want := map[string]int64{}
			for i := range 6 {
				person := fmt.Sprintf("1784140000000080%d", i)
				variant, _ := rule.Variant(e.acct.ID, person)
				e.tap(person, "BOOK_LINK")
				e.tap(person, "BOOK_MORE")
				// The first automated message carries the account's disclosure after its text.
				if got := e.sentTo(person); len(got) != 2 || !strings.HasPrefix(got[0], "link "+variant+"\n") || got[1] != "more" {
					t.Fatalf("person %s (variant %s) got %q", person, variant, got)
				}
				for k, r := range e.followUpRecords(person) {
					if r.Job.FollowUp.Variant != variant || !r.Job.FollowUp.Tap {
						t.Errorf("%s: variant %q tap %v, want %q and a tap", k, r.Job.FollowUp.Variant, r.Job.FollowUp.Tap, variant)
					}
				}
				want[variant] += 2
			}
			var store any = e.store
			if c, ok := store.(*countingStore); ok {
				store = c.Store
			}
			rows, err := store.(funnel.Reader).Counts(context.Background(), e.acct.ID, start.Add(-time.Hour), e.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, r := range rows {
				if r.Rule == "book" {
					got[r.Variant] += r.Counts["taps"]
					if r.Counts["followups_sent"] != r.Counts["taps"] {
						t.Errorf("variant %s: %d follow-ups for %d taps", r.Variant, r.Counts["followups_sent"], r.Counts["taps"])
					}
				}
			}
			if got["A"] != want["A"] || got["B"] != want["B"] || want["A"] == 0 || want["B"] == 0 {
				t.Errorf("taps by variant %v, want %v (both variants met)", got, want)
			}
		})
	}
}
