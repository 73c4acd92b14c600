package graph_test

import (
	"bytes"
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// TestAnErrorMayStillCarryATokenFinding4 is issue 24's finding 4: the client redacted the token
// from the raw bytes of an error answer, then decoded them, so a JSON error spelling the token
// with \u escapes brought it back in clear, and a redirect whose Location named the token put it
// into the refresh error. For every shape an answer may echo the token in (raw, JSON-escaped in
// part or in full, query-, path- or percent-escaped, in an HTML page, in Location or
// WWW-Authenticate), neither the error nor the slog JSON line logging it at info holds the token,
// in clear or escaped, for a refresh (token in the query) and a send (token in the header).
func TestAnErrorMayStillCarryATokenFinding4(t *testing.T) {
	// A token holding characters that query and path escaping change, so that those shapes
	// really differ from the raw one.
	const (
		account = "17841400000000077"
		token   = "IGQV/odd+token=with~escapes.AbC123"
	)
	forms := map[string]string{
		"clear":         token,
		"query-escaped": url.QueryEscape(token),
		"path-escaped":  url.PathEscape(token),
		"tail":          token[len(token)-12:],
	}
	a := reply.Account{ID: account, Login: reply.LoginInstagram}
	for _, shape := range sandbox.EchoShapes {
		t.Run(string(shape), func(t *testing.T) {
			e := newEnv(t, time.Second)
			e.sb.AddAccount(account, token, reply.LoginInstagram, "")
			e.sb.SetFault(func(sandbox.Call) sandbox.Fault { return sandbox.EchoingToken(shape) })
			ctx := context.Background()
			_, _, refreshErr := e.c.RefreshToken(ctx, token)
			_, sendErr := e.c.PrivateReply(ctx, a, token, "17900000000000001", reply.Message{Text: "hi"})
			for name, err := range map[string]error{"refresh": refreshErr, "private reply": sendErr} {
				if err == nil {
					t.Fatalf("%s: no error", name)
				}
				var buf bytes.Buffer
				telemetry.NewLogger(&buf, "info").Info("graph call failed", "err", err)
				for form, s := range forms {
					if strings.Contains(err.Error(), s) {
						t.Errorf("%s: the token (%s) is in the error: %s", name, form, err)
					}
					if strings.Contains(buf.String(), s) {
						t.Errorf("%s: the token (%s) is in the log line: %s", name, form, buf.String())
					}
				}
				// The echo is not the answer: it stays an error the verdicts know.
				if v := reply.Classify(err); v == reply.VerdictSent {
					t.Errorf("%s: verdict %s", name, v)
				}
			}
		})
	}
}
