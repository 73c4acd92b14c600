package sandbox_test

import (
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/webhook"
)

// TestEntryPoints: each entry point's webhook in Meta's shape, read by the real webhook parser,
// and the window each opens (or, where Meta sends nothing, does not).
func TestEntryPoints(t *testing.T) {
	const person = "17841400000000777"
	profile := reply.MessengerProfile{
		IceBreakers: []reply.IceBreaker{{Question: "What's cooking?", Payload: "ASK_RECIPE"}},
		Menu:        []reply.MenuItem{{Type: reply.ButtonPostback, Title: "Recipes", Payload: "MENU_RECIPES"}},
	}
	tests := []struct {
		name    string
		do      func(t *testing.T, e *env) []byte
		want    reply.Event // Kind, Ref, Payload; "" Kind: Meta sends nothing
		opens   bool
		private bool
	}{
		{name: "story mention", do: func(t *testing.T, e *env) []byte {
			_, b := e.sb.StoryMention(igID, person, "18000000000000099")
			return b
		},
			want: reply.Event{Kind: reply.EventStoryMention}, opens: true},
		{name: "story mention by a private account that does not follow", private: true,
			do: func(t *testing.T, e *env) []byte {
				_, b := e.sb.StoryMention(igID, person, "18000000000000099")
				return b
			}},
		{name: "ig.me link in an existing thread", do: func(t *testing.T, e *env) []byte {
			e.sb.Message(igID, person, "hi")
			e.clock.Add(time.Hour)
			return e.sb.OpenLink(igID, person, "recipe-qr")
		}, want: reply.Event{Kind: reply.EventReferral, Ref: "recipe-qr"}, opens: true},
		{name: "ig.me link opening a new thread: nothing until a tap", do: func(t *testing.T, e *env) []byte {
			return e.sb.OpenLink(igID, person, "recipe-qr")
		}},
		{name: "ice breaker tap after the link", do: func(t *testing.T, e *env) []byte {
			e.sb.OpenLink(igID, person, "recipe-qr")
			_, b, ok := e.sb.IceBreaker(igID, person, "ASK_RECIPE")
			if !ok {
				t.Fatal("the ice breaker is set")
			}
			return b
		}, want: reply.Event{Kind: reply.EventPostback, Ref: "recipe-qr", Payload: "ASK_RECIPE"}, opens: true},
		{name: "ref on the first message", do: func(t *testing.T, e *env) []byte { _, b := e.sb.RefMessage(igID, person, "recipe-bio", "hi"); return b },
			want: reply.Event{Kind: reply.EventMessage, Ref: "recipe-bio"}, opens: true},
		{name: "menu tap", do: func(t *testing.T, e *env) []byte {
			_, b, _ := e.sb.MenuTap(igID, person, "MENU_RECIPES")
			return b
		}, want: reply.Event{Kind: reply.EventPostback, Payload: "MENU_RECIPES"}, opens: true},
		{name: "a tap on an ice breaker not set", do: func(t *testing.T, e *env) []byte {
			if _, _, ok := e.sb.IceBreaker(igID, person, "NOPE"); ok {
				t.Error("tapped an ice breaker the account has not set")
			}
			return nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if err := e.c.SetMessengerProfile(t.Context(), igAccount, igToken, profile, reply.MessengerProfile{}); err != nil {
				t.Fatal(err)
			}
			e.sb.SetPrivate(person, tt.private)
			body := tt.do(t, e)
			if tt.want.Kind == "" {
				if body != nil {
					t.Fatalf("Meta sends nothing here, got %s", body)
				}
			} else {
				d, err := webhook.Parse(body, e.clock.Now())
				if err != nil || len(d.Jobs) != 1 {
					t.Fatalf("parse %s: %v, %d jobs", body, err, len(d.Jobs))
				}
				ev := d.Jobs[0].Event
				if ev.Kind != tt.want.Kind || ev.Ref != tt.want.Ref || ev.Payload != tt.want.Payload || ev.PersonID != person {
					t.Errorf("event = %+v, want %+v", ev, tt.want)
				}
				if !strings.Contains(string(body), `"timestamp"`) {
					t.Errorf("no Meta timestamp: %s", body)
				}
			}
			end := e.sb.WindowEnd(igID, person)
			// The last action happened at the clock's time: the window runs 24 h from it if it opened.
			if opened := !end.Before(e.clock.Now().Add(reply.ConversationWindow)); opened != tt.opens {
				t.Errorf("window end %v (opens %v, want %v)", end, opened, tt.opens)
			}
		})
	}
}

// TestEntryPointsNeedTheirField: a referral in an existing thread comes on messaging_referral
// only; without it Meta posts nothing (the window opens all the same).
func TestEntryPointsNeedTheirField(t *testing.T) {
	const person = "17841400000000778"
	e := newEnv(t)
	e.sb.Message(igID, person, "hi")
	if err := e.c.Subscribe(t.Context(), igAccount, igToken, []string{"messages", "messaging_postbacks"}); err != nil {
		t.Fatal(err)
	}
	if b := e.sb.OpenLink(igID, person, "recipe"); b != nil {
		t.Errorf("delivered without messaging_referral: %s", b)
	}
}
