package sandbox_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/webhook"
)

// TestPeopleEndpoints: over HTTP, a person's action answers its signed webhook and opens the
// window as the method does; the echoes are handed over once.
func TestPeopleEndpoints(t *testing.T) {
	e := newEnv(t)
	call := func(path string, body any) (int, []byte) {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(e.srv.URL+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out bytes.Buffer
		_, _ = out.ReadFrom(resp.Body)
		return resp.StatusCode, out.Bytes()
	}
	status, b := call("/_sandbox/people/postback", sandbox.Action{AccountID: igID, PersonID: person, Payload: "LINK", Title: "Send me the link"})
	var h sandbox.Hook
	if err := json.Unmarshal(b, &h); status != 200 || err != nil {
		t.Fatalf("HTTP %d %s", status, b)
	}
	ev := decodeEvent(t, []byte(h.Body))
	if ev.Postback == nil || ev.Postback.MID != h.MID || ev.Postback.Payload != "LINK" ||
		webhook.Verify([]byte(h.Body), h.Signature, []string{sandbox.DefaultAppSecret}) != nil {
		t.Errorf("hook %+v", h)
	}
	if e.sb.WindowEnd(igID, person).IsZero() {
		t.Error("the postback opened no window")
	}
	if got := e.dm(t, hello, ""); got != "ok" {
		t.Fatalf("send after the postback: %s", got)
	}
	status, b = call("/_sandbox/echoes", nil)
	var hooks []sandbox.Hook
	if err := json.Unmarshal(b, &hooks); status != 200 || err != nil || len(hooks) != 1 ||
		webhook.Verify([]byte(hooks[0].Body), hooks[0].Signature, []string{sandbox.DefaultAppSecret}) != nil {
		t.Fatalf("echoes: HTTP %d %s", status, b)
	}
	if _, b = call("/_sandbox/echoes", nil); string(bytes.TrimSpace(b)) != "[]" {
		t.Errorf("echoes taken twice: %s", b)
	}
	for path, want := range map[string]int{"/_sandbox/people/wave": 404, "/_sandbox/people/message": 200} {
		if status, b := call(path, sandbox.Action{AccountID: igID, PersonID: person, Text: "hi"}); status != want {
			t.Errorf("%s: HTTP %d %s", path, status, b)
		}
	}
	resp, err := http.Get(e.srv.URL + "/_sandbox/people/message")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET: HTTP %d", resp.StatusCode)
	}
}

// TestFollowAction: over HTTP, a person follows and unfollows the account; the profile API
// answers is_user_follow_business accordingly, and Meta posts no webhook for it.
func TestFollowAction(t *testing.T) {
	e := newEnv(t)
	e.sb.Message(igID, person, "hi") // consent: the person wrote first
	for _, tt := range []struct {
		action  string
		a       sandbox.Action
		status  int
		follows bool
	}{
		{"follow", sandbox.Action{AccountID: igID, PersonID: person}, http.StatusOK, true},
		{"follow", sandbox.Action{AccountID: igID, PersonID: person}, http.StatusOK, true}, // again: still following
		{"unfollow", sandbox.Action{AccountID: igID, PersonID: person}, http.StatusOK, false},
		{"follow", sandbox.Action{AccountID: igID}, http.StatusBadRequest, false}, // nobody follows
	} {
		b, _ := json.Marshal(tt.a)
		resp, err := http.Post(e.srv.URL+"/_sandbox/people/"+tt.action, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		var h sandbox.Hook
		_ = json.NewDecoder(resp.Body).Decode(&h)
		resp.Body.Close()
		if resp.StatusCode != tt.status || h.Body != "" {
			t.Errorf("%s %+v: HTTP %d, hook %+v; want %d and no webhook", tt.action, tt.a, resp.StatusCode, h, tt.status)
		}
		p, err := e.c.Profile(t.Context(), igAccount, igToken, person)
		if err != nil || p.Following != tt.follows {
			t.Errorf("%s %+v: profile %+v, %v; want following %v", tt.action, tt.a, p, err, tt.follows)
		}
	}
}
