package reply

import "fmt"

// Routing: which flow and step an inbound event runs, and which message a claimed follow-up sends.

// matchesText reports whether an answer's folded text (no payload) fires t's keywords.
func (t Trigger) matchesText(folded string) bool {
	mode := t.Match
	if mode == "" {
		mode = MatchWord
	}
	return Rule{Match: mode, Keywords: t.Keywords}.matches(Job{}, folded)
}

// Flow is a flow found for an inbound event: the rule's name, its steps, and the step to run.
type Flow struct {
	Rule  string
	Steps []Step
	Step  Step
	// Opening is set when a DM rule matched the person's message: its Messages answer it.
	Opening *DMRule
}

// Route finds what an inbound event runs. A payload finds its step in any flow (payloads are
// unique in an account); an answer runs a keyword or any-answer step of the conversation's flow,
// or else opens a DM rule. ok is false when nothing matches.
func (a Account) Route(c Conversation, e Event) (Flow, bool) {
	if f, ok, handled := a.routeEntry(e); handled {
		return f, ok
	}
	switch e.Kind {
	case EventPostback, EventQuickReply:
		if e.Payload == "" {
			return Flow{}, false
		}
		for _, f := range a.flows() {
			for _, s := range f.Steps {
				if s.On.Payload == e.Payload {
					return Flow{Rule: f.Rule, Steps: f.Steps, Step: s}, true
				}
			}
		}
		// A tap whose payload no step has runs nothing (not its title as an answer): the
		// flow it belonged to was edited, and guessing would send what nobody asked for.
		return Flow{}, false
	case EventMessage, EventStoryReply:
	default: // reactions and echoes are no answers
		return Flow{}, false
	}
	folded := Fold(e.Text)
	if c.Rule != "" {
		for _, f := range a.flows() {
			if f.Rule != c.Rule {
				continue
			}
			var anyStep *Step
			for i, s := range f.Steps {
				if len(s.On.Keywords) > 0 && s.On.matchesText(folded) {
					return Flow{Rule: f.Rule, Steps: f.Steps, Step: s}, true
				}
				if s.On.Any && anyStep == nil {
					anyStep = &f.Steps[i]
				}
			}
			if anyStep != nil {
				return Flow{Rule: f.Rule, Steps: f.Steps, Step: *anyStep}, true
			}
		}
	}
	for i, d := range a.DMRules {
		if e.Kind == EventStoryReply && !d.Stories {
			continue
		}
		if (Rule{Match: d.Match, Keywords: d.Keywords}).matches(Job{}, folded) {
			dm := a.DMRules[i]
			return Flow{Rule: d.Name, Steps: d.Flow, Step: Step{Name: OpeningStep, Messages: d.Messages}, Opening: &dm}, true
		}
	}
	return Flow{}, false
}

// OpeningStep names a DM rule's answer to the message that matched it.
const OpeningStep = "opening"

type namedFlow struct {
	Rule  string
	Steps []Step
	Path  string // where the flow is in the account, for errors: rules[0] "recipe"
}

func (a Account) flows() []namedFlow {
	var out []namedFlow
	for i, r := range a.Rules {
		if len(r.Flow) > 0 {
			out = append(out, namedFlow{r.Name, r.Flow, fmt.Sprintf("rules[%d] %q", i, r.Name)})
		}
	}
	for i, d := range a.DMRules {
		if len(d.Flow) > 0 {
			out = append(out, namedFlow{d.Name, d.Flow, fmt.Sprintf("dm_rules[%d] %q", i, d.Name)})
		}
	}
	return append(out, a.entryFlows()...)
}

// StepMessage is the message a follow-up job sends: the one it claimed (by its Digest), found in
// the account's configuration as it is now, wherever an edit moved it within the step; ok is
// false when the rule, the step or that message is gone (the flow was edited).
func (a Account) StepMessage(f FollowUp) (Message, bool) {
	if f.Notice {
		return Message{Text: a.Disclosure}, a.Disclosure != ""
	}
	for _, r := range a.Rules {
		if r.Name == f.Rule {
			return stepMessage(r.Flow, nil, f)
		}
	}
	for i, d := range a.DMRules {
		if d.Name == f.Rule {
			return stepMessage(d.Flow, &a.DMRules[i], f)
		}
	}
	return a.entryStepMessage(f)
}

func stepMessage(flow []Step, dm *DMRule, f FollowUp) (Message, bool) {
	if dm != nil && f.Step == OpeningStep && !f.Gate {
		return claimedMessage(dm.Messages, f)
	}
	for _, s := range flow {
		if s.Key() != f.Step {
			continue
		}
		if f.Answer != "" {
			ms, ok := AnswerMessages(flow, s, f.Answer)
			if !ok {
				return Message{}, false
			}
			return claimedMessage(ms, f)
		}
		if f.Gate {
			if s.Gate == nil {
				return Message{}, false
			}
			return claimedMessage([]Message{s.Gate.Message}, f)
		}
		return claimedMessage(s.allMessages(), f)
	}
	return Message{}, false
}

func claimedMessage(ms []Message, f FollowUp) (Message, bool) {
	if f.Digest == "" {
		// Claimed before records named their message: the one at its place, as then.
		if f.Index < len(ms) {
			return ms[f.Index], true
		}
		return Message{}, false
	}
	for _, m := range ms {
		if m.Digest() == f.Digest {
			return m, true
		}
	}
	return Message{}, false
}
