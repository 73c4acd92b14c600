package main

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/subscription"
)

func TestSubscribe(t *testing.T) {
	h := opSetup(t)
	id := opID(t)
	const token = "IGAAT-test-token-subscribe-42"
	h.sb.AddAccount(id, token, reply.LoginInstagram, "")
	h.runStdin(token, "accounts", "put", "--file", h.accountFile("good.yaml", id), "--token-stdin")

	out := h.must("subscribe", "--account", id)
	if !strings.Contains(out, "subscribed account "+id+" to comments, live_comments, messages") {
		t.Errorf("output: %s", out)
	}
	if got := h.sb.Subscriptions(id); !slices.Equal(got, []string{"comments", "live_comments", "messages", "messaging_postbacks", "messaging_reactions", "messaging_referral"}) {
		t.Errorf("sandbox subscriptions %q", got)
	}
	var js struct {
		Account string   `json:"account"`
		Fields  []string `json:"subscribed_fields"`
	}
	if err := json.Unmarshal([]byte(h.must("subscribe", "--account", id, "--fields", "comments", "--json")), &js); err != nil || js.Account != id || !slices.Equal(js.Fields, []string{"comments"}) {
		t.Errorf("--json: %v %+v", err, js)
	}
	if got := h.sb.Subscriptions(id); !slices.Equal(got, []string{"comments"}) {
		t.Errorf("sandbox subscriptions after --fields %q", got)
	}

	// A revoked token: Meta's 190, and the operator is told what to do.
	h.sb.RevokeToken(token)
	code, _, errs := h.run("subscribe", "--account", id)
	if code != exitFail || !strings.Contains(errs, "190") || !strings.Contains(errs, "accounts put --token-stdin") {
		t.Errorf("revoked: exit %d %q", code, errs)
	}

	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"subscribe"}, exitUsage, "--account is required"},
		{[]string{"subscribe", "--account", id, "--fields", " , "}, exitUsage, "name at least one field"},
		{[]string{"subscribe", "--account", "17841499999999999"}, exitFail, "no account 17841499999999999"},
		{[]string{"subscribe", "--account", "nobody"}, exitUsage, `--account: account id "nobody": not a Meta id`},
		{[]string{"subscribe", "--account", id + "/../x"}, exitUsage, "not a Meta id"},
		{[]string{"subscribe", "--account", id, "--graph-url", "ftp://x"}, exitUsage, "want http(s)://host[:port]"},
		{[]string{"subscribe", "--account", id, "--graph-url", "http://graph.instagram.com"}, exitUsage, "want https"},
	}
	for _, c := range cases {
		code, _, errs := h.run(c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, want %d; stderr %q lacks %q", c.args, code, c.code, errs, c.want)
		}
	}
}

// TestSubscribeRefusedField: where Meta does not take messaging_reactions (its Instagram fields
// page names message_reactions), subscribe asks for it by that name and says so; a typo in
// --fields is left out, said, and the rest subscribed.
func TestSubscribeRefusedField(t *testing.T) {
	h := opSetup(t)
	id := opID(t)
	const token = "IGAAT-test-token-subscribe-43"
	sb := sandbox.New(sandbox.WithRefusedFields(reply.FieldReactions))
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { sb.Close(); srv.Close() })
	sb.AddAccount(id, token, reply.LoginInstagram, "")
	for i := range 30 { // more apps than a page of subscribed_apps holds: ours is on the second
		sb.SubscribeOtherApp(id, fmt.Sprintf("90000000000000%02d", i), []string{"messages"})
	}
	h.sb.AddAccount(id, token, reply.LoginInstagram, "") // accounts put asks Meta about the token
	h.runStdin(token, "accounts", "put", "--file", h.accountFile("good.yaml", id), "--token-stdin")
	tests := []struct {
		name    string
		args    []string
		out     string
		fields  []string
		refused []string
	}{
		{"the default fields", nil, "Meta refused messaging_reactions, names it does not take: messaging_reactions is subscribed by its other name, message_reactions\n",
			[]string{"comments", "live_comments", "messages", "messaging_postbacks", "message_reactions", "messaging_referral"}, []string{"messaging_reactions"}},
		{"Meta's name", []string{"--fields", "comments,message_reactions"}, "subscribed account " + id + " to comments, message_reactions\n",
			[]string{"comments", "message_reactions"}, nil},
		{"a typo", []string{"--fields", "comments,mesages", "--json"}, `"mesages"`, []string{"comments"}, []string{"mesages"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := h.must(append([]string{"subscribe", "--account", id, "--graph-url", srv.URL, "--app-ids", sandbox.DefaultAppID}, tt.args...)...)
			if !strings.Contains(out, tt.out) || !slices.Equal(sb.Subscriptions(id), tt.fields) {
				t.Errorf("output %q (want %q); subscribed %v, want %v", out, tt.out, sb.Subscriptions(id), tt.fields)
			}
			if listed := "Meta lists our app with " + strings.Join(tt.fields, ", ") + "\n"; !slices.Contains(tt.args, "--json") && !strings.Contains(out, listed) {
				t.Errorf("output %q lacks %q", out, listed)
			}
			var js struct {
				Refused []string `json:"refused_fields"`
			}
			if strings.Contains(strings.Join(tt.args, " "), "--json") && (json.Unmarshal([]byte(out), &js) != nil || !slices.Equal(js.Refused, tt.refused)) {
				t.Errorf("--json refused_fields %v, want %v", js.Refused, tt.refused)
			}
		})
	}
}

// An account whose token parameter is missing fails with the parameter's name.
func TestSubscribeWithoutToken(t *testing.T) {
	h := opSetup(t)
	id := opID(t)
	h.must("accounts", "put", "--file", h.accountFile("good.yaml", id))
	code, _, errs := h.run("subscribe", "--account", id)
	if code != exitFail || !strings.Contains(errs, "/replywindow/tokens/"+id) || !strings.Contains(errs, "not found") {
		t.Errorf("exit %d %q", code, errs)
	}
}

// TestSubscribeNamesEveryField is issue 19, case 9 (taps arrive at all): the help names every
// field replywindow needs, taps' messaging_postbacks included, and a subscription that leaves
// out a field the account's rules need is stored with a warning naming it.
func TestSubscribeNamesEveryField(t *testing.T) {
	h := opSetup(t)
	help := h.must("subscribe", "--help")
	for _, f := range reply.WebhookFields {
		if !strings.Contains(help, f) {
			t.Errorf("subscribe --help does not name %s:\n%s", f, help)
		}
	}
	if !strings.Contains(help, "button taps come only on messaging_postbacks") {
		t.Errorf("subscribe --help does not say where taps come:\n%s", help)
	}

	id := opID(t)
	const token = "IGAAT-test-token-subscribe-43"
	h.sb.AddAccount(id, token, reply.LoginInstagram, "")
	h.runStdin(token, "accounts", "put", "--file", opWithID(t, "testdata/accounts/flow.yaml", id), "--token-stdin")
	tests := []struct {
		fields string
		warn   string // "" for none
	}{
		{"", ""},
		{"comments,live_comments,messages", "rules need messaging_postbacks too"},
		{"comments", "rules need live_comments, messages, messaging_postbacks too"},
	}
	for _, tt := range tests {
		args := []string{"subscribe", "--account", id}
		if tt.fields != "" {
			args = append(args, "--fields", tt.fields)
		}
		code, _, errs := h.run(args...)
		if code != exitOK || (tt.warn == "") != (errs == "") || !strings.Contains(errs, tt.warn) {
			t.Errorf("--fields %q: exit %d, stderr %q, want the warning %q", tt.fields, code, errs, tt.warn)
		}
	}
}

// TestRefusedOutcome: what subscribe says of each refused field.
func TestRefusedOutcome(t *testing.T) {
	tests := []struct {
		res  subscription.Result
		want string
	}{
		{subscription.Result{Fields: []string{"comments", "message_reactions"}, Refused: []string{"messaging_reactions"}},
			"messaging_reactions is subscribed by its other name, message_reactions"},
		{subscription.Result{Fields: []string{"comments"}, Refused: []string{"messaging_reactions", "message_reactions"}},
			"neither message_reactions nor messaging_reactions is taken, so the account is subscribed without it"},
		{subscription.Result{Fields: []string{"comments"}, Refused: []string{"mesages", "messaging_referral", "messaging_referrals"}},
			"the account is subscribed without mesages; neither messaging_referral nor messaging_referrals is taken, so the account is subscribed without it"},
	}
	for _, tt := range tests {
		if got := refusedOutcome(tt.res); got != tt.want {
			t.Errorf("refusedOutcome(%+v) = %q, want %q", tt.res, got, tt.want)
		}
	}
}
