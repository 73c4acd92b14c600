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

// TestExampleFunnelIsTheDemos: account.example.yaml documents the funnel `make demo` runs
// (devstack.DemoAccounts): the same button payload, step, follow gate, message kinds and DM
// rule, so that neither can change without the other.
func TestExampleFunnelIsTheDemos(t *testing.T) {
	example, err := opLoadAccount("account.example.yaml", opDefaultTokenPath)
	if err != nil {
		t.Fatalf("account.example.yaml: %v", err)
	}
	demo := devstack.DemoAccounts()
	if len(demo) != 1 {
		t.Fatalf("%d demo accounts, want 1", len(demo))
	}
	want := funnelShape{
		Buttons: []string{"postback " + devstack.DemoPayload},
		Steps: []stepShape{{Name: "link", Payload: devstack.DemoPayload, Gate: reply.GateAsk,
			GateKinds: []string{"text"}, Kinds: []string{"text", "like_heart"}}},
		DMRules: []dmShape{{Name: "price", Match: string(reply.MatchWord), Stories: true, Kinds: []string{"text"}}},
	}
	for _, c := range []struct {
		name string
		acct reply.Account
	}{
		{"account.example.yaml", example},
		{"devstack.DemoAccounts", demo[0]},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := shapeOf(t, c.acct); !reflect.DeepEqual(got, want) {
				t.Errorf("funnel\n got %+v\nwant %+v", got, want)
			}
		})
	}
}
