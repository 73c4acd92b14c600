package reply

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Kinds of answer a step may ask for (shared/lead checks and keeps them).
const (
	AskEmail = "email"
	AskPhone = "phone"
)

// Ask makes a step a question: its messages ask, and the person's next text answer inside the
// window is checked as an email address or a phone number (shared/lead). A valid answer is kept
// as a lead and confirmed (Confirm, then the messages of the flow's step Next); an invalid one
// gets Retry, at most Retries times, then Fallback, and the question ends. Meta disabled the
// quick replies that pre-filled an email or a phone number on Instagram on 5 October 2026:
// asking is the way now.
type Ask struct {
	Kind string `json:"kind"` // AskEmail or AskPhone
	// Consent puts the account's consent line (LeadSettings.Consent) under the question; the
	// lead records the line the person saw.
	Consent  bool      `json:"consent,omitempty"`
	Confirm  []Message `json:"confirm"`
	Next     string    `json:"next,omitempty"` // the key of the flow's step whose messages follow Confirm
	Retry    Message   `json:"retry"`
	Retries  int       `json:"retries,omitempty"` // DefaultAskRetries when zero
	Fallback Message   `json:"fallback"`
}

// DefaultAskRetries is how many retry messages a question sends when Retries is zero;
// MaxAskRetries the most it may send.
const (
	DefaultAskRetries = 2
	MaxAskRetries     = 5
)

// Limit is how many retry messages the question sends before its fallback.
func (a Ask) Limit() int {
	if a.Retries > 0 {
		return a.Retries
	}
	return DefaultAskRetries
}

// The parts of a question's answer, sent as claims of the asking step (StepClaim.Answer): each
// has its own key in Conversation.Steps, so a duplicate answer finds it claimed.
const (
	AnswerConfirm  = "confirm"
	AnswerFallback = "fallback"
	answerRetry    = "retry"
)

// AnswerRetry is the answer part of the n-th retry message (from 1).
func AnswerRetry(n int) string { return answerRetry + strconv.Itoa(n) }

// answerSuffix marks an answer part's key in Conversation.Steps and in follow-up keys; names
// are escaped (keyPart), so no step name forges it.
const answerSuffix = "#ask:"

// AnswerKey is the key in Conversation.Steps of an answer part of the asking step (rule, step).
func AnswerKey(rule, step, answer string) string { return StepKey(rule, step) + answerSuffix + answer }

// NextKey is the key in Conversation.Steps of the step whose messages a question's confirmation
// carries (Ask.Next): claiming the confirmation marks it sent, so its own trigger does not send
// it again. "" for any other claim.
func (c StepClaim) NextKey() string {
	if c.Answer != AnswerConfirm || c.Step.Ask == nil || c.Step.Ask.Next == "" {
		return ""
	}
	return StepKey(c.Rule, c.Step.Ask.Next)
}

// LeadSettings are the account's settings for steps that ask.
type LeadSettings struct {
	// Consent is the line a question with consent: true carries, e.g. "We'll only use your
	// email to send you the book. Reply STOP to opt out."
	Consent string `json:"consent,omitempty"`
	// PhoneRegion is the ISO 3166 alpha-2 region a phone number without a country code is read
	// in ("US", "DE"); without it such a number is refused.
	PhoneRegion string `json:"phone_region,omitempty"`
	// Retention is how long a lead is kept (shared/lead.DefaultRetention when zero).
	Retention time.Duration `json:"retention,omitempty"`
}

// WithConsent is m with the consent line after its text.
func (m Message) WithConsent(consent string) Message {
	if consent != "" && m.Type() == MessageText {
		m.Text += "\n\n" + consent
	}
	return m
}

// AnswerMessages are the messages of an answer part of the asking step s in flow: the
// confirmation and the messages of its Next step, a retry's, or the fallback's.
func AnswerMessages(flow []Step, s Step, answer string) ([]Message, bool) {
	if s.Ask == nil {
		return nil, false
	}
	switch {
	case answer == AnswerConfirm:
		out := append([]Message(nil), s.Ask.Confirm...)
		if s.Ask.Next != "" {
			for _, n := range flow {
				if n.Key() == s.Ask.Next {
					return append(out, n.Messages...), true
				}
			}
			return nil, false
		}
		return out, true
	case answer == AnswerFallback:
		return []Message{s.Ask.Fallback}, true
	case strings.HasPrefix(answer, answerRetry):
		return []Message{s.Ask.Retry}, true
	}
	return nil, false
}

// validateAsks checks the account's questions: kinds, messages (with the disclosure and the
// consent line, which may both go on the question), the step after the confirmation.
func (a Account) validateAsks() error {
	l := a.Leads
	if !utf8.ValidString(l.Consent) || len(l.Consent) > 300 {
		return fmt.Errorf("leads.consent: UTF-8, at most 300 bytes")
	}
	if l.PhoneRegion != "" && (len(l.PhoneRegion) != 2 || strings.ToUpper(l.PhoneRegion) != l.PhoneRegion) {
		return fmt.Errorf("leads.phone_region: %q, want an ISO 3166 alpha-2 code in capitals (US, DE)", l.PhoneRegion)
	}
	if l.Retention < 0 || (l.Retention > 0 && l.Retention < 24*time.Hour) {
		return fmt.Errorf("leads.retention: at least 24h (or left out for the default)")
	}
	for _, f := range a.flows() {
		for j, s := range f.Steps {
			if s.Ask == nil {
				continue
			}
			here := fmt.Sprintf("%s: flow[%d] %q: ask", f.Path, j, s.Name)
			if err := s.Ask.validate(f.Steps, s, a.Disclosure, l.Consent); err != nil {
				return fmt.Errorf("%s: %w", here, err)
			}
		}
	}
	return nil
}

func (q Ask) validate(flow []Step, s Step, disclosure, consent string) error {
	switch {
	case q.Kind != AskEmail && q.Kind != AskPhone:
		return fmt.Errorf("kind: %q, want %q or %q", q.Kind, AskEmail, AskPhone)
	case q.Retries < 0 || q.Retries > MaxAskRetries:
		return fmt.Errorf("retries: 0 to %d (0: %d)", MaxAskRetries, DefaultAskRetries)
	case q.Consent && consent == "":
		return fmt.Errorf("consent: the account sets no leads.consent line")
	case s.Resend || s.Gate != nil:
		return fmt.Errorf("a step that asks is sent once and has no follow gate")
	case len(q.Confirm) == 0:
		return fmt.Errorf("confirm: at least one message")
	case s.Messages[0].Type() != MessageText:
		return fmt.Errorf("messages[0]: the question must be text (it carries the consent line)")
	}
	if q.Consent {
		// The question may be the conversation's first automated message: both lines go on it.
		if _, err := s.Messages[0].WithConsent(consent).Render(strings.Repeat("x", maxUsername), disclosure, true); err != nil {
			return fmt.Errorf("messages[0] with the consent line: %w", err)
		}
	}
	if err := validateMessages(q.Confirm, disclosure); err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	for name, m := range map[string]Message{"retry": q.Retry, "fallback": q.Fallback} {
		if err := validateMessage(m, disclosure); err != nil {
			return fmt.Errorf("%s%w", name, err)
		}
	}
	if q.Next != "" {
		if _, ok := AnswerMessages(flow, s, AnswerConfirm); !ok {
			return fmt.Errorf("next: no step %q in this flow", q.Next)
		}
		if q.Next == s.Key() {
			return fmt.Errorf("next: the step itself")
		}
	}
	return nil
}

// refusedQuickReply says why Meta no longer allows a quick reply's content type.
func refusedQuickReply(contentType string) error {
	switch contentType {
	case "", "text":
		return nil
	case "user_email", "user_phone_number":
		return fmt.Errorf("content_type: %q: Meta disabled quick replies that pre-fill a person's email or phone number on Instagram on 5 October 2026; use a step that asks instead (ask: {kind: email} or {kind: phone} on a flow step), which checks and keeps what the person types", contentType)
	}
	return fmt.Errorf("content_type: %q, want text (or leave it out)", contentType)
}
