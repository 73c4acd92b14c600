package reconcile

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestTapsArriveAtAll is issue 19, case 9: the subscription check renews our app's subscription
// when it lacks any field the account's configuration needs (a tap comes only on
// messaging_postbacks), and counts only our app's entry of Meta's list: another tool subscribed
// to every field is not a subscription of ours. Once renewed, a tap is delivered.
func TestTapsArriveAtAll(t *testing.T) {
	const otherApp = "3000000000000003"
	commentsOnly := []string{"comments", "live_comments"}
	readme := []string{"comments", "live_comments", "messages"} // the README's old setup step
	withFlow := func(a *reply.Account) {
		a.Rules[0].Buttons = []reply.Button{{Type: reply.ButtonPostback, Title: "Send it", Payload: "LINK"}}
		a.Rules[0].Flow = []reply.Step{{Name: "link", On: reply.Trigger{Payload: "LINK"}, Messages: []reply.Message{{Text: "https://example.com/r"}}}}
	}
	tests := []struct {
		name   string
		edit   func(a *reply.Account)
		ours   []string // our app's fields; nil: Meta dropped it
		other  []string // another app's fields on the account; nil: none
		appIDs []string // META_APP_IDS; nil: the sandbox's app
		renew  bool
		after  string // our app's fields after the check
		sbOpts []sandbox.Option
	}{
		{name: "comment rules, subscribed to comments", ours: commentsOnly, renew: false, after: "comments,live_comments"},
		{name: "a flow with taps, subscribed as the old README said", edit: withFlow, ours: readme, renew: true,
			after: strings.Join(reply.WebhookFields, ",")},
		{name: "a flow with taps, subscribed to everything", edit: withFlow, ours: reply.WebhookFields, renew: false,
			after: strings.Join(reply.WebhookFields, ",")},
		{name: "another app's fields are not ours", edit: withFlow, ours: commentsOnly, other: reply.WebhookFields, renew: true,
			after: strings.Join(reply.WebhookFields, ",")},
		{name: "only another app is subscribed", ours: nil, other: reply.WebhookFields, renew: true,
			after: strings.Join(reply.WebhookFields, ",")},
		{name: "without app ids, fields are not added up across apps", edit: withFlow, ours: commentsOnly,
			other: []string{"messages", "messaging_postbacks"}, appIDs: []string{}, renew: true, after: strings.Join(reply.WebhookFields, ",")},
		{name: "DM rules alone: checked too, no comments read", edit: func(a *reply.Account) {
			a.Rules = nil
			a.DMRules = []reply.DMRule{{Name: "price", Match: reply.MatchWord, Keywords: []string{"price"}, Messages: []reply.Message{{Text: "5 €"}}}}
		}, ours: commentsOnly, renew: true, after: strings.Join(reply.WebhookFields, ",")},
		// Meta's Instagram fields page names reactions message_reactions, Messenger's referrals
		// messaging_referrals: a Meta that refuses our name gets the other one, and one that takes
		// neither must not keep the needed fields from being renewed.
		{name: "Meta refuses messaging_reactions: renewed with message_reactions", edit: withFlow, ours: readme, renew: true,
			after: "comments,live_comments,messages,messaging_postbacks,message_reactions,messaging_referral", sbOpts: []sandbox.Option{sandbox.WithRefusedFields(reply.FieldReactions)}},
		{name: "Meta refuses messaging_referral: renewed with messaging_referrals", edit: withFlow, ours: readme, renew: true,
			after: "comments,live_comments,messages,messaging_postbacks,messaging_reactions,messaging_referrals", sbOpts: []sandbox.Option{sandbox.WithRefusedFields(reply.FieldReferrals)}},
		{name: "Meta takes neither name of reactions: renewed without them", edit: withFlow, ours: readme, renew: true,
			after: "comments,live_comments,messages,messaging_postbacks,messaging_referral", sbOpts: []sandbox.Option{sandbox.WithRefusedFields(reply.FieldReactions, "message_reactions")}},
		{name: "subscribed by the other names: nothing lacks", edit: withFlow, ours: []string{"comments", "live_comments", "messages", "messaging_postbacks", "message_reactions", "messaging_referrals"},
			renew: false, after: "comments,live_comments,messages,messaging_postbacks,message_reactions,messaging_referrals"},
		{name: "a field of the operator's is kept", edit: withFlow, ours: []string{"comments", "live_comments", "messages", "messaging_seen"}, renew: true,
			after: strings.Join(reply.WebhookFields, ",") + ",messaging_seen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{AppIDs: tt.appIDs}, tt.sbOpts...)
			var logs bytes.Buffer
			h.rec.log = slog.New(slog.NewJSONHandler(&logs, nil))
			ctx := context.Background()
			a := testAccount()
			if tt.edit != nil {
				tt.edit(&a)
				a.Version++
				if _, err := h.store.PutAccount(ctx, a); err != nil {
					t.Fatal(err)
				}
			}
			if tt.ours == nil {
				h.sb.UnsubscribeApp(igID)
			} else {
				h.sb.Subscribe(igID, tt.ours)
			}
			if tt.other != nil {
				h.sb.SubscribeOtherApp(igID, otherApp, tt.other)
			}
			rep, err := h.rec.Run(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Resubscribed == 1; got != tt.renew || h.metrics.Get(MetricResubscribed) != float64(rep.Resubscribed) {
				t.Errorf("renewed %v (report %+v), want %v", got, rep, tt.renew)
			}
			if got := strings.Join(h.sb.Subscriptions(igID), ","); got != tt.after {
				t.Errorf("our fields %s, want %s", got, tt.after)
			}
			if tt.renew != strings.Contains(logs.String(), "subscribed again") || tt.sbOpts != nil != strings.Contains(logs.String(), "Meta refused webhook fields") {
				t.Errorf("log %s", logs.String())
			}
			if a := h.storedAccount(t); len(a.Rules) == 0 {
				if calls := h.sb.Stats().Calls; calls[sandbox.OpMedia]+calls[sandbox.OpLiveMedia]+calls[sandbox.OpComments] != 0 {
					t.Errorf("an account without comment rules had its media read: %v", calls)
				}
			}
			// What the account needs is now delivered: a tap reaches the webhook.
			needed := a.NeededFields()
			if _, tap := h.sb.Postback(igID, "1254459154682919", "LINK", "Send it"); slices.Contains(needed, reply.FieldPostbacks) && tap == nil {
				t.Errorf("the account's taps are still not delivered")
			}
			if other := tt.other; other != nil && !slices.Equal(otherFields(t, h, otherApp), other) {
				t.Errorf("the other app's subscription changed: %v", otherFields(t, h, otherApp))
			}
		})
	}
}

func otherFields(t *testing.T, h *harness, appID string) []string {
	t.Helper()
	apps, err := h.graph.SubscribedApps(context.Background(), testAccount(), igToken)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range apps {
		if a.ID == appID {
			return a.Fields
		}
	}
	return nil
}

// TestLoadConfigAppIDs: META_APP_IDS reaches the subscription check; anything but digits is
// refused at start.
func TestLoadConfigAppIDs(t *testing.T) {
	tests := []struct {
		env  string
		want []string
		err  bool
	}{
		{"", nil, false},
		{"1000000000000001", []string{"1000000000000001"}, false},
		{"1000000000000001, 2000000000000002", []string{"1000000000000001", "2000000000000002"}, false},
		{"sbx-app", nil, true},
		{"1,,2", nil, true},
	}
	for _, tt := range tests {
		c, err := LoadConfig(func(k string) string {
			if k == EnvAppIDs {
				return tt.env
			}
			return ""
		})
		if (err != nil) != tt.err || !tt.err && !slices.Equal(c.AppIDs, tt.want) {
			t.Errorf("%q: %v, %v; want %v (error %v)", tt.env, c.AppIDs, err, tt.want, tt.err)
		}
	}
}

func (h *harness) storedAccount(t *testing.T) reply.Account {
	t.Helper()
	a, err := h.store.Account(context.Background(), igID)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
