package reply

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Entry points: the ways a person opens a conversation other than a comment (design.md §2
// "messaging entry points"). Each arrives as a messaging event and opens the 24-hour window by
// Meta's timestamp; what it runs is a flow like a DM rule's, its steps keyed StepKey(rule, step).
const (
	// EventStoryMention is a person's story that mentions the account: a message whose
	// attachment is story_mention. Meta lets the story be referenced, never stored: the event
	// holds no URL.
	EventStoryMention EventKind = "story_mention"
	// EventReferral is a person opening the conversation from an ig.me link with ?ref= while it
	// exists already (messaging_referral, no message). A ref on a message or on an ice breaker's
	// postback rides on that event's Ref instead.
	EventReferral EventKind = "referral"
)

// Meta's limits on entry points (Instagram messaging docs: ice breakers, persistent menu, ig.me
// links). Meta's pages give no length for an ice breaker's question; MaxIceBreakerQuestion is
// ours, the persistent menu's title length Messenger's.
const (
	MaxIceBreakers        = 4
	MaxIceBreakerQuestion = 80
	MaxMenuItems          = 20
	MaxMenuTitle          = 30
	MaxRefLen             = 2083 // an ig.me ref: alphanumerics, '-', '_' and '='
	// DefaultMentionEvery is how often one person's story mentions are answered: once a day.
	DefaultMentionEvery = 24 * time.Hour
)

// MentionRule answers a person who mentions the account in their story. A mention carries no
// text, so there is nothing to match: the first mention rule answers, at most once per person
// per Every (DefaultMentionEvery when zero), duplicates and retries included.
type MentionRule struct {
	Name     string        `json:"name"`
	Messages []Message     `json:"messages"`
	Flow     []Step        `json:"flow,omitempty"`
	Every    time.Duration `json:"every,omitempty"`
}

// RefRule starts a flow for a person who opened the conversation from ig.me/m/<username>?ref=Ref.
// Ref is exact, or ends in '*' to take every ref that starts with what comes before it ("*"
// alone takes any ref). Its answer goes out once per conversation.
type RefRule struct {
	Name     string    `json:"name"`
	Ref      string    `json:"ref"`
	Messages []Message `json:"messages"`
	Flow     []Step    `json:"flow,omitempty"`
}

// IceBreaker is one of the questions a person sees before writing; tapping it sends Payload as
// a postback, which runs the flow step whose on.payload it is.
type IceBreaker struct {
	Question string `json:"question"`
	Payload  string `json:"payload"`
}

// MenuItem is one item of the persistent menu: a postback (Payload runs a step) or a link.
type MenuItem struct {
	Type    ButtonType `json:"type"`
	Title   string     `json:"title"`
	Payload string     `json:"payload,omitempty"`
	URL     string     `json:"url,omitempty"`
}

// MessengerProfile is what the messenger profile API holds for an account: what `accounts put` sets and
// `accounts show` compares with Meta's.
type MessengerProfile struct {
	IceBreakers []IceBreaker `json:"ice_breakers,omitempty"`
	Menu        []MenuItem   `json:"persistent_menu,omitempty"`
}

// Empty reports whether the profile sets nothing.
func (p MessengerProfile) Empty() bool { return len(p.IceBreakers) == 0 && len(p.Menu) == 0 }

// Entry kinds, as counted.
const (
	EntryStoryMention = "story_mention"
	EntryRef          = "ref"
	EntryIceBreaker   = "ice_breaker"
	EntryMenu         = "menu"
)

// EntryOf is the entry point an event came by, "" for none: a story mention, a ref a rule takes
// (or a referral event, whatever its ref), or a tap on one of the account's ice breakers or menu
// items (a payload both carry counts as an ice breaker, which a person sees first). A message or
// tap whose ref no rule takes is what it would be without the ref.
func (a Account) EntryOf(e Event) string {
	if e.Kind == EventStoryMention {
		return EntryStoryMention
	}
	if e.Ref != "" {
		if _, mapped := a.RefRule(e.Ref); mapped || e.Kind == EventReferral {
			return EntryRef
		}
	}
	if e.Kind != EventPostback || e.Payload == "" {
		return ""
	}
	for _, b := range a.IceBreakers {
		if b.Payload == e.Payload {
			return EntryIceBreaker
		}
	}
	for _, m := range a.PersistentMenu {
		if m.Type == ButtonPostback && m.Payload == e.Payload {
			return EntryMenu
		}
	}
	return ""
}

// MessengerProfile is the messenger profile the account file declares.
func (a Account) MessengerProfile() MessengerProfile {
	return MessengerProfile{IceBreakers: a.IceBreakers, Menu: a.PersistentMenu}
}

// RefRule is the first ref rule that takes ref.
func (a Account) RefRule(ref string) (RefRule, bool) {
	for _, r := range a.RefRules {
		if r.takes(ref) {
			return r, true
		}
	}
	return RefRule{}, false
}

func (r RefRule) takes(ref string) bool {
	if ref == "" {
		return false
	}
	if prefix, wild := strings.CutSuffix(r.Ref, "*"); wild {
		return strings.HasPrefix(ref, prefix)
	}
	return ref == r.Ref
}

// routeEntry routes an entry point's event: a story mention to the mention rule, a ref to the
// ref rule that takes it. handled is false when the event is no entry point's, or carries a ref
// no rule takes on a message or a tap: that is then routed as any message or tap.
func (a Account) routeEntry(e Event) (f Flow, ok, handled bool) {
	switch {
	case e.Kind == EventStoryMention:
		if len(a.MentionRules) == 0 {
			return Flow{}, false, true
		}
		m := a.MentionRules[0]
		every := m.Every
		if every <= 0 {
			every = DefaultMentionEvery
		}
		// A resending step is keyed per trigger (the mention's message id): a redelivered
		// mention meets its own records, a new one within Every finds the step not due.
		step := Step{Name: OpeningStep, Messages: m.Messages, Resend: true, Cooldown: every}
		return Flow{Rule: m.Name, Steps: m.Flow, Step: step}, true, true
	case e.Ref != "":
		if r, ok := a.RefRule(e.Ref); ok {
			return Flow{Rule: r.Name, Steps: r.Flow, Step: Step{Name: OpeningStep, Messages: r.Messages}}, true, true
		}
		return Flow{}, false, e.Kind == EventReferral
	}
	return Flow{}, false, false
}

// entryFlows are the entry rules' flows, for routing taps and answers.
func (a Account) entryFlows() []namedFlow {
	var out []namedFlow
	for i, m := range a.MentionRules {
		if len(m.Flow) > 0 {
			out = append(out, namedFlow{m.Name, m.Flow, fmt.Sprintf("mention_rules[%d] %q", i, m.Name)})
		}
	}
	for i, r := range a.RefRules {
		if len(r.Flow) > 0 {
			out = append(out, namedFlow{r.Name, r.Flow, fmt.Sprintf("ref_rules[%d] %q", i, r.Name)})
		}
	}
	return out
}

// entryStepMessage is StepMessage for an entry rule's follow-up.
func (a Account) entryStepMessage(f FollowUp) (Message, bool) {
	for _, m := range a.MentionRules {
		if m.Name == f.Rule {
			return stepMessage(m.Flow, &DMRule{Messages: m.Messages}, f)
		}
	}
	for _, r := range a.RefRules {
		if r.Name == f.Rule {
			return stepMessage(r.Flow, &DMRule{Messages: r.Messages}, f)
		}
	}
	return Message{}, false
}

// validateEntries checks the entry rules (their names against names, every rule's so far) and
// the profile against Meta's limits; each ice breaker's and menu item's payload must run a step
// of one of the account's flows (payloads), or a tap would run nothing.
func (a Account) validateEntries(names map[string]string) error {
	if len(a.MentionRules) > 1 {
		return fmt.Errorf("mention_rules: %d, at most 1: a mention carries no text to choose between them", len(a.MentionRules))
	}
	for i, m := range a.MentionRules {
		here := fmt.Sprintf("mention_rules[%d] %q", i, m.Name)
		if err := a.validateEntryRule(m.Name, m.Messages, m.Flow, names, here); err != nil {
			return err
		}
		if m.Every != 0 && m.Every < MinResendCooldown {
			return fmt.Errorf("%s: every: %s, at least %s (0 is once a day)", here, m.Every, MinResendCooldown)
		}
	}
	for i, r := range a.RefRules {
		here := fmt.Sprintf("ref_rules[%d] %q", i, r.Name)
		if err := checkRef(r.Ref); err != nil {
			return fmt.Errorf("%s: ref: %w", here, err)
		}
		if err := a.validateEntryRule(r.Name, r.Messages, r.Flow, names, here); err != nil {
			return err
		}
	}
	return a.MessengerProfile().Validate(a.payloads())
}

func (a Account) validateEntryRule(name string, msgs []Message, flow []Step, names map[string]string, here string) error {
	if strings.TrimSpace(name) == "" {
		return fmt.Errorf("%s: name: required (a conversation finds its flow by it)", here)
	}
	if other, dup := names[name]; dup {
		return fmt.Errorf("%s: name: %s has it already", here, other)
	}
	names[name] = here
	if len(msgs) == 0 {
		return fmt.Errorf("%s: messages: at least one", here)
	}
	if err := validateMessages(msgs, a.Disclosure); err != nil {
		return fmt.Errorf("%s: %w", here, err)
	}
	if err := validateFlow(flow, a.Disclosure); err != nil {
		return fmt.Errorf("%s: %w", here, err)
	}
	return nil
}

// checkRef accepts what an ig.me ref may hold (Meta: alphanumerics, '-', '_', '=', up to 2,083
// characters), with an optional '*' at the end.
func checkRef(ref string) error {
	body, _ := strings.CutSuffix(ref, "*")
	switch {
	case ref == "":
		return fmt.Errorf("required: an empty ref would match no link (use \"*\" for any ref)")
	case len(body) > MaxRefLen:
		return fmt.Errorf("%d characters, Meta allows %d", len(body), MaxRefLen)
	}
	for _, c := range body {
		if !ValidRefChar(c) {
			return fmt.Errorf("%q: Meta passes only letters, digits, '-', '_' and '=' (and '*' at the end is ours)", ref)
		}
	}
	return nil
}

// ValidRefChar reports whether c may appear in an ig.me ref.
func ValidRefChar(c rune) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '='
}

// ValidRef reports whether ref is one Meta may send.
func ValidRef(ref string) bool {
	if ref == "" || len(ref) > MaxRefLen {
		return false
	}
	for _, c := range ref {
		if !ValidRefChar(c) {
			return false
		}
	}
	return true
}

// payloads is every step payload of the account's flows.
func (a Account) payloads() map[string]bool {
	out := map[string]bool{}
	for _, f := range a.flows() {
		for _, s := range f.Steps {
			if s.On.Payload != "" {
				out[s.On.Payload] = true
			}
		}
	}
	return out
}

// Validate checks the profile against Meta's limits (count, title or question length, payload
// length); with steps, each postback's payload must be one of them.
func (p MessengerProfile) Validate(steps map[string]bool) error {
	if len(p.IceBreakers) > MaxIceBreakers {
		return fmt.Errorf("ice_breakers: %d, Meta allows %d", len(p.IceBreakers), MaxIceBreakers)
	}
	seen := map[string]bool{}
	for i, b := range p.IceBreakers {
		if err := checkTitle(b.Question, MaxIceBreakerQuestion); err != nil {
			return fmt.Errorf("ice_breakers[%d].question: %w", i, err)
		}
		if err := checkStepPayload(b.Payload, steps); err != nil {
			return fmt.Errorf("ice_breakers[%d]: %w", i, err)
		}
		if seen[b.Payload] {
			return fmt.Errorf("ice_breakers[%d]: payload %q: another ice breaker has it", i, b.Payload)
		}
		seen[b.Payload] = true
	}
	if len(p.Menu) > MaxMenuItems {
		return fmt.Errorf("persistent_menu: %d items, Meta allows %d", len(p.Menu), MaxMenuItems)
	}
	for i, m := range p.Menu {
		if err := checkTitle(m.Title, MaxMenuTitle); err != nil {
			return fmt.Errorf("persistent_menu[%d].title: %w", i, err)
		}
		switch m.Type {
		case ButtonPostback:
			if m.URL != "" {
				return fmt.Errorf("persistent_menu[%d]: url: only on a web_url item", i)
			}
			if err := checkStepPayload(m.Payload, steps); err != nil {
				return fmt.Errorf("persistent_menu[%d]: %w", i, err)
			}
		case ButtonURL:
			if m.Payload != "" {
				return fmt.Errorf("persistent_menu[%d]: payload: only on a postback item", i)
			}
			if err := checkURL(m.URL); err != nil {
				return fmt.Errorf("persistent_menu[%d].url: %w", i, err)
			}
		default:
			return fmt.Errorf("persistent_menu[%d].type: %q, want postback or web_url", i, m.Type)
		}
	}
	return nil
}

func checkTitle(s string, max int) error {
	switch n := utf8.RuneCountInString(s); {
	case strings.TrimSpace(s) == "" || !utf8.ValidString(s):
		return fmt.Errorf("required, UTF-8")
	case n > max:
		return fmt.Errorf("%d characters, Meta allows %d", n, max)
	}
	return nil
}

func checkStepPayload(p string, steps map[string]bool) error {
	if err := checkPayload(p); err != nil {
		return err
	}
	if steps != nil && !steps[p] {
		return fmt.Errorf("payload %q: no flow step runs on it (on.payload), so a tap would run nothing", p)
	}
	return nil
}

// entryFields adds the webhook fields the entry points need: a story mention comes on messages;
// a ref on messaging_referral (a conversation that exists), on the first message, or on an ice
// breaker's postback (a new one); an ice breaker or menu tap on messaging_postbacks only.
func entryFields(a Account, need map[string]bool) {
	if len(a.MentionRules) > 0 || len(a.RefRules) > 0 {
		need[FieldMessages] = true
	}
	if len(a.RefRules) > 0 {
		need[FieldReferrals], need[FieldPostbacks] = true, true
	}
	if len(a.IceBreakers) > 0 || len(a.PersistentMenu) > 0 {
		need[FieldPostbacks] = true
	}
	for _, f := range a.entryFlows() {
		if flowTaps(f.Steps) {
			need[FieldPostbacks] = true
		}
	}
	for _, m := range a.MentionRules {
		if messagesTap(m.Messages) {
			need[FieldPostbacks] = true
		}
	}
	for _, r := range a.RefRules {
		if messagesTap(r.Messages) {
			need[FieldPostbacks] = true
		}
	}
}
