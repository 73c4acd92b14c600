package conversation

import (
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// publishing puts e's service behind the events outbox, as the replier's main does when events
// are on, with an in-memory bus.
func (e *env) publishing() *memory.Bus {
	bus := &memory.Bus{}
	out := &events.OutboxStore{Store: e.store, Outbox: e.store, Bus: bus, Clock: e.clock, Metrics: e.m,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	pacer := &bucketPacer{clock: e.clock, buckets: map[reply.Lane]reply.Bucket{}}
	accounts := e.s.accounts
	e.s = New(out, e.g, &e.tokens, pacer, accounts, []string{sandbox.DefaultAppID}, e.clock, e.m, nil)
	return bus
}

func kindsOf(evs []events.Event) []events.Kind {
	var ks []events.Kind
	for _, ev := range evs {
		ks = append(ks, ev.Kind)
	}
	return ks
}

// A tap that runs a step publishes ButtonTapped with its claim, a gate the person passed
// FollowGatePassed; a tap delivered twice, or on a step already sent, publishes nothing more.
func TestTapAndGateEvents(t *testing.T) {
	gated := func(a *reply.Account) {
		a.Rules[0].Flow[0].Gate = &reply.Gate{Message: reply.Message{Text: "Follow first"}, Unavailable: reply.GateSend}
	}
	tests := []struct {
		name    string
		edit    func(*reply.Account)
		follows bool
		fault   *sandbox.Fault
		want    []events.Kind
	}{
		{"ungated step", nil, false, nil, []events.Kind{events.ButtonTapped, events.FollowUpSent}},
		{"gate passed", gated, true, nil, []events.Kind{events.ButtonTapped, events.FollowGatePassed, events.FollowUpSent}},
		{"gate stopped the tap: its message", gated, false, nil, []events.Kind{events.ButtonTapped, events.FollowUpSent}},
		{"gate could not ask, sent the step", gated, true, &sandbox.Fault{Status: 500, Code: 1}, []events.Kind{events.ButtonTapped, events.FollowUpSent}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.edit)
			bus := e.publishing()
			e.sb.SetFollows(account, person, tc.follows)
			if tc.fault != nil {
				e.sb.QueueCallFault(sandbox.OpProfile, person, *tc.fault)
			}
			_, body := e.sb.Postback(account, person, payload, "Link")
			if r := e.handle(body)[0]; r.Action != "sent" {
				t.Fatalf("tap: %+v", r)
			}
			evs := bus.Events()
			if got := kindsOf(evs); !slices.Equal(got, tc.want) {
				t.Fatalf("published %v, want %v", got, tc.want)
			}
			tap := evs[0].Detail
			if tap.Payload != payload || tap.Rule != "recipe" || tap.Step != "link" || tap.Person != person || tap.Trigger == "" {
				t.Errorf("ButtonTapped %+v", tap)
			}
			// Meta delivers the same tap again: no claim, no event.
			e.handle(body)
			if got := kindsOf(bus.Events()); len(got) != len(tc.want) {
				t.Errorf("after the same tap again: %v", got)
			}
		})
	}

	// A second tap on a step sent once: nothing claimed, nothing published.
	e := newEnv(t, nil)
	bus := e.publishing()
	e.tap()
	e.clock.Add(time.Minute)
	e.tap()
	if got := kindsOf(bus.Events()); !slices.Equal(got, []events.Kind{events.ButtonTapped, events.FollowUpSent}) {
		t.Errorf("two taps on a step sent once: %v", got)
	}
}

// A human's answer from the account pauses the conversation and publishes ConversationPaused,
// once; our own echoes, and the human's echo delivered again, publish nothing.
func TestPauseEvent(t *testing.T) {
	e := newEnv(t, func(a *reply.Account) { a.HumanPause = time.Hour })
	bus := e.publishing()
	e.tap()
	for _, b := range e.sb.TakeEchoes() { // our own message's echo
		e.handle(b)
	}
	e.clock.Add(time.Minute)
	_, human := e.sb.HumanReply(account, person, "Hi, it's Ana")
	if r := e.handle(human); r[0].Action != "paused" {
		t.Fatalf("human echo: %+v", r)
	}
	e.handle(human) // Meta delivers it again
	var paused []events.Event
	for _, ev := range bus.Events() {
		if ev.Kind == events.ConversationPaused {
			paused = append(paused, ev)
		}
	}
	if len(paused) != 1 || paused[0].Detail.MessageID == "" || paused[0].Detail.Person != person {
		t.Fatalf("ConversationPaused published %+v; want one, naming the human's message", paused)
	}
}
