package reply

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// The checks of an account's flows, steps and DM rules at `accounts put` (Account.Validate).

// validateFlow checks a flow's steps; errors name the step and the message.
func validateFlow(flow []Step, disclosure string) error {
	seen := map[string]bool{}
	for i, s := range flow {
		if err := s.validate(disclosure); err != nil {
			return fmt.Errorf("flow[%d] %q: %w", i, s.Name, err)
		}
		if seen[s.Key()] {
			return fmt.Errorf("flow[%d] %q: id or name %q: used twice (a conversation knows a step by it)", i, s.Name, s.Key())
		}
		seen[s.Key()] = true
	}
	return nil
}

func (s Step) validate(disclosure string) error {
	if strings.TrimSpace(s.Name) == "" || !utf8.ValidString(s.Name) || len(s.Name) > 64 {
		return fmt.Errorf("name: required, UTF-8, at most 64 bytes")
	}
	if err := s.On.validate(); err != nil {
		return fmt.Errorf("on: %w", err)
	}
	if len(s.Messages) == 0 {
		return fmt.Errorf("messages: at least one")
	}
	if err := validateMessages(s.Messages, disclosure); err != nil {
		return err
	}
	if err := s.validateVariants(disclosure); err != nil {
		return err
	}
	if s.Key() == OpeningStep {
		return fmt.Errorf("name: %q is reserved for a DM rule's answer", OpeningStep)
	}
	if s.ID != "" && (strings.TrimSpace(s.ID) == "" || !utf8.ValidString(s.ID) || len(s.ID) > 64) {
		return fmt.Errorf("id: UTF-8, at most 64 bytes, not blank")
	}
	if s.Gate != nil {
		// The gate's message may be the conversation's first automated one, which discloses.
		if err := validateMessage(s.Gate.Message, disclosure); err != nil {
			return fmt.Errorf("follow_gate.message%w", err)
		}
		if s.Gate.Unavailable != GateSend && s.Gate.Unavailable != GateAsk {
			return fmt.Errorf("follow_gate.unavailable: %q, want %q or %q", s.Gate.Unavailable, GateSend, GateAsk)
		}
	}
	if s.Cooldown < 0 || (!s.Resend && s.Cooldown != 0) {
		return fmt.Errorf("cooldown: only with resend, and not negative")
	}
	if s.Resend && s.Cooldown < MinResendCooldown {
		return fmt.Errorf("cooldown: required with resend, at least %s (got %s)", MinResendCooldown, s.Cooldown)
	}
	return nil
}

func validateMessages(ms []Message, disclosure string) error {
	for j, m := range ms {
		if err := validateMessage(m, disclosure); err != nil {
			return fmt.Errorf("messages[%d]%w", j, err)
		}
	}
	return nil
}

// validateMessage checks one message of a flow; its error starts with ": " or " with the
// disclosure line: " so that the caller can put the message's path before it.
func validateMessage(m Message, disclosure string) error {
	if err := m.Validate(false); err != nil {
		return fmt.Errorf(": %w", err)
	}
	// Any message may be the first automated one of a conversation and carry the disclosure
	// line: it must still fit.
	if _, err := m.Render(strings.Repeat("x", maxUsername), disclosure, true); err != nil {
		return fmt.Errorf(" with the disclosure line: %w", err)
	}
	return nil
}

func (t Trigger) validate() error {
	set := 0
	if t.Payload != "" {
		set++
		if err := checkPayload(t.Payload); err != nil {
			return err
		}
	}
	if len(t.Keywords) > 0 {
		set++
		switch t.Match {
		case "", MatchWord, MatchContains, MatchExact:
		default:
			return fmt.Errorf("match: %q, want word, contains or exact", t.Match)
		}
		for i, k := range t.Keywords {
			if Fold(k) == "" {
				return fmt.Errorf("keywords[%d]: empty, it would match nothing", i)
			}
		}
	} else if t.Match != "" {
		return fmt.Errorf("match: only with keywords")
	}
	if t.Any {
		set++
	}
	if set != 1 {
		return fmt.Errorf("set exactly one of payload, keywords and any")
	}
	return nil
}

// validateConversations checks the account's flows as a whole: DM rules, and payloads unique
// across every flow (a tap must find one step).
func (a Account) validateConversations() error {
	if a.HumanPause < 0 || a.DisclosureLapse < 0 {
		return fmt.Errorf("human_pause and disclosure_lapse: not negative")
	}
	for i, d := range a.DMRules {
		if err := d.validate(a.Disclosure); err != nil {
			return fmt.Errorf("dm_rules[%d] %q: %w", i, d.Name, err)
		}
	}
	// A conversation finds its flow by the rule's name, so a rule with a flow needs a name no
	// other rule or DM rule has.
	names := map[string]string{}
	for i, r := range a.Rules {
		if r.Name != "" {
			if _, dup := names[r.Name]; !dup {
				names[r.Name] = fmt.Sprintf("rules[%d]", i)
			}
		}
	}
	for i, r := range a.Rules {
		switch other := names[r.Name]; {
		case len(r.Flow) == 0:
		case strings.TrimSpace(r.Name) == "":
			return fmt.Errorf("rules[%d] %q: name: required with a flow (a conversation finds its flow by it)", i, r.Name)
		case other != fmt.Sprintf("rules[%d]", i):
			return fmt.Errorf("rules[%d] %q: name: %s has it already; a conversation finds its flow by it", i, r.Name, other)
		}
	}
	for i, d := range a.DMRules {
		if other, dup := names[d.Name]; dup {
			return fmt.Errorf("dm_rules[%d] %q: name: %s has it already", i, d.Name, other)
		}
		names[d.Name] = fmt.Sprintf("dm_rules[%d]", i)
	}
	if err := a.validateEntries(names); err != nil {
		return err
	}
	payloads := map[string]string{}
	for _, f := range a.flows() {
		for j, s := range f.Steps {
			p := s.On.Payload
			if p == "" {
				continue
			}
			here := fmt.Sprintf("%s: flow[%d] %q", f.Path, j, s.Name)
			if other, dup := payloads[p]; dup {
				return fmt.Errorf("%s: on.payload: %q is also the trigger of %s: a tap must find one step", here, p, other)
			}
			payloads[p] = here
		}
	}
	return nil
}

func (d DMRule) validate(disclosure string) error {
	if strings.TrimSpace(d.Name) == "" {
		return fmt.Errorf("name: required")
	}
	switch d.Match {
	case MatchWord, MatchContains, MatchExact:
		if len(d.Keywords) == 0 {
			return fmt.Errorf("keywords: required with match %q", d.Match)
		}
		for i, k := range d.Keywords {
			if Fold(k) == "" {
				return fmt.Errorf("keywords[%d]: empty, it would match nothing", i)
			}
		}
	case MatchAny:
	default:
		return fmt.Errorf("match: %q, want word, contains, exact or any", d.Match)
	}
	if len(d.Messages) == 0 {
		return fmt.Errorf("messages: at least one")
	}
	if err := validateMessages(d.Messages, disclosure); err != nil {
		return err
	}
	return validateFlow(d.Flow, disclosure)
}
