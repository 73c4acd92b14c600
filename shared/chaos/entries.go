package chaos

import (
	"fmt"
	"strconv"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// Entry points (issue 25): some people who write in first come from an ig.me link (its ref on
// their first message, the shape peers report), others mention the account in their story, tap
// an ice breaker or an item of the persistent menu before they ever commented. Each runs its
// entry rule's answer (or, for a tap, the flow step its payload names) once, with the faults of
// every other messaging webhook.
const (
	refRule     = "shop-ref"
	mentionRule = "mention"
	shopText    = "Welcome from the shop window: https://example.com/s/"
	mentionText = "Thanks for the mention! https://example.com/m/"
)

// entryRulesOf is account i's ref rule (every ref starting "shop-") and mention rule.
func entryRulesOf(i int) ([]reply.RefRule, []reply.MentionRule) {
	n := strconv.Itoa(i)
	return []reply.RefRule{{Name: refRule, Ref: "shop-*", Messages: []reply.Message{{Text: shopText + n}}}},
		[]reply.MentionRule{{Name: mentionRule, Messages: []reply.Message{{Text: mentionText + n}}}}
}

// profileOf is every account's ice breaker and persistent menu: both run the tips rule's
// button step (its payload), for a person who has no conversation yet.
func profileOf() ([]reply.IceBreaker, []reply.MenuItem) {
	return []reply.IceBreaker{{Question: "Any tips for me?", Payload: payloadTips}},
		[]reply.MenuItem{{Type: reply.ButtonPostback, Title: "Tips", Payload: payloadTips}}
}

// entryPeople are people who come in by an entry point: a story mention, a first message
// carrying an ig.me ref (then, sometimes, a DM rule's keyword), an ice breaker's tap or a
// persistent menu item's.
func (s *sim) entryPeople() {
	for i := range max(s.cfg.Comments/100, 8) {
		a := s.accounts[s.dice.intN(len(s.accounts))].ID
		person := fmt.Sprintf("7%09d", i)
		t := s.start.Add(s.dice.duration(0, 2*time.Hour)).Truncate(time.Second)
		switch i % 4 {
		case 0:
			s.atTime(t, "story mention", func() { s.mention(a, person) })
		case 2:
			s.atTime(t, "ice breaker tap", func() { s.profileTap(a, person, true) })
		case 3:
			s.atTime(t, "persistent menu tap", func() { s.profileTap(a, person, false) })
		default:
			s.atTime(t, "ig.me ref", func() { s.refIn(a, person, "shop-"+strconv.Itoa(i)) })
			if s.dice.roll(0.3) {
				s.atTime(t.Add(s.dice.duration(time.Second, 40*time.Minute)), "dm after the ref", func() { s.writeIn(a, person, dmPrice, "price?") })
			}
		}
		if s.dice.roll(s.cfg.Rates.FunnelForgets) {
			s.atTime(t.Add(s.dice.duration(0, time.Minute)), "deletion of an entry person", func() { s.forget(person) })
		}
	}
}

func (s *sim) mention(account, person string) {
	if _, gone := s.forgotten[person]; gone {
		return
	}
	tp := &tap{account: account, person: person, rule: mentionRule, step: stepOpening, at: s.clock.Now()}
	mid, body := s.sandbox.StoryMention(account, person, "18100000000000001")
	tp.mid = mid
	s.send(tp, body)
}

// profileTap is the person tapping the account's ice breaker (or its menu item): the tips
// rule's button step, as if they had tapped its button.
func (s *sim) profileTap(account, person string, iceBreaker bool) {
	if _, gone := s.forgotten[person]; gone {
		return
	}
	tp := &tap{account: account, person: person, rule: ruleTips, step: stepLink, at: s.clock.Now()}
	var body []byte
	var ok bool
	if iceBreaker {
		tp.mid, body, ok = s.sandbox.IceBreaker(account, person, payloadTips)
	} else {
		tp.mid, body, ok = s.sandbox.MenuTap(account, person, payloadTips)
	}
	if !ok {
		panic(fmt.Sprintf("chaos: account %s has no ice breaker or menu item %s on Meta", account, payloadTips))
	}
	s.send(tp, body)
}

func (s *sim) refIn(account, person, ref string) {
	if _, gone := s.forgotten[person]; gone {
		return
	}
	tp := &tap{account: account, person: person, rule: refRule, step: stepOpening, at: s.clock.Now()}
	mid, body := s.sandbox.RefMessage(account, person, ref, "hi, from your shop window")
	tp.mid = mid
	s.send(tp, body)
}

// catalogueEntries adds the entry rules' answers to the catalogue (catalogue's add).
func catalogueEntries(a reply.Account, add func(stepMessage)) {
	for _, r := range a.RefRules {
		for _, m := range r.Messages {
			add(stepMessage{rule: r.Name, step: reply.OpeningStep, digest: m.Digest(), msg: m})
		}
	}
	for _, r := range a.MentionRules {
		for _, m := range r.Messages {
			add(stepMessage{rule: r.Name, step: reply.OpeningStep, resend: true, digest: m.Digest(), msg: m})
		}
	}
}
