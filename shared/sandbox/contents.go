package sandbox

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/replywindow/replywindow/shared/reply"
)

// What a message may hold, by Meta's rules for the Send API and for private replies.

// Wire shapes of a POST /{id}/messages body.
type (
	wireSend struct {
		Recipient struct {
			CommentID string `json:"comment_id"`
			ID        string `json:"id"`
		} `json:"recipient"`
		Message      *wireMsg     `json:"message"`
		SenderAction string       `json:"sender_action"`
		Payload      *wireReactTo `json:"payload"`
	}
	wireReactTo struct {
		MessageID string `json:"message_id"`
		Reaction  string `json:"reaction"`
	}
	wireMsg struct {
		Text         string          `json:"text"`
		Attachment   *wireAttachment `json:"attachment"`
		QuickReplies []wireQuick     `json:"quick_replies"`
	}
	wireAttachment struct {
		Type    string `json:"type"`
		Payload struct {
			URL          string       `json:"url"`
			ID           string       `json:"id"`
			TemplateType string       `json:"template_type"`
			Text         string       `json:"text"`
			Buttons      []wireButton `json:"buttons"`
		} `json:"payload"`
	}
	wireButton struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Payload string `json:"payload"`
		URL     string `json:"url"`
	}
	wireQuick struct {
		ContentType string `json:"content_type"`
		Title       string `json:"title"`
		Payload     string `json:"payload"`
	}
)

// checkMessage applies Meta's rules for a message's contents; private is a private reply, which
// may hold text, a button template and quick replies only. It answers the message as the ledger
// keeps it, or why Meta refuses it (code 100).
func checkMessage(m *wireMsg, private bool) (SentMessage, string) {
	if m == nil {
		return SentMessage{}, "The parameter message is required"
	}
	out := SentMessage{Kind: reply.MessageText, Text: m.Text}
	qs, why := checkQuick(m.QuickReplies)
	if why != "" {
		return out, why
	}
	out.QuickReplies = qs
	if m.Attachment == nil {
		switch {
		case m.Text == "":
			return out, "The parameter message[text] is required"
		case len(m.Text) > reply.MaxTextBytes:
			return out, fmt.Sprintf("Length of param message[text] must be less than or equal to %d", reply.MaxTextBytes)
		}
		return out, checkLinks(m.Text)
	}
	at := m.Attachment
	switch {
	case m.Text != "":
		return out, "A message holds text or an attachment, not both"
	case private && at.Type != "template":
		return out, fmt.Sprintf("A private reply may hold only text, a button template and quick replies: attachment type %q is not supported", at.Type)
	}
	out.Text = ""
	switch at.Type {
	case "template":
		return checkButtonTemplate(at, out)
	case "image", "audio", "video":
		out.Kind, out.URL = reply.MessageKind(at.Type), at.Payload.URL
		if why := checkURL(at.Payload.URL); why != "" {
			return out, "attachment payload url: " + why
		}
	case "like_heart":
		out.Kind = reply.MessageHeart
	case "MEDIA_SHARE":
		out.Kind, out.MediaID = reply.MessageMediaShare, at.Payload.ID
		if at.Payload.ID == "" {
			return out, "The parameter attachment[payload][id] is required for MEDIA_SHARE"
		}
	default:
		return out, fmt.Sprintf("Invalid attachment type %q: want image, audio, video, like_heart, MEDIA_SHARE or template", at.Type)
	}
	return out, ""
}

func checkButtonTemplate(at *wireAttachment, out SentMessage) (SentMessage, string) {
	p := at.Payload
	out.Text = p.Text
	switch {
	case p.TemplateType != "button":
		return out, fmt.Sprintf("template_type %q is not supported here: want button", p.TemplateType)
	case p.Text == "":
		return out, "A button template needs text"
	case utf8.RuneCountInString(p.Text) > reply.MaxButtonText:
		return out, fmt.Sprintf("A button template's text must be at most %d characters", reply.MaxButtonText)
	case len(p.Buttons) == 0 || len(p.Buttons) > reply.MaxButtons:
		return out, fmt.Sprintf("A button template needs 1 to %d buttons, not %d", reply.MaxButtons, len(p.Buttons))
	}
	if why := checkLinks(p.Text); why != "" {
		return out, why
	}
	for i, b := range p.Buttons {
		if why := checkTitle(b.Title, reply.MaxButtonTitle); why != "" {
			return out, fmt.Sprintf("buttons[%d] title: %s", i, why)
		}
		switch b.Type {
		case string(reply.ButtonPostback):
			if why := checkPayload(b.Payload); why != "" {
				return out, fmt.Sprintf("buttons[%d] payload: %s", i, why)
			}
		case string(reply.ButtonURL):
			if why := checkURL(b.URL); why != "" {
				return out, fmt.Sprintf("buttons[%d] url: %s", i, why)
			}
		default:
			return out, fmt.Sprintf("buttons[%d] type %q: want postback or web_url", i, b.Type)
		}
		out.Buttons = append(out.Buttons, reply.Button{Type: reply.ButtonType(b.Type), Title: b.Title, Payload: b.Payload, URL: b.URL})
	}
	return out, ""
}

func checkQuick(qs []wireQuick) ([]reply.QuickReply, string) {
	if len(qs) > reply.MaxQuickReplies {
		return nil, fmt.Sprintf("At most %d quick replies, not %d", reply.MaxQuickReplies, len(qs))
	}
	var out []reply.QuickReply
	for i, q := range qs {
		switch q.ContentType {
		case "text":
			if why := checkTitle(q.Title, reply.MaxQuickReplyTitle); why != "" {
				return nil, fmt.Sprintf("quick_replies[%d] title: %s", i, why)
			}
			if why := checkPayload(q.Payload); why != "" {
				return nil, fmt.Sprintf("quick_replies[%d] payload: %s", i, why)
			}
		case "user_phone_number", "user_email":
			// Meta disabled the quick replies that pre-fill a person's email or phone number for
			// Instagram messaging on 5 October 2026 (Instagram Platform changelog): the person
			// types it, and a step that asks checks it.
			return nil, fmt.Sprintf("quick_replies[%d] content_type %q: no longer supported for Instagram messaging (since 5 October 2026)", i, q.ContentType)
		default:
			return nil, fmt.Sprintf("quick_replies[%d] content_type %q: want text, user_phone_number or user_email", i, q.ContentType)
		}
		out = append(out, reply.QuickReply{Title: q.Title, Payload: q.Payload})
	}
	return out, ""
}

func checkTitle(t string, max int) string {
	switch n := utf8.RuneCountInString(t); {
	case strings.TrimSpace(t) == "":
		return "required"
	case n > max:
		return fmt.Sprintf("%d characters, at most %d", n, max)
	}
	return ""
}

func checkPayload(p string) string {
	switch {
	case p == "":
		return "required"
	case len(p) > reply.MaxPayloadBytes:
		return fmt.Sprintf("%d bytes, at most %d", len(p), reply.MaxPayloadBytes)
	}
	return ""
}

// checkURL wants an absolute http(s) URL with a dotted host, as Meta fetches or opens it.
func checkURL(s string) string {
	u, err := url.Parse(s)
	switch {
	case s == "":
		return "required"
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || !strings.Contains(u.Host, ".") || strings.ContainsAny(s, " \t\n"):
		return fmt.Sprintf("%q is not a well-formed URL", s)
	case len(s) > reply.MaxAttachmentURLLen:
		return fmt.Sprintf("%d characters, at most %d", len(s), reply.MaxAttachmentURLLen)
	}
	return ""
}

// checkLinks refuses a text whose http(s) links are not well-formed URLs.
func checkLinks(text string) string {
	for _, f := range strings.Fields(text) {
		if !strings.HasPrefix(f, "http://") && !strings.HasPrefix(f, "https://") {
			continue
		}
		if why := checkURL(strings.TrimRight(f, ".,;:!?)")); why != "" {
			return "link in the text: " + why
		}
	}
	return ""
}
