package subscription_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/subscription"
)

const (
	igID    = "17841400000000001"
	igToken = "IGAAT-sandbox-subscription"
)

// TestSubscribe: against the sandbox (our Meta) in every reading of the reactions and referrals
// fields' names, a field Meta refuses is asked again by its other name, and left out (the rest
// subscribed) when Meta takes neither; a typo is refused the same way; every field refused, or a
// refusal that is not about a field, is an error with nothing subscribed.
func TestSubscribe(t *testing.T) {
	all := reply.WebhookFields
	without := func(fs ...string) []string {
		return slices.DeleteFunc(slices.Clone(all), func(f string) bool { return slices.Contains(fs, f) })
	}
	renamed := func(fs ...string) []string { // all, each of fs by its other name
		out := slices.Clone(all)
		for _, f := range fs {
			out[slices.Index(out, f)] = reply.FieldAliases[f]
		}
		return out
	}
	refuse := func(fs ...string) []sandbox.Option { return []sandbox.Option{sandbox.WithRefusedFields(fs...)} }
	tests := []struct {
		name    string
		opts    []sandbox.Option
		fields  []string
		token   string
		want    []string // subscribed, in Meta's sandbox
		refused []string
		err     string // part of the error; "" for none
	}{
		{name: "Meta takes messaging_reactions (design.md's reading)", want: all},
		{name: "Meta knows only message_reactions (its fields page's reading)", opts: refuse(reply.FieldReactions),
			want: renamed(reply.FieldReactions), refused: []string{reply.FieldReactions}},
		{name: "Meta knows only messaging_referrals (Messenger's reading)", opts: refuse(reply.FieldReferrals),
			want: renamed(reply.FieldReferrals), refused: []string{reply.FieldReferrals}},
		{name: "the other name, when Meta takes it", fields: []string{"comments", "message_reactions"}, opts: refuse(reply.FieldReactions),
			want: []string{"comments", "message_reactions"}},
		{name: "the other name asked, and refused", fields: []string{"comments", "message_reactions"}, opts: refuse("message_reactions"),
			want: []string{"comments", reply.FieldReactions}, refused: []string{"message_reactions"}},
		{name: "both names of two fields refused", opts: refuse(reply.FieldReactions, "message_reactions", reply.FieldReferrals, "messaging_referrals"),
			want: without(reply.FieldReactions, reply.FieldReferrals), refused: []string{reply.FieldReactions, "message_reactions", reply.FieldReferrals, "messaging_referrals"}},
		{name: "both names asked, one refused", fields: []string{"comments", reply.FieldReactions, "message_reactions"}, opts: refuse(reply.FieldReactions),
			want: []string{"comments", "message_reactions"}, refused: []string{reply.FieldReactions}},
		{name: "a typo", fields: []string{"comments", "comment", "messages"}, want: []string{"comments", "messages"}, refused: []string{"comment"}},
		{name: "every field refused", fields: []string{"comment", "mesages"}, refused: []string{"comment", "mesages"}, err: "every field asked was refused by Meta (comment, mesages)"},
		{name: "a refused token is no field's", token: "IGAAT-wrong", err: "code 190"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb := sandbox.New(tt.opts...)
			sb.AddAccount(igID, igToken, reply.LoginInstagram, "")
			sb.UnsubscribeApp(igID)
			srv := httptest.NewServer(sb)
			t.Cleanup(func() { sb.Close(); srv.Close() })
			g := graph.New(graph.WithBaseURL(srv.URL))
			token := igToken
			if tt.token != "" {
				token = tt.token
			}
			res, err := subscription.Subscribe(context.Background(), g, reply.Account{ID: igID, Login: reply.LoginInstagram}, token, tt.fields)
			if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
				t.Fatalf("err %v, want %q", err, tt.err)
			}
			if got := sb.Subscriptions(igID); !slices.Equal(got, tt.want) || !slices.Equal(res.Fields, tt.want) || !slices.Equal(res.Refused, tt.refused) {
				t.Errorf("subscribed %v (result %v), refused %v; want %v, refused %v", got, res.Fields, res.Refused, tt.want, tt.refused)
			}
			var fe *reply.FieldRefusedError
			if len(tt.refused) > 0 && tt.err != "" && (!errors.As(err, &fe) || fe.Field != tt.refused[len(tt.refused)-1]) {
				t.Errorf("the last refusal is not in the error: %v", err)
			}
		})
	}
}

// TestSubscribedAppsEveryPage: Meta pages subscribed_apps; with more apps on the account than a
// page holds, ours (listed by id, after the others here) is found on a later page, as the doctor
// and the sweeper's check read it (graph.SubscribedApps).
func TestSubscribedAppsEveryPage(t *testing.T) {
	sb := sandbox.New()
	sb.AddAccount(igID, igToken, reply.LoginInstagram, "")
	for i := range 30 {
		sb.SubscribeOtherApp(igID, "9"+strings.Repeat("9", 14)+string(rune('0'+i/10))+string(rune('0'+i%10)), []string{"messages"})
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { sb.Close(); srv.Close() })
	apps, err := graph.New(graph.WithBaseURL(srv.URL)).SubscribedApps(context.Background(), reply.Account{ID: igID, Login: reply.LoginInstagram}, igToken)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(apps, func(a reply.SubscribedApp) bool { return a.ID == sandbox.DefaultAppID })
	if len(apps) != 31 || i < 25 {
		t.Fatalf("%d apps, ours at %d; want 31, ours past the first page of 25", len(apps), i)
	}
	if missing, _ := reply.SubscriptionGap(apps, []string{sandbox.DefaultAppID}, reply.WebhookFields); len(missing) != 0 {
		t.Errorf("our subscription read as lacking %v", missing)
	}
}
