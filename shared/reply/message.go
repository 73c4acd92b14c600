package reply

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits Meta puts on what a message may hold (Send API and private replies; design §2).
const (
	MaxButtons          = 3    // buttons on a button template
	MaxButtonText       = 640  // a button template's text, in characters
	MaxButtonTitle      = 20   // a button's title, in characters
	MaxQuickReplies     = 13   // quick replies on one message
	MaxQuickReplyTitle  = 20   // a quick reply's title, in characters
	MaxPayloadBytes     = 1000 // a postback or quick-reply payload
	MaxAttachmentURLLen = 2000 // a link Meta fetches an attachment from
)

// MessageKind is what one automated message is.
type MessageKind string

const (
	MessageText       MessageKind = "text"        // text; with buttons it is a button template
	MessageImage      MessageKind = "image"       // an image or GIF from a URL (png, jpeg, gif)
	MessageAudio      MessageKind = "audio"       // audio from a URL
	MessageVideo      MessageKind = "video"       // video from a URL
	MessageHeart      MessageKind = "like_heart"  // the heart sticker
	MessageReaction   MessageKind = "reaction"    // a reaction to the message that triggered the step
	MessageMediaShare MessageKind = "media_share" // one of the account's own posts
)

// ButtonType is what tapping a button does.
type ButtonType string

const (
	ButtonPostback ButtonType = "postback" // sends Payload back as a messaging_postbacks event
	ButtonURL      ButtonType = "web_url"  // opens URL
)

// Button is one button of a button template.
type Button struct {
	Type    ButtonType `json:"type"`
	Title   string     `json:"title"`
	Payload string     `json:"payload,omitempty"`
	URL     string     `json:"url,omitempty"`
}

// QuickReply is one quick reply: tapping it sends Title as a message carrying Payload.
type QuickReply struct {
	Title   string `json:"title"`
	Payload string `json:"payload"`
	// ContentType is "text" or left out: Meta disabled user_email and user_phone_number
	// quick replies on Instagram on 5 October 2026 (a step that asks replaces them).
	ContentType string `json:"content_type,omitempty"`
}

// Message is one automated message: a private reply's opening message, or one message of a
// flow's step. Text may use {username}.
type Message struct {
	Kind         MessageKind  `json:"kind,omitempty"` // "" is text
	Text         string       `json:"text,omitempty"`
	Buttons      []Button     `json:"buttons,omitempty"`
	QuickReplies []QuickReply `json:"quick_replies,omitempty"`
	URL          string       `json:"url,omitempty"`      // image, audio, video
	MediaID      string       `json:"media_id,omitempty"` // media_share
	Reaction     string       `json:"reaction,omitempty"` // reaction; "love" when empty
}

// Type is the message's kind, text when unset.
func (m Message) Type() MessageKind {
	if m.Kind == "" {
		return MessageText
	}
	return m.Kind
}

// Lane is the Send API rate lane the message is paced by.
func (m Message) Lane() Lane {
	switch m.Type() {
	case MessageAudio, MessageVideo:
		return LaneMedia
	}
	return LaneText
}

// Digest names the message by its content: a follow-up's record keeps it from its claim, so an
// edit of the flow can move the message or remove it, never swap it for another.
func (m Message) Digest() string {
	buf := make([]byte, 0, 512)
	field := func(s string) { // length-prefixed, so no two messages hash alike by shifting text
		buf = binary.BigEndian.AppendUint64(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	for _, s := range []string{string(m.Type()), m.Text, m.URL, m.MediaID, m.Reaction} {
		field(s)
	}
	for _, b := range m.Buttons {
		field("b")
		for _, s := range []string{string(b.Type), b.Title, b.Payload, b.URL} {
			field(s)
		}
	}
	for _, q := range m.QuickReplies {
		field("q")
		field(q.Title)
		field(q.Payload)
	}
	sum := sha256.Sum256(buf)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// UsesUsername reports whether the message's text asks for the person's username.
func (m Message) UsesUsername() bool { return strings.Contains(m.Text, "{username}") }

// CarriesText reports whether the message can carry the disclosure line: text, with or without
// buttons or quick replies.
func (m Message) CarriesText() bool { return m.Type() == MessageText }

// Render is the message as sent to a person: {username} filled in, the disclosure line added
// when disclose is set, and Meta's limits checked again (a username can lengthen the text).
func (m Message) Render(username, disclosure string, disclose bool) (Message, error) {
	if m.Type() != MessageText {
		return m, nil
	}
	out := m
	out.Text = strings.ReplaceAll(m.Text, "{username}", username)
	if disclose && disclosure != "" {
		out.Text += "\n\n" + disclosure
	}
	if err := out.checkText(); err != nil {
		return Message{}, err
	}
	return out, nil
}

// Validate checks the message against Meta's rules for its kind. privateReply is for a private
// reply's opening message, which may carry no media. Errors name the field.
func (m Message) Validate(privateReply bool) error {
	if privateReply && m.Type() != MessageText {
		return fmt.Errorf("kind: %q: a private reply may hold only text, buttons and quick replies", m.Kind)
	}
	switch m.Type() {
	case MessageText, MessageImage, MessageAudio, MessageVideo, MessageHeart, MessageReaction, MessageMediaShare:
	default:
		return fmt.Errorf("kind: %q, want text, image, audio, video, like_heart, reaction or media_share", m.Kind)
	}
	if err := m.checkFields(); err != nil {
		return err
	}
	switch m.Type() {
	case MessageText:
		if strings.TrimSpace(m.Text) == "" {
			return fmt.Errorf("text: required")
		}
		long, err := m.Render(strings.Repeat("x", maxUsername), "", false)
		if err != nil {
			return err
		}
		if err := checkLinks(long.Text); err != nil {
			return fmt.Errorf("text: %w", err)
		}
		if len(m.Buttons) > 0 && len(m.QuickReplies) > 0 {
			return fmt.Errorf("buttons and quick_replies: a message holds one or the other")
		}
		if err := checkButtons(m.Buttons); err != nil {
			return err
		}
		return checkQuickReplies(m.QuickReplies)
	case MessageImage, MessageAudio, MessageVideo:
		if err := checkURL(m.URL); err != nil {
			return fmt.Errorf("url: %w", err)
		}
	case MessageHeart, MessageReaction:
	case MessageMediaShare:
		if !ValidID(m.MediaID) {
			return fmt.Errorf("media_id: %w", CheckID("media", m.MediaID))
		}
	}
	if m.Text != "" || len(m.Buttons) > 0 || (len(m.QuickReplies) > 0 && m.Type() != MessageImage) {
		return fmt.Errorf("kind %s: text, buttons and quick replies belong on a text message", m.Type())
	}
	if m.Type() == MessageReaction && m.Reaction != "" && m.Reaction != "love" {
		return fmt.Errorf("reaction: %q, Instagram knows only \"love\"", m.Reaction)
	}
	return checkQuickReplies(m.QuickReplies)
}

func (m Message) checkText() error {
	if !utf8.ValidString(m.Text) {
		return fmt.Errorf("text: not valid UTF-8")
	}
	if len(m.Text) > MaxTextBytes {
		return fmt.Errorf("text: %d bytes, Meta allows %d", len(m.Text), MaxTextBytes)
	}
	// With buttons the text is a button template's, which Meta holds to fewer characters.
	if n := utf8.RuneCountInString(m.Text); len(m.Buttons) > 0 && n > MaxButtonText {
		return fmt.Errorf("text: %d characters, a button template allows %d", n, MaxButtonText)
	}
	return nil
}

// checkFields refuses a field the message's kind does not send: it would be dropped silently,
// and is most likely a kind left out ("url" on what was meant to be an image).
func (m Message) checkFields() error {
	k := m.Type()
	switch {
	case m.URL != "" && k != MessageImage && k != MessageAudio && k != MessageVideo:
		return fmt.Errorf("url: only on an image, audio or video message (kind %s)", k)
	case m.MediaID != "" && k != MessageMediaShare:
		return fmt.Errorf("media_id: only on a media_share message (kind %s)", k)
	case m.Reaction != "" && k != MessageReaction:
		return fmt.Errorf("reaction: only on a reaction message (kind %s)", k)
	}
	return nil
}

func checkButtons(bs []Button) error {
	if len(bs) > MaxButtons {
		return fmt.Errorf("buttons: %d, Meta allows %d", len(bs), MaxButtons)
	}
	for i, b := range bs {
		if err := b.validate(); err != nil {
			return fmt.Errorf("buttons[%d]: %w", i, err)
		}
	}
	return nil
}

func (b Button) validate() error {
	if strings.TrimSpace(b.Title) == "" || !utf8.ValidString(b.Title) {
		return fmt.Errorf("title: required, UTF-8")
	}
	if n := utf8.RuneCountInString(b.Title); n > MaxButtonTitle {
		return fmt.Errorf("title: %d characters, Meta allows %d", n, MaxButtonTitle)
	}
	switch b.Type {
	case ButtonPostback:
		return checkPayload(b.Payload)
	case ButtonURL:
		if err := checkURL(b.URL); err != nil {
			return fmt.Errorf("url: %w", err)
		}
		return nil
	}
	return fmt.Errorf("type: %q, want postback or web_url", b.Type)
}

func checkQuickReplies(qs []QuickReply) error {
	if len(qs) > MaxQuickReplies {
		return fmt.Errorf("quick_replies: %d, Meta allows %d", len(qs), MaxQuickReplies)
	}
	for i, q := range qs {
		if strings.TrimSpace(q.Title) == "" || !utf8.ValidString(q.Title) {
			return fmt.Errorf("quick_replies[%d].title: required, UTF-8", i)
		}
		if n := utf8.RuneCountInString(q.Title); n > MaxQuickReplyTitle {
			return fmt.Errorf("quick_replies[%d].title: %d characters, Meta allows %d", i, n, MaxQuickReplyTitle)
		}
		if err := checkPayload(q.Payload); err != nil {
			return fmt.Errorf("quick_replies[%d]: %w", i, err)
		}
		if err := refusedQuickReply(q.ContentType); err != nil {
			return fmt.Errorf("quick_replies[%d]: %w", i, err)
		}
	}
	return nil
}

func checkPayload(p string) error {
	switch {
	case strings.TrimSpace(p) == "":
		return fmt.Errorf("payload: required")
	case !utf8.ValidString(p):
		return fmt.Errorf("payload: not valid UTF-8")
	case len(p) > MaxPayloadBytes:
		return fmt.Errorf("payload: %d bytes, Meta allows %d", len(p), MaxPayloadBytes)
	}
	return nil
}

// checkURL accepts an absolute https or http URL with a dotted host.
func checkURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return fmt.Errorf("required")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || !strings.Contains(u.Host, "."):
		return fmt.Errorf("%q is not a well-formed http(s) URL", s)
	case len(s) > MaxAttachmentURLLen:
		return fmt.Errorf("%d characters, at most %d", len(s), MaxAttachmentURLLen)
	}
	return nil
}
