package main

import (
	"reflect"
	"testing"

	"github.com/replywindow/replywindow/shared/devstack"
	"github.com/replywindow/replywindow/shared/reply"
)

// funnelShape is what a funnel does, without its texts and links: the documented example and
// the demo may word their messages differently, but not send different things.
type funnelShape struct {
	Buttons []string // the "recipe" rule's private reply: "postback PAYLOAD" or "web_url"
	Steps   []stepShape
	DMRules []dmShape
}

type stepShape struct {
	Name, Payload string
	Gate          string   // the gate's unavailable fallback; "" without a gate
	GateKinds     []string // the gate message's kind
	Kinds         []string // the step's messages' kinds, in order
	Resend        bool
}

type dmShape struct {
	Name, Match string
	Stories     bool
	Kinds       []string
	Steps       []stepShape
}

func shapeOf(t *testing.T, a reply.Account) funnelShape {
	t.Helper()
	var s funnelShape
	found := false
	for _, r := range a.Rules {
		if r.Name != "recipe" {
			continue
		}
		found = true
		for _, b := range r.Buttons {
			if b.Type == reply.ButtonPostback {
				s.Buttons = append(s.Buttons, "postback "+b.Payload)
			} else {
				s.Buttons = append(s.Buttons, string(b.Type))
			}
		}
		s.Steps = stepShapes(r.Flow)
	}
	if !found {
		t.Fatalf("account %s has no rule \"recipe\"", a.ID)
	}
	for _, d := range a.DMRules {
		s.DMRules = append(s.DMRules, dmShape{Name: d.Name, Match: string(d.Match), Stories: d.Stories,
			Kinds: kinds(d.Messages), Steps: stepShapes(d.Flow)})
	}
	return s
}

func stepShapes(flow []reply.Step) []stepShape {
	var out []stepShape
	for _, st := range flow {
		sh := stepShape{Name: st.Name, Payload: st.On.Payload, Kinds: kinds(st.Messages), Resend: st.Resend}
		if g := st.Gate; g != nil {
			sh.Gate, sh.GateKinds = g.Unavailable, kinds([]reply.Message{g.Message})
		}
		out = append(out, sh)
	}
	return out
}

func kinds(ms []reply.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Type()))
	}
	return out
}

// TestExampleFunnelIsTheDemos: account.example.yaml documents the funnels `make demo` runs: the
// demo loads the file itself (embedded), and devstack.DemoAccounts, which the stacks that cannot
// read it use (replywindow dev, devstack's tests, the functions' e2e test), is the same account,
// field for field.
func TestExampleFunnelIsTheDemos(t *testing.T) {
	example, err := opLoadAccount("account.example.yaml", opDefaultTokenPath)
	if err != nil {
		t.Fatalf("account.example.yaml: %v", err)
	}
	embedded, err := exampleAccount()
	if err != nil {
		t.Fatalf("the demo's account: %v", err)
	}
	example.Version = 1 // as accounts put stores a new account
	if !reflect.DeepEqual(embedded, example) {
		t.Errorf("the demo's embedded account is not account.example.yaml:\n got %+v\nwant %+v", embedded, example)
	}
	demo := devstack.DemoAccounts()
	if len(demo) != 1 {
		t.Fatalf("%d demo accounts, want 1", len(demo))
	}
	if !reflect.DeepEqual(demo[0], example) {
		t.Errorf("devstack.DemoAccounts differs from account.example.yaml: update it\n got %+v\nwant %+v", demo[0], example)
	}
	// The shape the demo's conversations play: two rules whose flows both end in a step "link",
	// the first behind a follow gate; two DM rules.
	want := funnelShape{
		Buttons: []string{"postback " + devstack.DemoPayload},
		Steps: []stepShape{{Name: "link", Payload: devstack.DemoPayload, Gate: reply.GateAsk,
			GateKinds: []string{"text"}, Kinds: []string{"text", "like_heart"}}},
		DMRules: []dmShape{
			{Name: "price", Match: string(reply.MatchWord), Stories: true, Kinds: []string{"text"},
				// Its button runs a step that asks for an email, then the sample (issue 21).
				Steps: []stepShape{{Name: "email", Payload: "BOOK_SAMPLE", Kinds: []string{"text"}}, {Name: "sample", Kinds: []string{"text"}}}},
			{Name: "hours", Match: string(reply.MatchWord), Kinds: []string{"text"}},
		},
	}
	if got := shapeOf(t, example); !reflect.DeepEqual(got, want) {
		t.Errorf("funnel\n got %+v\nwant %+v", got, want)
	}
	var links []string
	for _, r := range example.Rules {
		if n := len(r.Flow); n > 0 && r.Flow[n-1].Name == "link" {
			links = append(links, r.Name)
		}
	}
	if !reflect.DeepEqual(links, []string{"recipe", "sourdough"}) {
		t.Errorf("rules whose flow ends in a step \"link\": %v", links)
	}
	if _, err := devstack.DemoFunnel(embedded); err != nil {
		t.Errorf("the demo's conversation: %v", err)
	}
}
