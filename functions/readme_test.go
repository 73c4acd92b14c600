package functions

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestReadmeConnectsEveryField: the README's "Connect Meta" step, which a user follows to the
// letter in Meta's dashboard, names every webhook field replywindow handles. A field left out
// there loses its events without a word (the app receives only the fields it subscribed to),
// as a setup step without messaging_postbacks once lost every tap.
func TestReadmeConnectsEveryField(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	step := regexp.MustCompile(`(?s)\*\*Connect Meta:\*\*(.*?)\n\d+\. \*\*`).FindSubmatch(b)
	if step == nil {
		t.Fatal(`README.md has no "**Connect Meta:**" step followed by another numbered step`)
	}
	text := strings.Join(strings.Fields(string(step[1])), " ")
	i := strings.Index(text, "subscribe to the fields")
	if i < 0 {
		t.Fatalf("the Connect Meta step says no %q: %.200s", "subscribe to the fields", text)
	}
	list := text[i:]
	list = list[:strings.Index(list+".", ".")] // the sentence that lists them
	for _, f := range reply.WebhookFields {
		if !strings.Contains(list, "`"+f+"`") {
			t.Errorf("the Connect Meta step's fields (%q) leave out %s", list, f)
		}
	}
}
