package devstack

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

const disclosure = "This is an automated reply."

func text(person, t string) sandbox.SentMessage {
	return sandbox.SentMessage{AccountID: DemoAccountID, PersonID: person, Kind: reply.MessageText, Text: t}
}

func disclosed(person, t string) sandbox.SentMessage { return text(person, t+"\n\n"+disclosure) }

func image(person, url string) sandbox.SentMessage {
	return sandbox.SentMessage{AccountID: DemoAccountID, PersonID: person, Kind: reply.MessageImage, URL: url}
}

func TestRead(t *testing.T) {
	const p = demoAna
	heart := sandbox.SentMessage{PersonID: p, Kind: reply.MessageHeart}
	tests := []struct {
		name  string
		msgs  []sandbox.SentMessage
		lines []string
		where string
	}{
		{"nothing", nil, nil, DisclosedNone},
		{"with the first", []sandbox.SentMessage{disclosed(p, "a"), heart}, []string{"a", "♥"}, DisclosedWith},
		{"its own message first", []sandbox.SentMessage{text(p, disclosure), image(p, "https://x.example/i.png"), text(p, "b")},
			[]string{"[image] https://x.example/i.png", "b"}, DisclosedAlone},
		{"none", []sandbox.SentMessage{text(p, "a"), text(p, "b")}, []string{"a", "b"}, DisclosedNone},
		{"after the first message", []sandbox.SentMessage{image(p, "https://x.example/i.png"), disclosed(p, "b")},
			[]string{"[image] https://x.example/i.png", "b"}, "late: message 2"},
		{"twice", []sandbox.SentMessage{disclosed(p, "a"), disclosed(p, "b")}, []string{"a", "b"}, "2 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines, where := Read(tt.msgs, disclosure)
			if !slices.Equal(lines, tt.lines) || where != tt.where {
				t.Errorf("Read = %q, %q; want %q, %q", lines, where, tt.lines, tt.where)
			}
		})
	}
}

// demoLedger is the follow-ups the demo's conversations must leave, as the sandbox records them.
func demoLedger() []sandbox.SentMessage {
	const img = "https://bakery.example/sourdough.jpg"
	const ask = "Three days, four ingredients. Want the guide?"
	return []sandbox.SentMessage{
		disclosed(demoAna, "Follow us, then tap the button again 💛"),
		text(demoAna, "Here is the recipe, ana: https://bakery.example/recipe"),
		{AccountID: DemoAccountID, PersonID: demoAna, Kind: reply.MessageHeart},
		image(demoAna, img), text(demoAna, ask),
		text(demoAna, "Here is the sourdough guide, ana: https://bakery.example/sourdough"),
		text(demoFay, disclosure), image(demoFay, img), text(demoFay, ask),
		disclosed(demoDMer, "Our recipe book is 12 €: https://bakery.example/book"),
		text(demoDMer, "We're open Tuesday to Sunday, 7:00 to 19:00: https://bakery.example/visit"),
	}
}

// Each of the ledger's checks holds of the demo's ledger and fails when the product misses what
// it shows: issue 19's cases 1 (a second step "link", a second DM rule) and 4 (the disclosure).
func TestProveNoticesMissedExpectations(t *testing.T) {
	acct := DemoAccounts()[0]
	without := func(drop int) func([]sandbox.SentMessage) []sandbox.SentMessage {
		return func(l []sandbox.SentMessage) []sandbox.SentMessage { return slices.Delete(l, drop, drop+1) }
	}
	tests := []struct {
		name   string
		ledger func([]sandbox.SentMessage) []sandbox.SentMessage
		acct   func(*reply.Account)
		failed []int // the proofs that must fail
		says   string
	}{
		{"the demo's ledger", nil, nil, nil, ""},
		{"the second step link never sent", without(5), nil, []int{0}, `rule "sourdough"'s reached ana 0 times`},
		{"a link sent twice", func(l []sandbox.SentMessage) []sandbox.SentMessage { return append(l, l[1], l[2]) }, nil, []int{0}, `rule "recipe"'s reached ana 2 times`},
		{"one rule has a step link", nil, func(a *reply.Account) { a.Rules[1].Flow[1].Name = "guide" }, []int{0}, `1 rule(s) with a step "link"`},
		{"the second DM rule never answers", without(10), nil, []int{1}, `DM rule "hours" answered 0 times`},
		{"one DM rule", nil, func(a *reply.Account) { a.DMRules = a.DMRules[:1] }, []int{1}, "1 DM rule(s)"},
		{"no disclosure before an image", without(6), nil, []int{2}, demoFay + ": none; never as a message of its own"},
		{"the disclosure again", func(l []sandbox.SentMessage) []sandbox.SentMessage {
			l[10].Text += "\n\n" + disclosure
			return l
		}, nil, []int{2}, demoDMer + ": 2 times"},
		{"the disclosure after the first message", func(l []sandbox.SentMessage) []sandbox.SentMessage {
			l[0].Text, l[1].Text = "Follow us, then tap the button again 💛", l[1].Text+"\n\n"+disclosure
			return l
		}, nil, []int{2}, demoAna + ": late: message 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ledger, a := demoLedger(), acct
			a.Rules = slices.Clone(acct.Rules)
			a.Rules[1].Flow = slices.Clone(acct.Rules[1].Flow)
			if tt.ledger != nil {
				ledger = tt.ledger(ledger)
			}
			if tt.acct != nil {
				tt.acct(&a)
			}
			proofs := prove(a, ledger)
			if len(proofs) != 3 {
				t.Fatalf("%d proofs, want 3", len(proofs))
			}
			var failed []int
			for i, p := range proofs {
				if p.Problem != "" {
					failed = append(failed, i)
				}
			}
			if !slices.Equal(failed, tt.failed) || ProofsFailed(proofs) != len(tt.failed) {
				t.Errorf("failed %v, want %v: %+v", failed, tt.failed, proofs)
			}
			if tt.says != "" && !strings.Contains(proofs[tt.failed[0]].Problem, tt.says) {
				t.Errorf("problem %q lacks %q", proofs[tt.failed[0]].Problem, tt.says)
			}
		})
	}
}

// A private reply of another rule than the case's is a missed expectation.
func TestRuleReplied(t *testing.T) {
	acct := DemoAccounts()[0]
	c := DemoCases()[6] // ana on the sourdough reel
	if c.Rule != "sourdough" {
		t.Fatalf("case %q is for rule %q", c.Name, c.Rule)
	}
	sourdough, _ := acct.Rules[1].Render("ana", acct.Disclosure)
	recipe, _ := acct.Rules[0].Render("ana", acct.Disclosure)
	for _, tt := range []struct {
		text string
		ok   bool
	}{{sourdough, true}, {recipe, false}, {strings.TrimSuffix(sourdough, "\n\n"+disclosure), false}} {
		got := ruleReplied(acct, c, []sandbox.Delivery{{CommentID: "another", Text: "x"}, {CommentID: c.CommentID, Text: tt.text}})
		if (len(got) == 0) != tt.ok {
			t.Errorf("private reply %q: problems %q", tt.text, got)
		}
	}
	c.Rule = "nope"
	if got := ruleReplied(acct, c, nil); len(got) != 1 {
		t.Errorf("an unknown rule: %q", got)
	}
}

// The demo's conversation expectations come from the account: a step it lacks is an error before
// anything runs.
func TestDemoFunnelFromAccount(t *testing.T) {
	a := DemoAccounts()[0]
	turns, err := DemoFunnel(a)
	if err != nil {
		t.Fatal(err)
	}
	if got := turns[4].Want; !slices.Equal(got, []string{"Here is the sourdough guide, ana: https://bakery.example/sourdough"}) {
		t.Errorf("the second link's turn wants %q", got)
	}
	a.Rules = slices.Clone(a.Rules)
	a.Rules[1].Flow = a.Rules[1].Flow[:1]
	a.DMRules = a.DMRules[:1]
	_, err = DemoFunnel(a)
	if err == nil || !strings.Contains(err.Error(), `rule "sourdough"'s step "link"`) || !strings.Contains(err.Error(), `DM rule "hours"`) {
		t.Errorf("err %v", err)
	}
}

// A turn whose messages or disclosure differ from what it wants is reported, by the running
// stack.
func TestFunnelNoticesMissedExpectations(t *testing.T) {
	s, _ := start(t, Config{})
	if _, err := s.Demo(context.Background(), DemoCases()[:1], 5*time.Second); err != nil {
		t.Fatal(err)
	}
	turns, err := DemoFunnel(DemoAccounts()[0])
	if err != nil {
		t.Fatal(err)
	}
	turns = turns[:3]
	turns[0].Disclosure = DisclosedNone // the gate's message carries it
	// As many messages as the turn really sends (the link and a heart), so the turn waits for
	// both and the heart never spills into the next turn however slow the machine.
	turns[1].Want = slices.Clone(turns[1].Want)
	turns[1].Want[0] = "Here is the sourdough guide, ana: https://bakery.example/sourdough"
	played, err := s.Funnel(context.Background(), turns, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if FunnelFailed(played) != 2 || !strings.Contains(played[0].Problem, "disclosure with the first message, want none") ||
		!strings.Contains(played[1].Problem, "got [") || played[2].Problem != "" {
		t.Errorf("outcomes %+v", played)
	}
}
