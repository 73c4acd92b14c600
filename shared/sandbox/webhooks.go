package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/replywindow/replywindow/shared/reply"
)

// What a person does in Instagram reaches replywindow only as Meta's messaging webhook. Each
// method below records the action (a message or a tap opens the person's 24-hour window and gives
// the profile API its consent) and returns the body Meta would POST, signed by Sign: tests post
// it to replywindow's webhook, as many times and in whatever order they like. Meta posts it only
// when the account's subscription for replywindow's app holds the event's field (messages for
// messages, quick replies, story replies and echoes; messaging_postbacks for taps on postback
// buttons; messaging_reactions; messaging_seen): otherwise the body is nil, and the action still
// happened (the window opened all the same).

// Webhook shapes (entry[].messaging[]; Meta's Instagram messaging webhook examples).
type (
	hookEnvelope struct {
		Object string      `json:"object"`
		Entry  []hookEntry `json:"entry"`
	}
	hookEntry struct {
		ID        string      `json:"id"`
		Time      int64       `json:"time"`
		Messaging []hookEvent `json:"messaging"`
	}
	hookEvent struct {
		Sender    hookID        `json:"sender"`
		Recipient hookID        `json:"recipient"`
		Timestamp int64         `json:"timestamp"`
		Message   *hookMessage  `json:"message,omitempty"`
		Postback  *hookPostback `json:"postback,omitempty"`
		Reaction  *hookReaction `json:"reaction,omitempty"`
		Read      *hookRead     `json:"read,omitempty"`
		Referral  *hookReferral `json:"referral,omitempty"` // messaging_referral (entries.go)
	}
	hookRead struct {
		MID string `json:"mid"`
	}
	hookID struct {
		ID string `json:"id"`
	}
	hookMessage struct {
		MID         string           `json:"mid"`
		Text        string           `json:"text,omitempty"`
		IsEcho      bool             `json:"is_echo,omitempty"`
		AppID       string           `json:"app_id,omitempty"`
		QuickReply  *hookPayload     `json:"quick_reply,omitempty"`
		ReplyTo     *hookReplyTo     `json:"reply_to,omitempty"`
		Attachments []hookAttachment `json:"attachments,omitempty"`
		Referral    *hookReferral    `json:"referral,omitempty"`
	}
	hookPayload struct {
		Payload string `json:"payload"`
	}
	hookReplyTo struct {
		Story struct {
			ID  string `json:"id"`
			URL string `json:"url"`
		} `json:"story"`
	}
	hookAttachment struct {
		Type    string `json:"type"`
		Payload struct {
			URL string `json:"url,omitempty"`
			ID  string `json:"id,omitempty"`
		} `json:"payload"`
	}
	hookPostback struct {
		MID      string        `json:"mid"`
		Title    string        `json:"title"`
		Payload  string        `json:"payload"`
		Referral *hookReferral `json:"referral,omitempty"`
	}
	hookReaction struct {
		MID      string `json:"mid"`
		Action   string `json:"action"`
		Reaction string `json:"reaction,omitempty"`
		Emoji    string `json:"emoji,omitempty"`
	}
)

// Sign is the X-Hub-Signature-256 header Meta sends with body: "sha256=" and the hex HMAC-SHA256
// of the raw bytes under the app secret (WithAppSecret).
func (s *Sandbox) Sign(body []byte) string {
	m := hmac.New(sha256.New, []byte(s.appSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Message is the person writing text to the account: it opens their window.
func (s *Sandbox) Message(accountID, personID, text string) (mid string, body []byte) {
	return s.inboundMessage(accountID, personID, &hookMessage{Text: text})
}

// QuickReply is the person tapping a quick reply: Instagram posts its title as their message,
// with its payload.
func (s *Sandbox) QuickReply(accountID, personID, title, payload string) (mid string, body []byte) {
	return s.inboundMessage(accountID, personID, &hookMessage{Text: title, QuickReply: &hookPayload{Payload: payload}})
}

// StoryReply is the person answering the account's story storyID with text.
func (s *Sandbox) StoryReply(accountID, personID, storyID, text string) (mid string, body []byte) {
	m := &hookMessage{Text: text, ReplyTo: &hookReplyTo{}}
	m.ReplyTo.Story.ID = storyID
	m.ReplyTo.Story.URL = "https://lookaside.sandbox.invalid/story/" + storyID
	return s.inboundMessage(accountID, personID, m)
}

// Attachment is the person sending a file (typ image, audio, video, file, ...) from url.
func (s *Sandbox) Attachment(accountID, personID, typ, url string) (mid string, body []byte) {
	a := hookAttachment{Type: typ}
	a.Payload.URL = url
	return s.inboundMessage(accountID, personID, &hookMessage{Attachments: []hookAttachment{a}})
}

// Postback is the person tapping a postback button (of the private reply or a later message).
func (s *Sandbox) Postback(accountID, personID, payload, title string) (mid string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	mid = s.openLocked(accountID, personID, now)
	return mid, s.hookIfLocked(accountID, reply.FieldPostbacks, func() []byte {
		return s.hookBody(accountID, now, hookEvent{Sender: hookID{personID}, Recipient: hookID{accountID},
			Postback: &hookPostback{MID: mid, Title: title, Payload: payload}})
	})
}

// Reaction is the person reacting to one of the account's messages (reaction "" removes it). A
// reaction is not a message: it opens no window.
func (s *Sandbox) Reaction(accountID, personID, messageID, reaction string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &hookReaction{MID: messageID, Action: "unreact"}
	if reaction != "" {
		r.Action, r.Reaction = "react", reaction
		if reaction == "love" {
			r.Emoji = "\u2764\ufe0f"
		}
	}
	return s.hookIfLocked(accountID, reply.FieldReactions, func() []byte {
		return s.hookBody(accountID, s.now(), hookEvent{Sender: hookID{personID}, Recipient: hookID{accountID}, Reaction: r})
	})
}

// HumanReply is someone on the account answering the person from the Instagram app: an echo that
// no app sent (no app_id). It opens no window.
func (s *Sandbox) HumanReply(accountID, personID, text string) (mid string, body []byte) {
	return s.OtherAppReply(accountID, personID, "", text)
}

// OtherAppReply is the echo of a message the account sent through another app (appID; "" for
// the Instagram app itself). It opens no window.
func (s *Sandbox) OtherAppReply(accountID, personID, appID, text string) (mid string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mids++
	mid = fmt.Sprintf("m_sbx_app_%d", s.mids)
	return mid, s.hookIfLocked(accountID, reply.FieldMessages, func() []byte {
		return s.hookBody(accountID, s.now(), hookEvent{Sender: hookID{accountID}, Recipient: hookID{personID},
			Message: &hookMessage{MID: mid, Text: text, IsEcho: true, AppID: appID}})
	})
}

// Seen is the person reading the account's message messageID (messaging_seen). It opens no window.
func (s *Sandbox) Seen(accountID, personID, messageID string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hookIfLocked(accountID, fieldSeen, func() []byte {
		return s.hookBody(accountID, s.now(), hookEvent{Sender: hookID{personID}, Recipient: hookID{accountID},
			Read: &hookRead{MID: messageID}})
	})
}

// Batch is one delivery of the entries of several webhook bodies, in order, as Meta batches
// events (up to 1000 per request).
func Batch(bodies ...[]byte) ([]byte, error) {
	out := hookEnvelope{Object: "instagram"}
	for i, b := range bodies {
		var env hookEnvelope
		if err := json.Unmarshal(b, &env); err != nil {
			return nil, fmt.Errorf("batch: body %d: %w", i, err)
		}
		out.Entry = append(out.Entry, env.Entry...)
	}
	return encodeHook(out), nil
}

// TakeEchoes hands over the echoes of the private replies (to a commenter with an IGSID) and Send
// API messages accepted since the last call, oldest first: each the body Meta would POST
// (is_echo, the sandbox's app id), signed by Sign. Reactions are sender actions: no echo; and a
// send made while the account's subscription lacked messages has none either.
func (s *Sandbox) TakeEchoes() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.echoes
	s.echoes = nil
	return e
}

func (s *Sandbox) inboundMessage(accountID, personID string, m *hookMessage) (string, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	m.MID = s.openLocked(accountID, personID, now)
	return m.MID, s.hookIfLocked(accountID, reply.FieldMessages, func() []byte {
		return s.hookBody(accountID, now, hookEvent{Sender: hookID{personID}, Recipient: hookID{accountID}, Message: m})
	})
}

// openLocked records a message or tap of the person: their window runs 24 h from now, the
// profile API has their consent, and the account may react to it. It answers its mid.
func (s *Sandbox) openLocked(accountID, personID string, now time.Time) string {
	c := s.convLocked(accountID, personID)
	c.opened, c.consent = now, true
	s.mids++
	mid := fmt.Sprintf("m_sbx_in_%d", s.mids)
	s.inbound[mid] = convKey{accountID, personID}
	return mid
}

// echoBody is the webhook Meta sends for a message the account sent through this app.
func (s *Sandbox) echoBody(m SentMessage) []byte {
	hm := &hookMessage{MID: m.MessageID, Text: m.Text, IsEcho: true, AppID: s.appID}
	if s.echoNoApp {
		hm.AppID = ""
	}
	switch m.Kind {
	case reply.MessageText:
	case reply.MessageMediaShare:
		a := hookAttachment{Type: "share"}
		a.Payload.ID = m.MediaID
		hm.Attachments = []hookAttachment{a}
	default:
		a := hookAttachment{Type: string(m.Kind)}
		a.Payload.URL = m.URL
		hm.Attachments = []hookAttachment{a}
	}
	return s.hookBody(m.AccountID, m.At, hookEvent{Sender: hookID{m.AccountID}, Recipient: hookID{m.PersonID}, Message: hm})
}

// hookBody is one event's delivery, in Meta's bytes: messaging times in milliseconds, and what
// is not ASCII escaped (\u00e4), "/" as "\/", so a verifier that re-encodes the JSON fails.
func (s *Sandbox) hookBody(accountID string, at time.Time, ev hookEvent) []byte {
	ev.Timestamp = at.UnixMilli()
	return encodeHook(hookEnvelope{Object: "instagram",
		Entry: []hookEntry{{ID: accountID, Time: at.UnixMilli(), Messaging: []hookEvent{ev}}}})
}

func encodeHook(env hookEnvelope) []byte {
	b, err := json.Marshal(env)
	if err != nil {
		panic(fmt.Sprintf("sandbox: webhook body: %v", err)) // plain structs of strings always encode
	}
	return metaEscape(b)
}

// metaEscape writes JSON as Meta does. Every "/" and non-ASCII rune of a JSON document is inside
// a string, so escaping them byte-wise keeps it the same document.
func metaEscape(b []byte) []byte {
	var out strings.Builder
	for _, r := range string(b) {
		switch {
		case r == '/':
			out.WriteString(`\/`)
		case r < utf8.RuneSelf:
			out.WriteRune(r)
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return []byte(out.String())
}
