package graph_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// The person of these tests: a name and a username no error of the client may quote.
const (
	personName     = "Zelda Quixotic-Vandermeer"
	personUsername = "zelda.quixotic.77"
)

// logged is what a WARN line at level info says of err, through the functions' JSON logger.
func logged(err error) string {
	var buf bytes.Buffer
	telemetry.NewLogger(&buf, "info").Warn("follow gate: profile unavailable", "person", person, "err", err)
	return buf.String()
}

// noPersonalData fails the test when s holds the person's name or username (or a part of them).
func noPersonalData(t *testing.T, what, s string) {
	t.Helper()
	for _, p := range []string{personName, personUsername, "Zelda", "Quixotic", "zelda"} {
		if strings.Contains(s, p) {
			t.Errorf("%s quotes the person (%q): %s", what, p, s)
		}
	}
}

// TestProfileErrorCarriesNoPersonalData is issue 19, case 7: a profile answer without
// is_user_follow_business is an error that names the fields Meta sent, never their values (the
// person's name and username), in its text and in the WARN line that logs it at level info.
func TestProfileErrorCarriesNoPersonalData(t *testing.T) {
	for _, acct := range []struct {
		a     reply.Account
		token string
	}{{igAccount, igToken}, {fbAccount, fbToken}} {
		t.Run(string(acct.a.Login), func(t *testing.T) {
			e := newEnv(t, 2*time.Second)
			e.sb.Message(acct.a.ID, person, "hi")
			e.sb.SetName(person, personName)
			e.sb.SetUsername(person, personUsername)
			e.sb.WithholdFollowState(acct.a.ID, person, true)
			p, err := e.c.Profile(context.Background(), acct.a, acct.token, person)
			if err == nil {
				t.Fatalf("profile without follow state: %+v, no error", p)
			}
			msg := err.Error()
			if !strings.Contains(msg, "is_user_follow_business") || !strings.Contains(msg, "fields id, name, username") {
				t.Errorf("error does not say what was missing and what came: %s", msg)
			}
			noPersonalData(t, "error", msg)
			noPersonalData(t, "log line", logged(err))
			// The same person with the follow state answered: the data reaches the caller, where
			// it belongs.
			e.sb.WithholdFollowState(acct.a.ID, person, false)
			if p, err := e.c.Profile(context.Background(), acct.a, acct.token, person); err != nil || p.Name != personName || p.Username != personUsername {
				t.Errorf("profile %+v, %v", p, err)
			}
		})
	}
}

// TestErrorsQuoteNoAnswerBody audits every error the client builds from an answer it could not
// use: each names codes, fields and sizes, never the body (which may hold a person's data or
// echo the request).
func TestErrorsQuoteNoAnswerBody(t *testing.T) {
	people := `{"id":"` + person + `","name":"` + personName + `","username":"` + personUsername + `"}`
	tests := []struct {
		name   string
		status int
		body   string
		call   func(c *graph.Client) error
		want   string // what the error must say
	}{
		{"subscribe not confirmed", 200, people, func(c *graph.Client) error {
			return c.Subscribe(context.Background(), igAccount, igToken, []string{"comments"})
		}, "fields id, name, username"},
		{"me without an app-scoped id", 200, `{"user_id":"` + igID + `","username":"` + personUsername + `","name":"` + personName + `"}`, func(c *graph.Client) error {
			_, err := c.Me(context.Background(), igAccount, igToken)
			return err
		}, "fields name, user_id, username"},
		{"profile not an object", 200, `["` + personName + `"]`, func(c *graph.Client) error {
			_, err := c.Profile(context.Background(), igAccount, igToken, person)
			return err
		}, "decode answer"},
		{"an error page quoting the request", 502, "<html><head><title>502 Bad Gateway</title></head><body>POST /messages text=" + personName + " to " + personUsername + "</body></html>",
			func(c *graph.Client) error {
				_, err := c.SendMessage(context.Background(), igAccount, igToken, person, reply.Message{Text: "hi " + personUsername}, "")
				return err
			}, "502 Bad Gateway: answer is not Meta's JSON"},
		{"a data key", 200, `{"` + personUsername + `":1}`, func(c *graph.Client) error {
			return c.Subscribe(context.Background(), igAccount, igToken, nil)
		}, "(an unusual name)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			err := tt.call(graph.New(graph.WithBaseURL(srv.URL)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to say %q", err, tt.want)
			}
			noPersonalData(t, "error", err.Error())
			noPersonalData(t, "log line", logged(err))
		})
	}
}
