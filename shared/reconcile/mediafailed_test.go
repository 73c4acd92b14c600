package reconcile

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestOneBadMediaDoesNotBlindTheAccount is issue 19's case 10: Meta answers the comments of one
// media with a 500 (code 1) every time. The pass goes on with the account's other media, the
// subscription is still checked (and healed), the failure is counted, and the bad media is read
// again on the next pass, from where its last good look ended, until Meta serves it. What is the
// whole account's (a throttle, a token Meta refuses) still stops the pass.
func TestOneBadMediaDoesNotBlindTheAccount(t *testing.T) {
	tests := []struct {
		name  string
		fault sandbox.Fault
		// whole: the fault is the account's, so the pass stops at the bad media.
		whole bool
	}{
		{name: "500 code 1", fault: sandbox.ServerError(500)},
		{name: "503 code 2", fault: sandbox.ServerError(503)},
		{name: "bare 502 from a proxy", fault: sandbox.HTTPStatus(502)},
		{name: "a refusal of that media (100)", fault: sandbox.MetaError(400, 100, 33)},
		{name: "a permission refusal of that media (10)", fault: sandbox.MetaError(400, 10, 0)},
		{name: "Meta's throttle stops the account's pass", fault: sandbox.MetaError(400, 80002, 0), whole: true},
		{name: "a refused token stops the account's pass", fault: sandbox.MetaError(400, 190, 460), whole: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{})
			h.sb.UnsubscribeApp(igID)
			// Newest first: BAD is listed between the two good media.
			h.newBadOld()
			broken := true
			h.sb.SetFault(func(c sandbox.Call) sandbox.Fault {
				if broken && c.Op == sandbox.OpComments && c.ObjectID == "BAD" {
					return tt.fault
				}
				return sandbox.Fault{}
			})

			rep, err := h.rec.Run(context.Background())
			got := h.ids()
			if tt.whole {
				if got != "n1" || rep.MediaFailed != 0 || slices.Contains(h.sb.Subscriptions(igID), "comments") {
					t.Fatalf("an account-wide refusal: enqueued %q, report %+v, subscriptions %v; want n1 only, the pass stopped", got, rep, h.sb.Subscriptions(igID))
				}
				if tt.fault.Code == 190 && err == nil {
					t.Errorf("a refused token is no error of the pass")
				}
				return
			}
			if err != nil {
				t.Fatalf("one media's failure failed the pass: %v", err)
			}
			if got != "n1,o1" {
				t.Fatalf("first pass enqueued %q, want the other media's n1,o1", got)
			}
			if rep.MediaFailed != 1 || h.metrics.Get(MetricMediaFailed) != 1 {
				t.Errorf("report %+v, %s %v; want 1 failed media counted", rep, MetricMediaFailed, h.metrics.Get(MetricMediaFailed))
			}
			if rep.Resubscribed != 1 || !slices.Contains(h.sb.Subscriptions(igID), "comments") {
				t.Errorf("the subscription was not healed: report %+v, subscriptions %v", rep, h.sb.Subscriptions(igID))
			}
			if mc := h.cursor().Media["BAD"]; !mc.LookedAt.IsZero() || !mc.Seen.IsZero() || mc.Resuming() {
				t.Errorf("the bad media's cursor moved past its unread comments: %+v", mc)
			}
			h.answer()

			// Still failing: read again (and only it, the others' counts did not move).
			h.clock.Set(at(5 * time.Minute))
			rep = h.pass()
			if got := h.ids(); got != "" || rep.MediaFailed != 1 || rep.Media != 1 {
				t.Fatalf("second pass: enqueued %q, report %+v; want BAD read again and failing", got, rep)
			}

			// Meta serves it again: its comment is found.
			broken = false
			h.clock.Set(at(10 * time.Minute))
			rep = h.pass()
			if got := h.ids(); got != "b1" || rep.MediaFailed != 0 {
				t.Fatalf("third pass: enqueued %q, report %+v; want b1", got, rep)
			}
			if mc := h.cursor().Media["BAD"]; mc.Count != 1 || mc.LookedAt.IsZero() {
				t.Errorf("cursor after the good look: %+v", mc)
			}
		})
	}
}

// TestMediaListingFailureStillChecksTheSubscription: when even the media listing fails (not a
// throttle), the pass reports the error but the subscription is checked all the same, and the
// next run lists again.
func TestMediaListingFailureStillChecksTheSubscription(t *testing.T) {
	h := newHarness(t, Config{})
	h.sb.UnsubscribeApp(igID)
	h.media("M", at(-time.Hour))
	h.comment("c1", "M", at(-30*time.Minute))
	broken := true
	h.sb.SetFault(func(c sandbox.Call) sandbox.Fault {
		if broken && c.Op == sandbox.OpMedia {
			return sandbox.ServerError(500)
		}
		return sandbox.Fault{}
	})
	rep, err := h.rec.Run(context.Background())
	var ge *reply.GraphError
	if !errors.As(err, &ge) || ge.Code != 1 {
		t.Fatalf("a failed listing: %v, want Meta's code 1", err)
	}
	if rep.Resubscribed != 1 {
		t.Errorf("subscription not checked after the listing failed: %+v", rep)
	}
	broken = false
	h.clock.Set(at(time.Minute)) // NextPass did not move: the next run lists again
	h.pass()
	if got := h.ids(); got != "c1" {
		t.Errorf("after the listing came back: %q", got)
	}
}
