package sandbox_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// answer is what a raw call got back.
type answer struct {
	status int
	code   string // "ok" or Meta's "code/subcode"
	msg    string
	body   map[string]any
}

// post sends body (JSON-encoded unless it is []byte) to path with the token, as Meta's clients do.
func (e *env) post(t *testing.T, path, token string, body any) answer {
	t.Helper()
	b, ok := body.([]byte)
	if !ok {
		var err error
		if b, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	return do(t, req)
}

func do(t *testing.T, req *http.Request) answer {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode, code: "ok"}
	if err := json.NewDecoder(resp.Body).Decode(&a.body); err != nil {
		t.Fatalf("answer is not JSON: %v", err)
	}
	if e, ok := a.body["error"].(map[string]any); ok {
		g := reply.GraphError{Code: int(e["code"].(float64))}
		if sc, ok := e["error_subcode"].(float64); ok {
			g.Subcode = int(sc)
		}
		a.code, a.msg = g.CodeString(), e["message"].(string)
	}
	return a
}

type obj = map[string]any

func buttons(n int, title string) []obj {
	bs := make([]obj, n)
	for i := range bs {
		bs[i] = obj{"type": "postback", "title": title, "payload": "TAP"}
	}
	return bs
}

func template(text string, bs ...obj) obj {
	return obj{"attachment": obj{"type": "template", "payload": obj{"template_type": "button", "text": text, "buttons": bs}}}
}

func quick(n int, title, payload string) []obj {
	qs := make([]obj, n)
	for i := range qs {
		qs[i] = obj{"content_type": "text", "title": title, "payload": payload}
	}
	return qs
}

// TestPrivateReplyContents: a private reply may hold text, a button template (1–3 buttons) or
// quick replies (up to 13) within Meta's limits, and no media; the ledger keeps what it held.
func TestPrivateReplyContents(t *testing.T) {
	long := strings.Repeat("é", 641)
	tests := []struct {
		name    string
		message obj
		want    string // "ok" or the code
		inMsg   string // a part of Meta's message
	}{
		{"text", obj{"text": "hello"}, "ok", ""},
		{"button template", template("Want the link?", buttons(3, "Send me the link")...), "ok", ""},
		{"web_url button", template("Shop", obj{"type": "web_url", "title": "Open", "url": "https://shop.example.com/a"}), "ok", ""},
		{"quick replies", obj{"text": "Pick one", "quick_replies": quick(13, strings.Repeat("q", 20), "P")}, "ok", ""},
		{"text 640 characters", template(long[:640*2], buttons(1, "ok")...), "ok", ""},
		{"text 641 characters", template(long, buttons(1, "ok")...), "100", "640"},
		{"no buttons", template("Want it?"), "100", "1 to 3"},
		{"four buttons", template("Want it?", buttons(4, "go")...), "100", "1 to 3"},
		{"button title 21", template("Want it?", buttons(1, strings.Repeat("t", 21))...), "100", "title"},
		{"button payload 1001", template("Want it?", obj{"type": "postback", "title": "go", "payload": strings.Repeat("p", 1001)}), "100", "payload"},
		{"button without payload", template("Want it?", obj{"type": "postback", "title": "go"}), "100", "payload"},
		{"web_url not a URL", template("Shop", obj{"type": "web_url", "title": "Open", "url": "shop dot com"}), "100", "URL"},
		{"web_url without a dotted host", template("Shop", obj{"type": "web_url", "title": "Open", "url": "https://localhost/x"}), "100", "URL"},
		{"unknown button type", template("Call", obj{"type": "phone_number", "title": "Call", "payload": "+1"}), "100", "type"},
		{"generic template", obj{"attachment": obj{"type": "template", "payload": obj{"template_type": "generic"}}}, "100", "template_type"},
		{"fourteen quick replies", obj{"text": "Pick", "quick_replies": quick(14, "q", "P")}, "100", "13"},
		{"quick reply title 21", obj{"text": "Pick", "quick_replies": quick(1, strings.Repeat("q", 21), "P")}, "100", "title"},
		{"quick reply payload 1001", obj{"text": "Pick", "quick_replies": quick(1, "q", strings.Repeat("p", 1001))}, "100", "payload"},
		{"image", obj{"attachment": obj{"type": "image", "payload": obj{"url": "https://cdn.example.com/a.png"}}}, "100", "private reply"},
		{"video", obj{"attachment": obj{"type": "video", "payload": obj{"url": "https://cdn.example.com/a.mp4"}}}, "100", "private reply"},
		{"heart sticker", obj{"attachment": obj{"type": "like_heart"}}, "100", "private reply"},
		{"text over 1000 bytes", obj{"text": strings.Repeat("x", 1001)}, "100", "1000"},
		{"broken link", obj{"text": "see https://exa mple"}, "100", "link"},
		{"no message", nil, "100", "message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			body := obj{"recipient": obj{"comment_id": comment}}
			if tt.message != nil {
				body["message"] = tt.message
			}
			got := e.post(t, "/v24.0/"+igID+"/messages", igToken, body)
			if got.code != tt.want || !strings.Contains(got.msg, tt.inMsg) {
				t.Fatalf("answer %s %q; want %s with %q", got.code, got.msg, tt.want, tt.inMsg)
			}
			if n := len(e.sb.Deliveries()); n != map[bool]int{true: 1}[tt.want == "ok"] {
				t.Errorf("%d deliveries", n)
			}
			if tt.want != "ok" && e.sb.Stats().Refused["100"] != 1 {
				t.Errorf("refusals %v", e.sb.Stats().Refused)
			}
		})
	}
}

// TestPrivateReplyLedger: the ledger keeps the buttons and quick replies the graph client sent.
func TestPrivateReplyLedger(t *testing.T) {
	e := newEnv(t)
	bs := []reply.Button{{Type: reply.ButtonPostback, Title: "Send me the link", Payload: "LINK"},
		{Type: reply.ButtonURL, Title: "Shop", URL: "https://shop.example.com/"}}
	qs := []reply.QuickReply{{Title: "Yes", Payload: "Y"}, {Title: "No", Payload: "N"}}
	ctx := t.Context()
	if _, err := e.c.PrivateReply(ctx, igAccount, igToken, "17900000000000011", reply.Message{Text: "Want it?", Buttons: bs}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.c.PrivateReply(ctx, fbAccount, fbToken, "17900000000000012", reply.Message{Text: "Sure?", QuickReplies: qs}); err != nil {
		t.Fatal(err)
	}
	d := e.sb.Deliveries()
	if len(d) != 2 || d[0].Text != "Want it?" || !reflect.DeepEqual(d[0].Buttons, bs) || d[0].QuickReplies != nil ||
		d[1].Text != "Sure?" || !reflect.DeepEqual(d[1].QuickReplies, qs) || d[1].Buttons != nil {
		t.Fatalf("ledger %+v", d)
	}
	if st := e.sb.Stats(); st.Delivered != 2 || st.Messages != 0 || st.Calls[sandbox.OpSend] != 0 {
		t.Errorf("stats %+v", st)
	}
}
