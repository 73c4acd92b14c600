package functions

import (
	"encoding/json"
	"testing"

	funnelevents "github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
)

// e2eCheckEvents checks what the functions put on the bus during the end-to-end run: every
// event matches its schema, one PrivateReplySent (by id) per private reply Meta delivered (the
// sandbox's ledger, sentReplies); a second copy (at least once) is logged. The puts wait up to
// EVENT_PUT_TIMEOUT (20 s here): moto on a busy machine is slow, and a put past it would be the
// sweeper's a minute later, after the run.
func e2eCheckEvents(t *testing.T, received [][]byte, sentReplies int) {
	t.Helper()
	kinds := map[funnelevents.Kind]int{}
	ids := map[string]bool{}
	for _, raw := range received {
		if err := eventstest.Check(raw); err != nil {
			t.Errorf("%v\n%s", err, raw)
		}
		var ev struct {
			DetailType funnelevents.Kind `json:"detail-type"`
			Detail     struct {
				ID string `json:"id"`
			} `json:"detail"`
		}
		if err := json.Unmarshal(raw, &ev); err != nil {
			t.Fatal(err)
		}
		if ids[ev.Detail.ID] {
			t.Logf("event %s (%s) published twice", ev.Detail.ID, ev.DetailType)
			continue
		}
		ids[ev.Detail.ID] = true
		kinds[ev.DetailType]++
	}
	if kinds[funnelevents.PrivateReplySent] != sentReplies || kinds[funnelevents.FollowUpSent] == 0 {
		t.Errorf("events %v; want %d PrivateReplySent (the sandbox's ledger) and the conversation's FollowUpSent", kinds, sentReplies)
	}
	t.Logf("events on the bus: %v", kinds)
}
