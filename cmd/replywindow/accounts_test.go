package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// Every bad account file is refused with the file, the line and the field in the message.
func TestAccountFileErrors(t *testing.T) {
	cases := []struct {
		file string
		want []string // all must appear in the error
	}{
		// Entry points (issue 25): Meta's limits and a ref that could match nothing.
		{"five_ice_breakers.yaml", []string{"five_ice_breakers.yaml:11:", "ice_breakers: 5, Meta allows 4"}},
		{"menu_title_too_long.yaml", []string{"menu_title_too_long.yaml:8:", "persistent_menu[1].title: 32 characters, Meta allows 30"}},
		{"ref_rule_empty_ref.yaml", []string{"ref_rule_empty_ref.yaml:5:", `ref_rules[0] "qr": ref: required`}},
		{"ice_breaker_runs_nothing.yaml", []string{"ice_breaker_runs_nothing.yaml:4:", `ice_breakers[0]: payload "PRICES": no flow step runs on it`}},
		{"syntax.yaml", []string{"syntax.yaml:4:", "did not find expected"}}, // yaml.v3 names the line of the mapping holding the open flow
		{"unknown_field.yaml", []string{"unknown_field.yaml:6:", `unknown field "keyword"`}},
		{"token_in_file.yaml", []string{"token_in_file.yaml:3:", "access_token", "--token-stdin"}},
		{"rule_no_keywords.yaml", []string{"rule_no_keywords.yaml:8:", `rules[1] "b": keywords: required`}},
		{"message_too_long.yaml", []string{"message_too_long.yaml:6:", `rules[0] "long": message:`, "1020 bytes, Meta allows 1000"}},
		{"bad_login.yaml", []string{"bad_login.yaml:2:", `login: "messenger"`}},
		{"facebook_no_page.yaml", []string{"facebook_no_page.yaml:", "page_id: required with facebook login"}},
		{"bad_limit_per.yaml", []string{"bad_limit_per.yaml:4:", "limits.posts.per", `"hourly"`}},
		{"zero_limit.yaml", []string{"zero_limit.yaml:4:", "limits.posts:", "must be positive"}},
		{"bad_kind.yaml", []string{"bad_kind.yaml:6:", `rules[0] "a": kinds: unknown kind "story"`}},
		{"bad_link.yaml", []string{"bad_link.yaml:6:", `link "https://localhost" is not a well-formed URL`}},
		{"empty_public_reply.yaml", []string{"empty_public_reply.yaml:7:", "public_replies[1]"}},
		{"no_id.yaml", []string{"no_id.yaml:", "id: required"}},
		{"id_not_digits.yaml", []string{"id_not_digits.yaml:1:", `id: account id "bakery": not a Meta id`}},
		{"bad_match.yaml", []string{"bad_match.yaml:5:", `match: "anything"`}},
		{"disclose_without_text.yaml", []string{"disclose_without_text.yaml:7:", "disclose: the account has no disclosure text"}},
		{"empty.yaml", []string{"empty.yaml: empty file"}},
		{"not_mapping.yaml", []string{"not_mapping.yaml:1:", "want a mapping"}},
		{"bad_bool.yaml", []string{"bad_bool.yaml:7:", "maybe"}},
		// The opening message: buttons or quick replies, within Meta's limits.
		{"too_many_buttons.yaml", []string{"too_many_buttons.yaml:7:", `rules[0] "recipe": buttons: 4, Meta allows 3`}},
		{"button_title_too_long.yaml", []string{"button_title_too_long.yaml:9:", `rules[0] "recipe": buttons[1]: title: 27 characters, Meta allows 20`}},
		{"button_bad_url.yaml", []string{"button_bad_url.yaml:8:", `buttons[0]: url: "bakery.example/recipe" is not a well-formed`}},
		{"button_no_action.yaml", []string{"button_no_action.yaml:8:", `buttons[0]: type: ""`}},
		{"too_many_quick_replies.yaml", []string{"too_many_quick_replies.yaml:7:", "quick_replies: 14, Meta allows 13"}},
		{"quick_reply_no_payload.yaml", []string{"quick_reply_no_payload.yaml:9:", `quick_replies[1]: payload: required`}},
		{"private_reply_media.yaml", []string{"private_reply_media.yaml:7:", `rules[0] "recipe": kind: a private reply may hold only text, buttons and quick replies, no media`}},
		{"buttons_and_quick_replies.yaml", []string{"buttons_and_quick_replies.yaml:7:", "one or the other"}},
		// Flows: the rule, the step and the message named, at the line.
		{"flow_text_too_long.yaml", []string{`flow_text_too_long.yaml:18: rules[0] "recipe": flow[1] "link": messages[0]: text: 1043 bytes, Meta allows 1000`}},
		{"bad_message_kind.yaml", []string{"bad_message_kind.yaml:12:", `flow[0] "link": messages[1]: kind: "sticker"`}},
		{"image_bad_url.yaml", []string{"image_bad_url.yaml:12:", `messages[0]: url: "cake.png" is not a well-formed`}},
		{"url_on_text.yaml", []string{"url_on_text.yaml:12:", "messages[0]: url: only on an image, audio or video message"}},
		{"step_no_trigger.yaml", []string{"step_no_trigger.yaml:8:", `flow[0] "link": on: set exactly one of payload, keywords and any`}},
		{"step_two_triggers.yaml", []string{"step_two_triggers.yaml:9:", "on: set exactly one"}},
		{"step_unknown_field.yaml", []string{"step_unknown_field.yaml:10:", `unknown field "keyword"`}},
		{"duplicate_step.yaml", []string{"duplicate_step.yaml:11:", `flow[1] "link": id or name "link": used twice`}},
		{"duplicate_step_id.yaml", []string{"duplicate_step_id.yaml:12:", `flow[1] "link": id or name "link": used twice`}},
		{"duplicate_payload.yaml", []string{"duplicate_payload.yaml:19:", `dm_rules[0] "price": flow[0] "order": on.payload: "LINK" is also the trigger of rules[0] "recipe": flow[0] "link"`}},
		{"flow_without_rule_name.yaml", []string{"flow_without_rule_name.yaml:4:", "name: required with a flow"}},
		{"gate_bad_fallback.yaml", []string{"gate_bad_fallback.yaml:13:", `follow_gate.unavailable: "skip", want "send" or "ask"`}},
		{"gate_no_message.yaml", []string{"gate_no_message.yaml:10:", "follow_gate.message: text: required"}},
		{"gate_too_long_with_disclosure.yaml", []string{"gate_too_long_with_disclosure.yaml:14:", "follow_gate.message with the disclosure line: text: 1019 bytes"}},
		{"cooldown_without_resend.yaml", []string{"cooldown_without_resend.yaml:12:", "cooldown: only with resend"}},
		{"resend_without_cooldown.yaml", []string{"resend_without_cooldown.yaml:8:", `flow[0] "link": cooldown: required with resend, at least 1m0s (got 0s)`}},
		{"resend_short_cooldown.yaml", []string{"resend_short_cooldown.yaml:13:", `flow[0] "link": cooldown: required with resend, at least 1m0s (got 30s)`}},
		{"bad_cooldown.yaml", []string{"bad_cooldown.yaml:13:", `flow[0] "link": cooldown: "10 minutes" is not a positive duration`}},
		// DM rules and the conversation settings.
		{"dm_rule_no_keywords.yaml", []string{"dm_rule_no_keywords.yaml:4:", `dm_rules[0] "price": keywords: required`}},
		{"dm_rule_no_messages.yaml", []string{"dm_rule_no_messages.yaml:4:", `dm_rules[0] "price": messages: at least one`}},
		{"dm_rule_bad_step.yaml", []string{"dm_rule_bad_step.yaml:10:", `dm_rules[0] "price": flow[0] "order": on: match: "regex"`}},
		{"bad_human_pause.yaml", []string{"bad_human_pause.yaml:3:", `human_pause: "a day" is not a positive duration`}},
		{"bad_disclosure_lapse.yaml", []string{"bad_disclosure_lapse.yaml:3:", `disclosure_lapse: "-1h"`}},
		{"zero_text_limit.yaml", []string{"zero_text_limit.yaml:5:", "limits.text:", "must be positive"}},
		// Steps that ask, and the quick replies Meta disabled on 5 October 2026 that they replace.
		{"quick_reply_user_email.yaml", []string{"quick_reply_user_email.yaml:", `quick_replies[0]: content_type: "user_email"`, "5 October 2026", "a step that asks"}},
		{"flow_quick_reply_phone.yaml", []string{"flow_quick_reply_phone.yaml:", `flow[0] "phone": messages[0]: quick_replies[0]: content_type: "user_phone_number"`, "5 October 2026"}},
		{"ask_bad_kind.yaml", []string{"ask_bad_kind.yaml:", `flow[0] "email": ask: kind: "address"`}},
		{"bad_phone_region.yaml", []string{"bad_phone_region.yaml:", `phone_region "ZZ"`}},
		// Rules in time (issue 22).
		{"until_before_from.yaml", []string{"until_before_from.yaml:", `rules[0] "advent": until: 2026-12-01T00:00:00Z is not after from 2026-12-25T00:00:00Z`}},
		{"bad_from.yaml", []string{"bad_from.yaml:6:", `rules[0] "advent": from: "1st of December" is not a time (RFC 3339`}},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.file] = true
		t.Run(c.file, func(t *testing.T) {
			_, err := opLoadAccount(filepath.Join("testdata/accounts/bad", c.file), opDefaultTokenPath)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "IGQVJ-secret") {
				t.Errorf("error repeats the token: %q", err)
			}
		})
	}
	// Every bad file has a case: a file added without one would prove nothing.
	files, _ := filepath.Glob("testdata/accounts/bad/*.yaml")
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("testdata %s has no case", f)
		}
	}
}

// The annotated example in the repository is a valid account, and says what it shows.
func TestExampleAccountFile(t *testing.T) {
	a, err := opLoadAccount("account.example.yaml", opDefaultTokenPath)
	if err != nil {
		t.Fatalf("account.example.yaml: %v", err)
	}
	if a.ID == "" || a.Login != reply.LoginInstagram || a.TokenParam != "/replywindow/tokens/"+a.ID {
		t.Errorf("account %+v", a)
	}
	if len(a.Rules) != 4 || a.Limit(reply.LanePosts) != (reply.Limit{Count: 600, Period: time.Hour}) {
		t.Errorf("rules %d, posts limit %+v", len(a.Rules), a.Limit(reply.LanePosts))
	}
	r, ok := a.Match(reply.Job{Text: "Recette stp", Kind: reply.KindReel})
	if !ok || r.Name != "recipe" {
		t.Fatalf("'Recette stp' on a reel matched %q, %v", r.Name, ok)
	}
	// The funnels the demo and the tests rely on: a postback button on the private reply, whose
	// tap runs the follow-gated step "link" (the link, then a heart); a second rule whose flow
	// ends in a step "link" too; DM rules on "price" and "hours".
	if len(r.Buttons) != 1 || r.Buttons[0] != (reply.Button{Type: reply.ButtonPostback, Title: "Send me the link", Payload: "RECIPE_LINK"}) {
		t.Errorf("recipe buttons %+v", r.Buttons)
	}
	conv := reply.Conversation{AccountID: a.ID, PersonID: "1234567890123456", Rule: r.Name}
	tap := reply.Event{Kind: reply.EventPostback, PersonID: conv.PersonID, MID: "m1", Payload: "RECIPE_LINK", At: time.Now()}
	f, ok := a.Route(conv, tap)
	if !ok || f.Rule != "recipe" || f.Step.Name != "link" {
		t.Fatalf("the tap runs %q %q, %v", f.Rule, f.Step.Name, ok)
	}
	if g := f.Step.Gate; g == nil || g.Message.Text != "Follow us, then tap the button again 💛" || g.Unavailable != reply.GateAsk {
		t.Errorf("gate %+v", g)
	}
	if m := f.Step.Messages; len(m) != 2 || !strings.Contains(m[0].Text, "https://bakery.example/recipe") || m[1].Type() != reply.MessageHeart || f.Step.Resend {
		t.Errorf("step messages %+v (resend %v)", m, f.Step.Resend)
	}
	// A second funnel whose last step is called "link" too: its own rule's, with its own link.
	tap = reply.Event{Kind: reply.EventPostback, PersonID: conv.PersonID, MID: "m3", Payload: "SOURDOUGH_LINK", At: time.Now()}
	if f, ok := a.Route(conv, tap); !ok || f.Rule != "sourdough" || f.Step.Name != "link" || len(f.Steps) != 2 || f.Steps[1].Name != "link" ||
		len(f.Step.Messages) != 1 || !strings.Contains(f.Step.Messages[0].Text, "https://bakery.example/sourdough") {
		t.Errorf("the sourdough guide's tap runs %+v, %v", f, ok)
	}
	dm := reply.Event{Kind: reply.EventMessage, PersonID: conv.PersonID, MID: "m2", Text: "What's the price?", At: time.Now()}
	if f, ok := a.Route(reply.Conversation{}, dm); !ok || f.Opening == nil || f.Rule != "price" || len(f.Step.Messages) != 1 {
		t.Errorf("a DM about the price runs %+v, %v", f, ok)
	}
	dm.Text = "When are you open?"
	if f, ok := a.Route(reply.Conversation{}, dm); !ok || f.Opening == nil || f.Rule != "hours" || len(f.Step.Messages) != 1 {
		t.Errorf("a DM about the hours runs %+v, %v", f, ok)
	}
	if a.HumanPause != 24*time.Hour || a.DisclosureLapse != 24*time.Hour {
		t.Errorf("human pause %s, disclosure lapse %s", a.HumanPause, a.DisclosureLapse)
	}
	if n := opInertPayloads(a); len(n) > 0 {
		t.Errorf("taps that run nothing: %v", n)
	}
	raw, _ := os.ReadFile("account.example.yaml")
	if !strings.Contains(string(raw), "Quick replies do not show in the Requests folder") {
		t.Error("the example does not say that quick replies do not reach non-followers")
	}
}

// A flow in the file arrives in the account as written: triggers, gate, resend and cooldown,
// buttons whose type follows from what they hold, quick replies, every message kind.
func TestAccountFileFlow(t *testing.T) {
	a, err := opLoadAccount("testdata/accounts/flow.yaml", opDefaultTokenPath)
	if err != nil {
		t.Fatal(err)
	}
	want := []reply.Step{
		{Name: "link", On: reply.Trigger{Payload: "LINK"}, Messages: []reply.Message{
			{Text: "Here: https://bakery.example/r", Buttons: []reply.Button{{Type: reply.ButtonURL, Title: "Open", URL: "https://bakery.example/r"}}},
			{Kind: reply.MessageImage, URL: "https://bakery.example/cake.png"},
			{Kind: reply.MessageVideo, URL: "https://bakery.example/how.mp4"},
			{Kind: reply.MessageAudio, URL: "https://bakery.example/hi.mp3"},
			{Kind: reply.MessageHeart},
			{Kind: reply.MessageReaction, Reaction: "love"},
			{Kind: reply.MessageMediaShare, MediaID: "18000000000000001"},
		}, Gate: &reply.Gate{Message: reply.Message{Text: "Follow us, then tap again"}, Unavailable: reply.GateSend}},
		{Name: "more", On: reply.Trigger{Keywords: []string{"more", "encore"}, Match: reply.MatchContains}, Resend: true, Cooldown: 10 * time.Minute,
			Messages: []reply.Message{{Text: "Which one?", QuickReplies: []reply.QuickReply{{Title: "Cake", Payload: "CAKE"}, {Title: "Bread", Payload: "BREAD"}}}}},
		{Name: "thanks", On: reply.Trigger{Any: true}, Messages: []reply.Message{{Text: "Thanks!"}}},
	}
	r := a.Rules[0]
	if !reflect.DeepEqual(r.Flow, want) {
		t.Errorf("flow\n got %+v\nwant %+v", r.Flow, want)
	}
	if !reflect.DeepEqual(r.QuickReplies, []reply.QuickReply{{Title: "Yes please", Payload: "LINK"}}) || r.Buttons != nil {
		t.Errorf("opening: buttons %+v, quick replies %+v", r.Buttons, r.QuickReplies)
	}
	d := a.DMRules
	if len(d) != 1 || d[0].Name != "hello" || d[0].Match != reply.MatchAny || d[0].Stories || len(d[0].Flow) != 1 || d[0].Flow[0].On.Payload != "MENU" {
		t.Errorf("dm rules %+v", d)
	}
	if a.HumanPause != 2*24*time.Hour || a.DisclosureLapse != 12*time.Hour || a.Limit(reply.LaneText) != (reply.Limit{Count: 100, Period: time.Second}) || a.Limit(reply.LaneMedia) != (reply.Limit{Count: 5, Period: time.Second}) {
		t.Errorf("pause %s, lapse %s, text %+v, media %+v", a.HumanPause, a.DisclosureLapse, a.Limit(reply.LaneText), a.Limit(reply.LaneMedia))
	}
}

func TestAccountsPutListShow(t *testing.T) {
	h := opSetup(t)
	id := opID(t)
	file := h.accountFile("good.yaml", id)
	const token = "IGAAT-test-token-put-0123456789"
	h.sb.AddAccount(id, token, reply.LoginInstagram, "")
	h.sb.AddAccount(id, token+"-2", reply.LoginInstagram, "")
	h.sb.SetTokenExpiry(token, time.Now().Add(60*24*time.Hour)) // what Meta's inspection will say

	code, out, errs := h.runStdin(token+"\n", "accounts", "put", "--file", file, "--token-stdin")
	if code != exitOK {
		t.Fatalf("put: exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "created account "+id) || !strings.Contains(out, "token stored in SSM /replywindow/tokens/"+id) {
		t.Errorf("put output:\n%s", out)
	}
	// The token is in SSM, as a SecureString, and nowhere in the table.
	if got, err := h.param("/replywindow/tokens/" + id); err != nil || got != token {
		t.Errorf("SSM token %q, %v", got, err)
	}
	scan, err := h.ddb.Scan(h.ctx, &awsdynamodb.ScanInput{TableName: aws.String(h.table)})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(scan.Items)
	if len(scan.Items) == 0 || strings.Contains(string(raw), token) {
		t.Errorf("table holds %d items; token in table: %v", len(scan.Items), strings.Contains(string(raw), token))
	}
	a, err := h.store.Account(h.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if a.Version != 1 || len(a.Rules) != 3 || a.TokenParam != "/replywindow/tokens/"+id {
		t.Errorf("stored %+v", a)
	}
	// Meta named the person who connected the account (GET /me with the token).
	if !slices.Equal(a.AppUserIDs, []string{sandbox.DefaultAppUserID(id)}) {
		t.Errorf("app user ids %v, want the sandbox's %s", a.AppUserIDs, sandbox.DefaultAppUserID(id))
	}
	if d := time.Until(a.TokenExpiresAt); d < 59*24*time.Hour || d > 60*24*time.Hour {
		t.Errorf("token expires in %s, want 60 days (Meta's inspection)", d)
	}

	// The system learned the account is unhealthy; a put without a token keeps that, a put with
	// a new token clears it.
	a.Unhealthy, a.UnhealthySince, a.Version = "auth: 190", time.Now().UTC().Truncate(time.Second), a.Version+1
	if _, err := h.store.PutAccount(h.ctx, a); err != nil {
		t.Fatal(err)
	}
	h.must("accounts", "put", "--file", file)
	if a, _ = h.store.Account(h.ctx, id); a.Version != 3 || a.Unhealthy != "auth: 190" {
		t.Errorf("after put without token: version %d, unhealthy %q", a.Version, a.Unhealthy)
	}
	t.Setenv("RW_TEST_TOKEN", token+"-2")
	h.must("accounts", "put", "--file", file, "--token-env", "RW_TEST_TOKEN")
	if a, _ = h.store.Account(h.ctx, id); a.Version != 4 || a.Unhealthy != "" {
		t.Errorf("after put with token: version %d, unhealthy %q", a.Version, a.Unhealthy)
	}
	if got, _ := h.param("/replywindow/tokens/" + id); got != token+"-2" {
		t.Errorf("SSM token after --token-env %q", got)
	}

	// list: table and JSON.
	out = h.must("accounts", "list")
	if !strings.Contains(out, id) || !strings.Contains(out, "bakery.test") || !strings.Contains(out, "TOKEN EXPIRES") {
		t.Errorf("list:\n%s", out)
	}
	var list []reply.Account
	if err := json.Unmarshal([]byte(h.must("accounts", "list", "--json")), &list); err != nil || len(list) != 1 || list[0].ID != id {
		t.Errorf("list --json: %v %+v", err, list)
	}

	// show: backlog by lane from unfinished records; terminal and other accounts' records ignored.
	now := time.Now()
	job := func(n string, kind reply.Kind, acct string) reply.Job {
		return reply.Job{V: reply.JobVersion, AccountID: acct, CommentID: n, MediaID: "m1", FromID: "p" + n, Kind: kind, CommentedAt: now.Add(-time.Hour)}
	}
	for _, r := range []reply.Record{
		reply.NewParked(job("c1", reply.KindReel, id), now.Add(time.Hour), "rate", now),
		reply.NewParked(job("c2", reply.KindPost, id), now.Add(-time.Minute), "rate", now),
		reply.NewParked(job("c3", reply.KindLive, id), now.Add(time.Minute), "rate", now),
		reply.NewSkipped(job("c4", reply.KindPost, id), reply.SkipNoRule, now),
		reply.NewParked(job("c5", reply.KindPost, "someone-else"), now, "rate", now),
	} {
		if _, err := h.store.Create(h.ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	var shown struct {
		Account reply.Account `json:"account"`
		Healthy bool          `json:"healthy"`
		Backlog []opBacklog   `json:"backlog"`
	}
	if err := json.Unmarshal([]byte(h.must("accounts", "show", id, "--json")), &shown); err != nil {
		t.Fatal(err)
	}
	want := map[reply.Lane][2]int{reply.LanePosts: {2, 1}, reply.LaneLive: {1, 0}} // total, due now; the Send API lanes have none
	for _, b := range shown.Backlog {
		if w := want[b.Lane]; b.Total != w[0] || b.DueNow != w[1] || b.ByState[reply.StateParked] != w[0] {
			t.Errorf("backlog %s: %+v, want total %d due %d", b.Lane, b, w[0], w[1])
		}
	}
	if len(shown.Backlog) != len(reply.Lanes) || !shown.Healthy || shown.Account.ID != id {
		t.Errorf("show --json: %+v", shown)
	}
	out = h.must("accounts", "show", id)
	for _, w := range []string{"token expires:", "health:", "ok", "600 per 1h0m0s", "configured", "recipe", "Backlog", "parked 2"} {
		if !strings.Contains(out, w) {
			t.Errorf("show lacks %q:\n%s", w, out)
		}
	}
	if code, _, errs := h.run("accounts", "show", "17841499999999999"); code != exitFail || !strings.Contains(errs, "no account 17841499999999999") {
		t.Errorf("show unknown: exit %d %q", code, errs)
	}
	if code, _, errs := h.run("accounts", "show", "nope"); code != exitUsage || !strings.Contains(errs, `account id "nope": not a Meta id`) {
		t.Errorf("show an id that is not digits: exit %d %q", code, errs)
	}
}

// TestAccountsPutTokenPathAndAppUsers: tokens go under the stack's TokenPathPrefix (the prod
// stack's is not the default), and every account knows who connected it: Meta says so for an
// Instagram Login token, the operator for a Facebook Login Page token.
func TestAccountsPutTokenPathAndAppUsers(t *testing.T) {
	h := opSetup(t)
	id := opID(t)
	const token = "IGAAT-test-token-prod-0123456789"
	h.sb.AddAccount(id, token, reply.LoginInstagram, "")
	h.sb.SetAppUser(id, "26000000000000007")
	t.Setenv("TOKEN_PATH_PREFIX", "/replywindow-prod/tokens/")
	code, out, errs := h.runStdin(token, "accounts", "put", "--file", h.accountFile("good.yaml", id), "--token-stdin")
	if code != exitOK || !strings.Contains(out, "token stored in SSM /replywindow-prod/tokens/"+id) {
		t.Fatalf("put with the prod prefix: exit %d\n%s%s", code, out, errs)
	}
	if got, err := h.param("/replywindow-prod/tokens/" + id); err != nil || got != token {
		t.Errorf("prod token %q, %v", got, err)
	}
	a, _ := h.store.Account(h.ctx, id)
	if a.TokenParam != "/replywindow-prod/tokens/"+id || !slices.Equal(a.AppUserIDs, []string{"26000000000000007"}) {
		t.Errorf("stored token_param %s, app users %v", a.TokenParam, a.AppUserIDs)
	}
	// --app-user-id adds to what is known, without asking Meta; those known stay.
	calls := h.sb.Stats().Calls[sandbox.OpMe]
	h.runStdin(token, "accounts", "put", "--file", h.accountFile("good.yaml", id), "--token-stdin", "--app-user-id", "26000000000000008")
	if a, _ = h.store.Account(h.ctx, id); !slices.Equal(a.AppUserIDs, []string{"26000000000000007", "26000000000000008"}) || h.sb.Stats().Calls[sandbox.OpMe] != calls {
		t.Errorf("after --app-user-id: %v (GET /me calls %d, were %d)", a.AppUserIDs, h.sb.Stats().Calls[sandbox.OpMe], calls)
	}
	if show := h.must("accounts", "show", id); !strings.Contains(show, "26000000000000007, 26000000000000008") {
		t.Errorf("show does not list who connected the account:\n%s", show)
	}

	// A token of another account is refused before anything is stored.
	other := opID(t) + "1"
	h.sb.AddAccount(other, "IGAAT-token-of-another-account-0", reply.LoginInstagram, "")
	code, _, errs = h.runStdin("IGAAT-token-of-another-account-0", "accounts", "put", "--file", h.accountFile("good.yaml", id), "--token-stdin")
	if code != exitFail || !strings.Contains(errs, "belongs to Instagram account "+other) {
		t.Errorf("token of another account: exit %d %q", code, errs)
	}

	// Facebook Login: a Page token names no person, so the operator must.
	fb := opID(t) + "2"
	fbFile := h.accountFile("facebook.yaml", fb)
	h.sb.AddAccount(fb, "EAAB-page-token-0123456789", reply.LoginFacebook, "100000000000001")
	code, _, errs = h.runStdin("EAAB-page-token-0123456789", "accounts", "put", "--file", fbFile, "--token-stdin")
	if code != exitUsage || !strings.Contains(errs, "pass --app-user-id") {
		t.Errorf("facebook without --app-user-id: exit %d %q", code, errs)
	}
	if _, err := h.store.Account(h.ctx, fb); err == nil {
		t.Error("the facebook account was stored without a person to delete it for")
	}
	h.runStdin("EAAB-page-token-0123456789", "accounts", "put", "--file", fbFile, "--token-stdin", "--app-user-id", "10160000000000001")
	if a, err := h.store.Account(h.ctx, fb); err != nil || !slices.Equal(a.AppUserIDs, []string{"10160000000000001"}) {
		t.Errorf("facebook with --app-user-id: %+v, %v", a, err)
	}
	// A put without a token and without ids keeps the ids, and says nothing is missing.
	_, _, errs = h.run("accounts", "put", "--file", fbFile)
	if a, _ := h.store.Account(h.ctx, fb); !slices.Equal(a.AppUserIDs, []string{"10160000000000001"}) || strings.Contains(errs, "no app-scoped user id") {
		t.Errorf("put without a token: %v, %q", a.AppUserIDs, errs)
	}
}

func TestAccountsUsage(t *testing.T) {
	h := opSetup(t)
	good := h.accountFile("good.yaml", opID(t))
	cases := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string // in stderr
	}{
		{"no subcommand", "", []string{"accounts"}, exitUsage, "Usage: replywindow accounts"},
		{"unknown subcommand", "", []string{"accounts", "delete"}, exitUsage, `unknown subcommand "delete"`},
		{"put without file", "", []string{"accounts", "put"}, exitUsage, "--file is required"},
		{"put both token flags", "", []string{"accounts", "put", "--file", good, "--token-stdin", "--token-env", "X"}, exitUsage, "exclude each other"},
		{"put empty stdin", "", []string{"accounts", "put", "--file", good, "--token-stdin"}, exitUsage, "stdin is empty"},
		{"put unset env", "", []string{"accounts", "put", "--file", good, "--token-env", "RW_UNSET_VAR"}, exitUsage, "RW_UNSET_VAR is empty or unset"},
		{"put bad file", "", []string{"accounts", "put", "--file", "testdata/accounts/bad/rule_no_keywords.yaml"}, exitFail, "rule_no_keywords.yaml:8:"},
		{"put missing file", "", []string{"accounts", "put", "--file", "testdata/none.yaml"}, exitFail, "no such file"},
		{"put unknown flag", "", []string{"accounts", "put", "--fil", good}, exitUsage, "flag provided but not defined: -fil"},
		{"show without id", "", []string{"accounts", "show"}, exitUsage, "want exactly one account ID"},
		{"put bad token path", "", []string{"accounts", "put", "--file", good, "--token-path", "/replywindow/"}, exitUsage, "ending in /tokens/"},
		{"put token_param outside the path", "", []string{"accounts", "put", "--file", "testdata/accounts/token_param.yaml", "--token-path", "/replywindow-prod/tokens/", "--dry-run"}, exitUsage, "token_param /replywindow/tokens/17841400000000001 is outside the stack's TokenPathPrefix /replywindow-prod/tokens/"},
		{"put bad app user id", "", []string{"accounts", "put", "--file", good, "--app-user-id", "26000000000000001,me"}, exitUsage, `--app-user-id: app-scoped user id "me": not a Meta id`},

		{"list extra argument", "", []string{"accounts", "list", "x"}, exitUsage, `unexpected argument "x"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := h.runStdin(c.stdin, c.args...)
			if code != c.code || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, want %d; stderr:\n%s\nwant %q", code, c.code, errs, c.want)
			}
		})
	}
	// --dry-run validates without any AWS call, so it works with no table configured.
	t.Setenv("TABLE_NAME", "")
	if out := h.must("accounts", "put", "--file", good, "--dry-run"); !strings.Contains(out, "valid") {
		t.Errorf("dry run: %s", out)
	}
	if code, _, errs := h.run("accounts", "list"); code != exitUsage || !strings.Contains(errs, "set TABLE_NAME or pass --table") {
		t.Errorf("no table: exit %d %q", code, errs)
	}
	// --help shows examples on stdout and exits 0.
	for _, sub := range []string{"put", "list", "show"} {
		code, out, _ := h.run("accounts", sub, "--help")
		if code != exitOK || !strings.Contains(out, "Examples:") || !strings.Contains(out, "replywindow accounts "+sub) {
			t.Errorf("accounts %s --help: exit %d\n%s", sub, code, out)
		}
	}
}

// The table the CLI writes to is the one named by --table over TABLE_NAME.
func TestAccountsTableFlag(t *testing.T) {
	h := opSetup(t)
	other := h.table + "-b"
	if err := dynamo.CreateTable(h.ctx, h.ddb, other); err != nil {
		t.Fatal(err)
	}
	id := opID(t)
	h.must("accounts", "put", "--file", h.accountFile("good.yaml", id), "--table", other)
	if _, err := h.store.Account(h.ctx, id); err == nil {
		t.Error("account written to TABLE_NAME despite --table")
	}
	if out := h.must("accounts", "list", "--table", other); !strings.Contains(out, id) {
		t.Errorf("list --table: %s", out)
	}
}

// An account with flows and DM rules is stored whole, and show summarises them.
func TestAccountsPutShowFlow(t *testing.T) {
	h := opSetup(t)
	id := opID(t)
	file := opWithID(t, "testdata/accounts/flow.yaml", id)
	code, out, errs := h.run("accounts", "put", "--file", file, "--dry-run")
	if code != exitOK || !strings.Contains(out, "1 rules, 1 DM rules, 4 flow steps; nothing stored") {
		t.Errorf("dry run: exit %d\n%s%s", code, out, errs)
	}
	// Quick replies whose payload no step runs are allowed, and pointed out.
	for _, w := range []string{
		`note: rules[0] "recipe": flow[1] "more": messages[0]: quick_replies[0] payload "CAKE": no step of any flow runs on it`,
		`note: rules[0] "recipe": flow[1] "more": messages[0]: quick_replies[1] payload "BREAD"`,
	} {
		if !strings.Contains(errs, w) {
			t.Errorf("dry run stderr lacks %q:\n%s", w, errs)
		}
	}
	if strings.Count(errs, "note: ") != 2 {
		t.Errorf("notes beyond the two inert quick replies:\n%s", errs)
	}
	h.must("accounts", "put", "--file", file)
	parsed, err := opLoadAccount(file, opDefaultTokenPath)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := h.store.Account(h.ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(stored.Rules, parsed.Rules) || !reflect.DeepEqual(stored.DMRules, parsed.DMRules) || stored.HumanPause != parsed.HumanPause || stored.DisclosureLapse != parsed.DisclosureLapse {
		t.Errorf("stored\n%+v\n%+v\nparsed\n%+v\n%+v", stored.Rules, stored.DMRules, parsed.Rules, parsed.DMRules)
	}
	out = h.must("accounts", "show", id)
	for _, w := range []string{"human pause:", "48h0m0s", "disclosure lapse:", "12h0m0s", "100 per 1s", "5 per 1s", "1 quick reply, 3 steps", "DM rules", "(every message)", "1 step"} {
		if !strings.Contains(out, w) {
			t.Errorf("show lacks %q:\n%s", w, out)
		}
	}
}

// opWithID is a copy of the account file at path (whose id is 17841400000000001, so that it
// loads as it is) with the account id id, for tests that store it.
func opWithID(t *testing.T, path, id string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(file, bytes.ReplaceAll(b, []byte("17841400000000001"), []byte(id)), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestAccountsHealth is issue 22's honest health: an account without a token says so, one whose
// token expires within a week warns, and the expiry is Meta's (its inspection at put), never a
// number typed there; a token Meta calls invalid is not stored.
func TestAccountsHealth(t *testing.T) {
	h := opSetup(t)
	base := opID(t)
	noToken, soon, fine := base[:len(base)-1]+"1", base[:len(base)-1]+"2", base[:len(base)-1]+"3"
	h.must("accounts", "put", "--file", h.accountFile("good.yaml", noToken))
	for id, left := range map[string]time.Duration{soon: 5*24*time.Hour + time.Hour, fine: 40 * 24 * time.Hour} {
		token := "IGAAT-health-" + id
		h.sb.AddAccount(id, token, reply.LoginInstagram, "")
		h.sb.SetTokenExpiry(token, time.Now().Add(left))
		if code, _, errs := h.runStdin(token, "accounts", "put", "--file", h.accountFile("good.yaml", id), "--token-stdin"); code != exitOK {
			t.Fatalf("put %s: %s", id, errs)
		}
	}
	out := h.must("accounts", "list")
	for id, want := range map[string]string{noToken: "no token", soon: "warn: token expires in 5d", fine: "ok"} {
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, id+" ") {
				line = l
			}
		}
		if !strings.Contains(line, "  "+want+"  ") {
			t.Errorf("%s: list line %q lacks %q\n%s", id, line, want, out)
		}
	}
	if out := h.must("accounts", "show", soon); !strings.Contains(out, "warn: token expires in 5d") {
		t.Errorf("show %s:\n%s", soon, out)
	}
	if a, _ := h.store.Account(h.ctx, fine); time.Until(a.TokenExpiresAt) < 39*24*time.Hour || time.Until(a.TokenExpiresAt) > 40*24*time.Hour {
		t.Errorf("stored expiry %s, want Meta's (in 40 days)", a.TokenExpiresAt)
	}
	if code, _, errs := h.run("accounts", "put", "--file", h.accountFile("good.yaml", fine), "--token-stdin", "--token-expires-in", "60d"); code != exitUsage || !strings.Contains(errs, "token-expires-in") {
		t.Errorf("--token-expires-in is gone: exit %d %q", code, errs)
	}

	// A token Meta says has expired is refused, and the stored one stays.
	bad := "IGAAT-health-expired"
	h.sb.AddAccount(fine, bad, reply.LoginInstagram, "")
	h.sb.SetTokenExpiry(bad, time.Now().Add(-time.Hour))
	code, _, errs := h.runStdin(bad, "accounts", "put", "--file", h.accountFile("good.yaml", fine), "--token-stdin")
	if code != exitFail || !strings.Contains(errs, "190/463") {
		t.Errorf("expired token: exit %d %q", code, errs)
	}
	if got, _ := h.param("/replywindow/tokens/" + fine); got != "IGAAT-health-"+fine {
		t.Errorf("SSM holds %q after a refused token", got)
	}
}
