package reply

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Variant is one named version of a rule's private reply, tried against the others: a person
// gets it with probability Weight / (sum of the rule's weights). An empty Message sends the
// rule's own.
type Variant struct {
	Name    string `json:"name"`
	Weight  int    `json:"weight"`
	Message string `json:"message,omitempty"` // may use {username}
}

// StepVariant is one named version of a step's messages. A person's variant is the same in every
// step of the flow that names it (the choice is fixed by account, rule and person), so "B" in
// the private reply is "B" in the link step too when both split the same way.
type StepVariant struct {
	Name     string    `json:"name"`
	Weight   int       `json:"weight"`
	Messages []Message `json:"messages"`
}

// Spot is where a person falls in [0, 1) for a rule: a hash of (account, rule, person), so every
// retry, instance and step of the flow finds the same variant and no state is written to fix it.
// SHA-256 rather than FNV: its high bits are uniform whatever the ids look like (Meta's ids are
// digits that share long prefixes).
func Spot(account, rule, person string) float64 {
	h := sha256.Sum256([]byte(account + "\x00" + rule + "\x00" + person))
	return float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
}

// split is the names and weights of the rule's variants, in order.
func (r Rule) split() (names []string, weights []int) {
	for _, v := range r.Variants {
		names, weights = append(names, v.Name), append(weights, v.Weight)
	}
	return names, weights
}

// split is the names and weights of the step's variants, in order.
func (s Step) split() (names []string, weights []int) {
	for _, v := range s.Variants {
		names, weights = append(names, v.Name), append(weights, v.Weight)
	}
	return names, weights
}

// pick is the index of the variant whose share of the total weight holds spot.
func pick(spot float64, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := spot * float64(total)
	cum := 0
	for i, w := range weights {
		cum += w
		if x < float64(cum) {
			return i
		}
	}
	return len(weights) - 1
}

// Variant is the person's variant of the rule's private reply, and the rule as that variant sends
// it (its message in place of the rule's). Without variants it is "" and r.
func (r Rule) Variant(account, person string) (string, Rule) {
	if len(r.Variants) == 0 {
		return "", r
	}
	_, weights := r.split()
	v := r.Variants[pick(Spot(account, r.Name, person), weights)]
	if strings.TrimSpace(v.Message) != "" {
		r.Message = v.Message
	}
	return v.Name, r
}

// Variant is the person's variant of the step in the flow of rule, and its messages; without
// variants "" and the step's own messages.
func (s Step) Variant(account, rule, person string) (string, []Message) {
	if len(s.Variants) == 0 {
		return "", s.Messages
	}
	_, weights := s.split()
	v := s.Variants[pick(Spot(account, rule, person), weights)]
	return v.Name, v.Messages
}

// allMessages is every message the step may send, its variants' included: a claimed record finds
// its message among them by digest.
func (s Step) allMessages() []Message {
	ms := s.Messages
	for _, v := range s.Variants {
		ms = append(ms[:len(ms):len(ms)], v.Messages...)
	}
	return ms
}

// validateVariantNames checks what rule and step variants share: a name, unique, and a weight
// above zero (a weight of 0 would be a variant nobody gets, more likely a typo than a wish).
func validateVariantNames(names []string, weights []int) error {
	seen := map[string]bool{}
	for i, n := range names {
		switch {
		case strings.TrimSpace(n) == "" || !utf8.ValidString(n) || len(n) > 32:
			return fmt.Errorf("variants[%d]: name: required, UTF-8, at most 32 bytes", i)
		case seen[n]:
			return fmt.Errorf("variants[%d] %q: name: used twice", i, n)
		case weights[i] <= 0:
			return fmt.Errorf("variants[%d] %q: weight: %d, must be more than 0", i, n, weights[i])
		}
		seen[n] = true
	}
	return nil
}

// validateVariants checks a rule's variants: each as the private reply it sends.
func (r Rule) validateVariants(disclosure string) error {
	if len(r.Variants) == 0 {
		return nil
	}
	if strings.TrimSpace(r.Message) == "" {
		return fmt.Errorf("variants: the rule has no message (a variant without its own message sends the rule's)")
	}
	if err := validateVariantNames(r.split()); err != nil {
		return err
	}
	for i, v := range r.Variants {
		if v.Message == "" {
			continue
		}
		alt := r
		alt.Message, alt.Variants = v.Message, nil
		if err := alt.validate(disclosure); err != nil {
			return fmt.Errorf("variants[%d] %q: %w", i, v.Name, err)
		}
	}
	return nil
}

// validateVariants checks a step's variants: each a list of messages like the step's own.
func (s Step) validateVariants(disclosure string) error {
	if len(s.Variants) == 0 {
		return nil
	}
	if err := validateVariantNames(s.split()); err != nil {
		return err
	}
	for i, v := range s.Variants {
		if len(v.Messages) == 0 {
			return fmt.Errorf("variants[%d] %q: messages: at least one", i, v.Name)
		}
		if err := validateMessages(v.Messages, disclosure); err != nil {
			return fmt.Errorf("variants[%d] %q: %w", i, v.Name, err)
		}
	}
	return nil
}

// PersonVariant is the variant a follow-up of the step in rule's flow is counted under: the
// step's own when it has variants, else the person's variant of the comment rule (a flow's
// clicks and follow-ups belong to the private reply that started it), else "".
func (a Account) PersonVariant(rule, person string, step Step) string {
	if len(step.Variants) > 0 {
		name, _ := step.Variant(a.ID, rule, person)
		return name
	}
	for _, r := range a.Rules {
		if r.Name == rule {
			name, _ := r.Variant(a.ID, person)
			return name
		}
	}
	return ""
}
