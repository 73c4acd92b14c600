package conversation

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestSendAnswers: each answer Meta may give a Send API call, and what the follow-up's record
// says of it.
func TestSendAnswers(t *testing.T) {
	tests := []struct {
		name   string
		fault  sandbox.Fault
		state  reply.State
		reason string
		action string
		sent   int // messages in the sandbox's ledger
	}{
		{"accepted", sandbox.Fault{}, reply.StateSent, "", "sent", 1},
		{"window closed (10/2018278)", sandbox.MetaError(400, 10, 2018278), reply.StateExpired, "10/2018278", "expired", 0},
		{"throttled (613)", sandbox.Throttle(), reply.StateParked, ParkThrottled, "parked", 0},
		{"token expired (190)", sandbox.MetaError(400, 190, 463), reply.StateParked, ParkToken, "parked", 0},
		{"transient 500, may have landed", sandbox.ServerError(500), reply.StateAmbiguous, ReasonUncertainSend, "ambiguous", 0},
		{"delivered, answer lost", sandbox.DropAfter(), reply.StateAmbiguous, ReasonUncertainSend, "ambiguous", 1},
		{"refused for good (100)", sandbox.MetaError(400, 100, 0), reply.StateFailed, "100", "failed", 0},
		{"person unavailable (551)", sandbox.MetaError(400, 551, 1545041), reply.StateFailed, "551/1545041", "failed", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if !tt.fault.None() {
				e.sb.QueueCallFault(sandbox.OpSend, person, tt.fault)
			}
			if r := e.tap(); r.Action != tt.action || r.Reason != tt.reason {
				t.Errorf("result %+v, want %s (%s)", r, tt.action, tt.reason)
			}
			recs := e.followUps()
			if len(recs) != 1 || recs[0].State != tt.state || recs[0].Reason != tt.reason {
				t.Fatalf("records %+v, want one %s (%s)", recs, tt.state, tt.reason)
			}
			if n := len(e.sb.Messages()); n != tt.sent {
				t.Errorf("sandbox ledger holds %d messages, want %d", n, tt.sent)
			}
			if tt.state == reply.StateParked && (recs[0].DueAt.IsZero() || recs[0].Job.FollowUp == nil) {
				t.Errorf("parked without a due time or its job: %+v", recs[0])
			}
		})
	}
}

// TestFollowGate: following, not following, Meta unable to say (no consent, an outage) with
// either fallback.
func TestFollowGate(t *testing.T) {
	gated := func(fallback string) func(*reply.Account) {
		return func(a *reply.Account) {
			a.Rules[0].Flow[0].Gate = &reply.Gate{Message: reply.Message{Text: "Follow first"}, Unavailable: fallback}
		}
	}
	tests := []struct {
		name     string
		fallback string
		follows  bool
		fault    *sandbox.Fault // on the profile call
		want     []string
		blocked  float64
	}{
		{"following: the step", reply.GateAsk, true, nil, []string{"https://example.com/r\n\nAutomated."}, 0},
		{"not following: the gate", reply.GateAsk, false, nil, []string{"Follow first\n\nAutomated."}, 1},
		{"no consent, ask: the gate", reply.GateAsk, true,
			&sandbox.Fault{Status: 403, Code: 230, Message: "(#230) User consent is required to access user profile"}, []string{"Follow first\n\nAutomated."}, 1},
		{"Meta down, send: the step", reply.GateSend, false, &sandbox.Fault{Status: 500, Code: 1}, []string{"https://example.com/r\n\nAutomated."}, 0},
		{"Meta down, ask: the gate", reply.GateAsk, true, &sandbox.Fault{Status: 500, Code: 1}, []string{"Follow first\n\nAutomated."}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, gated(tt.fallback))
			e.sb.SetFollows(account, person, tt.follows)
			if tt.fault != nil {
				e.sb.QueueCallFault(sandbox.OpProfile, person, *tt.fault)
			}
			e.tap()
			if got := e.texts(); !slices.Equal(got, tt.want) {
				t.Errorf("the person got %q, want %q", got, tt.want)
			}
			if got := e.m.Get(MetricGateBlocked); got != tt.blocked {
				t.Errorf("FollowGateBlocked = %v, want %v", got, tt.blocked)
			}
		})
	}

	// Not following, then following: the gate once per tap, the step once it is open.
	e := newEnv(t, gated(reply.GateAsk))
	e.tap()
	e.clock.Add(time.Minute)
	e.tap()
	e.sb.SetFollows(account, person, true)
	e.clock.Add(time.Minute)
	e.tap()
	e.clock.Add(time.Minute)
	e.tap()
	want := []string{"Follow first\n\nAutomated.", "Follow first", "https://example.com/r"}
	if got := e.texts(); !slices.Equal(got, want) {
		t.Errorf("gate, gate, follow, step, tap: got %q, want %q", got, want)
	}
}

// TestHumanPauseAndDisclosure: the disclosure goes on the first automated message, again after
// the lapse, and again after a human's pause ended; while a human answers, nothing goes out.
func TestHumanPauseAndDisclosure(t *testing.T) {
	e := newEnv(t, func(a *reply.Account) {
		a.DisclosureLapse = 2 * time.Hour
		a.HumanPause = time.Hour
		a.Rules[0].Flow[0].Resend, a.Rules[0].Flow[0].Cooldown = true, reply.MinResendCooldown
	})
	steps := []struct {
		name    string
		advance time.Duration
		act     func()
		want    string // the person's latest message; "" when nothing new
	}{
		{"first message: disclosed", 0, nil, "https://example.com/r\n\nAutomated."},
		{"a minute later: not again", time.Minute, nil, "https://example.com/r"},
		{"after the lapse: disclosed again", 3 * time.Hour, nil, "https://example.com/r\n\nAutomated."},
		{"a human answers: paused", time.Minute, func() {
			_, b := e.sb.HumanReply(account, person, "Hi, it's Ana")
			if r := e.handle(b); r[0].Action != "paused" {
				t.Fatalf("human echo: %+v", r)
			}
		}, ""},
		{"our own echo pauses nothing", 0, func() {
			for _, b := range e.sb.TakeEchoes() {
				e.handle(b)
			}
		}, ""},
		{"the pause ended: disclosed again", time.Hour, nil, "https://example.com/r\n\nAutomated."},
	}
	seen := 0
	for _, st := range steps {
		e.clock.Add(st.advance)
		if st.act != nil {
			st.act()
		}
		r := e.tap()
		got := e.texts()
		switch {
		case st.want == "" && len(got) != seen:
			t.Fatalf("%s: sent %q", st.name, got[seen:])
		case st.want == "" && r.Reason != ReasonPaused:
			t.Fatalf("%s: %+v, want paused", st.name, r)
		case st.want != "" && (len(got) != seen+1 || got[seen] != st.want):
			t.Fatalf("%s: got %q, want %q", st.name, got[seen:], st.want)
		}
		seen = len(got)
	}
	if n := e.m.Get(MetricHumanPaused); n != 1 {
		t.Errorf("HumanPaused = %v, want 1", n)
	}
}

// TestEvents: what each kind of messaging event does when nothing else is going on.
func TestEvents(t *testing.T) {
	tests := []struct {
		name   string
		body   func(e *env) []byte
		action string
		reason string
		opened float64
	}{
		{"a tap on the button: its step", func(e *env) []byte { _, b := e.sb.Postback(account, person, payload, "Link"); return b }, "sent", "", 1},
		{"a tap on an old button", func(e *env) []byte { _, b := e.sb.Postback(account, person, "GONE", "Old"); return b }, "ignored", ReasonUnknownTap, 1},
		{"an answer no step takes", func(e *env) []byte { _, b := e.sb.Message(account, person, "hello"); return b }, "ignored", ReasonNoTrigger, 1},
		{"a quick reply with the step's payload", func(e *env) []byte { _, b := e.sb.QuickReply(account, person, "Link", payload); return b }, "sent", "", 1},
		{"a story reply", func(e *env) []byte { _, b := e.sb.StoryReply(account, person, "18000000000000070", "wow"); return b }, "ignored", ReasonNoTrigger, 1},
		{"a reaction", func(e *env) []byte { return e.sb.Reaction(account, person, "m_x", "love") }, "ignored", ReasonReaction, 0},
		{"an unknown account", func(e *env) []byte { _, b := e.sb.Postback("17841400000000077", person, payload, "Link"); return b }, "ignored", ReasonNoAccount, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			r := e.handle(tt.body(e))
			if len(r) != 1 || r[0].Action != tt.action || r[0].Reason != tt.reason {
				t.Fatalf("results %+v, want %s (%s)", r, tt.action, tt.reason)
			}
			if got := e.m.Get(MetricOpened); got != tt.opened {
				t.Errorf("ConversationsOpened = %v, want %v", got, tt.opened)
			}
		})
	}
}

// TestReleasedFollowUp: a follow-up parked by its lane is sent when the sweeper releases it, and
// one whose step was edited away is skipped, never sent from a stale job.
func TestReleasedFollowUp(t *testing.T) {
	for _, edited := range []bool{false, true} {
		e := newEnv(t, nil)
		e.sb.QueueCallFault(sandbox.OpSend, person, sandbox.Throttle())
		e.tap()
		rec := e.followUps()[0]
		if rec.State != reply.StateParked {
			t.Fatalf("after a throttle: %s", rec.State)
		}
		if edited {
			a := e.acct
			a.Version++
			a.Rules[0].Flow[0].Name = "renamed"
			if _, err := e.store.PutAccount(context.Background(), a); err != nil {
				t.Fatal(err)
			}
		}
		e.clock.Add(2 * time.Second)
		r, err := e.release(rec)
		want := "sent"
		if edited {
			want = "skipped"
		}
		if err != nil || r.Action != want {
			t.Fatalf("edited=%v: released follow-up: %+v, %v; want %s", edited, r, err, want)
		}
	}
}

// TestForgottenPerson: a tap already on its way when the person's data was deleted sends
// nothing and leaves no conversation behind.
func TestForgottenPerson(t *testing.T) {
	e := newEnv(t, nil)
	if err := e.store.PutTombstone(context.Background(), reply.Tombstone{PersonID: person, At: e.clock.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if r := e.tap(); r.Reason != ReasonForgotten {
		t.Fatalf("tap of a forgotten person: %+v", r)
	}
	if _, err := e.store.Conversation(context.Background(), account, person); !errors.Is(err, reply.ErrNotFound) {
		t.Errorf("conversation left behind: %v", err)
	}
	if n := len(e.sb.Messages()); n != 0 {
		t.Errorf("%d messages sent", n)
	}
}

// TestOrphanedFollowUp: a holder claimed a follow-up and died (after its send reached Meta, or
// not: nobody can tell). When the sweeper re-drives the record after the lease, nothing is sent
// again: the Send API has no one-message rule, so at most once means AMBIGUOUS.
func TestOrphanedFollowUp(t *testing.T) {
	e := newEnv(t, nil)
	e.sb.QueueCallFault(sandbox.OpSend, person, sandbox.Throttle())
	e.tap()
	rec := e.followUps()[0]
	e.clock.Add(2 * time.Second)
	claimed, err := rec.Claim(rec.Job, "dead", e.clock.Now(), e.clock.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Update(context.Background(), claimed); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Minute) // the lease ran out; the sweeper re-drives the record
	r, err := e.s.Handle(context.Background(), rec.Job, Lease{Owner: "w2", Until: e.clock.Now().Add(time.Minute)})
	if err != nil || r.Action != "ambiguous" || r.Reason != ReasonUncertainSend {
		t.Fatalf("orphaned follow-up: %+v, %v; want ambiguous (%s)", r, err, ReasonUncertainSend)
	}
	if got := e.texts(); len(got) != 0 {
		t.Fatalf("sent %q after a holder died with the claim", got)
	}
	if got := e.followUps()[0]; got.State != reply.StateAmbiguous {
		t.Fatalf("record %s, want AMBIGUOUS", got.State)
	}
}

// TestTapWithoutToken: a tap while SSM cannot give the account's token is claimed and parked,
// not failed back to the queue (whose redeliveries a long outage would use up, losing the
// tap); the sweeper's release sends it once the token reads again.
func TestTapWithoutToken(t *testing.T) {
	e := newEnv(t, nil)
	e.tokens.ssmDown = true
	if r := e.tap(); r.Action != "parked" || r.Reason != ParkToken {
		t.Fatalf("tap without a token: %+v, want parked (%s)", r, ParkToken)
	}
	rec := e.followUps()[0]
	if rec.State != reply.StateParked || len(e.texts()) != 0 {
		t.Fatalf("record %s, sent %q; want PARKED and nothing sent", rec.State, e.texts())
	}
	e.tokens.ssmDown = false
	e.clock.Add(tokenWait)
	r, err := e.release(rec)
	if err != nil || r.Action != "sent" || len(e.texts()) != 1 {
		t.Fatalf("released: %+v, %v, sent %q; want the step sent once", r, err, e.texts())
	}
}

// TestTurnEnds: a turn of three messages whose first Meta refuses for the person (551, a block)
// or answers with the window closed ends there: the later two end without a call. A refusal of
// the message itself (100) does not end it. The same holds when the first message was parked
// and its answer comes on the sweeper's release.
func TestTurnEnds(t *testing.T) {
	tests := []struct {
		name        string
		first       sandbox.Fault
		parkedFirst bool
		state       reply.State // of the two messages after the first
		reason      string
		calls       int
	}{
		{"person unavailable (551)", sandbox.MetaError(400, 551, 1545041), false, reply.StateSkipped, ReasonTurnEnded, 1},
		{"blocked (200/1545041)", sandbox.MetaError(400, 200, 1545041), false, reply.StateSkipped, ReasonTurnEnded, 1},
		{"window closed (10/2018278)", sandbox.MetaError(400, 10, 2018278), false, reply.StateExpired, "10/2018278", 1},
		{"message refused (100)", sandbox.MetaError(400, 100, 0), false, reply.StateSent, "", 3},
		{"551 on the release of a parked first", sandbox.MetaError(400, 551, 1545041), true, reply.StateSkipped, ReasonTurnEnded, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(a *reply.Account) {
				a.Rules[0].Flow[0].Messages = []reply.Message{{Text: "one"}, {Text: "two"}, {Text: "three"}}
			})
			var calls atomic.Int32
			e.sb.SetFault(func(c sandbox.Call) sandbox.Fault {
				if c.Op != sandbox.OpSend {
					return sandbox.Fault{}
				}
				switch n := calls.Add(1); {
				case tt.parkedFirst && n == 1:
					return sandbox.Throttle()
				case n == 1 && !tt.parkedFirst, n == 2 && tt.parkedFirst:
					return tt.first
				}
				return sandbox.Fault{}
			})
			e.tap()
			if tt.parkedFirst {
				e.clock.Add(10 * time.Minute)
				var first reply.Record
				for _, r := range e.followUps() {
					if r.Job.FollowUp.Index == 0 {
						first = r
					}
				}
				if first.State != reply.StateParked {
					t.Fatalf("first message %s (%s), want it parked", first.State, first.Reason)
				}
				if _, err := e.release(first); err != nil {
					t.Fatal(err)
				}
			}
			recs := e.followUps()
			if len(recs) != 3 {
				t.Fatalf("%d follow-up records, want 3", len(recs))
			}
			for _, r := range recs {
				if r.Job.FollowUp.Index == 0 {
					continue
				}
				if r.State != tt.state || r.Reason != tt.reason {
					t.Errorf("message %d: %s (%s), want %s (%s)", r.Job.FollowUp.Index, r.State, r.Reason, tt.state, tt.reason)
				}
			}
			if n := int(calls.Load()); n != tt.calls {
				t.Errorf("%d Send API calls, want %d", n, tt.calls)
			}
		})
	}
}
