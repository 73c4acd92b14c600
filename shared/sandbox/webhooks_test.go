package sandbox_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/webhook"
)

// event is one entry[].messaging[] item as Meta documents it.
type event struct {
	Sender    struct{ ID string } `json:"sender"`
	Recipient struct{ ID string } `json:"recipient"`
	Timestamp int64               `json:"timestamp"`
	Message   *struct {
		MID        string `json:"mid"`
		Text       string `json:"text"`
		IsEcho     bool   `json:"is_echo"`
		AppID      string `json:"app_id"`
		QuickReply *struct {
			Payload string `json:"payload"`
		} `json:"quick_reply"`
		ReplyTo *struct {
			Story struct{ ID, URL string } `json:"story"`
		} `json:"reply_to"`
		Attachments []struct {
			Type    string `json:"type"`
			Payload struct{ URL, ID string }
		} `json:"attachments"`
	} `json:"message"`
	Postback *struct{ MID, Title, Payload string } `json:"postback"`
	Reaction *struct{ MID, Action, Reaction, Emoji string }
	Read     *struct{ MID string }
}

// decodeEvent is the one event of a webhook body, which must be an instagram delivery of one
// entry for the account it names.
func decodeEvent(t *testing.T, body []byte) event {
	t.Helper()
	var env struct {
		Object string `json:"object"`
		Entry  []struct {
			ID        string  `json:"id"`
			Time      int64   `json:"time"`
			Messaging []event `json:"messaging"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("webhook body %s: %v", body, err)
	}
	if env.Object != "instagram" || len(env.Entry) != 1 || len(env.Entry[0].Messaging) != 1 {
		t.Fatalf("webhook body %s", body)
	}
	ev := env.Entry[0].Messaging[0]
	if acct := env.Entry[0].ID; acct != ev.Recipient.ID && acct != ev.Sender.ID || env.Entry[0].Time != ev.Timestamp {
		t.Fatalf("entry id or time do not match the event: %s", body)
	}
	return ev
}

// TestWebhookShapes: each action of a person comes back as the event Meta posts for it.
func TestWebhookShapes(t *testing.T) {
	e := newEnv(t)
	e.subscribe(t, igAccount, igToken, withSeen...) // read receipts come on their own field
	check := func(name string, ok bool, body []byte) {
		t.Helper()
		if !ok {
			t.Errorf("%s: %s", name, body)
		}
	}
	ms := t0.UnixMilli()
	mid, b := e.sb.Message(igID, person, "hi there")
	ev := decodeEvent(t, b)
	check("message", ev.Sender.ID == person && ev.Recipient.ID == igID && ev.Timestamp == ms && ev.Message != nil &&
		ev.Message.MID == mid && ev.Message.Text == "hi there" && !ev.Message.IsEcho && ev.Message.QuickReply == nil, b)

	mid, b = e.sb.QuickReply(igID, person, "Yes please", "YES")
	ev = decodeEvent(t, b)
	check("quick reply", ev.Message != nil && ev.Message.MID == mid && ev.Message.Text == "Yes please" &&
		ev.Message.QuickReply != nil && ev.Message.QuickReply.Payload == "YES", b)

	mid, b = e.sb.Postback(igID, person, "LINK", "Send me the link")
	ev = decodeEvent(t, b)
	check("postback", ev.Message == nil && ev.Postback != nil && ev.Postback.MID == mid &&
		ev.Postback.Payload == "LINK" && ev.Postback.Title == "Send me the link", b)

	mid, b = e.sb.StoryReply(igID, person, "18000000000000001", "love it")
	ev = decodeEvent(t, b)
	check("story reply", ev.Message != nil && ev.Message.MID == mid && ev.Message.ReplyTo != nil &&
		ev.Message.ReplyTo.Story.ID == "18000000000000001" && ev.Message.ReplyTo.Story.URL != "", b)

	mid, b = e.sb.Attachment(igID, person, "audio", "https://lookaside.example.com/a.mp4")
	ev = decodeEvent(t, b)
	check("attachment", ev.Message != nil && ev.Message.MID == mid && len(ev.Message.Attachments) == 1 &&
		ev.Message.Attachments[0].Type == "audio" && ev.Message.Attachments[0].Payload.URL == "https://lookaside.example.com/a.mp4", b)

	b = e.sb.Reaction(igID, person, "m_sbx_1", "love")
	ev = decodeEvent(t, b)
	check("reaction", ev.Reaction != nil && ev.Reaction.MID == "m_sbx_1" && ev.Reaction.Action == "react" &&
		ev.Reaction.Reaction == "love" && ev.Reaction.Emoji != "", b)
	b = e.sb.Reaction(igID, person, "m_sbx_1", "")
	ev = decodeEvent(t, b)
	check("unreact", ev.Reaction != nil && ev.Reaction.Action == "unreact" && ev.Reaction.Reaction == "", b)

	mid, b = e.sb.HumanReply(igID, person, "a human here")
	ev = decodeEvent(t, b)
	check("human reply", ev.Sender.ID == igID && ev.Recipient.ID == person && ev.Message != nil && ev.Message.IsEcho &&
		ev.Message.AppID == "" && ev.Message.MID == mid && ev.Message.Text == "a human here", b)

	mid, b = e.sb.OtherAppReply(igID, person, "3000000000000003", "from another tool")
	ev = decodeEvent(t, b)
	check("another app's echo", ev.Sender.ID == igID && ev.Message != nil && ev.Message.IsEcho &&
		ev.Message.AppID == "3000000000000003" && ev.Message.MID == mid, b)

	b = e.sb.Seen(igID, person, "m_sbx_1")
	ev = decodeEvent(t, b)
	check("seen", ev.Sender.ID == person && ev.Read != nil && ev.Read.MID == "m_sbx_1" && ev.Message == nil, b)

	e.clock.Add(1500 * time.Millisecond)
	_, b = e.sb.Message(igID, person, "later")
	if ev := decodeEvent(t, b); ev.Timestamp != ms+1500 {
		t.Errorf("timestamp %d, want milliseconds %d", ev.Timestamp, ms+1500)
	}
}

// TestWebhookSigning: bodies are signed like Meta's (HMAC-SHA256 of the raw bytes under the app
// secret) and escaped like Meta's, so only a verifier of the raw bytes accepts them; replywindow's
// webhook verifies and parses them.
func TestWebhookSigning(t *testing.T) {
	const secret = "the-app-secret"
	e := newEnv(t, sandbox.WithAppSecret(secret))
	_, body := e.sb.Message(igID, person, "Grüße 👋 https://example.com/a")
	sig := e.sb.Sign(body)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); sig != want {
		t.Fatalf("signature %s, want %s", sig, want)
	}
	if !bytes.Contains(body, []byte(`Gr\u00fc\u00dfe \ud83d\udc4b https:\/\/example.com\/a`)) {
		t.Errorf("not escaped as Meta does: %s", body)
	}
	if ev := decodeEvent(t, body); ev.Message.Text != "Grüße 👋 https://example.com/a" {
		t.Errorf("text %q", ev.Message.Text)
	}
	if err := webhook.Verify(body, sig, []string{"another", secret}); err != nil {
		t.Errorf("replywindow's webhook refuses the signature: %v", err)
	}
	if err := webhook.Verify(body, sandbox.New().Sign(body), []string{secret}); err == nil {
		t.Errorf("the default secret's signature passed")
	}
}

// TestWebhookParsed: replywindow's webhook reads every body the sandbox makes as the event it is.
func TestWebhookParsed(t *testing.T) {
	e := newEnv(t)
	e.subscribe(t, igAccount, igToken, withSeen...) // read receipts come on their own field
	mid := func(m string, _ []byte) string { return m }
	body := func(_ string, b []byte) []byte { return b }
	// want holds Kind, Text, Payload, AppID and MID when the body's own is not it; PersonID is
	// person and At is t0.
	type parsed struct {
		name string
		body []byte
		want reply.Event
	}
	tests := []parsed{
		{"message", body(e.sb.Message(igID, person, "hi")), reply.Event{Kind: reply.EventMessage, Text: "hi"}},
		{"quick reply", body(e.sb.QuickReply(igID, person, "Yes", "Y")), reply.Event{Kind: reply.EventQuickReply, Text: "Yes", Payload: "Y"}},
		{"story reply", body(e.sb.StoryReply(igID, person, "18000000000000001", "wow")), reply.Event{Kind: reply.EventStoryReply, Text: "wow"}},
		{"attachment", body(e.sb.Attachment(igID, person, "image", "https://cdn.example.com/p.jpg")), reply.Event{Kind: reply.EventMessage}},
		{"postback", body(e.sb.Postback(igID, person, "LINK", "Send me the link")), reply.Event{Kind: reply.EventPostback, Text: "Send me the link", Payload: "LINK"}},
		{"reaction", e.sb.Reaction(igID, person, "m_sbx_1", "love"), reply.Event{Kind: reply.EventReaction, MID: "m_sbx_1", Text: "react"}},
		{"human reply", body(e.sb.HumanReply(igID, person, "a human")), reply.Event{Kind: reply.EventEcho, Text: "a human"}},
		{"another app", body(e.sb.OtherAppReply(igID, person, "3000000000000003", "a tool")), reply.Event{Kind: reply.EventEcho, Text: "a tool", AppID: "3000000000000003"}},
	}
	e.sb.Message(igID, person, "hi")
	if got := e.dm(t, hello, ""); got != "ok" {
		t.Fatal(got)
	}
	echo := e.sb.TakeEchoes()[0]
	tests = append(tests, parsed{"our echo", echo, reply.Event{Kind: reply.EventEcho, MID: e.sb.Messages()[0].MessageID, Text: "hello", AppID: sandbox.DefaultAppID}})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := webhook.Parse(tt.body, t0.Add(time.Minute))
			if err != nil || len(d.Jobs) != 1 || d.Jobs[0].Event == nil || d.Jobs[0].AccountID != igID {
				t.Fatalf("webhook.Parse %s: %+v, %v", tt.body, d, err)
			}
			got := *d.Jobs[0].Event
			want := tt.want
			want.PersonID, want.At = person, t0
			if want.MID == "" {
				want.MID = decodedMID(t, tt.body)
			}
			if got != want {
				t.Errorf("event %+v, want %+v", got, want)
			}
		})
	}
	if d, err := webhook.Parse(e.sb.Seen(igID, person, mid(e.sb.Message(igID, person, "x"))), t0); err != nil || d.Seen != 1 || len(d.Jobs) != 0 {
		t.Errorf("seen: %+v, %v", d, err)
	}
}

// decodedMID is the mid of the body's message or postback.
func decodedMID(t *testing.T, body []byte) string {
	ev := decodeEvent(t, body)
	if ev.Postback != nil {
		return ev.Postback.MID
	}
	return ev.Message.MID
}

// TestBatch: several events in one delivery, in order, as Meta batches them.
func TestBatch(t *testing.T) {
	e := newEnv(t)
	_, b1 := e.sb.Message(igID, person, "first ✓")
	_, b2 := e.sb.Postback(fbID, person, "LINK", "Link")
	b, err := sandbox.Batch(b1, b2)
	if err != nil {
		t.Fatal(err)
	}
	d, err := webhook.Parse(b, t0.Add(time.Minute))
	if err != nil || len(d.Jobs) != 2 || d.Jobs[0].AccountID != igID || d.Jobs[0].Event.Text != "first ✓" ||
		d.Jobs[1].AccountID != fbID || d.Jobs[1].Event.Payload != "LINK" {
		t.Errorf("batch %s: %+v, %v", b, d, err)
	}
	if !bytes.Contains(b, []byte(`first \u2713`)) {
		t.Errorf("batch not escaped as Meta does: %s", b)
	}
	if _, err := sandbox.Batch(b1, []byte("{")); err == nil {
		t.Error("a broken body batched")
	}
}
