package reply

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// entryAccount has one of each entry point, valid.
func entryAccount() Account {
	step := func(name, payload string) Step {
		return Step{Name: name, On: Trigger{Payload: payload}, Messages: []Message{{Text: name}}}
	}
	return Account{ID: "17841400000000001", Login: LoginInstagram, TokenParam: "/t",
		DMRules:        []DMRule{{Name: "hello", Match: MatchWord, Keywords: []string{"hello"}, Messages: []Message{{Text: "hi"}}}},
		MentionRules:   []MentionRule{{Name: "mention", Messages: []Message{{Text: "thanks"}}, Flow: []Step{step("menu", "MENU")}}},
		RefRules:       []RefRule{{Name: "qr", Ref: "recipe-*", Messages: []Message{{Text: "welcome"}}, Flow: []Step{step("ask", "ASK")}}, {Name: "bio", Ref: "bio", Messages: []Message{{Text: "bio"}}}},
		IceBreakers:    []IceBreaker{{Question: "What's cooking?", Payload: "ASK"}},
		PersistentMenu: []MenuItem{{Type: ButtonPostback, Title: "Recipes", Payload: "MENU"}, {Type: ButtonURL, Title: "Shop", URL: "https://shop.example.com"}},
	}
}

func TestValidateEntries(t *testing.T) {
	five := make([]IceBreaker, 5)
	for i := range five {
		five[i] = IceBreaker{Question: fmt.Sprintf("Q%d", i), Payload: "ASK"}
	}
	tests := []struct {
		name string
		edit func(*Account)
		want string // part of the error; "" = valid
	}{
		{"valid", func(*Account) {}, ""},
		{"a fifth ice breaker", func(a *Account) { a.IceBreakers = five }, "ice_breakers: 5, Meta allows 4"},
		{"a question too long", func(a *Account) { a.IceBreakers[0].Question = strings.Repeat("q", 81) }, "ice_breakers[0].question: 81 characters, Meta allows 80"},
		{"an ice breaker whose payload runs no step", func(a *Account) { a.IceBreakers[0].Payload = "NOPE" }, `ice_breakers[0]: payload "NOPE": no flow step runs on it`},
		{"two ice breakers, one payload", func(a *Account) {
			a.IceBreakers = append(a.IceBreakers, IceBreaker{Question: "again?", Payload: "ASK"})
		}, "another ice breaker has it"},
		{"a payload too long", func(a *Account) { a.IceBreakers[0].Payload = strings.Repeat("p", 1001) }, "payload: 1001 bytes, Meta allows 1000"},
		{"a menu title over 30", func(a *Account) { a.PersistentMenu[0].Title = strings.Repeat("t", 31) }, "persistent_menu[0].title: 31 characters, Meta allows 30"},
		{"21 menu items", func(a *Account) {
			a.PersistentMenu = slices.Repeat(a.PersistentMenu[1:], 21)
		}, "persistent_menu: 21 items, Meta allows 20"},
		{"a menu link without url", func(a *Account) { a.PersistentMenu[1].URL = "" }, "persistent_menu[1].url: required"},
		{"a menu item of another type", func(a *Account) { a.PersistentMenu[1].Type = "phone_number" }, `persistent_menu[1].type: "phone_number"`},
		{"an empty ref", func(a *Account) { a.RefRules[0].Ref = "" }, `ref_rules[0] "qr": ref: required`},
		{"a ref Meta cannot carry", func(a *Account) { a.RefRules[0].Ref = "summer sale" }, "Meta passes only letters, digits"},
		{"a wildcard inside", func(a *Account) { a.RefRules[0].Ref = "a*b" }, "Meta passes only letters"},
		{"any ref", func(a *Account) { a.RefRules[0].Ref = "*" }, ""},
		{"a ref rule without name", func(a *Account) { a.RefRules[0].Name = "" }, `ref_rules[0] "": name: required`},
		{"a ref rule named like a DM rule", func(a *Account) { a.RefRules[0].Name = "hello" }, `ref_rules[0] "hello": name: dm_rules[0] has it already`},
		{"a ref rule without messages", func(a *Account) { a.RefRules[1].Messages = nil }, `ref_rules[1] "bio": messages: at least one`},
		{"two mention rules", func(a *Account) {
			a.MentionRules = append(a.MentionRules, MentionRule{Name: "m2", Messages: []Message{{Text: "x"}}})
		}, "mention_rules: 2, at most 1"},
		{"a mention rule's every too short", func(a *Account) { a.MentionRules[0].Every = time.Second }, "every: 1s, at least 1m0s"},
		{"a mention flow payload also in a ref flow", func(a *Account) { a.RefRules[0].Flow[0].On.Payload, a.IceBreakers = "MENU", nil }, `on.payload: "MENU" is also the trigger of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := entryAccount()
			tt.edit(&a)
			err := a.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestRouteEntries(t *testing.T) {
	a := entryAccount()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		ev       Event
		rule     string // "" = nothing runs
		step     string
		entry    string
		resendIn time.Duration // the step's cooldown when it resends
	}{
		{"story mention", Event{Kind: EventStoryMention}, "mention", OpeningStep, EntryStoryMention, DefaultMentionEvery},
		{"referral, wildcard", Event{Kind: EventReferral, Ref: "recipe-qr"}, "qr", OpeningStep, EntryRef, 0},
		{"referral, exact", Event{Kind: EventReferral, Ref: "bio"}, "bio", OpeningStep, EntryRef, 0},
		{"referral, exact is not a prefix", Event{Kind: EventReferral, Ref: "biography"}, "", "", EntryRef, 0},
		{"ref on a message", Event{Kind: EventMessage, Text: "hello", Ref: "recipe-1"}, "qr", OpeningStep, EntryRef, 0},
		{"unmapped ref on a message: answered as a message", Event{Kind: EventMessage, Text: "hello", Ref: "other"}, "hello", OpeningStep, "", 0},
		{"unmapped ref on an ice breaker tap: the tap's step", Event{Kind: EventPostback, Payload: "ASK", Ref: "other"}, "qr", "ask", EntryIceBreaker, 0},
		{"ref on an ice breaker tap: the ref's flow", Event{Kind: EventPostback, Payload: "ASK", Ref: "recipe-1"}, "qr", OpeningStep, EntryRef, 0},
		{"ice breaker tap", Event{Kind: EventPostback, Payload: "ASK"}, "qr", "ask", EntryIceBreaker, 0},
		{"menu tap", Event{Kind: EventPostback, Payload: "MENU"}, "mention", "menu", EntryMenu, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.ev.PersonID, tt.ev.MID, tt.ev.At = "17841400000000777", "m1", at
			if !tt.ev.Opens() {
				t.Error("an entry opens the window")
			}
			if err := tt.ev.validate(); err != nil {
				t.Errorf("validate: %v", err)
			}
			f, ok := a.Route(Conversation{}, tt.ev)
			if ok != (tt.rule != "") || f.Rule != tt.rule || f.Step.Key() != tt.step {
				t.Fatalf("Route = %q %q %v, want %q %q", f.Rule, f.Step.Key(), ok, tt.rule, tt.step)
			}
			if got := a.EntryOf(tt.ev); got != tt.entry {
				t.Errorf("EntryOf = %q, want %q", got, tt.entry)
			}
			if ok && (f.Step.Resend != (tt.resendIn > 0) || f.Step.Cooldown != tt.resendIn) {
				t.Errorf("resend %v every %s, want every %s", f.Step.Resend, f.Step.Cooldown, tt.resendIn)
			}
			if ok && tt.step == OpeningStep {
				// a follow-up of the answer finds its message by the entry rule
				m, found := a.StepMessage(FollowUp{Rule: f.Rule, Step: OpeningStep, Digest: f.Step.Messages[0].Digest()})
				if !found || m.Text != f.Step.Messages[0].Text {
					t.Errorf("StepMessage = %+v, %v", m, found)
				}
			}
		})
	}
}

func TestEntryNeededFields(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Account)
		want string
	}{
		{"mention only", func(a *Account) {
			*a = Account{MentionRules: []MentionRule{{Name: "m", Messages: []Message{{Text: "x"}}}}}
		}, "messages"},
		{"ref rule", func(a *Account) {
			*a = Account{RefRules: []RefRule{{Name: "r", Ref: "x", Messages: []Message{{Text: "x"}}}}}
		}, "messages,messaging_postbacks,messaging_referral"},
		{"ice breakers", func(a *Account) { *a = Account{IceBreakers: []IceBreaker{{Question: "q", Payload: "P"}}} }, "messaging_postbacks"},
		{"all", func(*Account) {}, "messages,messaging_postbacks,messaging_referral"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := entryAccount()
			tt.edit(&a)
			if got := strings.Join(a.NeededFields(), ","); got != tt.want {
				t.Errorf("NeededFields = %s, want %s", got, tt.want)
			}
		})
	}
}
