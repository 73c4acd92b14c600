package reply

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ConversationWindow is how long after the person's latest message or tap the account may send
// them messages (Meta's 24-hour standard messaging window). A private reply alone opens none.
const ConversationWindow = 24 * time.Hour

// Defaults of an account's conversation settings.
const (
	DefaultHumanPause      = 24 * time.Hour // a person on the account answered: automation waits
	DefaultDisclosureLapse = 24 * time.Hour // no automated message for this long: disclose again
)

// Send API rate lanes (per account): text, links, reactions and stickers; audio and video.
const (
	LaneText  Lane = "text"
	LaneMedia Lane = "media"
)

// Trigger says which inbound event runs a step. Exactly one of Payload, Keywords and Any is set.
type Trigger struct {
	Payload  string    `json:"payload,omitempty"`  // a postback's or a quick reply's payload
	Keywords []string  `json:"keywords,omitempty"` // words in the person's answer
	Match    MatchMode `json:"match,omitempty"`    // how Keywords compare; word when empty
	Any      bool      `json:"any,omitempty"`      // any answer no other step's trigger took
}

// Gate fallbacks: what a follow-gated step does when Meta cannot say whether the person follows.
const (
	GateSend = "send" // send the step anyway
	GateAsk  = "ask"  // send the gate's message, as if they did not follow
)

// Gate holds a step back until the person follows the account (is_user_follow_business).
type Gate struct {
	Message     Message `json:"message"`     // "Follow us, then tap again"
	Unavailable string  `json:"unavailable"` // GateSend or GateAsk
}

// Step is one part of a flow: the messages sent when its trigger arrives inside the window.
type Step struct {
	Name string `json:"name"`
	// ID is the step's identity in its flow when it must outlive a rename: a conversation
	// remembers what it sent by the rule and the step's ID (its Name when unset), so renaming a
	// step that has an ID resends nothing.
	ID       string    `json:"id,omitempty"`
	On       Trigger   `json:"on"`
	Messages []Message `json:"messages"`
	Gate     *Gate     `json:"follow_gate,omitempty"`
	// Resend sends the step again on a later trigger, at most once per Cooldown (required, at
	// least MinResendCooldown); by default a step goes out once per conversation.
	Resend   bool          `json:"resend,omitempty"`
	Cooldown time.Duration `json:"cooldown,omitempty"`
	// Ask makes the step a question: the person's next answer is checked and kept (ask.go).
	Ask *Ask `json:"ask,omitempty"`
	// Variants send other messages instead of Messages, by the person's variant (Variant).
	Variants []StepVariant `json:"variants,omitempty"`
}

// Key is the step's identity within its flow: ID when set, else Name.
func (s Step) Key() string {
	if s.ID != "" {
		return s.ID
	}
	return s.Name
}

// StepKey is a step's identity in a conversation: the rule (comment rule or DM rule) whose flow
// holds it and the step's Key, never a name that two flows may share. Both parts are escaped so
// that no rule or step name can forge another's key (a step "x#gate" is not x's gate).
func StepKey(rule, step string) string { return keyPart(rule) + "#" + keyPart(step) }

// SplitStepKey is the rule and the step (with " (follow gate)" for a gate's message) a key of
// Conversation.Steps names; a key stored before steps had their rule comes back as the step alone.
func SplitStepKey(k string) (rule, step string) {
	gate := strings.HasSuffix(k, gateSuffix)
	if gate {
		k = strings.TrimSuffix(k, gateSuffix)
	}
	rule, step, ok := strings.Cut(k, "#")
	if !ok {
		return "", k
	}
	rule, _ = url.PathUnescape(rule)
	step, _ = url.PathUnescape(step)
	if gate {
		step += " (follow gate)"
	}
	return rule, step
}

// gateSuffix marks a follow gate's message in a conversation's Steps: each tap may send it again.
const gateSuffix = "#gate"

// DMRule answers a conversation the person starts (a DM or a story reply) with a flow: the
// person opened the window, so no private reply is involved.
type DMRule struct {
	Name     string    `json:"name"`
	Match    MatchMode `json:"match"`
	Keywords []string  `json:"keywords,omitempty"`
	Stories  bool      `json:"story_replies,omitempty"` // also story replies
	Messages []Message `json:"messages"`                // the answer to the matching DM
	Flow     []Step    `json:"flow,omitempty"`          // what follows it
}

// Conversation is what replywindow keeps of one person's conversation with an account: the
// 24-hour window, where the person is in the funnel, and the human pause. Stores keep it under
// ConversationKey and let it expire a while after its window closed.
type Conversation struct {
	AccountID string `json:"account"`
	PersonID  string `json:"person"`
	Username  string `json:"username,omitempty"`
	// Rule is the rule (a comment rule, or a DM rule) whose flow the person is in.
	Rule string `json:"rule,omitempty"`
	// WindowEnd is ConversationWindow after the latest inbound message or tap, by Meta's time.
	WindowEnd     time.Time `json:"window_end,omitzero"`
	LastInbound   time.Time `json:"last_inbound,omitzero"`
	LastAutomated time.Time `json:"last_automated,omitzero"` // the latest automated message claimed
	PausedUntil   time.Time `json:"paused_until,omitzero"`   // a human on the account is answering
	PausedBy      string    `json:"paused_by,omitempty"`     // Meta's id of the human's message that set PausedUntil
	// EventsAt is the outbox mark of the pause's ConversationPaused event (shared/events),
	// written with the pause, removed once the event is out.
	EventsAt time.Time `json:"-"`
	// DisclosedAt is when a message carrying the automated-experience line was last delivered;
	// DisclosureOwed when a claimed step last had to carry it. The line is due until a message
	// carrying it was delivered, not merely claimed: a refused first message leaves it owed.
	DisclosedAt    time.Time `json:"disclosed_at,omitzero"`
	DisclosureOwed time.Time `json:"disclosure_owed,omitzero"`
	// Steps is when each step (by StepKey: its rule and its key) last went out: cooldowns and
	// the once-per-conversation rule read it, and the claim that sends a step moves it.
	Steps     map[string]time.Time `json:"steps,omitempty"`
	UpdatedAt time.Time            `json:"updated_at,omitzero"`
}

// ConversationKey is the key of the conversation of person with account.
func ConversationKey(account, person string) string { return "V#" + account + "#" + person }

// ConversationRetention is how long a conversation is kept after its window closed: long enough
// for `replywindow conversation` to show it, and for a late tap to find the flow it belongs to.
const ConversationRetention = 30 * 24 * time.Hour

// Open reports whether the window is open at t.
func (c Conversation) Open(t time.Time) bool { return t.Before(c.WindowEnd) }

// Paused reports whether a human on the account is answering the person at t.
func (c Conversation) Paused(t time.Time) bool { return t.Before(c.PausedUntil) }

// Disclose reports whether the next automated message at t must carry the automated-experience
// line: until one carrying it was delivered, after lapse without an automated message, and after
// a human pause ended.
func (c Conversation) Disclose(t time.Time, lapse time.Duration) bool {
	return c.DisclosedAt.IsZero() || c.DisclosureOwed.After(c.DisclosedAt) ||
		t.Sub(c.LastAutomated) >= lapse ||
		(!c.PausedUntil.IsZero() && c.PausedUntil.After(c.LastAutomated) && !c.Paused(t))
}

// Owes reports whether a step claimed with the disclosure line had none of its messages carrying
// it delivered yet: the next message that can carry it does.
func (c Conversation) Owes() bool {
	return !c.DisclosureOwed.IsZero() && c.DisclosureOwed.After(c.DisclosedAt)
}

// Due reports whether the step (its rule's, by StepClaim.Key) may go out at t: never sent, or a
// resend past its cooldown.
func (c Conversation) Due(claim StepClaim) bool {
	last, sent := c.sent(claim)
	if !sent {
		return true
	}
	if claim.Answer != "" {
		return last.Before(claim.Since)
	}
	return claim.resend() && !claim.At.Before(last.Add(claim.Cooldown()))
}

// sent is when the claim's step last went out. Conversations stored before steps had their
// rule in the key remember a step by its name alone; such a name counts for the flow the person
// was in (Rule), the only one it can have come from unless the person moved flows since.
func (c Conversation) sent(claim StepClaim) (time.Time, bool) {
	if last, ok := c.Steps[claim.Key()]; ok {
		return last, true
	}
	if claim.Gate || claim.Answer != "" || c.Rule != claim.Rule || strings.Contains(claim.Step.Name, "#") {
		return time.Time{}, false
	}
	last, ok := c.Steps[claim.Step.Name]
	return last, ok
}

// Touch is what an event changes in a conversation: the person's message or tap at At moves the
// window to At+24h when that is later; a private reply sets the flow the person is in (Rule) and
// their Username; a human's answer from the account (Pause > 0) pauses automation until At+Pause.
type Touch struct {
	AccountID string
	PersonID  string
	At        time.Time // Meta's time of the event; zero for a private reply
	Rule      string    // the flow the person is now in; "" keeps the conversation's
	Username  string    // when known
	Pause     time.Duration
	Now       time.Time // when the touch is written
	// Echo is Meta's id of the human's message that pauses (Pause > 0); EventsAt, when set, the
	// outbox mark of the pause's event, written with the pause (and only when it moves it).
	Echo     string
	EventsAt time.Time
}

// Touched is c after t, as stores apply it: times only ever move later.
func (c Conversation) Touched(t Touch) Conversation {
	c.AccountID, c.PersonID = t.AccountID, t.PersonID
	switch {
	case t.Pause > 0:
		if t.At.Add(t.Pause).After(c.PausedUntil) {
			c.PausedBy = t.Echo
			if !t.EventsAt.IsZero() {
				c.EventsAt = t.EventsAt
			}
		}
		c.PausedUntil = later(c.PausedUntil, t.At.Add(t.Pause))
	case !t.At.IsZero():
		c.LastInbound = later(c.LastInbound, t.At)
		c.WindowEnd = later(c.WindowEnd, t.At.Add(ConversationWindow))
	}
	if t.Rule != "" {
		c.Rule = t.Rule
	}
	if t.Username != "" {
		c.Username = t.Username
	}
	c.UpdatedAt = later(c.UpdatedAt, t.Now)
	return c
}

// Moves reports whether t moves c's time it touches (the window, or the pause) later; a touch
// that moves nothing is an older or repeated event, and stores write nothing for it.
func (c Conversation) Moves(t Touch) bool {
	switch {
	case t.Pause > 0:
		return t.At.Add(t.Pause).After(c.PausedUntil)
	case !t.At.IsZero():
		return t.At.Add(ConversationWindow).After(c.WindowEnd)
	}
	return true
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ExpiresAt is when a store may drop the conversation (its TTL).
func (c Conversation) ExpiresAt() time.Time {
	return later(later(c.WindowEnd, c.PausedUntil), c.UpdatedAt).Add(ConversationRetention)
}

// StepClaim is what claiming a step writes to the conversation, atomically with its messages'
// records: the step's send time (refused when the step is not Due any more), the latest
// automated message, whether the disclosure is owed, and the flow the person is now in.
type StepClaim struct {
	AccountID, PersonID string
	Rule                string
	Step                Step
	Gate                bool   // the step's follow gate message, not the step: due on every tap
	Disclose            bool   // the step's first message carries the disclosure line
	Username            string // learned for this claim (the profile API); "" keeps the stored one
	At                  time.Time
	// Answer is a part of the asking step's answer (AnswerConfirm, AnswerRetry(n),
	// AnswerFallback) instead of the step; Since is when the question went out: the part is
	// due once per question (not sent since then).
	Answer string
	Since  time.Time
	// Followed: the step's follow gate found the person following and let the step through (a
	// gate that could not ask and sent the step all the same did not).
	Followed bool
}

// Key is the claimed step's key in Conversation.Steps.
func (c StepClaim) Key() string {
	k := StepKey(c.Rule, c.Step.Key())
	if c.Gate {
		k += gateSuffix
	}
	if c.Answer != "" {
		k += answerSuffix + c.Answer
	}
	return k
}

// resend reports whether the claimed step may go out again (a gate's message on every tap).
func (c StepClaim) resend() bool { return c.Gate || c.Step.Resend }

// MinResendCooldown is the shortest cooldown a resending step may have: without one, any
// person could make the account send the step on every tap or keyword (issue 24, finding 7).
const MinResendCooldown = time.Minute

// Cooldown is how long after its last send the claimed step is due again. A resending step
// stored before its cooldown was required waits at least MinResendCooldown all the same.
func (c StepClaim) Cooldown() time.Duration {
	if c.Gate {
		return 0
	}
	if c.Step.Resend && c.Step.Cooldown < MinResendCooldown {
		return MinResendCooldown
	}
	return c.Step.Cooldown
}

// Claimed is c after claim, as stores apply it.
func (c Conversation) Claimed(claim StepClaim) Conversation {
	c.AccountID, c.PersonID = claim.AccountID, claim.PersonID
	steps := make(map[string]time.Time, len(c.Steps)+1)
	for k, v := range c.Steps {
		steps[k] = v
	}
	steps[claim.Key()] = claim.At
	if next := claim.NextKey(); next != "" {
		steps[next] = claim.At // its messages went with the confirmation
	}
	c.Steps = steps
	c.LastAutomated = later(c.LastAutomated, claim.At)
	if claim.Disclose {
		c.DisclosureOwed = later(c.DisclosureOwed, claim.At)
	}
	if claim.Username != "" {
		c.Username = claim.Username
	}
	if claim.Rule != "" {
		c.Rule = claim.Rule
	}
	c.UpdatedAt = later(c.UpdatedAt, claim.At)
	return c
}

// Conversations stores conversation records. Touch is the only write an inbound event needs, and
// it answers with the conversation as it was, so deciding costs no read (Touched gives after).
type Conversations interface {
	// Touch applies t (Conversation.Touched) and returns the conversation as it was before
	// (zero when there was none). Creating a conversation checks the account's and the
	// person's tombstones (Tombstone.CoversAt at t.At): an error wrapping ErrForgotten, nothing
	// written.
	Touch(ctx context.Context, t Touch) (Conversation, error)
	// Conversation is the stored conversation, or an error wrapping ErrNotFound.
	Conversation(ctx context.Context, account, person string) (Conversation, error)
	// ClaimStep creates recs (a step's messages' records, Version 1) and applies claim to the
	// conversation (Conversation.Claimed) in one atomic write, if the step is still Due at
	// claim.At and none of the records exists. Otherwise nothing is written: a record already
	// stored is returned with an error wrapping ErrExists (a duplicate of the same trigger), a
	// step no longer due with ErrConflict (another trigger claimed it first).
	ClaimStep(ctx context.Context, recs []Record, claim StepClaim) (Record, error)
	// Disclosed records that a message carrying the disclosure line reached the person at at
	// (DisclosedAt only moves later). It never creates a conversation: a deleted one stays
	// deleted, and that is no error.
	Disclosed(ctx context.Context, account, person string, at time.Time) error
	// DeleteConversation removes the conversation; removing none is not an error.
	DeleteConversation(ctx context.Context, account, person string) error
	// Conversations pages through every conversation in no particular order: data deletion
	// finds an account's or a person's by it. An empty returned cursor means there is no more.
	Conversations(ctx context.Context, cursor string, limit int) ([]Conversation, string, error)
}

// EventKind is what an inbound messaging event is.
type EventKind string

const (
	EventMessage    EventKind = "message"     // the person wrote (text or attachments)
	EventQuickReply EventKind = "quick_reply" // the person tapped a quick reply
	EventStoryReply EventKind = "story_reply" // the person answered one of the account's stories
	EventPostback   EventKind = "postback"    // the person tapped a postback button
	EventReaction   EventKind = "reaction"    // the person reacted to a message
	EventEcho       EventKind = "echo"        // the account sent a message (us, or a person in the app)
)

// Event is one messaging event to or from the account, as the webhook enqueues it.
type Event struct {
	Kind     EventKind `json:"kind"`
	PersonID string    `json:"person"` // the person's IGSID (the sender; for echoes the recipient)
	MID      string    `json:"mid"`
	Text     string    `json:"text,omitempty"`
	Payload  string    `json:"payload,omitempty"` // postback or quick-reply payload
	AppID    string    `json:"app_id,omitempty"`  // echoes: the app that sent the message
	Ref      string    `json:"ref,omitempty"`     // an ig.me link's ref (entry.go)
	At       time.Time `json:"at"`                // Meta's timestamp
}

// Opens reports whether the event opens (or extends) the person's 24-hour window: anything the
// person sent or tapped. Reactions are not messages, and echoes are the account's own.
func (e Event) Opens() bool {
	switch e.Kind {
	case EventMessage, EventQuickReply, EventStoryReply, EventPostback, EventStoryMention, EventReferral:
		return true
	}
	return false
}

func (e Event) validate() error {
	switch {
	case !ValidID(e.PersonID):
		return fmt.Errorf("%w: event person %q", ErrInvalidJob, e.PersonID)
	case e.MID == "":
		return fmt.Errorf("%w: event without a message id", ErrInvalidJob)
	case e.At.IsZero():
		return fmt.Errorf("%w: event without a time", ErrInvalidJob)
	}
	switch e.Kind {
	case EventMessage, EventQuickReply, EventStoryReply, EventPostback, EventReaction, EventEcho,
		EventStoryMention, EventReferral:
		return nil
	}
	return fmt.Errorf("%w: event kind %q", ErrInvalidJob, e.Kind)
}

// FollowUp is one automated message of a step, to one person: the job the sweeper releases when
// its record was parked, and what its record is keyed by. A step's messages form a turn: message
// Index goes out only after message Index-1 has its answer, whatever their lanes.
type FollowUp struct {
	PersonID string `json:"person"`
	Rule     string `json:"rule"` // the comment rule or DM rule whose flow holds the step
	Step     string `json:"step"` // the step's Key (its ID, or its name)
	Index    int    `json:"index"`
	Of       int    `json:"of,omitempty"`   // how many messages the turn has
	Gate     bool   `json:"gate,omitempty"` // the follow gate's message instead of the step's
	// Answer is the part of an asking step's answer the record sends (StepClaim.Answer).
	Answer string `json:"answer,omitempty"`
	// Consent is the consent line that goes under the message (a question's), fixed when it
	// was claimed like the message itself: the lead records the line the person saw.
	Consent string `json:"consent,omitempty"`
	// Digest names the message the record sends (Message.Digest), fixed when it was claimed: an
	// edit of the flow cannot make the record send another message, only leave it without one.
	Digest string `json:"digest,omitempty"`
	// Variant is the person's variant the follow-up counts under (Account.PersonVariant).
	Variant string `json:"variant,omitempty"`
	// Tap: the turn was started by the person's tap (a button or quick reply), counted once
	// with the turn's first record. Gated: the step has a follow gate the person passed.
	// NoticeFirst: the turn's first record is the disclosure notice.
	Tap         bool `json:"tap,omitempty"`
	Gated       bool `json:"gated,omitempty"`
	NoticeFirst bool `json:"notice_first,omitempty"`
	// Payload is the tapped button's payload (the account's own configuration) when Tap, and
	// Followed that the follow gate asked the profile API and found the person following: the
	// turn's ButtonTapped and FollowGatePassed events are made of them (shared/events).
	Payload  string `json:"payload,omitempty"`
	Followed bool   `json:"followed,omitempty"`
	// Notice sends the account's disclosure line alone, as text, ahead of a turn whose first
	// message cannot carry it (an image, a sticker, a reaction).
	Notice bool `json:"notice,omitempty"`
	// Trigger is the inbound message id that ran the step: a reaction targets it, and a resend
	// or a gate message is keyed by it (one per tap).
	Trigger  string    `json:"trigger"`
	Once     bool      `json:"once,omitempty"` // keyed per conversation, not per trigger
	Disclose bool      `json:"disclose,omitempty"`
	Username string    `json:"username,omitempty"`
	Lane     Lane      `json:"lane"`
	Deadline time.Time `json:"deadline"` // the window's end when the step was triggered
}

// Previous is the follow-up that goes out before f in its turn; ok is false for the first.
func (f FollowUp) Previous() (FollowUp, bool) {
	return f.at(f.Index - 1)
}

// Next is the follow-up that goes out after f in its turn; ok is false for the last.
func (f FollowUp) Next() (FollowUp, bool) {
	return f.at(f.Index + 1)
}

func (f FollowUp) at(i int) (FollowUp, bool) {
	if i < 0 || i >= f.Of {
		return FollowUp{}, false
	}
	f.Index = i
	return f, true
}

// FollowUpKey is the key of one automated message's record: per conversation for a step sent
// once, per trigger for resends and gate messages.
func FollowUpKey(account string, f FollowUp) string {
	var b strings.Builder
	b.WriteString("S#" + account + "#" + f.PersonID + "#" + keyPart(f.Rule) + "#" + keyPart(f.Step) + "#")
	if f.Gate {
		b.WriteString("gate#")
	}
	if f.Answer != "" {
		b.WriteString("ask:" + f.Answer + "#")
	}
	b.WriteString(strconv.Itoa(f.Index))
	if !f.Once {
		b.WriteString("#" + f.Trigger)
	}
	return b.String()
}

// keyPart keeps a user-chosen name from forging key structure: '%' is escaped too, or the
// names "a#b" and "a%23b" would meet in one key.
var keyEscaper = strings.NewReplacer("%", "%25", "#", "%23")

func keyPart(s string) string {
	if !strings.ContainsAny(s, "%#") {
		return s // the usual name: no copy
	}
	return keyEscaper.Replace(s)
}

func (f FollowUp) validate() error {
	switch {
	case !ValidID(f.PersonID):
		return fmt.Errorf("%w: follow-up person %q", ErrInvalidJob, f.PersonID)
	case f.Rule == "" || f.Step == "" || f.Index < 0:
		return fmt.Errorf("%w: follow-up without its rule, step or message", ErrInvalidJob)
	case f.Of > 0 && f.Index >= f.Of: // Of is 0 on records claimed before turns had it
		return fmt.Errorf("%w: follow-up %d of a turn of %d", ErrInvalidJob, f.Index, f.Of)
	case f.Trigger == "":
		return fmt.Errorf("%w: follow-up without its trigger", ErrInvalidJob)
	case f.Lane != LaneText && f.Lane != LaneMedia:
		return fmt.Errorf("%w: follow-up lane %q", ErrInvalidJob, f.Lane)
	case f.Deadline.IsZero():
		return fmt.Errorf("%w: follow-up without its window", ErrInvalidJob)
	}
	return nil
}
