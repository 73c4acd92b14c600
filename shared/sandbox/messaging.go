package sandbox

import (
	"fmt"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// This file is the second half of Meta: each person's 24-hour window, the Send API inside it
// (its lanes; what a message may hold is contents.go) and the user profile API (design.md §2).

// DefaultAppID and DefaultAppSecret are the app the sandbox signs webhooks as and names in the
// echoes of the messages sent through it, unless WithAppID and WithAppSecret say otherwise.
const (
	DefaultAppID     = "1000000000000001"
	DefaultAppSecret = "sandbox-app-secret"
)

// WithAppID sets the app id the echoes of Send API messages carry (DefaultAppID).
func WithAppID(id string) Option { return func(s *Sandbox) { s.appID = id } }

// WithAppSecret sets the secret webhook bodies are signed with (DefaultAppSecret).
func WithAppSecret(secret string) Option { return func(s *Sandbox) { s.appSecret = secret } }

// AppID is the app id of the sandbox's own sends' echoes.
func (s *Sandbox) AppID() string { return s.appID }

// SentMessage is one Send API call the sandbox accepted: a message or a reaction the person got.
type SentMessage struct {
	AccountID    string             `json:"account"`
	PersonID     string             `json:"person"`
	Kind         reply.MessageKind  `json:"kind"`
	Text         string             `json:"text,omitempty"` // a button template's text too
	URL          string             `json:"url,omitempty"`  // image, audio, video
	MediaID      string             `json:"media_id,omitempty"`
	ReplyTo      string             `json:"reply_to,omitempty"` // the message a reaction is on
	Reaction     string             `json:"reaction,omitempty"` // "love"; "" for an unreact
	Buttons      []reply.Button     `json:"buttons,omitempty"`
	QuickReplies []reply.QuickReply `json:"quick_replies,omitempty"`
	At           time.Time          `json:"at"`
	WindowEnd    time.Time          `json:"window_end"` // the person's window when it was sent
	MessageID    string             `json:"message_id"`
	Answered     bool               `json:"answered"` // false when a fault kept the answer from the client
}

type convKey struct{ account, person string }

// conversation is what Meta keeps of one person and one account.
type conversation struct {
	opened  time.Time // the person's latest message or tap: the window runs 24 h from it
	consent bool      // the person messaged or tapped once: the profile API answers
	follows bool
	// followUnknown leaves is_user_follow_business out of the profile's answer, as Meta's
	// answers sometimes do: a client must not read it as "not following".
	followUnknown bool
	// pendingRef is the ref of an ig.me link opened before the thread existed: Meta sends it
	// with the person's ice breaker tap, not alone (entries.go).
	pendingRef string
}

func (c *conversation) windowEnd() time.Time {
	if c == nil || c.opened.IsZero() {
		return time.Time{}
	}
	return c.opened.Add(reply.ConversationWindow)
}

// person is what the profile API tells of an Instagram user, and whether Meta lets anyone message
// them: unavailable (a deactivated account, or one Meta hides) and the accounts they blocked.
type person struct {
	name, username string
	unavailable    bool
	blocked        map[string]bool // by account id
	private        bool            // a private account: its story mentions reach only accounts it follows
}

// Meta's answers for a person who cannot be messaged. Meta does not say that a person blocked the
// account (for privacy); peers see 551/1545041 "isn't available right now" for a person gone and
// 200/1545041 "isn't receiving messages from you" for a block. Both are ordinary, permanent
// refusals of that person, not the account's permission problem (200 without a subcode is).
func errUnavailable() result {
	return refuse(400, 551, 1545041, "OAuthException", "(#551) This person isn't available right now.")
}

func errBlocked() result {
	return refuse(400, 200, 1545041, "OAuthException", "(#200) This person isn't receiving messages from you right now.")
}

// refusesLocked is Meta's refusal of any message from account to personID, if the person cannot
// get one; s.mu is held.
func (s *Sandbox) refusesLocked(account, personID string) *result {
	p := s.persons[personID]
	switch {
	case p == nil:
		return nil
	case p.unavailable:
		r := errUnavailable()
		return &r
	case p.blocked[account]:
		r := errBlocked()
		return &r
	}
	return nil
}

// SetUnavailable makes the person unavailable to every account (on) or available again: private
// replies to their comments and Send API messages to them are answered 551/1545041.
func (s *Sandbox) SetUnavailable(personID string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.personLocked(personID).unavailable = on
}

// SetBlocked says whether the person blocked the account: private replies to their comments and
// Send API messages to them from that account are answered 200/1545041; other accounts are not
// affected.
func (s *Sandbox) SetBlocked(accountID, personID string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.personLocked(personID)
	if p.blocked == nil {
		p.blocked = map[string]bool{}
	}
	p.blocked[accountID] = on
}

func (s *Sandbox) personLocked(id string) *person {
	p, ok := s.persons[id]
	if !ok {
		p = &person{name: "Person " + id, username: "user_" + id}
		s.persons[id] = p
	}
	return p
}

func (s *Sandbox) convLocked(account, personID string) *conversation {
	k := convKey{account, personID}
	c, ok := s.convs[k]
	if !ok {
		c = &conversation{}
		s.convs[k] = c
		s.personLocked(personID)
	}
	return c
}

// SetFollows sets whether the person follows the account (is_user_follow_business).
func (s *Sandbox) SetFollows(accountID, personID string, follows bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.convLocked(accountID, personID).follows = follows
}

// WithholdFollowState makes the profile API answer the person's profile, asked by the account,
// without is_user_follow_business (withhold false answers it again), as Meta sometimes does.
func (s *Sandbox) WithholdFollowState(accountID, personID string, withhold bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.convLocked(accountID, personID).followUnknown = withhold
}

// SetName sets the person's display name, which the profile API answers as name.
func (s *Sandbox) SetName(personID, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.personLocked(personID).name = name
}

// SetUsername sets the person's Instagram username (a comment's from.username sets it too).
func (s *Sandbox) SetUsername(personID, username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.personLocked(personID).username = username
}

// WindowEnd is when the person's 24-hour window with the account closes (or closed); zero when
// the person never messaged or tapped.
func (s *Sandbox) WindowEnd(accountID, personID string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.convs[convKey{accountID, personID}].windowEnd()
}

// Messages is the ledger of accepted Send API calls, in order.
func (s *Sandbox) Messages() []SentMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SentMessage(nil), s.messages...)
}

// QueueCallFault queues faults for the next Send API (OpSend) or profile (OpProfile) calls about
// personID, in order, one per call; personID "" queues them for the next such calls about anyone.
// Faults queued for the person are used before those for anyone.
func (s *Sandbox) QueueCallFault(op Op, personID string, f ...Fault) {
	s.mu.Lock()
	s.opQueued[string(op)+"#"+personID] = append(s.opQueued[string(op)+"#"+personID], f...)
	s.mu.Unlock()
}

func (s *Sandbox) popCallFault(op Op, personID string) Fault {
	for _, k := range []string{string(op) + "#" + personID, string(op) + "#"} {
		if q := s.opQueued[k]; len(q) > 0 {
			s.opQueued[k] = q[1:]
			return q[0]
		}
	}
	return Fault{}
}

// errOutsideWindow is Meta's answer to a Send API call after the person's 24 hours.
func errOutsideWindow() result {
	return refuse(400, 10, 2018278, "OAuthException", "(#10) This message is sent outside of allowed window.")
}

// sendMessage answers the Send API: POST /{sender-id}/messages with recipient.id; s.mu is held.
func (s *Sandbox) sendMessage(a *account, rq request, now time.Time) result {
	switch {
	case rq.objectID != a.senderID() && rq.objectID != "me":
		return errNoObject(rq.objectID)
	case rq.bad != "":
		return errParam(rq.bad)
	case !reply.ValidID(rq.personID):
		return refuse(400, 100, 2018001, "OAuthException", "(#100) No matching user found")
	}
	k := convKey{a.id, rq.personID}
	var msg SentMessage
	w := rq.send
	if w.SenderAction != "" {
		var why string
		if msg, why = s.checkReaction(w, k); why != "" {
			return errParam(why)
		}
	} else {
		var why string
		if msg, why = checkMessage(w.Message, false); why != "" {
			return errParam(why)
		}
		if msg.Kind == reply.MessageMediaShare {
			if m, ok := s.media[msg.MediaID]; !ok || m.AccountID != a.id {
				return errParam(fmt.Sprintf("MEDIA_SHARE: media %s is not one of the account's own posts", msg.MediaID))
			}
		}
	}
	if refused := s.refusesLocked(a.id, rq.personID); refused != nil {
		return *refused
	}
	c := s.convs[k]
	end := c.windowEnd()
	if !now.Before(end) {
		return errOutsideWindow()
	}
	lane := reply.LaneText
	if msg.Kind == reply.MessageAudio || msg.Kind == reply.MessageVideo {
		lane = reply.LaneMedia
	}
	usage, refused := s.take(a.id, lane, "instagram_messaging_", 0, now)
	if refused != nil {
		return *refused
	}
	s.stats.Messages++
	msg.AccountID, msg.PersonID, msg.At, msg.WindowEnd, msg.Answered = a.id, rq.personID, now, end, true
	msg.MessageID = fmt.Sprintf("m_sbx_dm_%d", len(s.messages)+1)
	s.messages = append(s.messages, msg)
	s.previewLocked(msg.Text, msg.Buttons)
	res := result{status: 200, usage: usage, message: len(s.messages),
		body: map[string]string{"recipient_id": rq.personID, "message_id": msg.MessageID}}
	if msg.Kind == reply.MessageReaction {
		// A sender action is answered with the recipient alone, and is no message to echo.
		res.body = map[string]string{"recipient_id": rq.personID}
		return res
	}
	s.echoLocked(msg)
	return res
}

// checkReaction is a sender action: a reaction (or its removal) on a message the person sent.
func (s *Sandbox) checkReaction(w *wireSend, k convKey) (SentMessage, string) {
	msg := SentMessage{Kind: reply.MessageReaction}
	switch {
	case w.Message != nil:
		return msg, "sender_action cannot be sent with a message"
	case w.SenderAction != "react" && w.SenderAction != "unreact":
		return msg, fmt.Sprintf("sender_action %q: want react or unreact", w.SenderAction)
	case w.Payload == nil || w.Payload.MessageID == "":
		return msg, "The parameter payload[message_id] is required"
	case s.inbound[w.Payload.MessageID] != k:
		return msg, fmt.Sprintf("message %s was not sent by the person to the account", w.Payload.MessageID)
	case w.SenderAction == "react" && w.Payload.Reaction != "love":
		return msg, fmt.Sprintf("reaction %q: Instagram knows only love", w.Payload.Reaction)
	}
	msg.ReplyTo = w.Payload.MessageID
	if w.SenderAction == "react" {
		msg.Reaction = w.Payload.Reaction
	}
	return msg, ""
}

// profileFields are what the user profile API knows; those marked true only it asks for, which
// tells a profile read from a comment read on the same path.
var profileFields = map[string]bool{"id": false, "username": false, "name": true, "profile_pic": true,
	"follower_count": true, "is_user_follow_business": true, "is_business_follow_user": true, "is_verified_user": true}

func isProfileRead(fields string) bool {
	for _, f := range strings.Split(fields, ",") {
		if profileFields[strings.TrimSpace(f)] {
			return true
		}
	}
	return false
}

// profile answers GET /{igsid}?fields=...; s.mu is held. Meta answers only after the person
// messaged the account or tapped one of its buttons. The docs give the message and not the code:
// code 230 (HTTP 403, no subcode) is what peers report Meta sending ("(#230) User consent is
// required to access user profile", chatwoot/chatwoot#5509).
func (s *Sandbox) profile(a *account, rq request) result {
	c := s.convs[convKey{a.id, rq.objectID}]
	if c == nil || !c.consent {
		return refuse(403, 230, 0, "OAuthException", "(#230) User consent is required to access user profile")
	}
	p := s.personLocked(rq.objectID)
	out := map[string]any{"id": rq.objectID}
	for _, f := range strings.Split(rq.fields, ",") {
		f = strings.TrimSpace(f)
		switch f {
		case "", "id":
		case "name":
			out[f] = p.name
		case "username":
			out[f] = p.username
		case "profile_pic":
			out[f] = "https://sandbox.invalid/pic/" + rq.objectID + ".jpg"
		case "follower_count":
			out[f] = 0
		case "is_user_follow_business":
			if !c.followUnknown {
				out[f] = c.follows
			}
		case "is_business_follow_user", "is_verified_user":
			out[f] = false
		default:
			return errParam(fmt.Sprintf("Tried accessing nonexisting field (%s) on node type (User)", f))
		}
	}
	s.stats.Profiles++
	return result{status: 200, body: out}
}
