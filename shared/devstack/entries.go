package devstack

import (
	"fmt"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// The people of the demo's entry points (issue 25): none of them commented.
const (
	demoMentioner = "900000023"
	demoRefNew    = "900000024"
	demoIceNew    = "900000025"
)

// entryTurns are the demo's entry points, after the comment funnel: a story mention answered by
// the mention rule (a second one the same day gets nothing); an ig.me link opened in a
// conversation that exists (messaging_referral) and a new person's first message carrying its
// ref, each starting the ref rule's flow; a ref no rule takes (nothing); an ice breaker tap
// running the step its payload names, for a new person. What each gets is the account's own.
func entryTurns(a reply.Account) ([]Turn, error) {
	if len(a.MentionRules) == 0 || len(a.RefRules) == 0 || len(a.IceBreakers) == 0 {
		return nil, nil // an account without them: the demo shows what it has
	}
	mention := readAll(a.MentionRules[0].Messages, "")
	ref := a.RefRules[0]
	refRef := refFor(ref.Ref)
	welcome := readAll(ref.Messages, "")
	ice := a.IceBreakers[len(a.IceBreakers)-1]
	iceFlow, iceStep, ok := stepOf(a, ice.Payload)
	if !ok {
		return nil, fmt.Errorf("the demo taps ice breaker %q: no step runs on %q", ice.Question, ice.Payload)
	}
	iceWant, err := stepMessages(a, iceFlow, iceStep, false)
	if err != nil {
		return nil, err
	}
	disclosure := DisclosedWith
	if len(iceWant) > 0 && !iceWant[0].CarriesText() {
		disclosure = DisclosedAlone
	}
	storyMention := func(sb *sandbox.Sandbox, account, person string) []byte {
		_, b := sb.StoryMention(account, person, "18100000000000001")
		return b
	}
	return []Turn{
		{Name: "a story mention: the mention rule", Person: demoMentioner, Entry: storyMention, Want: mention, Disclosure: DisclosedWith},
		{Name: "a second mention the same day: nothing", Person: demoMentioner, Entry: storyMention},
		{Name: "ig.me link in a conversation: its ref's rule", Person: demoDMer, Want: welcome,
			Entry: func(sb *sandbox.Sandbox, account, person string) []byte { return sb.OpenLink(account, person, refRef) }},
		{Name: "a new person's first message from the link", Person: demoRefNew, Want: welcome, Disclosure: DisclosedWith,
			Entry: func(sb *sandbox.Sandbox, account, person string) []byte {
				_, b := sb.RefMessage(account, person, refRef, "hi!")
				return b
			}},
		{Name: "a link whose ref no rule takes: nothing", Person: demoDMer,
			Entry: func(sb *sandbox.Sandbox, account, person string) []byte {
				return sb.OpenLink(account, person, "no-rule-takes-this")
			}},
		{Name: "an ice breaker tap: its step", Person: demoIceNew, Want: readAll(iceWant, ""), Disclosure: disclosure,
			Entry: func(sb *sandbox.Sandbox, account, person string) []byte {
				// `accounts put` sets them on Meta; the demo stores the account directly.
				sb.SetMessengerProfile(account, a.MessengerProfile())
				_, b, _ := sb.IceBreaker(account, person, ice.Payload)
				return b
			}},
	}, nil
}

// refFor is a ref the rule's ref takes: itself, or its prefix and "window".
func refFor(rule string) string {
	if prefix, wild := cutStar(rule); wild {
		return prefix + "window"
	}
	return rule
}

func cutStar(s string) (string, bool) {
	if len(s) > 0 && s[len(s)-1] == '*' {
		return s[:len(s)-1], true
	}
	return s, false
}

// stepOf is the comment rule and step whose trigger is payload.
func stepOf(a reply.Account, payload string) (rule, step string, ok bool) {
	for _, r := range a.Rules {
		for _, s := range r.Flow {
			if s.On.Payload == payload {
				return r.Name, s.Name, true
			}
		}
	}
	return "", "", false
}
