package reply

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const person = "1234567890123456"

func text(s string) Message { return Message{Text: s} }

// funnel is the account the conversation tests share: a comment rule whose private reply's
// button runs a follow-gated step, a keyword step and an any-answer step, and DM rules.
func funnel() Account {
	return Account{
		ID: "17841400000000001", Login: LoginInstagram, TokenParam: "/t", Disclosure: "Automated.",
		Rules: []Rule{
			{Name: "recipe", Match: MatchWord, Keywords: []string{"recipe"}, Message: "Tap below",
				Buttons: []Button{{Type: ButtonPostback, Title: "Send me the link", Payload: "RECIPE_LINK"}},
				Flow: []Step{
					{Name: "link", On: Trigger{Payload: "RECIPE_LINK"}, Messages: []Message{text("https://bakery.example/r"), {Kind: MessageHeart}},
						Gate: &Gate{Message: text("Follow us, then tap again"), Unavailable: GateAsk}},
					{Name: "more", On: Trigger{Keywords: []string{"more"}}, Messages: []Message{text("More soon")}},
					{Name: "thanks", On: Trigger{Any: true}, Messages: []Message{text("Thanks!")}},
					{Name: "thanks-again", On: Trigger{Any: true}, Messages: []Message{text("Again")}},
				}},
			{Name: "plain", Match: MatchAny, Message: "Hello"},
		},
		DMRules: []DMRule{
			{Name: "price", Match: MatchWord, Keywords: []string{"price"}, Messages: []Message{text("It is 5 €")},
				Flow: []Step{{Name: "order", On: Trigger{Payload: "ORDER"}, Messages: []Message{text("Order here: https://bakery.example/o")}}}},
			{Name: "story", Match: MatchContains, Keywords: []string{"yum"}, Stories: true, Messages: []Message{text("Glad you like it")}},
		},
	}
}

func TestConversationValidate(t *testing.T) {
	step := func(name string, on Trigger) Step { return Step{Name: name, On: on, Messages: []Message{text("hi")}} }
	withFlow := func(steps ...Step) func(*Account) {
		return func(a *Account) { a.Rules[0].Flow = steps }
	}
	tests := []struct {
		name string
		edit func(*Account)
		want string // part of the error; "" = valid
	}{
		{"the funnel", func(*Account) {}, ""},
		// triggers: exactly one of payload, keywords, any
		{"no trigger", withFlow(step("a", Trigger{})), `rules[0] "recipe": flow[0] "a": on: set exactly one of payload, keywords and any`},
		{"payload and keywords", withFlow(step("a", Trigger{Payload: "P", Keywords: []string{"x"}})), "on: set exactly one"},
		{"payload and any", withFlow(step("a", Trigger{Payload: "P", Any: true})), "on: set exactly one"},
		{"keywords and any", withFlow(step("a", Trigger{Keywords: []string{"x"}, Any: true})), "on: set exactly one"},
		{"payload too long", withFlow(step("a", Trigger{Payload: strings.Repeat("p", 1001)})), "on: payload: 1001 bytes"},
		{"bad match", withFlow(step("a", Trigger{Keywords: []string{"x"}, Match: MatchAny})), `on: match: "any", want word, contains or exact`},
		{"match without keywords", withFlow(step("a", Trigger{Payload: "P", Match: MatchExact})), "on: match: only with keywords"},
		{"empty keyword", withFlow(step("a", Trigger{Keywords: []string{"x", " "}})), "on: keywords[1]: empty"},
		{"keywords contains", withFlow(step("a", Trigger{Keywords: []string{"x"}, Match: MatchContains})), ""},
		// names
		{"no name", withFlow(step(" ", Trigger{Any: true})), `flow[0] " ": name: required`},
		{"long name", withFlow(step(strings.Repeat("n", 65), Trigger{Any: true})), "name: required, UTF-8, at most 64 bytes"},
		{"duplicate step names", withFlow(step("a", Trigger{Payload: "P"}), step("a", Trigger{Any: true})), `flow[1] "a": id or name "a": used twice`},
		{"reserved name", withFlow(step(OpeningStep, Trigger{Any: true})), `flow[0] "opening": name: "opening" is reserved`},
		// messages
		{"no messages", withFlow(Step{Name: "a", On: Trigger{Any: true}}), `flow[0] "a": messages: at least one`},
		{"bad message", withFlow(Step{Name: "a", On: Trigger{Any: true}, Messages: []Message{text("ok"), {Kind: MessageImage}}}), `flow[0] "a": messages[1]: url: required`},
		{"text too long", withFlow(Step{Name: "a", On: Trigger{Any: true}, Messages: []Message{text(strings.Repeat("a", 1043))}}), `rules[0] "recipe": flow[0] "a": messages[0]: text: 1043 bytes, Meta allows 1000`},
		{"too long with the disclosure", withFlow(Step{Name: "a", On: Trigger{Any: true}, Messages: []Message{text(strings.Repeat("a", 995))}}), `messages[0] with the disclosure line: text: 1007 bytes`},
		{"media in a step", withFlow(Step{Name: "a", On: Trigger{Any: true}, Messages: []Message{{Kind: MessageVideo, URL: "https://bakery.example/v.mp4"}}}), ""},
		// the follow gate
		{"gate send", withFlow(Step{Name: "a", On: Trigger{Payload: "P"}, Messages: []Message{text("x")}, Gate: &Gate{Message: text("Follow us"), Unavailable: GateSend}}), ""},
		{"gate without fallback", withFlow(Step{Name: "a", On: Trigger{Payload: "P"}, Messages: []Message{text("x")}, Gate: &Gate{Message: text("Follow us")}}), `follow_gate.unavailable: "", want "send" or "ask"`},
		{"gate unknown fallback", withFlow(Step{Name: "a", On: Trigger{Payload: "P"}, Messages: []Message{text("x")}, Gate: &Gate{Message: text("Follow us"), Unavailable: "skip"}}), `follow_gate.unavailable: "skip"`},
		{"gate without message", withFlow(Step{Name: "a", On: Trigger{Payload: "P"}, Messages: []Message{text("x")}, Gate: &Gate{Unavailable: GateAsk}}), "follow_gate.message: text: required"},
		{"gate message too long with the disclosure", withFlow(Step{Name: "a", On: Trigger{Payload: "P"}, Messages: []Message{text("x")}, Gate: &Gate{Message: text(strings.Repeat("a", 995)), Unavailable: GateAsk}}), "follow_gate.message with the disclosure line: text: 1007 bytes"},
		// resend and cooldown
		{"resend without cooldown", withFlow(Step{Name: "a", On: Trigger{Payload: "P"}, Messages: []Message{text("x")}, Resend: true}), `flow[0] "a": cooldown: required with resend, at least 1m0s (got 0s)`},
		{"resend with a cooldown under the minimum", withFlow(Step{Name: "a", On: Trigger{Payload: "P"}, Messages: []Message{text("x")}, Resend: true, Cooldown: 59 * time.Second}), "cooldown: required with resend, at least 1m0s (got 59s)"},
		{"resend with cooldown", withFlow(Step{Name: "a", On: Trigger{Payload: "P"}, Messages: []Message{text("x")}, Resend: true, Cooldown: time.Minute}), ""},
		{"cooldown without resend", withFlow(Step{Name: "a", On: Trigger{Payload: "P"}, Messages: []Message{text("x")}, Cooldown: time.Minute}), "cooldown: only with resend"},
		{"negative cooldown", withFlow(Step{Name: "a", On: Trigger{Payload: "P"}, Messages: []Message{text("x")}, Resend: true, Cooldown: -time.Minute}), "cooldown: only with resend, and not negative"},
		// payloads are unique across the account's flows
		{"payload twice in a flow", withFlow(step("a", Trigger{Payload: "P"}), step("b", Trigger{Payload: "P"})), `rules[0] "recipe": flow[1] "b": on.payload: "P" is also the trigger of rules[0] "recipe": flow[0] "a"`},
		{"payload of a rule and a DM rule", func(a *Account) { a.Rules[0].Flow[0].On.Payload = "ORDER" }, `dm_rules[0] "price": flow[0] "order": on.payload: "ORDER" is also the trigger of rules[0] "recipe": flow[0] "link"`},
		{"payload of two rules", func(a *Account) {
			a.Rules[1].Flow = []Step{step("x", Trigger{Payload: "RECIPE_LINK"})}
		}, `rules[1] "plain": flow[0] "x": on.payload: "RECIPE_LINK" is also`},
		{"same step name in two flows", func(a *Account) { a.Rules[1].Flow = []Step{step("link", Trigger{Payload: "OTHER"})} }, ""},
		// conversations find their flow by the rule's name
		{"flow without a rule name", func(a *Account) { a.Rules[1].Name, a.Rules[1].Flow = "", []Step{step("x", Trigger{Any: true})} }, `rules[1] "": name: required with a flow`},
		{"flow on a rule name used twice", func(a *Account) { a.Rules[1].Name, a.Rules[1].Flow = "recipe", []Step{step("x", Trigger{Any: true})} }, `rules[1] "recipe": name: rules[0] has it already`},
		{"rule names used twice without flows", func(a *Account) { a.Rules = append(a.Rules, Rule{Name: "plain", Match: MatchAny, Message: "x"}) }, ""},
		{"unnamed rules without flows", func(a *Account) { a.Rules[1].Name = "" }, ""},
		// DM rules
		{"DM rule without name", func(a *Account) { a.DMRules[0].Name = "" }, `dm_rules[0] "": name: required`},
		{"DM rule bad match", func(a *Account) { a.DMRules[0].Match = "regex" }, `dm_rules[0] "price": match: "regex"`},
		{"DM rule no match", func(a *Account) { a.DMRules[0].Match = "" }, `dm_rules[0] "price": match: ""`},
		{"DM rule without keywords", func(a *Account) { a.DMRules[0].Keywords = nil }, `dm_rules[0] "price": keywords: required with match "word"`},
		{"DM rule empty keyword", func(a *Account) { a.DMRules[0].Keywords = []string{"price", ""} }, `dm_rules[0] "price": keywords[1]: empty`},
		{"DM rule any", func(a *Account) { a.DMRules[0].Match, a.DMRules[0].Keywords = MatchAny, nil }, ""},
		{"DM rule without messages", func(a *Account) { a.DMRules[0].Messages = nil }, `dm_rules[0] "price": messages: at least one`},
		{"DM rule bad message", func(a *Account) { a.DMRules[0].Messages[0] = Message{Kind: "sticker"} }, `dm_rules[0] "price": messages[0]: kind: "sticker"`},
		{"DM rule bad step", func(a *Account) { a.DMRules[0].Flow[0].Messages = nil }, `dm_rules[0] "price": flow[0] "order": messages: at least one`},
		{"DM rule named like a rule", func(a *Account) { a.DMRules[0].Name = "recipe" }, `dm_rules[0] "recipe": name: rules[0] has it already`},
		{"DM rules named alike", func(a *Account) { a.DMRules[1].Name = "price" }, `dm_rules[1] "price": name: dm_rules[0] has it already`},
		// the account's conversation settings
		{"human pause", func(a *Account) { a.HumanPause = time.Hour }, ""},
		{"negative human pause", func(a *Account) { a.HumanPause = -time.Hour }, "human_pause and disclosure_lapse: not negative"},
		{"negative disclosure lapse", func(a *Account) { a.DisclosureLapse = -time.Hour }, "not negative"},
		{"text lane limit", func(a *Account) { a.Limits = map[Lane]Limit{LaneText: {Count: 100, Period: time.Second}} }, ""},
		{"media lane limit zero", func(a *Account) { a.Limits = map[Lane]Limit{LaneMedia: {}} }, "limits.media: "},
	}
	for _, tt := range tests {
		a := funnel()
		tt.edit(&a)
		err := a.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.want)
		}
	}
	a := funnel()
	if a.Pause() != DefaultHumanPause || a.Lapse() != DefaultDisclosureLapse {
		t.Errorf("defaults: pause %s, lapse %s", a.Pause(), a.Lapse())
	}
	a.HumanPause, a.DisclosureLapse = time.Hour, 2*time.Hour
	if a.Pause() != time.Hour || a.Lapse() != 2*time.Hour {
		t.Errorf("configured: pause %s, lapse %s", a.Pause(), a.Lapse())
	}
}

func TestRoute(t *testing.T) {
	a := funnel()
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
	inRecipe := Conversation{AccountID: a.ID, PersonID: person, Rule: "recipe"}
	inPrice := Conversation{AccountID: a.ID, PersonID: person, Rule: "price"}
	none := Conversation{AccountID: a.ID, PersonID: person}
	ev := func(kind EventKind, text, payload string) Event {
		return Event{Kind: kind, PersonID: person, MID: "m1", Text: text, Payload: payload, At: t0}
	}
	tests := []struct {
		name    string
		c       Conversation
		e       Event
		rule    string // "" = nothing runs
		step    string
		opening bool // a DM rule's answer
	}{
		{"postback in its flow", inRecipe, ev(EventPostback, "Send me the link", "RECIPE_LINK"), "recipe", "link", false},
		{"postback finds its step in any flow", none, ev(EventPostback, "", "RECIPE_LINK"), "recipe", "link", false},
		{"postback of another flow", inRecipe, ev(EventPostback, "", "ORDER"), "price", "order", false},
		{"quick reply payload", inPrice, ev(EventQuickReply, "Order", "ORDER"), "price", "order", false},
		{"payload of no step", inRecipe, ev(EventPostback, "more", "GONE"), "", "", false},
		{"quick reply of no step, its title a keyword", inRecipe, ev(EventQuickReply, "more", "GONE"), "", "", false},
		{"postback without payload", inRecipe, ev(EventPostback, "more", ""), "", "", false},
		{"keyword of the conversation's flow", inRecipe, ev(EventMessage, "MORE please", ""), "recipe", "more", false},
		{"keyword folded", inRecipe, ev(EventMessage, "Móre", ""), "recipe", "more", false},
		{"any answer, the first any step", inRecipe, ev(EventMessage, "lovely", ""), "recipe", "thanks", false},
		{"an attachment is an answer", inRecipe, ev(EventMessage, "", ""), "recipe", "thanks", false},
		{"keyword before any answer", inRecipe, ev(EventMessage, "tell me more", ""), "recipe", "more", false},
		{"keyword of another flow does not run", inPrice, ev(EventMessage, "more", ""), "", "", false},
		{"a DM rule on a message", none, ev(EventMessage, "What's the price?", ""), "price", OpeningStep, true},
		{"a DM rule in a flow without a matching step", inPrice, ev(EventMessage, "price again", ""), "price", OpeningStep, true},
		{"the flow's any step before a DM rule", inRecipe, ev(EventMessage, "price?", ""), "recipe", "thanks", false},
		{"story reply with Stories", none, ev(EventStoryReply, "yummy", ""), "story", OpeningStep, true},
		{"story reply without Stories", none, ev(EventStoryReply, "price", ""), "", "", false},
		{"a message the story rule matches", none, ev(EventMessage, "yum", ""), "story", OpeningStep, true},
		{"nothing matches", none, ev(EventMessage, "hello", ""), "", "", false},
		{"conversation of a rule with no flow", Conversation{Rule: "plain"}, ev(EventMessage, "hello", ""), "", "", false},
		{"conversation of a removed rule", Conversation{Rule: "gone"}, ev(EventMessage, "price", ""), "price", OpeningStep, true},
		{"reaction", inRecipe, ev(EventReaction, "more", ""), "", "", false},
		{"echo", inRecipe, ev(EventEcho, "more", ""), "", "", false},
		{"echo with a payload", none, ev(EventEcho, "", "RECIPE_LINK"), "", "", false},
		{"reaction with a payload", none, ev(EventReaction, "", "RECIPE_LINK"), "", "", false},
	}
	for _, tt := range tests {
		f, ok := a.Route(tt.c, tt.e)
		if ok != (tt.rule != "") || f.Rule != tt.rule || f.Step.Name != tt.step || (f.Opening != nil) != tt.opening {
			t.Errorf("%s: Route = %q %q (opening %v), %v; want %q %q", tt.name, f.Rule, f.Step.Name, f.Opening != nil, ok, tt.rule, tt.step)
		}
	}
	// The flow found carries its steps; a DM rule's answer is its messages.
	if f, _ := a.Route(none, ev(EventMessage, "price", "")); len(f.Steps) != 1 || f.Steps[0].Name != "order" || f.Step.Messages[0].Text != "It is 5 €" || f.Opening.Name != "price" {
		t.Errorf("DM rule flow %+v", f)
	}
	if f, _ := a.Route(inRecipe, ev(EventPostback, "", "RECIPE_LINK")); len(f.Steps) != 4 || f.Step.Gate == nil || f.Opening != nil {
		t.Errorf("recipe flow %+v", f)
	}
}

func TestStepMessage(t *testing.T) {
	a := funnel()
	d := func(m Message) string { return m.Digest() }
	link, heart, gate := text("https://bakery.example/r"), Message{Kind: MessageHeart}, text("Follow us, then tap again")
	tests := []struct {
		name string
		f    FollowUp
		want string // the message's text, or its kind; "" = none
	}{
		{"a step's message", FollowUp{Rule: "recipe", Step: "link", Digest: d(link)}, "https://bakery.example/r"},
		{"its second", FollowUp{Rule: "recipe", Step: "link", Index: 1, Digest: d(heart)}, "like_heart"},
		{"a message the step does not have", FollowUp{Rule: "recipe", Step: "link", Index: 2, Digest: d(text("gone"))}, ""},
		{"the gate's message", FollowUp{Rule: "recipe", Step: "link", Gate: true, Digest: d(gate)}, "Follow us, then tap again"},
		{"a gate's message is not the step's", FollowUp{Rule: "recipe", Step: "link", Gate: true, Digest: d(link)}, ""},
		{"a step without a gate", FollowUp{Rule: "recipe", Step: "more", Gate: true, Digest: d(gate)}, ""},
		{"a DM rule's answer", FollowUp{Rule: "price", Step: OpeningStep, Digest: d(text("It is 5 €"))}, "It is 5 €"},
		{"a DM rule's step", FollowUp{Rule: "price", Step: "order", Digest: d(text("Order here: https://bakery.example/o"))}, "Order here: https://bakery.example/o"},
		{"another step's message", FollowUp{Rule: "recipe", Step: "more", Digest: d(link)}, ""},
		{"a removed step", FollowUp{Rule: "recipe", Step: "gone", Digest: d(link)}, ""},
		{"a removed rule", FollowUp{Rule: "gone", Step: "link", Digest: d(link)}, ""},
		{"no opening on a comment rule", FollowUp{Rule: "recipe", Step: OpeningStep, Digest: d(link)}, ""},
		{"the disclosure notice", FollowUp{Rule: "recipe", Step: "link", Notice: true}, "Automated."},
		{"claimed before records named their message: by its place", FollowUp{Rule: "recipe", Step: "link", Index: 1}, "like_heart"},
		{"claimed before records named their message: past the step's", FollowUp{Rule: "recipe", Step: "link", Index: 2}, ""},
	}
	for _, tt := range tests {
		m, ok := a.StepMessage(tt.f)
		got := m.Text
		if m.Type() != MessageText {
			got = string(m.Type())
		}
		if !ok {
			got = ""
		}
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s: StepMessage = %q, %v; want %q", tt.name, got, ok, tt.want)
		}
	}
}

// TestFlowEditNeverShiftsAParkedMessage is case 3 of issue 19: a step [A, B] with B claimed,
// then edited to [X, A, B], still sends B for B's record; an edit that removed B sends nothing.
func TestFlowEditNeverShiftsAParkedMessage(t *testing.T) {
	a := funnel()
	msgA, msgB, msgX := text("A: the recipe"), text("B: the book"), text("X: new first")
	a.Rules[0].Flow[1].Messages = []Message{msgA, msgB}
	parked := FollowUp{Rule: "recipe", Step: "more", Index: 1, Of: 2, Digest: msgB.Digest()}
	a.Rules[0].Flow[1].Messages = []Message{msgX, msgA, msgB}
	if m, ok := a.StepMessage(parked); !ok || m.Text != msgB.Text {
		t.Errorf("after [X, A, B]: StepMessage = %q, %v; want B", m.Text, ok)
	}
	a.Rules[0].Flow[1].Messages = []Message{msgX, msgA}
	if m, ok := a.StepMessage(parked); ok {
		t.Errorf("after B was removed: StepMessage = %q, want none", m.Text)
	}
	a.Rules[0].Flow[1].ID, a.Rules[0].Flow[1].Name = "more", "more, renamed"
	a.Rules[0].Flow[1].Messages = []Message{msgA, msgB}
	if m, ok := a.StepMessage(parked); !ok || m.Text != msgB.Text {
		t.Errorf("renamed, its id the old name: StepMessage = %q, %v; want B", m.Text, ok)
	}
}

func TestConversationState(t *testing.T) {
	day := 24 * time.Hour
	c := Conversation{WindowEnd: t0.Add(day)}
	if !c.Open(t0) || !c.Open(t0.Add(day-time.Nanosecond)) || c.Open(t0.Add(day)) || (Conversation{}).Open(t0) {
		t.Error("Open: the window is open until WindowEnd, exclusive")
	}
	p := Conversation{PausedUntil: t0.Add(time.Hour)}
	if !p.Paused(t0) || p.Paused(t0.Add(time.Hour)) || (Conversation{}).Paused(t0) {
		t.Error("Paused: until PausedUntil, exclusive")
	}

	disclose := []struct {
		name string
		c    Conversation
		at   time.Time
		want bool
	}{
		{"the first automated message", Conversation{}, t0, true},
		{"soon after one", Conversation{LastAutomated: t0, DisclosedAt: t0}, t0.Add(time.Hour), false},
		{"just before the lapse", Conversation{LastAutomated: t0, DisclosedAt: t0}, t0.Add(day - time.Second), false},
		{"after the lapse", Conversation{LastAutomated: t0, DisclosedAt: t0}, t0.Add(day), true},
		{"during a human pause", Conversation{LastAutomated: t0, DisclosedAt: t0, PausedUntil: t0.Add(2 * time.Hour)}, t0.Add(time.Hour), false},
		{"after a human pause", Conversation{LastAutomated: t0, DisclosedAt: t0, PausedUntil: t0.Add(2 * time.Hour)}, t0.Add(3 * time.Hour), true},
		{"a pause that ended before the last automated message", Conversation{LastAutomated: t0, DisclosedAt: t0, PausedUntil: t0.Add(-time.Hour)}, t0.Add(time.Hour), false},
		{"claimed with it, never delivered", Conversation{LastAutomated: t0, DisclosureOwed: t0}, t0.Add(time.Minute), true},
		{"owed since the lapse, the last delivery older", Conversation{LastAutomated: t0, DisclosureOwed: t0, DisclosedAt: t0.Add(-2 * day)}, t0.Add(time.Minute), true},
		{"delivered after it was owed", Conversation{LastAutomated: t0, DisclosureOwed: t0, DisclosedAt: t0.Add(time.Second)}, t0.Add(time.Minute), false},
	}
	for _, tt := range disclose {
		if got := tt.c.Disclose(tt.at, day); got != tt.want {
			t.Errorf("Disclose %s = %v, want %v", tt.name, got, tt.want)
		}
	}

	once := Step{Name: "link"}
	resend := Step{Name: "link", Resend: true, Cooldown: 10 * time.Minute}
	always := Step{Name: "link", Resend: true}
	sent := Conversation{Rule: "recipe", Steps: map[string]time.Time{StepKey("recipe", "link"): t0}}
	claim := func(rule string, s Step, at time.Time) StepClaim { return StepClaim{Rule: rule, Step: s, At: at} }
	due := []struct {
		name string
		c    Conversation
		cl   StepClaim
		want bool
	}{
		{"never sent", Conversation{}, claim("recipe", once, t0), true},
		{"another step sent", Conversation{Steps: map[string]time.Time{StepKey("recipe", "other"): t0}}, claim("recipe", once, t0), true},
		{"once: sent", sent, claim("recipe", once, t0.Add(day)), false},
		{"another rule's step of the same name", sent, claim("guide", once, t0.Add(day)), true},
		{"renamed, its id the old name", sent, claim("recipe", Step{Name: "the link", ID: "link"}, t0.Add(day)), false},
		{"the gate of a step sent: due on every tap", sent, StepClaim{Rule: "recipe", Step: once, Gate: true, At: t0}, true},
		{"a step named x#gate is not x's gate", Conversation{Steps: map[string]time.Time{StepKey("recipe", "x") + "#gate": t0}}, claim("recipe", Step{Name: "x#gate"}, t0), true},
		{"resend inside the cooldown", sent, claim("recipe", resend, t0.Add(9*time.Minute)), false},
		{"resend at the cooldown", sent, claim("recipe", resend, t0.Add(10*time.Minute)), true},
		{"resend stored without cooldown: not inside the minimum", sent, claim("recipe", always, t0.Add(MinResendCooldown-time.Millisecond)), false},
		{"resend stored without cooldown: due after the minimum", sent, claim("recipe", always, t0.Add(MinResendCooldown)), true},
		{"stored before rules keyed steps: the person's flow", Conversation{Rule: "recipe", Steps: map[string]time.Time{"link": t0}}, claim("recipe", once, t0), false},
		{"stored before rules keyed steps: another flow", Conversation{Rule: "recipe", Steps: map[string]time.Time{"link": t0}}, claim("guide", once, t0), true},
	}
	for _, tt := range due {
		if got := tt.c.Due(tt.cl); got != tt.want {
			t.Errorf("Due %s = %v, want %v", tt.name, got, tt.want)
		}
	}
	if ConversationKey("1", "2") != "V#1#2" {
		t.Errorf("ConversationKey = %q", ConversationKey("1", "2"))
	}
}

func TestFollowUpKey(t *testing.T) {
	base := FollowUp{PersonID: person, Rule: "recipe", Step: "link", Index: 1, Trigger: "mid.1", Lane: LaneText, Deadline: t0}
	edit := func(f func(*FollowUp)) FollowUp { x := base; f(&x); return x }
	tests := []struct {
		name string
		f    FollowUp
		want string
	}{
		{"per trigger", base, "S#17841400000000001#" + person + "#recipe#link#1#mid.1"},
		{"once per conversation", edit(func(f *FollowUp) { f.Once = true }), "S#17841400000000001#" + person + "#recipe#link#1"},
		{"the gate's message, per trigger", edit(func(f *FollowUp) { f.Gate, f.Index = true, 0 }), "S#17841400000000001#" + person + "#recipe#link#gate#0#mid.1"},
		{"'#' in names is escaped", edit(func(f *FollowUp) { f.Rule, f.Step = "a#b", "c#1" }), "S#17841400000000001#" + person + "#a%23b#c%231#1#mid.1"},
		{"'%' in names is escaped", edit(func(f *FollowUp) { f.Rule = "a%23b" }), "S#17841400000000001#" + person + "#a%2523b#link#1#mid.1"},
	}
	for _, tt := range tests {
		if got := FollowUpKey("17841400000000001", tt.f); got != tt.want {
			t.Errorf("%s: FollowUpKey = %q, want %q", tt.name, got, tt.want)
		}
	}
	// No two distinct follow-ups share a key, whatever their names hold.
	forgeries := [][2]FollowUp{
		{edit(func(f *FollowUp) { f.Rule, f.Step = "a#b", "c" }), edit(func(f *FollowUp) { f.Rule, f.Step = "a", "b#c" })},
		{edit(func(f *FollowUp) { f.Rule = "a#b" }), edit(func(f *FollowUp) { f.Rule = "a%23b" })},
		{edit(func(f *FollowUp) { f.Step, f.Gate, f.Index = "link", true, 0 }), edit(func(f *FollowUp) { f.Step, f.Index = "link#gate", 0 })},
		{edit(func(f *FollowUp) { f.Once, f.Index = true, 1 }), edit(func(f *FollowUp) { f.Step, f.Index, f.Trigger = "link#1", 0, "x" })},
		{edit(func(f *FollowUp) { f.Once = true }), base},
		{edit(func(f *FollowUp) { f.Trigger = "mid.2" }), base},
	}
	for _, p := range forgeries {
		if a, b := FollowUpKey("1", p[0]), FollowUpKey("1", p[1]); a == b {
			t.Errorf("%+v and %+v share key %q", p[0], p[1], a)
		}
	}
	j := Job{V: JobVersion, AccountID: "17841400000000001", FollowUp: &base}
	if j.Key() != FollowUpKey(j.AccountID, base) || j.Deadline() != t0 || j.Lane() != LaneText {
		t.Errorf("follow-up job: key %q deadline %s lane %s", j.Key(), j.Deadline(), j.Lane())
	}
	j.FollowUp = &FollowUp{Lane: LaneMedia}
	if j.Lane() != LaneMedia {
		t.Errorf("media follow-up lane %s", j.Lane())
	}
}

func TestMessagingJobValidate(t *testing.T) {
	event := Event{Kind: EventPostback, PersonID: person, MID: "mid.1", Payload: "P", At: t0}
	follow := FollowUp{PersonID: person, Rule: "recipe", Step: "link", Of: 1, Digest: "d", Trigger: "mid.1", Lane: LaneText, Deadline: t0}
	tests := []struct {
		name string
		edit func(*Job)
		ok   bool
	}{
		{"event", func(j *Job) { e := event; j.Event = &e }, true},
		{"follow-up", func(j *Job) { f := follow; j.FollowUp = &f }, true},
		{"both", func(j *Job) { e, f := event, follow; j.Event, j.FollowUp = &e, &f }, false},
		{"event of an old version", func(j *Job) { e := event; j.Event, j.V = &e, 0 }, false},
		{"event without account", func(j *Job) { e := event; j.Event, j.AccountID = &e, "" }, false},
		{"event person not an id", func(j *Job) { e := event; e.PersonID = "ana"; j.Event = &e }, false},
		{"event without mid", func(j *Job) { e := event; e.MID = ""; j.Event = &e }, false},
		{"event without time", func(j *Job) { e := event; e.At = time.Time{}; j.Event = &e }, false},
		{"event kind unknown", func(j *Job) { e := event; e.Kind = "seen"; j.Event = &e }, false},
		{"echo", func(j *Job) { e := event; e.Kind = EventEcho; j.Event = &e }, true},
		{"reaction", func(j *Job) { e := event; e.Kind = EventReaction; j.Event = &e }, true},
		{"follow-up person not an id", func(j *Job) { f := follow; f.PersonID = ""; j.FollowUp = &f }, false},
		{"follow-up without rule", func(j *Job) { f := follow; f.Rule = ""; j.FollowUp = &f }, false},
		{"follow-up without step", func(j *Job) { f := follow; f.Step = ""; j.FollowUp = &f }, false},
		{"follow-up negative index", func(j *Job) { f := follow; f.Index = -1; j.FollowUp = &f }, false},
		{"follow-up past its turn", func(j *Job) { f := follow; f.Index = 1; j.FollowUp = &f }, false},
		{"follow-up claimed before records named their message", func(j *Job) { f := follow; f.Digest, f.Of = "", 0; j.FollowUp = &f }, true},
		{"the disclosure notice", func(j *Job) { f := follow; f.Digest, f.Notice = "", true; j.FollowUp = &f }, true},
		{"follow-up without trigger", func(j *Job) { f := follow; f.Trigger = ""; j.FollowUp = &f }, false},
		{"follow-up lane of private replies", func(j *Job) { f := follow; f.Lane = LanePosts; j.FollowUp = &f }, false},
		{"follow-up without deadline", func(j *Job) { f := follow; f.Deadline = time.Time{}; j.FollowUp = &f }, false},
	}
	for _, tt := range tests {
		// No comment in these jobs: an event or a follow-up needs none.
		j := Job{V: JobVersion, AccountID: "17841400000000001"}
		tt.edit(&j)
		err := j.Validate()
		if tt.ok && err != nil || !tt.ok && !errors.Is(err, ErrInvalidJob) {
			t.Errorf("%s: Validate() = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
	opens := map[EventKind]bool{EventMessage: true, EventQuickReply: true, EventStoryReply: true, EventPostback: true, EventReaction: false, EventEcho: false}
	for k, want := range opens {
		if got := (Event{Kind: k}).Opens(); got != want {
			t.Errorf("%s opens the window: %v, want %v", k, got, want)
		}
	}
}

func TestSplitStepKey(t *testing.T) {
	tests := []struct{ key, rule, step string }{
		{StepKey("recipe", "link"), "recipe", "link"},
		{StepKey("a#b", "x#gate"), "a#b", "x#gate"},
		{StepKey("recipe", "x") + gateSuffix, "recipe", "x (follow gate)"},
		{StepKey("50%", "100%"), "50%", "100%"},
		{"link", "", "link"}, // stored before steps had their rule
	}
	for _, tt := range tests {
		if rule, step := SplitStepKey(tt.key); rule != tt.rule || step != tt.step {
			t.Errorf("SplitStepKey(%q) = %q, %q; want %q, %q", tt.key, rule, step, tt.rule, tt.step)
		}
	}
}

// Issue 24, finding 7: a step that resends without a cooldown let any person make the account
// send on every tap. An account file must give a resending step a cooldown of at least
// MinResendCooldown, and a step stored before that rule waits the minimum all the same: a
// person who taps forty times in a minute gets the step once.
func TestResendWithoutCooldownRefused(t *testing.T) {
	for _, cd := range []time.Duration{0, time.Second, MinResendCooldown - time.Millisecond} {
		a := funnel()
		a.Rules[0].Flow[1].Resend, a.Rules[0].Flow[1].Cooldown = true, cd
		if err := a.Validate(); err == nil || !strings.Contains(err.Error(), `flow[1] "more": cooldown: required with resend`) {
			t.Errorf("resend with cooldown %s: Validate() = %v", cd, err)
		}
	}
	a := funnel()
	a.Rules[0].Flow[1].Resend, a.Rules[0].Flow[1].Cooldown = true, MinResendCooldown
	if err := a.Validate(); err != nil {
		t.Errorf("resend at the minimum: %v", err)
	}

	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	stored := Step{Name: "more", Resend: true} // an account written before the minimum
	c := Conversation{Rule: "recipe"}
	sends := 0
	for tap := 0; tap < 40; tap++ {
		cl := StepClaim{Rule: "recipe", Step: stored, At: t0.Add(time.Duration(tap) * 1500 * time.Millisecond)}
		if c.Due(cl) {
			sends++
			c = c.Claimed(cl)
		}
	}
	if sends != 1 {
		t.Errorf("40 taps in a minute sent the step %d times, want 1", sends)
	}
	if got := (StepClaim{Step: stored}).Cooldown(); got != MinResendCooldown {
		t.Errorf("stored step's cooldown %s, want %s", got, MinResendCooldown)
	}
	if got := (StepClaim{Step: stored, Gate: true}).Cooldown(); got != 0 {
		t.Errorf("a gate's message has no cooldown (one per tap): %s", got)
	}
}
