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

// The funnels every simulated account runs. Its comment rule "recipe" has a flow, and its
// private reply carries two buttons: one for recipe's step `link`, one for the step `link` of
// the second rule "tips", whose flow starts with a video (the disclosure notice goes first).
// Both flows answer "thanks" and "again". Two DM rules answer people who write in first.
const (
	ruleRecipe    = "recipe"
	ruleTips      = "tips"
	dmHello       = "hello"
	dmPrice       = "price"
	payloadLink   = "RECIPE_LINK"
	payloadTips   = "TIPS_LINK"
	stepLink      = "link"   // each flow's button step; recipe's is follow-gated, a link and a heart
	stepThanks    = "thanks" // a keyword answer, ungated
	stepAgain     = "again"  // a keyword answer that resends, at most once per cooldown
	stepOpening   = reply.OpeningStep
	againCooldown = 30 * time.Minute
	gateText      = "Follow us, then tap the button again"
	thanksText    = "Enjoy your lasagna!"
	againText     = "Here it is again: https://example.com/f/"
	linkText      = "Here it is, {username}: https://example.com/f/"
	tipsVideo     = "https://cdn.example.com/v/tips-"
	tipsText      = "Tips, as promised: https://example.com/t/"
	tipsIntro     = "New this week, watch first: https://example.com/n/"
	tipsThanks    = "Enjoy the tips!"
	tipsAgain     = "The tips again: https://example.com/t/"
	helloText     = "Hello from the kitchen of creator"
	priceText     = "Our cookbook costs 19 EUR: https://example.com/shop/"
	disclosure    = "(automated message from creator"
)

// funnelOf is account i's recipe funnel. Even accounts ask again when Meta cannot say whether
// the person follows, odd ones send anyway: both fallbacks meet the profile API's outages.
func funnelOf(i int) ([]reply.Button, []reply.Step) {
	fallback := reply.GateAsk
	if i%2 == 1 {
		fallback = reply.GateSend
	}
	n := strconv.Itoa(i)
	return []reply.Button{{Type: reply.ButtonPostback, Title: "Send me the link", Payload: payloadLink},
			{Type: reply.ButtonPostback, Title: "Tips", Payload: payloadTips}},
		[]reply.Step{
			{Name: stepLink, On: reply.Trigger{Payload: payloadLink},
				Gate:     &reply.Gate{Message: reply.Message{Text: gateText}, Unavailable: fallback},
				Messages: []reply.Message{{Text: linkText + n}, {Kind: reply.MessageHeart}}},
			{Name: stepThanks, On: reply.Trigger{Keywords: []string{"thanks", "thank you"}}, Messages: []reply.Message{{Text: thanksText}}},
			{Name: stepAgain, On: reply.Trigger{Keywords: []string{"again"}}, Resend: true, Cooldown: againCooldown,
				Messages: []reply.Message{{Text: againText + n}}},
		}
}

// tipsOf is account i's second rule's flow: its button step is also called `link`, and starts
// with a video.
func tipsOf(i int) []reply.Step {
	n := strconv.Itoa(i)
	return []reply.Step{
		{Name: stepLink, On: reply.Trigger{Payload: payloadTips},
			Messages: []reply.Message{{Kind: reply.MessageVideo, URL: tipsVideo + n + ".mp4"}, {Text: tipsText + n}}},
		{Name: stepThanks, On: reply.Trigger{Keywords: []string{"thanks", "thank you"}}, Messages: []reply.Message{{Text: tipsThanks}}},
		{Name: stepAgain, On: reply.Trigger{Keywords: []string{"again"}}, Resend: true, Cooldown: againCooldown,
			Messages: []reply.Message{{Text: tipsAgain + n}}},
	}
}

// dmRulesOf is account i's two DM rules: each answers once per conversation, the first with the
// picture before its text.
func dmRulesOf(i int) []reply.DMRule {
	n := strconv.Itoa(i)
	return []reply.DMRule{
		{Name: dmHello, Match: reply.MatchWord, Keywords: []string{"hello", "hi"},
			Messages: []reply.Message{{Kind: reply.MessageImage, URL: "https://cdn.example.com/i/hello-" + n + ".jpg"}, {Text: helloText + n}}},
		{Name: dmPrice, Match: reply.MatchWord, Keywords: []string{"price", "cookbook"},
			Messages: []reply.Message{{Text: priceText + n}}},
	}
}

func disclosureOf(i int) string { return disclosure + strconv.Itoa(i) + ")" }

// tap is one thing a person did in the conversation, as Check holds the product to it.
type tap struct {
	account, person, mid string
	rule                 string    // the rule whose step it triggers; "" for a keyword answer (the conversation's flow)
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
	if s.dice.roll(0.4) {
		// The private reply's other button: the second rule's step of the same name.
		s.atTime(t.Add(s.dice.duration(time.Second, 30*time.Minute)), "tap tips", func() { s.act(c, payloadTips) })
	}
	if s.dice.roll(s.cfg.Rates.FunnelForgets) {
		// The person asks for their data to be deleted while their taps are on their way.
		s.atTime(t.Add(s.dice.duration(0, 30*time.Second)), "deletion in the funnel", func() { s.forget(c.person) })
	}
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
	s.askLead(c, t)
}

// dmPeople are people who write to an account first (no comment): "hello" and "price" run its
// two DM rules, each once per conversation however often they ask.
func (s *sim) dmPeople() {
	for i := range max(s.cfg.Comments/50, 4) {
		a := s.accounts[s.dice.intN(len(s.accounts))].ID
		person := fmt.Sprintf("8%09d", i)
		t := s.start.Add(s.dice.duration(0, 2*time.Hour)).Truncate(time.Second)
		texts := []string{"hello!", "price?"}
		if s.dice.roll(0.5) {
			texts[0], texts[1] = texts[1], texts[0]
		}
		for j, text := range texts[:1+s.dice.intN(2)] {
			rule := dmHello
			if strings.HasPrefix(text, "price") {
				rule = dmPrice
			}
			at := t.Add(time.Duration(j) * s.dice.duration(time.Second, 40*time.Minute))
			s.atTime(at, "dm "+text, func() { s.writeIn(a, person, rule, text) })
			if s.dice.roll(0.2) {
				s.atTime(at.Add(s.dice.duration(time.Second, time.Hour)), "dm again", func() { s.writeIn(a, person, rule, text) })
			}
		}
		if s.dice.roll(s.cfg.Rates.FunnelForgets) {
			s.atTime(t.Add(s.dice.duration(0, time.Minute)), "deletion of a DM person", func() { s.forget(person) })
		}
		if s.dice.roll(s.cfg.Rates.HumanReplies) {
			s.atTime(t.Add(s.dice.duration(0, 30*time.Minute)), "human answers a DM", func() {
				if _, gone := s.forgotten[person]; gone {
					return
				}
				tp := &tap{account: a, person: person, at: s.clock.Now()}
				mid, body := s.sandbox.HumanReply(a, person, "Hi, Ana here!")
				tp.mid = mid
				s.res.HumanReplies++
				s.humans[a+"#"+person] = true
				s.send(tp, body)
			})
		}
	}
}

// writeIn is a person writing to the account first: a DM rule's keyword.
func (s *sim) writeIn(account, person, rule, text string) {
	if _, gone := s.forgotten[person]; gone {
		return
	}
	tp := &tap{account: account, person: person, rule: rule, step: stepOpening, at: s.clock.Now()}
	mid, body := s.sandbox.Message(account, person, text)
	tp.mid = mid
	s.send(tp, body)
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
		tp.rule = ruleRecipe
		tp.mid, body = s.sandbox.Postback(c.account, c.person, payloadLink, "Send me the link")
	case payloadTips:
		tp.rule, tp.step = ruleTips, stepLink
		tp.mid, body = s.sandbox.Postback(c.account, c.person, payloadTips, "Tips")
	case stepThanks, stepAgain, stepEmail:
		conv, err := s.store.Conversation(context.Background(), c.account, c.person)
		if err != nil || conv.Rule == "" || (step == stepEmail && conv.Rule != ruleRecipe) || (step != stepEmail && s.asked[c.account+"#"+c.person]) {
			// The private reply's record may be SENT while joining the flow failed (a crash
			// after the send, a lost write): then a keyword is no answer to a flow, and the
			// product rightly sends nothing. The person says it anyway. Only the recipe flow
			// asks for an email; and once the person was asked, their text may be the answer
			// the open question takes, not a keyword.
			tp.step = ""
		}
		text := "thanks!!"
		switch step {
		case stepAgain:
			text = "again please"
		case stepEmail:
			text = "email me the book"
			s.asked[c.account+"#"+c.person] = true
		}
		tp.mid, body = s.sandbox.Message(c.account, c.person, text)
	default:
		tp.mid, body = s.sandbox.HumanReply(c.account, c.person, "Hi, Ana here!")
		s.res.HumanReplies++
		s.humans[c.account+"#"+c.person] = true
	}
	s.send(tp, body)
}

// send hands what a person did to Meta's webhook, a few seconds later, or (now and then) only
// after the window it opened has closed.
func (s *sim) send(tp *tap, body []byte) {
	step := tp.step
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
		if s.dice.roll(0.2) {
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
	return fmt.Sprintf("%s/%s by %s on %s at %s (mid %s)", t.rule, t.step, t.person, t.account, t.at.Format(time.RFC3339), t.mid)
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

// describe is the records' states, for a violation's message.
func describe(rs []reply.Record) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "[%s %s %s attempts %d uncertain %v] ", r.Key, r.State, r.Reason, r.Attempts, r.Uncertain)
	}
	return b.String()
}
