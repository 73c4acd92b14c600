package sandbox_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

const person = "1254459154682919"

// dm sends m to person from the Instagram Login account; it returns "ok" or Meta's code.
func (e *env) dm(t testing.TB, m reply.Message, replyTo string) string {
	t.Helper()
	_, err := e.c.SendMessage(context.Background(), igAccount, igToken, person, m, replyTo)
	return outcome(t, err)
}

var hello = reply.Message{Text: "hello"}

// TestSendWindow: the Send API reaches a person only within 24 hours of their latest message or
// tap; reactions and the account's own messages open nothing.
func TestSendWindow(t *testing.T) {
	tests := []struct {
		name string
		do   func(e *env)
		want string
	}{
		{"never wrote", func(e *env) {}, "10/2018278"},
		{"a comment is no message", func(e *env) {
			e.sb.AddComment(sandbox.Comment{ID: comment, AccountID: igID, FromID: person})
			e.send(t, igAccount, igToken, comment)
		}, "10/2018278"},
		{"message", func(e *env) { e.sb.Message(igID, person, "hi") }, "ok"},
		{"postback", func(e *env) { e.sb.Postback(igID, person, "LINK", "Send me the link") }, "ok"},
		{"quick reply", func(e *env) { e.sb.QuickReply(igID, person, "Yes", "Y") }, "ok"},
		{"story reply", func(e *env) { e.sb.StoryReply(igID, person, "18000000000000001", "wow") }, "ok"},
		{"attachment", func(e *env) { e.sb.Attachment(igID, person, "image", "https://cdn.example.com/p.jpg") }, "ok"},
		{"a reaction is no message", func(e *env) { e.sb.Reaction(igID, person, "m_1", "love") }, "10/2018278"},
		{"a human reply is the account's", func(e *env) { e.sb.HumanReply(igID, person, "hey") }, "10/2018278"},
		{"another account's window", func(e *env) { e.sb.Message(fbID, person, "hi") }, "10/2018278"},
		{"just inside", func(e *env) { e.sb.Message(igID, person, "hi"); e.clock.Add(24*time.Hour - time.Millisecond) }, "ok"},
		{"24 hours on", func(e *env) { e.sb.Message(igID, person, "hi"); e.clock.Add(24 * time.Hour) }, "10/2018278"},
		{"a later message opens it again", func(e *env) {
			e.sb.Message(igID, person, "hi")
			e.clock.Add(30 * time.Hour)
			e.sb.Postback(igID, person, "AGAIN", "Again")
			e.clock.Add(23 * time.Hour)
		}, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tt.do(e)
			if got := e.dm(t, hello, ""); got != tt.want {
				t.Fatalf("send: %s, want %s", got, tt.want)
			}
			n := map[bool]int{true: 1}[tt.want == "ok"]
			if len(e.sb.Messages()) != n || e.sb.Stats().Messages != n || e.sb.Stats().Calls[sandbox.OpSend] != 1 {
				t.Errorf("ledger %+v, stats %+v", e.sb.Messages(), e.sb.Stats())
			}
		})
	}
}

// TestSendKinds: every kind of message and Meta's limits on it, through the graph client.
func TestSendKinds(t *testing.T) {
	img := func(u string) reply.Message { return reply.Message{Kind: reply.MessageImage, URL: u} }
	tests := []struct {
		name    string
		m       reply.Message
		replyTo string // "person" for the mid of the person's message
		want    string
		ledger  sandbox.SentMessage // the fields the ledger must hold
	}{
		{name: "text", m: reply.Message{Text: "the link: https://example.com/r"}, want: "ok",
			ledger: sandbox.SentMessage{Kind: reply.MessageText, Text: "the link: https://example.com/r"}},
		{name: "text 1000 bytes", m: reply.Message{Text: strings.Repeat("ä", 500)}, want: "ok",
			ledger: sandbox.SentMessage{Kind: reply.MessageText, Text: strings.Repeat("ä", 500)}},
		{name: "text 1001 bytes", m: reply.Message{Text: strings.Repeat("ä", 500) + "x"}, want: "100"},
		{name: "broken link", m: reply.Message{Text: "go to https://nohost"}, want: "100"},
		{name: "button template", m: reply.Message{Text: "Tap", Buttons: []reply.Button{{Type: reply.ButtonURL, Title: "Open", URL: "https://example.com/"}}}, want: "ok",
			ledger: sandbox.SentMessage{Kind: reply.MessageText, Text: "Tap", Buttons: []reply.Button{{Type: reply.ButtonURL, Title: "Open", URL: "https://example.com/"}}}},
		{name: "fourteen quick replies", m: reply.Message{Text: "Pick", QuickReplies: make([]reply.QuickReply, 14)}, want: "100"},
		{name: "image", m: img("https://cdn.example.com/a.gif"), want: "ok",
			ledger: sandbox.SentMessage{Kind: reply.MessageImage, URL: "https://cdn.example.com/a.gif"}},
		{name: "image without URL", m: img(""), want: "100"},
		{name: "image from a bad URL", m: img("ftp://cdn.example.com/a.gif"), want: "100"},
		{name: "audio", m: reply.Message{Kind: reply.MessageAudio, URL: "https://cdn.example.com/a.mp3"}, want: "ok",
			ledger: sandbox.SentMessage{Kind: reply.MessageAudio, URL: "https://cdn.example.com/a.mp3"}},
		{name: "video", m: reply.Message{Kind: reply.MessageVideo, URL: "https://cdn.example.com/a.mp4"}, want: "ok",
			ledger: sandbox.SentMessage{Kind: reply.MessageVideo, URL: "https://cdn.example.com/a.mp4"}},
		{name: "heart sticker", m: reply.Message{Kind: reply.MessageHeart}, want: "ok",
			ledger: sandbox.SentMessage{Kind: reply.MessageHeart}},
		{name: "own post", m: reply.Message{Kind: reply.MessageMediaShare, MediaID: "18000000000000010"}, want: "ok",
			ledger: sandbox.SentMessage{Kind: reply.MessageMediaShare, MediaID: "18000000000000010"}},
		{name: "another account's post", m: reply.Message{Kind: reply.MessageMediaShare, MediaID: "18000000000000020"}, want: "100"},
		{name: "unknown post", m: reply.Message{Kind: reply.MessageMediaShare, MediaID: "18000000000000030"}, want: "100"},
		{name: "reaction", m: reply.Message{Kind: reply.MessageReaction}, replyTo: "person", want: "ok",
			ledger: sandbox.SentMessage{Kind: reply.MessageReaction, Reaction: "love"}},
		{name: "reaction to a message nobody sent", m: reply.Message{Kind: reply.MessageReaction}, replyTo: "m_nothing", want: "100"},
		{name: "reaction Instagram does not know", m: reply.Message{Kind: reply.MessageReaction, Reaction: "wow"}, replyTo: "person", want: "100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sb.AddMedia(sandbox.Media{ID: "18000000000000010", AccountID: igID})
			e.sb.AddMedia(sandbox.Media{ID: "18000000000000020", AccountID: fbID})
			mid, _ := e.sb.Message(igID, person, "hi")
			replyTo := tt.replyTo
			if replyTo == "person" {
				replyTo, tt.ledger.ReplyTo = mid, mid
			}
			if got := e.dm(t, tt.m, replyTo); got != tt.want {
				t.Fatalf("send: %s, want %s", got, tt.want)
			}
			msgs := e.sb.Messages()
			if tt.want != "ok" {
				if len(msgs) != 0 || e.sb.Stats().Refused["100"] != 1 || len(e.sb.TakeEchoes()) != 0 {
					t.Errorf("refused, yet ledger %+v, refusals %v", msgs, e.sb.Stats().Refused)
				}
				return
			}
			if len(msgs) != 1 {
				t.Fatalf("ledger %+v", msgs)
			}
			got := msgs[0]
			if got.AccountID != igID || got.PersonID != person || !got.At.Equal(t0) || !got.WindowEnd.Equal(t0.Add(24*time.Hour)) ||
				got.MessageID == "" || !got.Answered {
				t.Errorf("ledger entry %+v", got)
			}
			tt.ledger.AccountID, tt.ledger.PersonID, tt.ledger.At, tt.ledger.WindowEnd = got.AccountID, got.PersonID, got.At, got.WindowEnd
			tt.ledger.MessageID, tt.ledger.Answered = got.MessageID, got.Answered
			if g, w := jsonOf(got), jsonOf(tt.ledger); g != w {
				t.Errorf("ledger entry\n %s, want\n %s", g, w)
			}
		})
	}
}

func jsonOf(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestSendWire: what the graph client never sends, Meta still refuses.
func TestSendWire(t *testing.T) {
	to := obj{"id": person}
	tests := []struct {
		name string
		body any
		want string
	}{
		{"not UTF-8", []byte("{\"recipient\":{\"id\":\"" + person + "\"},\"message\":{\"text\":\"\xff\"}}"), "100"},
		{"text and attachment", obj{"recipient": to, "message": obj{"text": "x", "attachment": obj{"type": "like_heart"}}}, "100"},
		{"unknown attachment type", obj{"recipient": to, "message": obj{"attachment": obj{"type": "file", "payload": obj{"url": "https://example.com/f.pdf"}}}}, "100"},
		{"share without id", obj{"recipient": to, "message": obj{"attachment": obj{"type": "MEDIA_SHARE", "payload": obj{}}}}, "100"},
		{"typing is not modelled", obj{"recipient": to, "sender_action": "typing_on"}, "100"},
		{"reaction without message_id", obj{"recipient": to, "sender_action": "react", "payload": obj{"reaction": "love"}}, "100"},
		{"recipient not an IGSID", obj{"recipient": obj{"id": "someone"}, "message": obj{"text": "x"}}, "100/2018001"},
		{"quick reply content type", obj{"recipient": to, "message": obj{"text": "x", "quick_replies": []obj{{"content_type": "location"}}}}, "100"},
		{"email quick reply (disabled 5 Oct 2026)", obj{"recipient": to, "message": obj{"text": "x", "quick_replies": []obj{{"content_type": "user_email"}}}}, "100"},
		{"phone quick reply (disabled 5 Oct 2026)", obj{"recipient": to, "message": obj{"text": "x", "quick_replies": []obj{{"content_type": "user_phone_number"}}}}, "100"},
		{"me as the sender", obj{"recipient": to, "message": obj{"text": "x"}}, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sb.Message(igID, person, "hi")
			path := "/v24.0/" + igID + "/messages"
			if tt.name == "me as the sender" {
				path = "/v24.0/me/messages"
			}
			if got := e.post(t, path, igToken, tt.body); got.code != tt.want {
				t.Fatalf("answer %s %q, want %s", got.code, got.msg, tt.want)
			}
		})
	}
	e := newEnv(t)
	e.sb.Message(fbID, person, "hi")
	if got := e.post(t, "/v24.0/"+fbID+"/messages", fbToken, obj{"recipient": to, "message": obj{"text": "x"}}); got.code != "100/33" {
		t.Errorf("Facebook Login from the Instagram id: %s, want 100/33 (the Page sends)", got.code)
	}
	if got := outcome(t, func() error {
		_, err := e.c.SendMessage(t.Context(), fbAccount, fbToken, person, hello, "")
		return err
	}()); got != "ok" {
		t.Errorf("Facebook Login from the Page: %s", got)
	}
}

// TestEchoes: every accepted message (not a reaction) makes the echo Meta would post, with the
// app's id, handed over once.
func TestEchoes(t *testing.T) {
	e := newEnv(t, sandbox.WithAppID("2000000000000002"))
	mid, _ := e.sb.Message(igID, person, "hi")
	for _, m := range []reply.Message{hello, {Kind: reply.MessageImage, URL: "https://cdn.example.com/a.png"}} {
		if got := e.dm(t, m, ""); got != "ok" {
			t.Fatal(got)
		}
	}
	if got := e.dm(t, reply.Message{Kind: reply.MessageReaction}, mid); got != "ok" {
		t.Fatal(got)
	}
	echoes := e.sb.TakeEchoes()
	if len(echoes) != 2 || len(e.sb.TakeEchoes()) != 0 {
		t.Fatalf("%d echoes, then more", len(echoes))
	}
	sent := e.sb.Messages()
	for i, b := range echoes {
		ev := decodeEvent(t, b)
		if ev.Sender.ID != igID || ev.Recipient.ID != person || ev.Message == nil || !ev.Message.IsEcho ||
			ev.Message.AppID != "2000000000000002" || ev.Message.MID != sent[i].MessageID || ev.Timestamp != t0.UnixMilli() {
			t.Errorf("echo %d: %s", i, b)
		}
	}
	if ev := decodeEvent(t, echoes[1]); len(ev.Message.Attachments) != 1 || ev.Message.Attachments[0].Type != "image" ||
		ev.Message.Attachments[0].Payload.URL != "https://cdn.example.com/a.png" {
		t.Errorf("image echo %s", echoes[1])
	}
	if e.sb.AppID() != "2000000000000002" {
		t.Errorf("app id %s", e.sb.AppID())
	}

	// A private reply starts the thread: it is echoed too, when Meta knows the commenter.
	e.sb.AddComment(sandbox.Comment{ID: comment, AccountID: igID, FromID: person})
	e.sb.AddComment(sandbox.Comment{ID: "17900000000000002", AccountID: igID})
	for _, c := range []string{comment, "17900000000000002"} {
		if got := e.send(t, igAccount, igToken, c); got != "ok" {
			t.Fatal(got)
		}
	}
	echoes = e.sb.TakeEchoes()
	if len(echoes) != 1 {
		t.Fatalf("%d echoes of two private replies, one to a commenter without an IGSID", len(echoes))
	}
	if ev := decodeEvent(t, echoes[0]); ev.Recipient.ID != person || !ev.Message.IsEcho || ev.Message.Text != "hello" ||
		ev.Message.MID != e.sb.Deliveries()[0].MessageID || ev.Message.AppID != e.sb.AppID() {
		t.Errorf("private reply's echo %s", echoes[0])
	}
}

// TestLedgerMessages: the served ledger holds the Send API messages.
func TestLedgerMessages(t *testing.T) {
	e := newEnv(t)
	e.sb.Message(igID, person, "hi")
	if got := e.dm(t, hello, ""); got != "ok" {
		t.Fatal(got)
	}
	resp, err := http.Get(e.srv.URL + "/_sandbox/ledger")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var l sandbox.Ledger
	if err := json.NewDecoder(resp.Body).Decode(&l); err != nil {
		t.Fatal(err)
	}
	if len(l.Messages) != 1 || !reflect.DeepEqual(l.Messages, e.sb.Messages()) || l.Stats.Messages != 1 || l.Stats.Calls[sandbox.OpSend] != 1 {
		t.Errorf("ledger %+v", l)
	}
}

// TestEchoesWithoutAppID: Meta documents app_id on Messenger's echoes, not on Instagram's; told
// so, the sandbox leaves it out and the echo still carries the message id the send answered.
func TestEchoesWithoutAppID(t *testing.T) {
	e := newEnv(t, sandbox.WithoutEchoAppID())
	e.sb.Message(igID, person, "hi")
	if got := e.dm(t, hello, ""); got != "ok" {
		t.Fatal(got)
	}
	echoes := e.sb.TakeEchoes()
	if len(echoes) != 1 {
		t.Fatalf("%d echoes, want 1", len(echoes))
	}
	if ev := decodeEvent(t, echoes[0]); !ev.Message.IsEcho || ev.Message.AppID != "" || ev.Message.MID != e.sb.Messages()[0].MessageID {
		t.Errorf("echo %s: want is_echo, no app_id, the send's message id", echoes[0])
	}
}
