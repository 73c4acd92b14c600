package sandbox_test

import (
	"context"
	"errors"
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestPeopleWhoCannotBeMessaged: a person configured unavailable is answered 551/1545041 by every
// account, for a private reply to their comment and for a Send API message; a person who blocked
// an account is answered 200/1545041 by that account only. Both are the person's permanent
// refusals (never the account's permission problem), and nothing is delivered or counted against
// the lane.
func TestPeopleWhoCannotBeMessaged(t *testing.T) {
	tests := []struct {
		name       string
		set        func(sb *sandbox.Sandbox)
		ig, fb, dm string // private reply (Instagram Login, Facebook Login), Send API message
	}{
		{"reachable", func(*sandbox.Sandbox) {}, "ok", "ok", "ok"},
		{"unavailable", func(sb *sandbox.Sandbox) { sb.SetUnavailable(person, true) }, "551/1545041", "551/1545041", "551/1545041"},
		{"available again", func(sb *sandbox.Sandbox) { sb.SetUnavailable(person, true); sb.SetUnavailable(person, false) }, "ok", "ok", "ok"},
		{"blocked the Instagram account", func(sb *sandbox.Sandbox) { sb.SetBlocked(igID, person, true) }, "200/1545041", "ok", "200/1545041"},
		{"blocked the other account", func(sb *sandbox.Sandbox) { sb.SetBlocked(fbID, person, true) }, "ok", "200/1545041", "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sb.AddComment(sandbox.Comment{ID: "ig-c", AccountID: igID, MediaID: "M", FromID: person})
			e.sb.AddComment(sandbox.Comment{ID: "fb-c", AccountID: fbID, MediaID: "F", FromID: person})
			e.sb.Message(igID, person, "hi")
			tt.set(e.sb)
			ctx := context.Background()
			_, errIG := e.c.PrivateReply(ctx, igAccount, igToken, "ig-c", hello)
			_, errFB := e.c.PrivateReply(ctx, fbAccount, fbToken, "fb-c", hello)
			_, errDM := e.c.SendMessage(ctx, igAccount, igToken, person, hello, "")
			for _, c := range []struct {
				what      string
				err       error
				want      string
				delivered int
			}{
				{"private reply (ig)", errIG, tt.ig, e.sb.Delivered("ig-c")},
				{"private reply (fb)", errFB, tt.fb, e.sb.Delivered("fb-c")},
				{"message", errDM, tt.dm, -1},
			} {
				if got := outcome(t, c.err); got != c.want {
					t.Errorf("%s: %s, want %s", c.what, got, c.want)
				}
				if c.want == "ok" {
					continue
				}
				var ge *reply.GraphError
				if !errors.As(c.err, &ge) || ge.Verdict() != reply.VerdictPermanent {
					t.Errorf("%s: verdict %v, want permanent (the person's, not the account's)", c.what, reply.Classify(c.err))
				}
				if c.delivered > 0 {
					t.Errorf("%s: delivered after a refusal", c.what)
				}
			}
			if tt.dm != "ok" && len(e.sb.Messages()) != 0 {
				t.Errorf("refused message in the ledger: %+v", e.sb.Messages())
			}
		})
	}
}
