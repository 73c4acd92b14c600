package sandbox_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// listing is the envelope of a read's answer.
type listing struct {
	Data   []map[string]any `json:"data"`
	Paging struct {
		Cursors struct{ Before, After string } `json:"cursors"`
		Next    string                         `json:"next"`
	} `json:"paging"`
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// get is a raw GET of path with query q and the Instagram Login token.
func (e *env) get(t *testing.T, path string, q url.Values) (int, listing, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v24.0/"+path+"?"+q.Encode(), nil)
	req.Header.Set("Authorization", "Bearer "+igToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l listing
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		t.Fatalf("%s: answer is not JSON: %v", path, err)
	}
	return resp.StatusCode, l, resp.Header
}

func ids(l listing) string {
	var out []string
	for _, d := range l.Data {
		out = append(out, fmt.Sprint(d["id"]))
	}
	return strings.Join(out, ",")
}

// reads fills the sandbox with a reel of three comments (one hidden, one deleted), a reply, a
// reply whose parent it does not know, and a post of another account.
func reads(e *env) {
	e.sb.AddMedia(sandbox.Media{ID: "M1", AccountID: igID, ProductType: "REELS", CreatedAt: t0.Add(-2 * time.Hour)})
	e.sb.AddMedia(sandbox.Media{ID: "M2", AccountID: igID, CreatedAt: t0.Add(-time.Hour)})
	e.sb.AddMedia(sandbox.Media{ID: "F1", AccountID: fbID, CreatedAt: t0})
	at := func(m int) time.Time { return t0.Add(time.Duration(m-10) * time.Minute) }
	for _, c := range []sandbox.Comment{
		{ID: "c1", MediaID: "M1", Text: "first", FromID: "p1", FromName: "ana", CreatedAt: at(1)},
		{ID: "c2", MediaID: "M1", Text: "second", FromID: "p2", FromName: "ben", CreatedAt: at(2)},
		{ID: "c3", MediaID: "M1", Text: "third", FromID: "p3", FromName: "cleo", CreatedAt: at(3)},
		{ID: "r1", MediaID: "M1", Text: "a reply", FromID: "p4", FromName: "dev", ParentID: "c1", CreatedAt: at(4)},
		{ID: "r2", MediaID: "M1", Text: "orphan", FromID: "p5", ParentID: "gone", CreatedAt: at(5)},
		{ID: "h", MediaID: "M1", Text: "hidden", Hidden: true, CreatedAt: at(6)},
		{ID: "d", MediaID: "M1", Text: "deleted", Deleted: true, CreatedAt: at(7)},
	} {
		c.AccountID = igID
		e.sb.AddComment(c)
	}
}

func TestReads(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		q      url.Values
		status int
		code   int
		ids    string
		check  func(t *testing.T, l listing)
	}{
		{name: "media, default fields", path: igID + "/media", status: 200, ids: "M2,M1",
			check: func(t *testing.T, l listing) {
				if len(l.Data[0]) != 1 {
					t.Errorf("default fields %v, want id only", l.Data[0])
				}
			}},
		{name: "media with counts", path: igID + "/media", q: url.Values{"fields": {"id,timestamp,media_product_type,comments_count"}},
			status: 200, ids: "M2,M1", check: func(t *testing.T, l listing) {
				m1 := l.Data[1]
				// Every comment not deleted, replies included.
				if m1["comments_count"] != float64(6) || m1["media_product_type"] != "REELS" || m1["timestamp"] != "2025-09-01T10:00:00+0000" {
					t.Errorf("M1 %v", m1)
				}
			}},
		{name: "media of another account", path: fbID + "/media", status: 400, code: 100},
		{name: "unknown media field", path: igID + "/media", q: url.Values{"fields": {"id,caption"}}, status: 400, code: 100},
		{name: "comments, default fields", path: "M1/comments", status: 200, ids: "r2,c3,c2,c1",
			check: func(t *testing.T, l listing) {
				if got := l.Data[3]; len(got) != 3 || got["text"] != "first" || got["timestamp"] != "2025-09-01T11:51:00+0000" {
					t.Errorf("c1 %v", got)
				}
			}},
		{name: "comments with replies", path: "M1/comments", q: url.Values{"fields": {"id,from,parent_id,replies{id,text,parent_id}"}},
			status: 200, ids: "r2,c3,c2,c1", check: func(t *testing.T, l listing) {
				c1, orphan := l.Data[3], l.Data[0]
				rs, _ := c1["replies"].(map[string]any)["data"].([]any)
				if len(rs) != 1 || rs[0].(map[string]any)["id"] != "r1" || rs[0].(map[string]any)["parent_id"] != "c1" {
					t.Errorf("c1's replies %v", c1["replies"])
				}
				if from := c1["from"].(map[string]any); from["id"] != "p1" || from["username"] != "ana" {
					t.Errorf("c1 from %v", from)
				}
				if orphan["parent_id"] != "gone" {
					t.Errorf("orphan reply %v", orphan)
				}
			}},
		{name: "comments page of two", path: "M1/comments", q: url.Values{"limit": {"2"}}, status: 200, ids: "r2,c3",
			check: func(t *testing.T, l listing) {
				if l.Paging.Cursors.After == "" || !strings.Contains(l.Paging.Next, "after="+l.Paging.Cursors.After) {
					t.Errorf("paging %+v", l.Paging)
				}
			}},
		{name: "bad cursor", path: "M1/comments", q: url.Values{"after": {"nope"}}, status: 400, code: 100},
		{name: "comments of another account's media", path: "F1/comments", status: 400, code: 100},
		{name: "bad field syntax", path: "M1/comments", q: url.Values{"fields": {"id,replies{id"}}, status: 400, code: 100},
		{name: "subscribed apps", path: igID + "/subscribed_apps", status: 200, check: func(t *testing.T, l listing) {
			if len(l.Data) != 1 || fmt.Sprint(l.Data[0]["subscribed_fields"]) != "[comments live_comments messages messaging_postbacks messaging_reactions messaging_referral]" {
				t.Errorf("apps %v", l.Data)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			reads(e)
			status, l, h := e.get(t, tt.path, tt.q)
			if status != tt.status || l.Error.Code != tt.code {
				t.Fatalf("HTTP %d %+v, want %d code %d", status, l.Error, tt.status, tt.code)
			}
			if tt.ids != "" && ids(l) != tt.ids {
				t.Errorf("ids %s, want %s", ids(l), tt.ids)
			}
			if p, _ := graph.Usage(h); status == 200 && (p != 0 || h.Get("X-Business-Use-Case-Usage") == "") {
				t.Errorf("usage header %q", h.Get("X-Business-Use-Case-Usage"))
			}
			if tt.check != nil {
				tt.check(t, l)
			}
		})
	}
}

// TestReadPaging walks a media's comments page by page: the cursors continue where the last page
// ended, also when newer comments arrived meanwhile.
func TestReadPaging(t *testing.T) {
	e := newEnv(t)
	for i := range 7 {
		e.sb.AddComment(sandbox.Comment{ID: fmt.Sprintf("c%d", i), AccountID: igID, MediaID: "M", CreatedAt: t0.Add(time.Duration(i-10) * time.Second)})
	}
	var got []string
	q := url.Values{"limit": {"3"}}
	for page := 0; ; page++ {
		_, l, _ := e.get(t, "M/comments", q)
		got = append(got, ids(l))
		if page == 0 {
			e.sb.AddComment(sandbox.Comment{ID: "new", AccountID: igID, MediaID: "M", CreatedAt: t0})
		}
		if l.Paging.Next == "" {
			break
		}
		q.Set("after", l.Paging.Cursors.After)
	}
	if s := strings.Join(got, "|"); s != "c6,c5,c4|c3,c2,c1|c0" {
		t.Errorf("pages %s", s)
	}
}

// TestReadLimit: reads beyond the rolling limit get Meta's 80002 with the time to regain access,
// and the usage header reports the share used on the way there.
func TestReadLimit(t *testing.T) {
	e := newEnv(t, sandbox.WithReadLimit(reply.Limit{Count: 4, Period: time.Hour}))
	var usage []int
	for range 4 {
		status, _, h := e.get(t, igID+"/media", nil)
		p, _ := graph.Usage(h)
		usage = append(usage, p)
		if status != 200 {
			t.Fatalf("HTTP %d within the limit", status)
		}
	}
	if fmt.Sprint(usage) != "[25 50 75 100]" {
		t.Errorf("usage %v", usage)
	}
	e.clock.Add(10 * time.Minute)
	status, l, h := e.get(t, igID+"/live_media", nil)
	if _, regain := graph.Usage(h); status != 400 || l.Error.Code != 80002 || regain != 50*time.Minute {
		t.Errorf("over the limit: HTTP %d %+v, regain %s", status, l.Error, regain)
	}
	e.clock.Add(50 * time.Minute)
	if status, _, _ := e.get(t, igID+"/media", nil); status != 200 {
		t.Errorf("after the hour: HTTP %d", status)
	}
}

// TestBroadcastComments: a broadcast's comments are listed under its id, also after it ended; it
// is never listed among the account's media.
func TestBroadcastComments(t *testing.T) {
	e := newEnv(t)
	e.sb.StartBroadcast(igID, "L")
	e.sb.AddComment(sandbox.Comment{ID: "lc", AccountID: igID, MediaID: "L", Live: true, Text: "LINK"})
	if _, l, _ := e.get(t, igID+"/live_media", nil); ids(l) != "L" {
		t.Errorf("live media %s", ids(l))
	}
	e.sb.EndBroadcast("L")
	if _, l, _ := e.get(t, igID+"/live_media", nil); ids(l) != "" {
		t.Errorf("live media after the end %s", ids(l))
	}
	if _, l, _ := e.get(t, "L/comments", nil); ids(l) != "lc" {
		t.Errorf("broadcast comments after the end %s", ids(l))
	}
	if _, l, _ := e.get(t, igID+"/media", nil); ids(l) != "" {
		t.Errorf("media %s", ids(l))
	}
}

// TestWebhookFaults: Meta notifies a comment when the account was subscribed to its field when
// it was made, unless the comment is kept without webhook; the comments edge lists them all but
// the ad's.
func TestWebhookFaults(t *testing.T) {
	e := newEnv(t)
	add := func(id string, mods ...func(*sandbox.Comment)) {
		c := sandbox.Comment{ID: id, AccountID: igID, MediaID: "M", CreatedAt: e.clock.Now()}
		for _, m := range mods {
			m(&c)
		}
		e.sb.AddComment(c)
	}
	add("a")
	add("b", func(c *sandbox.Comment) { c.WithoutWebhook = true })
	add("ad", func(c *sandbox.Comment) { c.Ad = true })
	e.clock.Add(time.Minute)
	e.sb.UnsubscribeApp(igID)
	e.clock.Add(time.Minute)
	add("c")
	add("f", func(c *sandbox.Comment) { c.AccountID, c.MediaID = fbID, "F" })
	add("early", func(c *sandbox.Comment) { c.CreatedAt = t0.Add(-time.Hour) }) // learnt late, made before
	if _, l, _ := e.get(t, igID+"/subscribed_apps", nil); len(l.Data) != 0 {
		t.Errorf("apps after the unsubscription %v", l.Data)
	}
	e.clock.Add(time.Minute)
	if err := e.c.Subscribe(t.Context(), igAccount, igToken, []string{"comments"}); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute)
	add("d")
	add("l", func(c *sandbox.Comment) { c.MediaID, c.Live = "L", true })                  // no live_comments now
	add("later", func(c *sandbox.Comment) { c.CreatedAt = e.clock.Now().Add(time.Hour) }) // not made yet: not listed
	want := map[string]bool{"a": true, "b": false, "ad": true, "c": false, "f": true, "early": true, "d": true, "l": false, "later": true, "unknown": false}
	for id, w := range want {
		if got := e.sb.Notifies(id); got != w {
			t.Errorf("Notifies(%s) = %v, want %v", id, got, w)
		}
	}
	// Every organic comment is there to be read, notified or not.
	if _, l, _ := e.get(t, "M/comments", nil); ids(l) != "d,c,b,a,early" {
		t.Errorf("comments %s", ids(l))
	}
	if _, l, _ := e.get(t, igID+"/media", url.Values{"fields": {"id,comments_count"}}); len(l.Data) != 1 || l.Data[0]["comments_count"] != float64(5) {
		t.Errorf("media %v", l.Data)
	}
}
