package reply

import (
	"strings"
	"testing"
)

func TestMessageValidate(t *testing.T) {
	postback := func(title, payload string) Button {
		return Button{Type: ButtonPostback, Title: title, Payload: payload}
	}
	qr := func(n int) []QuickReply {
		out := make([]QuickReply, n)
		for i := range out {
			out[i] = QuickReply{Title: "Yes", Payload: "YES"}
		}
		return out
	}
	tests := []struct {
		name    string
		m       Message
		private bool   // a private reply's opening message
		want    string // part of the error; "" = valid
	}{
		// text
		{"text", Message{Text: "Hi {username}!"}, false, ""},
		{"text kind spelled out", Message{Kind: MessageText, Text: "Hi"}, false, ""},
		{"text empty", Message{Text: "  "}, false, "text: required"},
		{"text not UTF-8", Message{Text: "caf\xe9"}, false, "text: not valid UTF-8"},
		{"text 1000 bytes", Message{Text: strings.Repeat("a", 1000)}, false, ""},
		{"text 1001 bytes", Message{Text: strings.Repeat("a", 1001)}, false, "text: 1001 bytes, Meta allows 1000"},
		// {username} counts as Instagram's longest username (30): 990+30 bytes.
		{"username expanded to 30", Message{Text: strings.Repeat("a", 980) + "{username}"}, false, "text: 1010 bytes"},
		{"username fits", Message{Text: strings.Repeat("a", 970) + "{username}"}, false, ""},
		{"bytes not characters", Message{Text: strings.Repeat("é", 501)}, false, "1002 bytes"},
		{"link", Message{Text: "see https://bakery.example/r."}, false, ""},
		{"link without a dotted host", Message{Text: "see https://localhost/r"}, false, `text: link "https://localhost/r" is not a well-formed URL`},
		{"link without a host", Message{Text: "see https://"}, false, "not a well-formed URL"},
		{"url on text", Message{Text: "hi", URL: "https://a.example/x.png"}, false, "url: only on an image"},
		{"media id on text", Message{Text: "hi", MediaID: "18000000000000001"}, false, "media_id: only on a media_share"},
		{"reaction on text", Message{Text: "hi", Reaction: "love"}, false, "reaction: only on a reaction"},
		// buttons
		{"3 buttons", Message{Text: "Pick", Buttons: []Button{postback("A", "A"), postback("B", "B"), {Type: ButtonURL, Title: "Site", URL: "https://bakery.example"}}}, false, ""},
		{"4 buttons", Message{Text: "Pick", Buttons: []Button{postback("A", "A"), postback("B", "B"), postback("C", "C"), postback("D", "D")}}, false, "buttons: 4, Meta allows 3"},
		{"button text 640 characters", Message{Text: strings.Repeat("é", 300) + strings.Repeat("a", 340), Buttons: []Button{postback("A", "A")}}, false, ""},
		{"button text 641 characters", Message{Text: strings.Repeat("a", 641), Buttons: []Button{postback("A", "A")}}, false, "text: 641 characters, a button template allows 640"},
		{"button text with a long username", Message{Text: strings.Repeat("a", 620) + "{username}", Buttons: []Button{postback("A", "A")}}, false, "650 characters"},
		{"button title 20", Message{Text: "Pick", Buttons: []Button{postback(strings.Repeat("ü", 20), "A")}}, false, ""},
		{"button title 21", Message{Text: "Pick", Buttons: []Button{postback(strings.Repeat("a", 21), "A")}}, false, "buttons[0]: title: 21 characters, Meta allows 20"},
		{"button without title", Message{Text: "Pick", Buttons: []Button{postback(" ", "A")}}, false, "buttons[0]: title: required"},
		{"button type unknown", Message{Text: "Pick", Buttons: []Button{{Type: "call", Title: "Call", Payload: "A"}}}, false, `buttons[0]: type: "call"`},
		{"postback without payload", Message{Text: "Pick", Buttons: []Button{postback("A", "")}}, false, "buttons[0]: payload: required"},
		{"payload 1000 bytes", Message{Text: "Pick", Buttons: []Button{postback("A", strings.Repeat("p", 1000))}}, false, ""},
		{"payload 1001 bytes", Message{Text: "Pick", Buttons: []Button{postback("A", strings.Repeat("p", 1001))}}, false, "payload: 1001 bytes, Meta allows 1000"},
		{"payload not UTF-8", Message{Text: "Pick", Buttons: []Button{postback("A", "\xff")}}, false, "payload: not valid UTF-8"},
		{"url button bad url", Message{Text: "Pick", Buttons: []Button{{Type: ButtonURL, Title: "Site", URL: "bakery.example"}}}, false, `buttons[0]: url: "bakery.example" is not a well-formed`},
		{"url button ftp", Message{Text: "Pick", Buttons: []Button{{Type: ButtonURL, Title: "Site", URL: "ftp://bakery.example"}}}, false, "not a well-formed"},
		{"buttons and quick replies", Message{Text: "Pick", Buttons: []Button{postback("A", "A")}, QuickReplies: qr(1)}, false, "buttons and quick_replies: a message holds one or the other"},
		// quick replies
		{"13 quick replies", Message{Text: "Pick", QuickReplies: qr(13)}, false, ""},
		{"14 quick replies", Message{Text: "Pick", QuickReplies: qr(14)}, false, "quick_replies: 14, Meta allows 13"},
		{"quick reply title 21", Message{Text: "Pick", QuickReplies: []QuickReply{{Title: strings.Repeat("a", 21), Payload: "A"}}}, false, "quick_replies[0].title: 21 characters, Meta allows 20"},
		{"quick reply without title", Message{Text: "Pick", QuickReplies: []QuickReply{{Payload: "A"}}}, false, "quick_replies[0].title: required"},
		{"quick reply without payload", Message{Text: "Pick", QuickReplies: []QuickReply{{Title: "A"}}}, false, "quick_replies[0]: payload: required"},
		{"quick reply payload too long", Message{Text: "Pick", QuickReplies: []QuickReply{{Title: "A", Payload: strings.Repeat("p", 1001)}}}, false, "quick_replies[0]: payload: 1001 bytes"},
		// attachments
		{"image", Message{Kind: MessageImage, URL: "https://bakery.example/cake.png"}, false, ""},
		{"image with quick replies", Message{Kind: MessageImage, URL: "https://bakery.example/cake.png", QuickReplies: qr(2)}, false, ""},
		{"image without url", Message{Kind: MessageImage}, false, "url: required"},
		{"image relative url", Message{Kind: MessageImage, URL: "/cake.png"}, false, `url: "/cake.png" is not a well-formed`},
		{"image url too long", Message{Kind: MessageImage, URL: "https://bakery.example/" + strings.Repeat("a", 2000)}, false, "url: 2023 characters, at most 2000"},
		{"image with text", Message{Kind: MessageImage, URL: "https://bakery.example/cake.png", Text: "cake"}, false, "kind image: text, buttons and quick replies belong on a text message"},
		{"audio", Message{Kind: MessageAudio, URL: "https://bakery.example/a.mp3"}, false, ""},
		{"audio with quick replies", Message{Kind: MessageAudio, URL: "https://bakery.example/a.mp3", QuickReplies: qr(1)}, false, "kind audio:"},
		{"video", Message{Kind: MessageVideo, URL: "https://bakery.example/v.mp4"}, false, ""},
		{"video with buttons", Message{Kind: MessageVideo, URL: "https://bakery.example/v.mp4", Buttons: []Button{postback("A", "A")}}, false, "kind video:"},
		{"heart", Message{Kind: MessageHeart}, false, ""},
		{"heart with text", Message{Kind: MessageHeart, Text: "<3"}, false, "kind like_heart:"},
		{"heart with url", Message{Kind: MessageHeart, URL: "https://bakery.example/h.png"}, false, "url: only on an image"},
		{"reaction", Message{Kind: MessageReaction}, false, ""},
		{"reaction love", Message{Kind: MessageReaction, Reaction: "love"}, false, ""},
		{"reaction other", Message{Kind: MessageReaction, Reaction: "wow"}, false, `reaction: "wow", Instagram knows only "love"`},
		{"media share", Message{Kind: MessageMediaShare, MediaID: "18000000000000001"}, false, ""},
		{"media share without id", Message{Kind: MessageMediaShare}, false, "media_id:"},
		{"media share id not digits", Message{Kind: MessageMediaShare, MediaID: "reel-1"}, false, `media_id: media id "reel-1"`},
		{"unknown kind", Message{Kind: "file", URL: "https://bakery.example/a.pdf"}, false, `kind: "file", want text, image`},
		// a private reply's opening message
		{"private reply text", Message{Text: "Hi"}, true, ""},
		{"private reply with buttons", Message{Text: "Hi", Buttons: []Button{postback("Send me the link", "LINK")}}, true, ""},
		{"private reply with quick replies", Message{Text: "Hi", QuickReplies: qr(13)}, true, ""},
		{"private reply image", Message{Kind: MessageImage, URL: "https://bakery.example/cake.png"}, true, `kind: "image": a private reply may hold only text`},
		{"private reply heart", Message{Kind: MessageHeart}, true, "a private reply may hold only text"},
	}
	for _, tt := range tests {
		err := tt.m.Validate(tt.private)
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: Validate(%v) = %v, want %q", tt.name, tt.private, err, tt.want)
		}
	}
}

func TestMessageRender(t *testing.T) {
	tests := []struct {
		name       string
		m          Message
		user, line string
		disclose   bool
		want       string // the text; "" with err
		err        string
	}{
		{"username", Message{Text: "Hi {username}, {username}!"}, "ana", "", false, "Hi ana, ana!", ""},
		{"disclosure", Message{Text: "Hi"}, "ana", "Automated.", true, "Hi\n\nAutomated.", ""},
		{"disclosure not asked", Message{Text: "Hi"}, "ana", "Automated.", false, "Hi", ""},
		{"no disclosure text", Message{Text: "Hi"}, "ana", "", true, "Hi", ""},
		{"over the limit after expansion", Message{Text: strings.Repeat("a", 995) + "{username}"}, "anastasia", "", false, "", "1004 bytes"},
		{"button template over 640 with the disclosure", Message{Text: strings.Repeat("a", 630), Buttons: []Button{{Type: ButtonPostback, Title: "A", Payload: "A"}}}, "ana", "Automated.", true, "", "642 characters"},
	}
	for _, tt := range tests {
		got, err := tt.m.Render(tt.user, tt.line, tt.disclose)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: Render = %q, %v; want error %q", tt.name, got.Text, err, tt.err)
			}
			continue
		}
		if err != nil || got.Text != tt.want {
			t.Errorf("%s: Render = %q, %v; want %q", tt.name, got.Text, err, tt.want)
		}
	}
	// Other kinds go as they are: no text to fill in.
	img := Message{Kind: MessageImage, URL: "https://bakery.example/{username}.png"}
	if got, err := img.Render("ana", "Automated.", true); err != nil || got.URL != img.URL || got.Text != "" {
		t.Errorf("image Render = %+v, %v", got, err)
	}
}

func TestMessageLane(t *testing.T) {
	for kind, want := range map[MessageKind]Lane{
		"": LaneText, MessageText: LaneText, MessageImage: LaneText, MessageHeart: LaneText,
		MessageReaction: LaneText, MessageMediaShare: LaneText, MessageAudio: LaneMedia, MessageVideo: LaneMedia,
	} {
		if got := (Message{Kind: kind}).Lane(); got != want {
			t.Errorf("%q: lane %s, want %s", kind, got, want)
		}
	}
}

// A rule's private reply: text, plus buttons or quick replies, never media; the text is
// checked with the disclosure line, as sent.
func TestRuleOpeningValidate(t *testing.T) {
	base := Account{ID: "17841400000000001", Login: LoginInstagram, TokenParam: "/t", Disclosure: "This is an automated reply."}
	link := Button{Type: ButtonPostback, Title: "Send me the link", Payload: "LINK"}
	tests := []struct {
		name string
		rule Rule
		want string
	}{
		{"text only", Rule{Name: "r", Match: MatchAny, Message: "Hi"}, ""},
		{"a button", Rule{Name: "r", Match: MatchAny, Message: "Hi", Buttons: []Button{link}}, ""},
		{"4 buttons", Rule{Name: "r", Match: MatchAny, Message: "Hi", Buttons: []Button{link, link, link, link}}, `rules[0] "r": buttons: 4, Meta allows 3`},
		{"bad button", Rule{Name: "r", Match: MatchAny, Message: "Hi", Buttons: []Button{{Type: ButtonPostback, Title: "x"}}}, `rules[0] "r": buttons[0]: payload: required`},
		{"14 quick replies", Rule{Name: "r", Match: MatchAny, Message: "Hi", QuickReplies: make([]QuickReply, 14)}, "quick_replies: 14, Meta allows 13"},
		{"both", Rule{Name: "r", Match: MatchAny, Message: "Hi", Buttons: []Button{link}, QuickReplies: []QuickReply{{Title: "a", Payload: "a"}}}, "one or the other"},
		{"button text over 640 with the disclosure", Rule{Name: "r", Match: MatchAny, Message: strings.Repeat("a", 620), Disclose: true, Buttons: []Button{link}}, "649 characters, a button template allows 640"},
		{"button text 640 without the disclosure", Rule{Name: "r", Match: MatchAny, Message: strings.Repeat("a", 640), Buttons: []Button{link}}, ""},
	}
	for _, tt := range tests {
		a := base
		a.Rules = []Rule{tt.rule}
		err := a.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.want)
		}
	}
	r := Rule{Buttons: []Button{link}}
	if m := r.Opening("Hi"); m.Text != "Hi" || len(m.Buttons) != 1 || m.Type() != MessageText {
		t.Errorf("Opening = %+v", m)
	}
}

// TestDigest: a message's digest changes with anything it sends, and only with that.
func TestDigest(t *testing.T) {
	base := Message{Text: "Here: https://example.com", Buttons: []Button{{Type: ButtonURL, Title: "Open", URL: "https://example.com"}}}
	edits := map[string]func(m *Message){
		"text":         func(m *Message) { m.Text += "!" },
		"kind":         func(m *Message) { m.Kind = MessageImage },
		"button title": func(m *Message) { m.Buttons = []Button{{Type: ButtonURL, Title: "Go", URL: "https://example.com"}} },
		"another button": func(m *Message) {
			m.Buttons = append(m.Buttons, Button{Type: ButtonPostback, Title: "More", Payload: "M"})
		},
		"quick reply": func(m *Message) { m.QuickReplies = []QuickReply{{Title: "Open", Payload: "https://example.com"}} },
		"text moved into the url": func(m *Message) {
			m.Text, m.URL = "Here: ", "https://example.com"
		},
	}
	d := base.Digest()
	if len(d) != 16 || (Message{Kind: MessageText, Text: base.Text, Buttons: base.Buttons}).Digest() != d {
		t.Fatalf("digest %q: want 16 characters, the same for the same message (kind text or unset)", d)
	}
	for name, edit := range edits {
		m := base
		m.Buttons = append([]Button(nil), base.Buttons...)
		edit(&m)
		if m.Digest() == d {
			t.Errorf("%s: same digest", name)
		}
	}
}
