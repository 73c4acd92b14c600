package conversation

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// BenchmarkDecide is the inbound event's decision alone: the conversation after the touch, the
// route to a step (a payload, or an answer's keywords across a flow and 20 DM rules), and whether
// the step is due and discloses.
func BenchmarkDecide(b *testing.B) {
	acct := reply.Account{ID: account, Rules: []reply.Rule{{Name: "recipe", Flow: []reply.Step{
		{Name: "link", On: reply.Trigger{Payload: payload}},
		{Name: "thanks", On: reply.Trigger{Keywords: []string{"thanks", "thank you", "merci"}}},
		{Name: "rest", On: reply.Trigger{Any: true}},
	}}}}
	for i := range 20 {
		acct.DMRules = append(acct.DMRules, reply.DMRule{Name: fmt.Sprint("dm", i), Match: reply.MatchWord, Keywords: []string{fmt.Sprint("word", i)}})
	}
	conv := reply.Conversation{AccountID: account, PersonID: person, Rule: "recipe", LastAutomated: start}
	events := []reply.Event{
		{Kind: reply.EventPostback, PersonID: person, MID: "m1", Payload: payload, At: start},
		{Kind: reply.EventMessage, PersonID: person, MID: "m2", Text: "Thank you so much!", At: start},
		{Kind: reply.EventMessage, PersonID: "17841400000000902", MID: "m3", Text: "what about word19?", At: start},
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ev := events[i%len(events)]
		t := reply.Touch{AccountID: account, PersonID: ev.PersonID, At: ev.At, Now: start}
		c := conv.Touched(t)
		f, ok := acct.Route(c, ev)
		if !ok || !c.Due(reply.StepClaim{Rule: f.Rule, Step: f.Step, At: start}) {
			b.Fatalf("event %d routed nowhere", i%len(events))
		}
		_ = c.Disclose(start, time.Hour)
	}
}

// BenchmarkTap is one tap end to end in process: Touch, route, claim, lane, the Send API call
// to the sandbox over loopback HTTP, the outcome.
func BenchmarkTap(b *testing.B) {
	e := newEnv(b, nil)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p := fmt.Sprintf("1784140%010d", i)
		e.clock.Add(10 * time.Millisecond) // inside the text lane's 300/s
		_, body := e.sb.Postback(account, p, payload, "Link")
		jobs := parse(b, body, e.clock.Now())
		if r, err := e.s.Handle(ctx, jobs[0], Lease{Owner: "bench", Until: e.clock.Now().Add(time.Minute)}); err != nil || r.Action != "sent" {
			b.Fatalf("tap %d: %+v, %v", i, r, err)
		}
	}
}
