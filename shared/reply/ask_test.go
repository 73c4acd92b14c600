package reply

import (
	"strings"
	"testing"
	"time"
)

// askAccount is an account whose rule "book" asks for an email after a tap, then sends the book.
func askAccount() Account {
	return Account{ID: "17841400000000001", Login: LoginInstagram, TokenParam: "/t", Disclosure: "Automated.",
		Leads: LeadSettings{Consent: "We only use it to send the book.", PhoneRegion: "DE"},
		Rules: []Rule{{Name: "book", Match: MatchWord, Keywords: []string{"book"}, Message: "Tap for the book",
			Buttons: []Button{{Type: ButtonPostback, Title: "Get it", Payload: "BOOK"}},
			Flow: []Step{
				{Name: "email", On: Trigger{Payload: "BOOK"}, Messages: []Message{{Text: "Your email?"}},
					Ask: &Ask{Kind: AskEmail, Consent: true, Confirm: []Message{{Text: "Thanks!"}}, Next: "send",
						Retry: Message{Text: "That is no email, try again"}, Fallback: Message{Text: "Here it is anyway: https://example.com/b"}}},
				{Name: "send", On: Trigger{Keywords: []string{"resend"}}, Messages: []Message{{Text: "The book: https://example.com/b"}, {Kind: MessageHeart}}},
			}}}}
}

func TestValidateAsk(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Account)
		want string // part of the error; "" = valid
	}{
		{"valid", func(*Account) {}, ""},
		{"kind", func(a *Account) { a.Rules[0].Flow[0].Ask.Kind = "address" }, `ask: kind: "address"`},
		{"retries", func(a *Account) { a.Rules[0].Flow[0].Ask.Retries = 9 }, "retries: 0 to 5"},
		{"no consent line", func(a *Account) { a.Leads.Consent = "" }, "sets no leads.consent"},
		{"consent too long", func(a *Account) { a.Leads.Consent = strings.Repeat("c", 301) }, "300 bytes"},
		{"question and consent over 1000 bytes", func(a *Account) {
			a.Rules[0].Flow[0].Messages[0].Text = strings.Repeat("q", 850)
			a.Leads.Consent = strings.Repeat("c", 150)
		}, "with the consent line"},
		{"no confirmation", func(a *Account) { a.Rules[0].Flow[0].Ask.Confirm = nil }, "confirm: at least one"},
		{"empty retry", func(a *Account) { a.Rules[0].Flow[0].Ask.Retry = Message{} }, "retry: text: required"},
		{"unknown next", func(a *Account) { a.Rules[0].Flow[0].Ask.Next = "nope" }, `next: no step "nope"`},
		{"resend", func(a *Account) { a.Rules[0].Flow[0].Resend, a.Rules[0].Flow[0].Cooldown = true, time.Hour }, "sent once"},
		{"image question", func(a *Account) {
			a.Rules[0].Flow[0].Messages = []Message{{Kind: MessageImage, URL: "https://example.com/q.png"}}
		}, "question must be text"},
		{"region", func(a *Account) { a.Leads.PhoneRegion = "Germany" }, "phone_region"},
		{"retention", func(a *Account) { a.Leads.Retention = time.Hour }, "retention: at least 24h"},
	}
	for _, tt := range tests {
		a := askAccount()
		tt.edit(&a)
		err := a.Validate()
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}

func TestQuickReplyContentTypeRefused(t *testing.T) {
	for _, ct := range []string{"user_email", "user_phone_number"} {
		a := askAccount()
		a.Rules[0].Buttons = nil
		a.Rules[0].QuickReplies = []QuickReply{{Title: "My email", Payload: "EMAIL", ContentType: ct}}
		err := a.Validate()
		if err == nil || !strings.Contains(err.Error(), "5 October 2026") || !strings.Contains(err.Error(), "a step that asks") {
			t.Errorf("content_type %s: %v; want refused with the date and the way instead", ct, err)
		}
	}
	a := askAccount()
	a.Rules[0].Flow[1].Messages[0].QuickReplies = []QuickReply{{Title: "Phone", Payload: "P", ContentType: "user_phone_number"}}
	if err := a.Validate(); err == nil || !strings.Contains(err.Error(), `flow[1] "send"`) {
		t.Errorf("in a flow: %v; want refused, naming the step", err)
	}
	a.Rules[0].Flow[1].Messages[0].QuickReplies[0].ContentType = "text"
	if err := a.Validate(); err != nil {
		t.Errorf("content_type text: %v", err)
	}
}

func TestAnswerMessagesAndKeys(t *testing.T) {
	a := askAccount()
	flow := a.Rules[0].Flow
	ms, ok := AnswerMessages(flow, flow[0], AnswerConfirm)
	if !ok || len(ms) != 3 || ms[0].Text != "Thanks!" || ms[2].Kind != MessageHeart {
		t.Fatalf("confirm = %+v, %v; want the confirmation and the next step's two messages", ms, ok)
	}
	if ms, ok := AnswerMessages(flow, flow[0], AnswerRetry(2)); !ok || ms[0].Text != flow[0].Ask.Retry.Text {
		t.Errorf("retry = %+v, %v", ms, ok)
	}
	if _, ok := AnswerMessages(flow, flow[1], AnswerConfirm); ok {
		t.Error("a step that does not ask has answer messages")
	}
	f := FollowUp{PersonID: "17841400000000901", Rule: "book", Step: "email", Index: 1, Of: 3, Answer: AnswerConfirm,
		Digest: ms[1].Digest(), Trigger: "m1", Once: true, Lane: LaneText, Deadline: time.Now()}
	if m, ok := a.StepMessage(f); !ok || m.Text != flow[1].Messages[0].Text {
		t.Errorf("StepMessage of the confirmation's second message = %+v, %v", m, ok)
	}
	if k, plain := FollowUpKey(a.ID, f), FollowUpKey(a.ID, FollowUp{PersonID: f.PersonID, Rule: "book", Step: "email", Index: 1, Once: true}); k == plain || !strings.Contains(k, "ask:confirm#") {
		t.Errorf("answer key %q must differ from the step's %q", k, plain)
	}
	// A step named like an answer key forges none: names are escaped.
	if AnswerKey("book", "email", "confirm") == StepKey("book", "email#ask:confirm") {
		t.Error("a step name forged an answer key")
	}
	c := Conversation{Steps: map[string]time.Time{AnswerKey("book", "email", AnswerRetry(1)): time.Unix(100, 0)}}
	claim := StepClaim{Rule: "book", Step: flow[0], Answer: AnswerRetry(1), Since: time.Unix(50, 0)}
	if c.Due(claim) {
		t.Error("retry 1 of this question is due again")
	}
	if claim.Since = time.Unix(200, 0); !c.Due(claim) {
		t.Error("retry 1 of a later question is not due")
	}
}
