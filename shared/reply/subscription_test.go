package reply

import (
	"slices"
	"strings"
	"testing"
)

// TestNeededFields is issue 19, case 9 (taps arrive at all): the webhook fields an account
// needs follow from its configuration, and a tap's field is needed wherever a tap can run
// something.
func TestNeededFields(t *testing.T) {
	postback := []Button{{Type: ButtonPostback, Title: "Link", Payload: "LINK"}}
	web := []Button{{Type: ButtonURL, Title: "Open", URL: "https://example.com"}}
	text := []Message{{Text: "here"}}
	tests := []struct {
		name string
		a    Account
		want string
	}{
		{"nothing configured", Account{}, ""},
		{"comment rules alone", Account{Rules: []Rule{{Name: "r", Message: "hi"}}}, "comments,live_comments"},
		{"a private reply with a url button", Account{Rules: []Rule{{Name: "r", Buttons: web}}}, "comments,live_comments"},
		{"a private reply with a postback button", Account{Rules: []Rule{{Name: "r", Buttons: postback}}},
			"comments,live_comments,messaging_postbacks"},
		{"a flow on keywords", Account{Rules: []Rule{{Name: "r", Flow: []Step{{Name: "s", On: Trigger{Keywords: []string{"yes"}}, Messages: text}}}}},
			"comments,live_comments,messages"},
		{"a flow on a payload", Account{Rules: []Rule{{Name: "r", QuickReplies: []QuickReply{{Title: "Yes", Payload: "Y"}},
			Flow: []Step{{Name: "s", On: Trigger{Payload: "Y"}, Messages: text}}}}},
			"comments,live_comments,messages,messaging_postbacks"},
		{"a step sends a postback button", Account{Rules: []Rule{{Name: "r", Flow: []Step{{Name: "s", On: Trigger{Any: true},
			Messages: []Message{{Text: "tap", Buttons: postback}}}}}}},
			"comments,live_comments,messages,messaging_postbacks"},
		{"a follow gate asks for a tap", Account{Rules: []Rule{{Name: "r", Flow: []Step{{Name: "s", On: Trigger{Any: true}, Messages: text,
			Gate: &Gate{Message: Message{Text: "follow, then tap", Buttons: postback}}}}}}},
			"comments,live_comments,messages,messaging_postbacks"},
		{"dm rules alone", Account{DMRules: []DMRule{{Name: "d", Match: MatchAny, Messages: text}}}, "messages"},
		{"a dm rule's answer has a postback button", Account{DMRules: []DMRule{{Name: "d", Messages: []Message{{Text: "tap", Buttons: postback}}}}},
			"messages,messaging_postbacks"},
		{"a dm rule's flow runs on a payload", Account{DMRules: []DMRule{{Name: "d", Messages: text,
			Flow: []Step{{Name: "s", On: Trigger{Payload: "P"}, Messages: text}}}}}, "messages,messaging_postbacks"},
		{"sending a reaction needs no reactions", Account{Rules: []Rule{{Name: "r", Flow: []Step{{Name: "s", On: Trigger{Any: true},
			Messages: []Message{{Kind: MessageReaction}}}}}}}, "comments,live_comments,messages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.a.NeededFields()
			if strings.Join(got, ",") != tt.want {
				t.Errorf("NeededFields = %v, want %s", got, tt.want)
			}
			for _, f := range got {
				if !slices.Contains(WebhookFields, f) {
					t.Errorf("%s is needed but `subscribe` would not ask for it", f)
				}
			}
		})
	}
}

// TestSubscriptionGap: only our app's entry counts (issue 19, case 9): another app subscribed to
// the fields we lack hides nothing, and without our app ids no fields are added up across apps.
func TestSubscriptionGap(t *testing.T) {
	const ours, other = "1000000000000001", "2000000000000002"
	all := []string{FieldComments, FieldLiveComments, FieldMessages, FieldPostbacks}
	tests := []struct {
		name         string
		apps         []SubscribedApp
		ourIDs       []string
		needed       []string
		missing, had string
	}{
		{"no app at all", nil, []string{ours}, all, "comments,live_comments,messages,messaging_postbacks", ""},
		{"ours has everything", []SubscribedApp{{ID: ours, Fields: WebhookFields}}, []string{ours}, all, "",
			"comments,live_comments,messages,messaging_postbacks,messaging_reactions,messaging_referral"},
		{"ours lacks the taps", []SubscribedApp{{ID: ours, Fields: []string{"comments", "live_comments", "messages"}}}, []string{ours}, all,
			"messaging_postbacks", "comments,live_comments,messages"},
		{"another app's taps are not ours", []SubscribedApp{{ID: other, Fields: WebhookFields}, {ID: ours, Fields: []string{"comments", "live_comments"}}},
			[]string{ours}, all, "messages,messaging_postbacks", "comments,live_comments"},
		{"only another app is subscribed", []SubscribedApp{{ID: other, Fields: WebhookFields}}, []string{ours}, all,
			"comments,live_comments,messages,messaging_postbacks", ""},
		{"either of our two apps", []SubscribedApp{{ID: other, Fields: nil}, {ID: ours, Fields: []string{"comments"}}, {ID: "3", Fields: []string{"live_comments"}}},
			[]string{"3", ours}, []string{"comments", "live_comments"}, "", "comments,live_comments"},
		{"no app ids: one entry judged alone", []SubscribedApp{{ID: other, Fields: []string{"comments", "live_comments"}}, {ID: ours, Fields: []string{"messages", "messaging_postbacks"}}},
			nil, all, "messages,messaging_postbacks", "comments,live_comments"},
		{"no app ids: a complete entry", []SubscribedApp{{ID: other, Fields: []string{"comments"}}, {ID: ours, Fields: all}}, nil, all, "",
			"comments,live_comments,messages,messaging_postbacks"},
		{"nothing needed", []SubscribedApp{{ID: other, Fields: all}}, []string{ours}, nil, "", ""},
		{"referrals by Messenger's name", []SubscribedApp{{ID: ours, Fields: []string{"messages", "messaging_referrals"}}}, []string{ours},
			[]string{FieldMessages, FieldReferrals}, "", "messages,messaging_referrals"},
		{"reactions by Meta's Instagram name", []SubscribedApp{{ID: ours, Fields: []string{"message_reactions"}}}, []string{ours},
			[]string{FieldReactions, FieldReferrals}, "messaging_referral", "message_reactions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			missing, had := SubscriptionGap(tt.apps, tt.ourIDs, tt.needed)
			if strings.Join(missing, ",") != tt.missing || strings.Join(had, ",") != tt.had {
				t.Errorf("missing %v, had %v; want %s, had %s", missing, had, tt.missing, tt.had)
			}
		})
	}
	if got := SubscribeFields([]string{"messaging_seen", "comments"}); strings.Join(got, ",") != strings.Join(WebhookFields, ",")+",messaging_seen" {
		t.Errorf("SubscribeFields keeps what we had and adds every field: %v", got)
	}
	if got := SubscribeFields([]string{"message_reactions"}); strings.Join(got, ",") != "comments,live_comments,messages,messaging_postbacks,messaging_referral,message_reactions" {
		t.Errorf("SubscribeFields keeps a field's other name and does not add the field again: %v", got)
	}
}
