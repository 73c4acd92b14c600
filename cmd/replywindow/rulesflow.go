package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// What rules test shows of the conversation after the private reply: the opening message's
// buttons and quick replies with the step each runs, every step of the flow, and the step an
// answer or a tap would run.

// opChoice is a button or a quick reply, with the step its tap runs.
type opChoice struct {
	Type    string `json:"type"` // postback, web_url or quick_reply
	Title   string `json:"title"`
	Payload string `json:"payload,omitempty"`
	URL     string `json:"url,omitempty"`
	Runs    string `json:"runs,omitempty"` // `"recipe" step "link"`; "" for a link, or a payload no step has
}

// opMessageView is one message as sent (with --username), its buttons and quick replies resolved.
type opMessageView struct {
	Kind     reply.MessageKind `json:"kind"`
	Text     string            `json:"text,omitempty"`
	Bytes    int               `json:"bytes,omitempty"`
	URL      string            `json:"url,omitempty"`
	MediaID  string            `json:"media_id,omitempty"`
	Reaction string            `json:"reaction,omitempty"`
	Choices  []opChoice        `json:"choices,omitempty"`
	Error    string            `json:"error,omitempty"` // Meta would refuse it (a long username)
}

type opStepView struct {
	Name     string          `json:"name"`
	Trigger  string          `json:"trigger"` // in words
	On       reply.Trigger   `json:"on"`
	Gate     *opMessageView  `json:"follow_gate,omitempty"`
	Fallback string          `json:"follow_gate_unavailable,omitempty"`
	Repeat   string          `json:"repeat"`
	Messages []opMessageView `json:"messages"`
}

// opAnswerTest is what an answer or a tap would run, in a conversation of the matched rule.
type opAnswerTest struct {
	Event   reply.EventKind `json:"event"`
	Text    string          `json:"text,omitempty"`
	Payload string          `json:"payload,omitempty"`
	In      string          `json:"conversation_rule,omitempty"` // the flow the conversation is in
	Matched bool            `json:"matched"`
	Rule    string          `json:"rule,omitempty"`
	DMRule  bool            `json:"dm_rule,omitempty"` // a DM rule answers; its flow may follow
	Step    *opStepView     `json:"step,omitempty"`
	Then    []opStepView    `json:"then,omitempty"` // a DM rule's flow
	Outcome string          `json:"outcome"`
}

// opFlowView renders steps for a person called username.
type opFlowView struct {
	a        reply.Account
	conv     reply.Conversation
	username string
}

func (v opFlowView) steps(steps []reply.Step) []opStepView {
	out := make([]opStepView, 0, len(steps))
	for _, s := range steps {
		out = append(out, v.step(s, false))
	}
	return out
}

// step renders s; disclose adds the disclosure line to its first message, as the first
// automated message of a conversation carries it.
func (v opFlowView) step(s reply.Step, disclose bool) opStepView {
	sv := opStepView{Name: s.Name, Trigger: opTriggerText(s.On), On: s.On, Repeat: opRepeatText(s)}
	if g := s.Gate; g != nil {
		m := v.message(g.Message, disclose)
		sv.Gate, sv.Fallback = &m, g.Unavailable
	}
	for i, m := range s.Messages {
		sv.Messages = append(sv.Messages, v.message(m, disclose && i == 0))
	}
	return sv
}

func (v opFlowView) message(m reply.Message, disclose bool) opMessageView {
	out := opMessageView{Kind: m.Type(), URL: m.URL, MediaID: m.MediaID, Reaction: m.Reaction}
	if r, err := m.Render(v.username, v.a.Disclosure, disclose); err != nil {
		out.Text, out.Error = m.Text, err.Error()
	} else {
		out.Text = r.Text
	}
	out.Bytes = len(out.Text)
	if out.Kind == reply.MessageReaction && out.Reaction == "" {
		out.Reaction = "love"
	}
	out.Choices = v.choices(m.Buttons, m.QuickReplies)
	return out
}

func (v opFlowView) choices(bs []reply.Button, qs []reply.QuickReply) []opChoice {
	var out []opChoice
	for _, b := range bs {
		c := opChoice{Type: string(b.Type), Title: b.Title, Payload: b.Payload, URL: b.URL}
		if b.Type == reply.ButtonPostback {
			c.Runs = v.runs(reply.EventPostback, b.Payload)
		}
		out = append(out, c)
	}
	for _, q := range qs {
		out = append(out, opChoice{Type: "quick_reply", Title: q.Title, Payload: q.Payload, Runs: v.runs(reply.EventQuickReply, q.Payload)})
	}
	return out
}

// runs names the step a tap with payload runs, as the replier would find it.
func (v opFlowView) runs(kind reply.EventKind, payload string) string {
	f, ok := v.a.Route(v.conv, reply.Event{Kind: kind, Payload: payload})
	if !ok {
		return ""
	}
	return fmt.Sprintf("%q step %q", f.Rule, f.Step.Name)
}

// answer routes an answer (text) or a tap (payload) as the replier would, in v's conversation.
func (v opFlowView) answer(text, payload string, story bool) opAnswerTest {
	e := reply.Event{Kind: reply.EventMessage, PersonID: v.conv.PersonID, MID: "rules-test", Text: text, At: time.Now()}
	switch {
	case payload != "":
		e.Kind, e.Payload, e.Text = reply.EventPostback, payload, ""
	case story:
		e.Kind = reply.EventStoryReply
	}
	res := opAnswerTest{Event: e.Kind, Text: e.Text, Payload: e.Payload, In: v.conv.Rule}
	f, ok := v.a.Route(v.conv, e)
	if !ok {
		switch {
		case payload != "":
			res.Outcome = fmt.Sprintf("nothing: no step of any flow runs on payload %q", payload)
		case v.conv.Rule != "":
			res.Outcome = fmt.Sprintf("nothing: no step of %q and no DM rule takes this answer", v.conv.Rule)
		default:
			res.Outcome = "nothing: no DM rule takes this message"
		}
		return res
	}
	res.Matched, res.Rule, res.DMRule = true, f.Rule, f.Opening != nil
	// A conversation that just opened has had no automated message: the first discloses.
	step := v.step(f.Step, v.conv.Disclose(e.At, v.a.Lapse()))
	res.Step = &step
	switch {
	case res.DMRule:
		step.Trigger, step.Repeat = "a message the DM rule matches", "on each such message"
		res.Then = v.steps(f.Steps)
		res.Outcome = fmt.Sprintf("send DM rule %q's answer", f.Rule)
	case f.Step.Gate != nil:
		res.Outcome = fmt.Sprintf("ask Meta whether the person follows: yes → step %q; no → the gate's message, and the step waits for the next tap; Meta cannot say → %s", f.Step.Name, opFallbackText(f.Step.Gate.Unavailable))
	default:
		res.Outcome = fmt.Sprintf("send step %q", f.Step.Name)
	}
	return res
}

func opTriggerText(t reply.Trigger) string {
	switch {
	case t.Payload != "":
		return "tap " + t.Payload
	case len(t.Keywords) > 0:
		match := t.Match
		if match == "" {
			match = reply.MatchWord
		}
		q := make([]string, len(t.Keywords))
		for i, k := range t.Keywords {
			q[i] = strconv.Quote(k)
		}
		return fmt.Sprintf("answer with %s (%s)", strings.Join(q, ", "), match)
	case t.Any:
		return "any other answer"
	}
	return "-"
}

func opRepeatText(s reply.Step) string {
	switch {
	case !s.Resend:
		return "once per conversation"
	case s.Cooldown < reply.MinResendCooldown:
		// Stored before a cooldown was required: the replier waits the minimum all the same.
		return "again on a trigger " + reply.MinResendCooldown.String() + " after the last (the minimum)"
	}
	return "again on a trigger " + s.Cooldown.String() + " after the last"
}

func opFallbackText(unavailable string) string {
	if unavailable == reply.GateSend {
		return "send the step anyway"
	}
	return "the gate's message"
}

func opPrintSteps(w io.Writer, indent string, steps []opStepView) {
	for _, s := range steps {
		opPrintStep(w, indent, s)
	}
}

func opPrintStep(w io.Writer, indent string, s opStepView) {
	fmt.Fprintf(w, "%sstep %q on %s; %s\n", indent, s.Name, s.Trigger, s.Repeat)
	if s.Gate != nil {
		fmt.Fprintf(w, "%s  follow gate (Meta cannot say: %s), to people who do not follow:\n", indent, opFallbackText(s.Fallback))
		opPrintMessage(w, indent+"    ", *s.Gate)
	}
	for i, m := range s.Messages {
		fmt.Fprintf(w, "%s  %d. %s\n", indent, i+1, opMessageHead(m))
		opPrintMessage(w, indent+"     ", m)
	}
}

// opMessageHead is a message's first line: its kind and what it sends besides text.
func opMessageHead(m opMessageView) string {
	head := string(m.Kind)
	switch m.Kind {
	case reply.MessageText:
		head = fmt.Sprintf("text (%d of %d bytes)", m.Bytes, reply.MaxTextBytes)
	case reply.MessageImage, reply.MessageAudio, reply.MessageVideo:
		head += " " + m.URL
	case reply.MessageHeart:
		head += " (the heart sticker)"
	case reply.MessageReaction:
		head += " " + m.Reaction + " on the person's message"
	case reply.MessageMediaShare:
		head += " of post " + m.MediaID
	}
	if m.Error != "" {
		head += " — Meta would refuse it: " + m.Error
	}
	return head
}

// opPrintMessage prints a message's text and choices (the head, if any, is the caller's).
func opPrintMessage(w io.Writer, indent string, m opMessageView) {
	if m.Text != "" {
		for _, line := range strings.Split(m.Text, "\n") {
			fmt.Fprintln(w, strings.TrimRight(indent+"| "+line, " "))
		}
	}
	for _, c := range m.Choices {
		fmt.Fprintf(w, "%s%s\n", indent, opChoiceText(c))
	}
}

func opChoiceText(c opChoice) string {
	switch c.Type {
	case string(reply.ButtonURL):
		return fmt.Sprintf("[%s] opens %s", c.Title, c.URL)
	case "quick_reply":
		return fmt.Sprintf("(%s) quick reply %s → %s", c.Title, c.Payload, opRunsText(c.Runs))
	}
	return fmt.Sprintf("[%s] button %s → %s", c.Title, c.Payload, opRunsText(c.Runs))
}

func opRunsText(runs string) string {
	if runs == "" {
		return "no step runs on it (the tap sends nothing)"
	}
	return runs
}

// opInertPayloads names the buttons and quick replies of the account's messages whose payload
// no step runs on: `rules[0] "recipe": quick_replies[1] payload "NO"`.
func opInertPayloads(a reply.Account) []string {
	var out []string
	check := func(path string, m reply.Message) {
		for i, b := range m.Buttons {
			if b.Type == reply.ButtonPostback && !opRunsStep(a, b.Payload) {
				out = append(out, fmt.Sprintf("%s: buttons[%d] payload %q", path, i, b.Payload))
			}
		}
		for i, q := range m.QuickReplies {
			if !opRunsStep(a, q.Payload) {
				out = append(out, fmt.Sprintf("%s: quick_replies[%d] payload %q", path, i, q.Payload))
			}
		}
	}
	steps := func(path string, flow []reply.Step) {
		for i, s := range flow {
			for j, m := range s.Messages {
				check(fmt.Sprintf("%s: flow[%d] %q: messages[%d]", path, i, s.Name, j), m)
			}
			if s.Gate != nil {
				check(fmt.Sprintf("%s: flow[%d] %q: follow_gate.message", path, i, s.Name), s.Gate.Message)
			}
		}
	}
	for i, r := range a.Rules {
		path := fmt.Sprintf("rules[%d] %q", i, r.Name)
		check(path, r.Opening(r.Message))
		steps(path, r.Flow)
	}
	for i, d := range a.DMRules {
		path := fmt.Sprintf("dm_rules[%d] %q", i, d.Name)
		for j, m := range d.Messages {
			check(fmt.Sprintf("%s: messages[%d]", path, j), m)
		}
		steps(path, d.Flow)
	}
	return out
}

func opRunsStep(a reply.Account, payload string) bool {
	_, ok := a.Route(reply.Conversation{}, reply.Event{Kind: reply.EventPostback, Payload: payload})
	return ok
}
