package webhook

import (
	"encoding/json"
	"strings"
	"testing"
)

// A story mention's payload is the story's CDN URL: Meta lets it be referenced, never stored,
// so nothing of it may reach a job (the queue, the table, the logs).
func TestStoryMentionKeepsNoURL(t *testing.T) {
	d, err := Parse(delivery(t, "entries.json"), now)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(d.Jobs)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"lookaside", "SECRET", "asset_id", "https://"} {
		if strings.Contains(string(b), leak) {
			t.Errorf("jobs hold %q: %s", leak, b)
		}
	}
}
