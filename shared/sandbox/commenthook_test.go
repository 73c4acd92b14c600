package sandbox_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/webhook"
)

// TestCommentBody: the comment webhook the sandbox builds is one the webhook's parser takes as
// Meta's, for each shape (a post's, a reel's, a Live comment, one delivered without its media).
func TestCommentBody(t *testing.T) {
	tests := []struct {
		name    string
		c       sandbox.Comment
		product string
		want    reply.Job
	}{
		{"post", sandbox.Comment{ID: "17990000000000101", AccountID: igID, MediaID: "17800000000000101", FromID: person, FromName: "ana", Text: "RECIPE 😍 a/b"}, "FEED",
			reply.Job{AccountID: igID, CommentID: "17990000000000101", MediaID: "17800000000000101", ProductType: "FEED", FromID: person, FromUsername: "ana", Text: "RECIPE 😍 a/b", Kind: reply.KindPost}},
		{"reel reply", sandbox.Comment{ID: "17990000000000102", AccountID: igID, MediaID: "17800000000000102", ParentID: "17990000000000101", FromID: person, Text: "me too"}, "REELS",
			reply.Job{AccountID: igID, CommentID: "17990000000000102", MediaID: "17800000000000102", ProductType: "REELS", FromID: person, Text: "me too", ParentID: "17990000000000101", Kind: reply.KindReel}},
		{"live", sandbox.Comment{ID: "17990000000000103", AccountID: igID, MediaID: "17700000000000001", FromID: person, Text: "link", Live: true}, "LIVE",
			reply.Job{AccountID: igID, CommentID: "17990000000000103", MediaID: "17700000000000001", ProductType: "LIVE", FromID: person, Text: "link", Kind: reply.KindLive}},
		{"without media", sandbox.Comment{ID: "17990000000000104", AccountID: igID, FromID: person, Text: "recipe"}, "REELS",
			reply.Job{AccountID: igID, CommentID: "17990000000000104", FromID: person, Text: "recipe", Kind: reply.KindPost}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := sandbox.CommentBody(tt.c, tt.product, t0)
			if bytes.ContainsAny(body, "😍") || strings.Contains(tt.c.Text, "/") && !bytes.Contains(body, []byte(`a\/b`)) {
				t.Errorf("not in Meta's bytes (\\u escapes, \\/): %s", body)
			}
			d, err := webhook.Parse(body, t0)
			if err != nil || len(d.Jobs) != 1 {
				t.Fatalf("Parse: %d jobs, %v: %s", len(d.Jobs), err, body)
			}
			got := d.Jobs[0]
			got.V, got.CommentedAt, got.DeliveredAt = 0, t0, t0
			tt.want.CommentedAt, tt.want.DeliveredAt = t0, t0
			if got != tt.want {
				t.Errorf("job\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestCommentAction: POST /_sandbox/people/comment makes the comment in Meta's world (listed under
// its media, one private reply allowed) and answers its signed webhook; no webhook once the app
// is unsubscribed (the comment still exists); bad input is a 400 naming what is wrong.
func TestCommentAction(t *testing.T) {
	e := newEnv(t)
	const media = "17800000000000201"
	e.sb.AddMedia(sandbox.Media{ID: media, AccountID: igID, ProductType: "REELS"})
	e.sb.StartBroadcast(igID, "17700000000000201")
	call := func(a sandbox.Action) (int, sandbox.Hook, string) {
		t.Helper()
		b, _ := json.Marshal(a)
		resp, err := http.Post(e.srv.URL+"/_sandbox/people/comment", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out bytes.Buffer
		_, _ = out.ReadFrom(resp.Body)
		var h sandbox.Hook
		if resp.StatusCode == http.StatusOK {
			if err := json.Unmarshal(out.Bytes(), &h); err != nil {
				t.Fatalf("answer %s: %v", out.Bytes(), err)
			}
		}
		return resp.StatusCode, h, out.String()
	}

	status, h, _ := call(sandbox.Action{AccountID: igID, PersonID: person, MediaID: media, Text: "RECIPE please"})
	if status != 200 || h.CommentID == "" || webhook.Verify([]byte(h.Body), h.Signature, []string{sandbox.DefaultAppSecret}) != nil {
		t.Fatalf("comment: HTTP %d %+v", status, h)
	}
	d, err := webhook.Parse([]byte(h.Body), t0)
	if err != nil || len(d.Jobs) != 1 || d.Jobs[0].CommentID != h.CommentID || d.Jobs[0].ProductType != "REELS" || d.Jobs[0].FromUsername == "" {
		t.Fatalf("webhook %s: %+v %v", h.Body, d.Jobs, err)
	}
	page, err := e.c.Comments(t.Context(), igAccount, igToken, media, "", 50)
	if err != nil || len(page.Items) != 1 || page.Items[0].ID != h.CommentID {
		t.Errorf("the media's comments: %+v, %v", page.Items, err)
	}
	if got := e.send(t, igAccount, igToken, h.CommentID); got != "ok" {
		t.Errorf("first private reply: %s", got)
	}
	if got := e.send(t, igAccount, igToken, h.CommentID); got != "100/2534025" {
		t.Errorf("second private reply: %s, want Meta's refusal", got)
	}

	status, live, _ := call(sandbox.Action{AccountID: igID, PersonID: person, MediaID: "17700000000000201", Text: "LINK"})
	if d, err := webhook.Parse([]byte(live.Body), t0); status != 200 || err != nil || len(d.Jobs) != 1 || d.Jobs[0].Kind != reply.KindLive {
		t.Errorf("Live comment: HTTP %d %s", status, live.Body)
	}
	if status, h2, _ := call(sandbox.Action{AccountID: igID, PersonID: person, MediaID: media, Text: "again"}); status != 200 || h2.CommentID == h.CommentID {
		t.Errorf("second comment: HTTP %d, id %q (first %q)", status, h2.CommentID, h.CommentID)
	}

	e.sb.UnsubscribeApp(igID)
	status, quiet, _ := call(sandbox.Action{AccountID: igID, PersonID: person, MediaID: media, Text: "RECIPE"})
	if status != 200 || quiet.CommentID == "" || quiet.Body != "" {
		t.Errorf("unsubscribed: HTTP %d %+v, want the comment and no webhook", status, quiet)
	}
	if got := e.send(t, igAccount, igToken, quiet.CommentID); got != "ok" {
		t.Errorf("private reply to the comment Meta did not notify: %s", got)
	}

	e.sb.EndBroadcast("17700000000000201")
	for name, tt := range map[string]struct {
		a    sandbox.Action
		want string
	}{
		"no text":             {sandbox.Action{AccountID: igID, PersonID: person, MediaID: media}, "needs account, media, person and text"},
		"no media":            {sandbox.Action{AccountID: igID, PersonID: person, Text: "hi"}, "needs account, media, person and text"},
		"another's media":     {sandbox.Action{AccountID: fbID, PersonID: person, MediaID: media, Text: "hi"}, "is account " + igID + "'s"},
		"another's broadcast": {sandbox.Action{AccountID: fbID, PersonID: person, MediaID: "17700000000000201", Text: "hi"}, "broadcast 17700000000000201 is account " + igID + "'s"},
		"broadcast is over":   {sandbox.Action{AccountID: igID, PersonID: person, MediaID: "17700000000000201", Text: "hi"}, "not on air"},
	} {
		if status, _, body := call(tt.a); status != http.StatusBadRequest || !strings.Contains(body, tt.want) {
			t.Errorf("%s: HTTP %d %q, want 400 naming %q", name, status, body, tt.want)
		}
	}
}
