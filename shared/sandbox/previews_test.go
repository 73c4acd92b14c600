package sandbox_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestPreviews: with WithPreviews, each link of an accepted private reply or DM (text and URL
// buttons) is fetched once, as Meta's crawler, without following the redirect; a refused send
// fetches nothing; without the option nothing is fetched.
func TestPreviews(t *testing.T) {
	var mu sync.Mutex
	var agents []string
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.Method+" "+r.URL.Path+" "+r.UserAgent())
		mu.Unlock()
		http.Redirect(w, r, "https://shop.example/book", http.StatusFound)
	}))
	defer site.Close()

	e := newEnv(t, sandbox.WithPreviews(site.Client()))
	e.sb.AddComment(sandbox.Comment{ID: comment, AccountID: igID, FromID: person})
	m := reply.Message{Text: "Here: " + site.URL + "/l/text.",
		Buttons: []reply.Button{{Type: reply.ButtonURL, Title: "Buy", URL: site.URL + "/l/button"}, {Type: reply.ButtonPostback, Title: "More", Payload: "MORE"}}}
	if _, err := e.c.PrivateReply(context.Background(), igAccount, igToken, comment, m); err != nil {
		t.Fatal(err)
	}
	if got := e.dm(t, m, ""); got != "ok" { // the private reply opened no window: refused, no fetch
		e.sb.Message(igID, person, "hi")
		if got := e.dm(t, reply.Message{Text: "again " + site.URL + "/l/dm"}, ""); got != "ok" {
			t.Fatalf("dm: %s", got)
		}
	}
	previews := e.sb.Previews()
	if len(previews) != 3 {
		t.Fatalf("previews %+v, want 3 (text, button, DM)", previews)
	}
	for _, p := range previews {
		if p.Status != http.StatusFound || p.Err != "" {
			t.Errorf("preview %+v: want the redirect's 302, not followed", p)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	want := map[string]bool{"GET /l/text " + sandbox.PreviewUserAgent: true, "GET /l/button " + sandbox.PreviewUserAgent: true, "GET /l/dm " + sandbox.PreviewUserAgent: true}
	for _, a := range agents {
		if !want[a] {
			t.Errorf("unexpected fetch %q", a)
		}
		delete(want, a)
	}
	if len(want) != 0 {
		t.Errorf("fetches missing: %v", want)
	}

	off := newEnv(t)
	off.sb.AddComment(sandbox.Comment{ID: comment, AccountID: igID, FromID: person})
	if _, err := off.c.PrivateReply(context.Background(), igAccount, igToken, comment, m); err != nil {
		t.Fatal(err)
	}
	if p := off.sb.Previews(); p != nil {
		t.Errorf("previews without WithPreviews: %+v", p)
	}
}
