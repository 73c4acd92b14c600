package chaos

import (
	"fmt"
	"strconv"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// Entry points (issue 25): some people who write in first come from an ig.me link (its ref on
// their first message, the shape peers report), others mention the account in their story. Each
// runs its entry rule's answer once, with the faults of every other messaging webhook.
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

// entryPeople are people who come in by an entry point: a story mention, or a first message
// carrying an ig.me ref (then, sometimes, a DM rule's keyword).
func (s *sim) entryPeople() {
	for i := range max(s.cfg.Comments/100, 4) {
		a := s.accounts[s.dice.intN(len(s.accounts))].ID
		person := fmt.Sprintf("7%09d", i)
		t := s.start.Add(s.dice.duration(0, 2*time.Hour)).Truncate(time.Second)
		if i%2 == 0 {
			s.atTime(t, "story mention", func() { s.mention(a, person) })
		} else {
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
