package chaos

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/webhook"
)

// After a private reply the person may carry on: tap its button (several times, before or after
// following the account), answer with a keyword, or meet a human on the account answering from
// the Instagram app. What they do reaches the product only as Meta's messaging webhook, with the
// delivery faults of comments, and now and then after the window the event opened has closed.

// The funnel every simulated account runs (its comment rule's private reply carries the button).
const (
	payloadLink   = "RECIPE_LINK"
	stepLink      = "link"   // the button's step: follow-gated, a link and a heart
	stepThanks    = "thanks" // a keyword answer, ungated
	stepAgain     = "again"  // a keyword answer that resends, at most once per cooldown
	againCooldown = 30 * time.Minute
	gateText      = "Follow us, then tap the button again"
	thanksText    = "Enjoy your lasagna!"
	againText     = "Here it is again: https://example.com/f/"
	linkText      = "Here it is, {username}: https://example.com/f/"
)

// funnelOf is account i's funnel. Even accounts ask again when Meta cannot say whether the
// person follows, odd ones send anyway: both fallbacks meet the profile API's outages.
func funnelOf(i int) ([]reply.Button, []reply.Step) {
	fallback := reply.GateAsk
	if i%2 == 1 {
		fallback = reply.GateSend
	}
	n := strconv.Itoa(i)
	return []reply.Button{{Type: reply.ButtonPostback, Title: "Send me the link", Payload: payloadLink}},
		[]reply.Step{
			{Name: stepLink, On: reply.Trigger{Payload: payloadLink},
				Gate:     &reply.Gate{Message: reply.Message{Text: gateText}, Unavailable: fallback},
				Messages: []reply.Message{{Text: linkText + n}, {Kind: reply.MessageHeart}}},
			{Name: stepThanks, On: reply.Trigger{Keywords: []string{"thanks", "thank you"}}, Messages: []reply.Message{{Text: thanksText}}},
			{Name: stepAgain, On: reply.Trigger{Keywords: []string{"again"}}, Resend: true, Cooldown: againCooldown,
				Messages: []reply.Message{{Text: againText + n}}},
		}
}

// tap is one thing a person did in the conversation, as Check holds the product to it.
type tap struct {
	account, person, mid string
	step                 string    // the step it triggers; "" for a human's answer
	at                   time.Time // Meta's time of it
	following            bool      // whether the person followed the account then
	accepted             bool
	acceptedAt           time.Time // when the webhook first answered 200 for it
	late                 bool      // Meta held the delivery past the window the event opened
	// unsent: Meta sent no webhook for it, because the app's subscription of the account lacked
	// its field then (Meta had unsubscribed the app): nothing is owed for it.
	unsent bool
}

// atTime puts an event on the timeline in order, after any already there for the same time.
func (s *sim) atTime(at time.Time, name string, do func()) {
	i := sort.Search(len(s.timeline), func(i int) bool { return s.timeline[i].at.After(at) })
	s.timeline = append(s.timeline, event{})
	copy(s.timeline[i+1:], s.timeline[i:])
	s.timeline[i] = event{at: at, name: name, do: do}
}

// delivered is called after each private-reply call: the first DM a comment got makes its
// person a candidate for the rest of the funnel.
func (s *sim) delivered(commentID string) {
	c := s.byID[commentID]
	if c == nil || c.own || c.kind == reply.KindLive || s.planned[c.id] || s.sandbox.Delivered(c.id) == 0 {
		return
	}
	s.planned[c.id] = true
	if !s.dice.roll(s.cfg.Rates.Taps) {
		return
	}
	key := c.account + "#" + c.person
	now := s.clock.Now()
	t := now.Add(s.dice.duration(5*time.Second, 20*time.Minute)).Truncate(time.Second)
	if !s.follows[key] && s.dice.roll(0.3) {
		s.atTime(t.Add(-time.Second), "follow", func() { s.follow(c) })
	}
	s.atTime(t, "tap", func() { s.act(c, stepLink) })
	if s.dice.roll(0.25) {
		// Impatient taps, seconds apart: their deliveries overtake each other.
		for range 1 + s.dice.intN(3) {
			s.atTime(t.Add(s.dice.duration(time.Second, 2*time.Minute)), "tap again", func() { s.act(c, stepLink) })
		}
	}
	if s.dice.roll(0.5) {
		// Follows as the gate asked, and taps again.
		f := t.Add(s.dice.duration(time.Minute, 2*time.Hour))
		s.atTime(f, "follow", func() { s.follow(c) })
		s.atTime(f.Add(s.dice.duration(5*time.Second, 5*time.Minute)), "tap after following", func() { s.act(c, stepLink) })
	}
	if s.dice.roll(0.3) {
		s.atTime(t.Add(s.dice.duration(time.Minute, 6*time.Hour)), "thanks", func() { s.act(c, stepThanks) })
	}
	if s.dice.roll(0.1) {
		for range 2 + s.dice.intN(2) {
			s.atTime(t.Add(s.dice.duration(time.Minute, 3*time.Hour)), "again", func() { s.act(c, stepAgain) })
		}
	}
	if s.dice.roll(s.cfg.Rates.HumanReplies) {
		s.atTime(t.Add(s.dice.duration(0, 3*time.Hour)), "human reply", func() { s.act(c, "") })
	}
}

func (s *sim) follow(c *comment) {
	s.follows[c.account+"#"+c.person] = true
	s.sandbox.SetFollows(c.account, c.person, true)
}

// act is the person (or, for step "", a human on the account) doing something in Instagram.
func (s *sim) act(c *comment, step string) {
	if _, gone := s.forgotten[c.person]; gone {
		return // asked for their data to be deleted: no longer in the funnel
	}
	tp := &tap{account: c.account, person: c.person, step: step, at: s.clock.Now(), following: s.follows[c.account+"#"+c.person]}
	var body []byte
	switch step {
	case stepLink:
		tp.mid, body = s.sandbox.Postback(c.account, c.person, payloadLink, "Send me the link")
	case stepThanks, stepAgain:
		if conv, err := s.store.Conversation(context.Background(), c.account, c.person); err != nil || conv.Rule == "" {
			// The private reply's record may be SENT while joining the flow failed (a crash
			// after the send, a lost write): then a keyword is no answer to a flow, and the
			// product rightly sends nothing. The person says it anyway.
			tp.step = ""
		}
		text := "thanks!!"
		if step == stepAgain {
			text = "again please"
		}
		tp.mid, body = s.sandbox.Message(c.account, c.person, text)
	default:
		tp.mid, body = s.sandbox.HumanReply(c.account, c.person, "Hi, Ana here!")
		s.res.HumanReplies++
	}
	s.taps = append(s.taps, tp)
	if body == nil {
		tp.unsent = true
		return
	}
	at := tp.at.Add(s.dice.duration(0, 20*time.Second))
	if step != "" && s.dice.roll(s.cfg.Rates.LateTaps) {
		// Meta holds the delivery until the window the tap opened has closed.
		tp.late = true
		at = tp.at.Add(reply.ConversationWindow + s.dice.duration(time.Minute, 2*time.Hour))
		s.fault(FaultLateTap, "")
	}
	s.inbox = append(s.inbox, delivery{at: at.Truncate(time.Second), body: body, tap: tp})
	s.sortInbox()
}

// echoes hands Meta's echoes of what the product sent to the webhook, a sample of them: ours
// must pause nothing, and each costs a webhook call and a replier job.
func (s *sim) echoes() {
	for _, b := range s.sandbox.TakeEchoes() {
		if s.dice.roll(0.1) {
			s.inbox = append(s.inbox, delivery{at: s.clock.Now().Add(s.dice.duration(0, 20*time.Second)).Truncate(time.Second), body: b})
		}
	}
	s.sortInbox()
}

// deliverMessaging posts one messaging webhook, signed, retried while not answered 200 and
// sometimes sent twice, as deliver does for comments.
func (s *sim) deliverMessaging(ctx context.Context, d delivery) {
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: webhook.Path,
		Headers: map[string]string{"content-type": "application/json", "x-hub-signature-256": webhook.Sign(d.body, appSecret)},
		Body:    string(d.body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			Stage: "$default", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: webhook.Path},
		},
	}
	resp, err := s.webhook.Handle(ctx, req)
	now := s.clock.Now()
	if err != nil || resp.StatusCode != http.StatusOK {
		d.at, d.attempt = now.Add(webhookWait), d.attempt+1
		s.inbox = append(s.inbox, d)
		s.sortInbox()
		return
	}
	if d.tap != nil && !d.tap.accepted {
		d.tap.accepted, d.tap.acceptedAt = true, now
	}
	if d.attempt == 0 && s.dice.roll(s.cfg.Rates.WebhookDuplicate) {
		s.fault(FaultWebhookDuplicate, "")
		d.at, d.attempt = now.Add(s.dice.duration(0, 10*time.Minute)).Truncate(time.Second), 1
		s.inbox = append(s.inbox, d)
		s.sortInbox()
	}
}

func (t *tap) String() string {
	return fmt.Sprintf("%s by %s on %s at %s (mid %s)", t.step, t.person, t.account, t.at.Format(time.RFC3339), t.mid)
}

// sendFault is Meta's trouble on the Send API and the user profile API, per call.
func (s *sim) sendFault(c sandbox.Call) sandbox.Fault {
	r := s.cfg.Rates
	if c.Op == sandbox.OpProfile {
		if s.dice.roll(r.ProfileUnavailable) {
			s.fault(FaultProfileUnavailable, "")
			return sandbox.ServerError(503)
		}
		return sandbox.Fault{}
	}
	switch {
	case s.dice.roll(r.Graph5xx):
		s.fault(FaultSend5xx, "")
		return sandbox.ServerError(500)
	case s.dice.roll(r.TimeoutDelivered):
		s.fault(FaultSendTimeout, "")
		return sandbox.DropAfter()
	case s.dice.roll(r.TimeoutNotSent):
		s.fault(FaultSendNotSent, "")
		return sandbox.Fault{Drop: true}
	case s.dice.roll(r.Throttle):
		s.fault(FaultSendThrottle, "")
		return sandbox.Throttle()
	}
	return sandbox.Fault{}
}

// tapSettle is how long after the webhook accepted a tap the product may still be working it:
// the queue's redeliveries of a job whose invocations died, and the next sweep.
const tapSettle = maxReceive*visibility + settleGrace

// stepOf tells which step a Send API message of the funnel belongs to ("gate" for the gate's).
func stepOf(m sandbox.SentMessage) string {
	switch {
	case m.Kind == reply.MessageHeart, strings.HasPrefix(m.Text, "Here it is, "):
		return stepLink
	case strings.HasPrefix(m.Text, gateText):
		return "gate"
	case strings.HasPrefix(m.Text, thanksText):
		return stepThanks
	case strings.HasPrefix(m.Text, againText):
		return stepAgain
	}
	return "?"
}

// checkConversations holds the conversations to their promises, from the sandbox's ledger of
// Send API messages and the follow-up records:
//   - (f) every follow-up record is terminal;
//   - (g) a step's message goes out at most once per conversation, a gate's message at most once
//     per tap, a resending step's at most once per record, its records a cooldown apart;
//   - (h) nothing goes out at or after the end of the person's window (Meta refuses such a
//     call with 10/2018278: counted in FollowUpsRefused, not a violation);
//   - (i) every tap or answer delivered while its window was open got its step, or a record says
//     why not (a terminal record of the step, the gate's message for that tap), or a human's
//     pause took it over. A tap on its way when its window closed is owed nothing.
func (s *sim) checkConversations(ctx context.Context, recs []reply.Record, dead map[string]bool) error {
	type msgKey struct {
		account, person, step string
		index                 int
	}
	sent := map[msgKey]int{}
	for _, m := range s.sandbox.Messages() {
		k := msgKey{account: m.AccountID, person: m.PersonID, step: stepOf(m)}
		if m.Kind == reply.MessageHeart {
			k.index = 1
		}
		sent[k]++
		if gone, ok := s.forgotten[m.PersonID]; ok && m.At.After(gone) {
			s.violate("follow-up to %s on %s at %s, after their data was deleted at %s", m.PersonID, m.AccountID, m.At.Format(time.RFC3339), gone.Format(time.RFC3339))
		}
		s.res.FollowUpsSent++
		if k.step == "gate" {
			s.res.GateMessages++
		}
		if k.step == "?" {
			s.violate("a Send API message no step holds: %+v", m)
		}
		if !m.At.Before(m.WindowEnd) {
			s.res.Late++
			s.violate("follow-up to %s on %s at %s, window closed %s", m.PersonID, m.AccountID, m.At.Format(time.RFC3339), m.WindowEnd.Format(time.RFC3339))
		}
	}
	type stepKey struct{ account, person, step string }
	byStep := map[stepKey][]reply.Record{}
	gateFor := map[string]bool{} // trigger -> a terminal record of the gate's message for it
	for _, r := range recs {
		f := r.Job.FollowUp
		if !r.State.Terminal() {
			s.violate("follow-up %s left %s (%s, due %s)", r.Key, r.State, r.Reason, r.DueAt.Format(time.RFC3339))
			continue
		}
		switch r.State {
		case reply.StateAmbiguous:
			s.res.FollowUpsAmbiguous++
		case reply.StateExpired:
			s.res.FollowUpsExpired++
		}
		if strings.Contains(r.Reason+" "+r.Detail, "2018278") {
			s.res.FollowUpsRefused++
		}
		if f.Gate {
			gateFor[f.Trigger] = true
			continue
		}
		k := stepKey{r.AccountID, f.PersonID, f.Step}
		byStep[k] = append(byStep[k], r)
	}
	linkTaps := map[stepKey]map[string]bool{}
	for _, t := range s.taps {
		if t.step == stepLink && t.accepted {
			k := stepKey{t.account, t.person, stepLink}
			if linkTaps[k] == nil {
				linkTaps[k] = map[string]bool{}
			}
			linkTaps[k][t.mid] = true
		}
	}
	for k, n := range sent {
		sk := stepKey{k.account, k.person, k.step}
		switch k.step {
		case stepLink, stepThanks:
			if n > 1 {
				s.res.FollowUpDuplicates++
				s.violate("step %s (message %d) sent %d times to %s on %s; records: %s", k.step, k.index, n, k.person, k.account, describe(byStep[sk]))
			}
		case "gate":
			if taps := len(linkTaps[stepKey{k.account, k.person, stepLink}]); n > taps {
				s.res.FollowUpDuplicates++
				s.violate("gate message sent %d times to %s on %s for %d taps", n, k.person, k.account, taps)
			}
		case stepAgain:
			if _, gone := s.forgotten[k.person]; gone {
				break // the deletion removed the records that held the sends (none came after it: above)
			}
			claimed := 0
			for _, r := range byStep[sk] {
				if r.State == reply.StateSent || r.State == reply.StateAmbiguous {
					claimed++
				}
			}
			if n > claimed {
				s.res.FollowUpDuplicates++
				s.violate("step %s sent %d times to %s on %s, claimed %d times", k.step, n, k.person, k.account, claimed)
			}
		}
	}
	for k, rs := range byStep {
		if k.step != stepAgain {
			continue
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].CreatedAt.Before(rs[j].CreatedAt) })
		for i := 1; i < len(rs); i++ {
			if gap := rs[i].CreatedAt.Sub(rs[i-1].CreatedAt); gap < againCooldown {
				s.violate("step %s claimed twice %s apart for %s on %s (cooldown %s)", k.step, gap, k.person, k.account, againCooldown)
			}
		}
	}
	for _, t := range s.taps {
		if t.step == "" || t.unsent {
			continue
		}
		s.res.Taps++
		if t.late {
			s.res.LateTaps++
		}
		if _, gone := s.forgotten[t.person]; gone {
			continue
		}
		if !t.accepted {
			s.violate("%s: the webhook never accepted it", t)
			continue
		}
		if !t.acceptedAt.Add(tapSettle).Before(t.at.Add(reply.ConversationWindow)) {
			continue // on its way when its window closed: nothing is owed
		}
		conv, err := s.store.Conversation(ctx, t.account, t.person)
		if err != nil {
			s.violate("%s: no conversation record (%v)", t, err)
			continue
		}
		if conv.PausedUntil.After(t.at) {
			s.res.Paused++
			continue
		}
		k := stepKey{t.account, t.person, t.step}
		ok := false
		switch t.step {
		case stepLink:
			ok = sent[msgKey{t.account, t.person, stepLink, 0}] > 0 || len(byStep[k]) > 0 || gateFor[t.mid]
		case stepThanks:
			ok = sent[msgKey{t.account, t.person, stepThanks, 0}] > 0 || len(byStep[k]) > 0
		case stepAgain:
			// Its own record, or one claimed within the cooldown before the tap was worked.
			for _, r := range byStep[k] {
				ok = ok || r.Job.FollowUp.Trigger == t.mid ||
					(r.CreatedAt.After(t.acceptedAt.Add(-againCooldown)) && !r.CreatedAt.After(t.acceptedAt.Add(tapSettle)))
			}
		}
		if !ok {
			why := ""
			if dead[t.mid] {
				why = " (its job is in the dead-letter queue)"
			}
			s.violate("%s: accepted at %s, nothing sent and no record says why%s", t, t.acceptedAt.Format(time.RFC3339), why)
		}
	}
	return nil
}

// describe is the records' states, for a violation's message.
func describe(rs []reply.Record) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "[%s %s %s attempts %d uncertain %v] ", r.Key, r.State, r.Reason, r.Attempts, r.Uncertain)
	}
	return b.String()
}
