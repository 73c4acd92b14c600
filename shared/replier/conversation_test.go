package replier

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/webhook"
)

// funnel stores the account with testdata/funnel.json's rules: a private reply with a button, a
// follow-gated link with a heart, a keyword step, and a DM rule.
func (e *env) funnel() {
	e.t.Helper()
	var f reply.Account
	readJSON(e.t, "testdata/funnel.json", &f)
	e.put(func(a *reply.Account) { a.Rules, a.DMRules = f.Rules, f.DMRules })
}

// deliver runs what Meta would POST (a sandbox webhook body) through the webhook's parser and
// the replier, as the queue would, and returns the decisions.
func (e *env) deliver(body []byte) []Decision {
	e.t.Helper()
	d, err := webhook.Parse(body, e.clock.Now())
	if err != nil {
		e.t.Fatalf("parse %s: %v", body, err)
	}
	var out []Decision
	for _, j := range d.Jobs {
		dec, err := e.r.Process(context.Background(), j)
		if err != nil {
			e.t.Fatalf("process %s: %v", j.Key(), err)
		}
		out = append(out, dec)
	}
	return out
}

// sentTo is what the person got through the Send API, as texts (a heart is "♥").
func (e *env) sentTo(person string) []string {
	var out []string
	for _, m := range e.sb.Messages() {
		if m.PersonID != person {
			continue
		}
		switch m.Kind {
		case reply.MessageHeart:
			out = append(out, "♥")
		case reply.MessageImage, reply.MessageAudio, reply.MessageVideo:
			out = append(out, m.URL)
		default:
			out = append(out, m.Text)
		}
	}
	return out
}

func same(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestFunnel: comment → private reply with a button → tap, not following → the gate → follow,
// tap again → the link and a heart → a third tap and a duplicate → nothing → a keyword answer
// → its step; a human's answer pauses; a tap that reaches us after its window → nothing.
func TestFunnel(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.funnel()
			job := sampleJob(t, 1)
			job.Text = "recipe please"
			if d := e.process(job); d.Action != ActionSent {
				t.Fatalf("private reply: %+v", d)
			}
			pr := e.sb.Deliveries()
			if len(pr) != 1 || len(pr[0].Buttons) != 1 || pr[0].Buttons[0].Payload != "RECIPE_LINK" {
				t.Fatalf("private reply holds %+v, want the button", pr)
			}
			person, acct := job.FromID, e.acct.ID
			disclosure := "\n\n" + e.acct.Disclosure
			link := "Here it is, " + job.FromUsername + ": https://example.com/r/lasagna"

			steps := []struct {
				name string
				act  func() []byte
				want []string // everything the person got so far
			}{
				{"tap, not following: the gate", func() []byte {
					_, b := e.sb.Postback(acct, person, "RECIPE_LINK", "Send me the link")
					return b
				}, []string{"Follow us, then tap the button again 💛" + disclosure}},
				{"follow and tap again: the link and a heart", func() []byte {
					e.sb.SetFollows(acct, person, true)
					_, b := e.sb.Postback(acct, person, "RECIPE_LINK", "Send me the link")
					return b
				}, []string{"Follow us, then tap the button again 💛" + disclosure, link, "♥"}},
				{"a third tap: nothing", func() []byte {
					_, b := e.sb.Postback(acct, person, "RECIPE_LINK", "Send me the link")
					return b
				}, nil},
				{"a keyword answer: its step", func() []byte {
					_, b := e.sb.Message(acct, person, "thanks!!")
					return b
				}, []string{"Enjoy your lasagna!"}},
			}
			var got []string
			for _, st := range steps {
				e.clock.Add(time.Minute)
				body := st.act()
				e.deliver(body)
				e.deliver(body) // Meta redelivers: nothing more
				got = append(got, st.want...)
				if st.name == "follow and tap again: the link and a heart" {
					got = st.want
				}
				if s := e.sentTo(person); !same(s, got) {
					t.Fatalf("%s: the person got %q, want %q", st.name, s, got)
				}
			}
			for _, m := range e.sb.Messages() {
				if m.At.After(m.WindowEnd) {
					t.Errorf("message %+v sent outside the window", m)
				}
			}

			// A human answers from the Instagram app: the next keyword answer is theirs.
			e.clock.Add(time.Minute)
			_, human := e.sb.HumanReply(acct, person, "Hi, Ana here!")
			if d := e.deliver(human); d[0].Action != "paused" {
				t.Fatalf("human echo: %+v", d)
			}
			e.clock.Add(time.Minute)
			_, b := e.sb.Message(acct, person, "thank you")
			if d := e.deliver(b); d[0].Reason != "human_paused" {
				t.Fatalf("answer while paused: %+v", d)
			}

			// Another person: a DM keyword opens a conversation of its own.
			other := "17841400000000999"
			_, b = e.sb.Message(acct, other, "what's the price?")
			e.deliver(b)
			if s := e.sentTo(other); !same(s, []string{"The course is 49 €: https://example.com/course" + disclosure}) {
				t.Fatalf("DM rule: %q", s)
			}

			// A tap whose delivery reaches us 25 hours late: its window closed, nothing is sent.
			late := "17841400000000998"
			_, b = e.sb.Message(acct, late, "price")
			e.clock.Add(25 * time.Hour)
			if d := e.deliver(b); d[0].Action != "expired" {
				t.Fatalf("late answer: %+v", d)
			}
			if s := e.sentTo(late); len(s) != 0 {
				t.Fatalf("late answer got %q", s)
			}
		})
	}
}

// TestRequestsPerFollowUp counts what one tap that sends one follow-up costs, with warm caches:
// DynamoDB write requests and reads, and Graph calls (a gated step adds the profile call).
func TestRequestsPerFollowUp(t *testing.T) {
	for _, kind := range bothStores {
		for _, gated := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/gated=%v", kind.name, gated), func(t *testing.T) {
				e := newEnv(t, kind)
				e.funnel()
				if !gated {
					e.put(func(a *reply.Account) {
						a.Rules[0].Flow[0].Gate, a.Rules[0].Flow[0].Messages = nil, a.Rules[0].Flow[0].Messages[:1]
					})
				} else {
					e.put(func(a *reply.Account) { a.Rules[0].Flow[0].Messages = a.Rules[0].Flow[0].Messages[:1] })
				}
				const n = 10
				people := make([]string, n+1)
				for i := range people {
					job := sampleJob(t, i)
					job.Text = "recipe"
					if d := e.process(job); d.Action != ActionSent {
						t.Fatalf("private reply %d: %+v", i, d)
					}
					people[i] = job.FromID
					e.sb.SetFollows(e.acct.ID, job.FromID, true)
				}
				_, b := e.sb.Postback(e.acct.ID, people[0], "RECIPE_LINK", "Send me the link")
				e.deliver(b) // warms the caches
				r0, w0 := e.counts()
				c0, m0 := e.sb.Stats().Calls, len(e.sb.Messages())
				for _, p := range people[1:] {
					_, b := e.sb.Postback(e.acct.ID, p, "RECIPE_LINK", "Send me the link")
					e.deliver(b)
				}
				r1, w1 := e.counts()
				calls := 0
				for op, c := range e.sb.Stats().Calls {
					calls += c - c0[op]
				}
				if sent := len(e.sb.Messages()) - m0; sent != n {
					t.Fatalf("%d follow-ups sent, want %d", sent, n)
				}
				// The first follow-up of a conversation carries the disclosure, and its delivery
				// is recorded (one more write), so the next one knows it is not owed.
				t.Logf("%s gated=%v: per first follow-up sent: %.2f writes (Touch, claim, bucket, outcome, disclosed), %.2f reads, %.2f Graph calls",
					kind.name, gated, float64(w1-w0)/n, float64(r1-r0)/n, float64(calls)/n)
				wantCalls := n
				if gated {
					wantCalls = 2 * n
				}
				if w1-w0 != 5*n || r1-r0 != 0 || calls != wantCalls {
					t.Fatalf("%d writes, %d reads, %d Graph calls for %d follow-ups; want %d, 0, %d", w1-w0, r1-r0, calls, n, 5*n, wantCalls)
				}
				// A later step of the same conversations: no disclosure due, four writes.
				c0 = e.sb.Stats().Calls
				for _, p := range people[1:] {
					e.clock.Add(time.Second)
					_, b := e.sb.Message(e.acct.ID, p, "thanks!!")
					e.deliver(b)
				}
				r2, w2 := e.counts()
				calls = 0
				for op, c := range e.sb.Stats().Calls {
					calls += c - c0[op]
				}
				t.Logf("%s gated=%v: per later follow-up sent: %.2f writes (Touch, claim, bucket, outcome), %.2f reads, %.2f Graph calls",
					kind.name, gated, float64(w2-w1)/n, float64(r2-r1)/n, float64(calls)/n)
				if w2-w1 != 4*n || r2-r1 != 0 || calls != n {
					t.Fatalf("later step: %d writes, %d reads, %d Graph calls for %d follow-ups; want %d, 0, %d", w2-w1, r2-r1, calls, n, 4*n, n)
				}
			})
		}
	}
}
