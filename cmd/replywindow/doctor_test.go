package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestDoctorThreeAccounts is issue 22's note: doctor against a stack (moto, the sandbox) with one
// healthy account, one whose token expires in 3 days and one unsubscribed from
// messaging_postbacks. Run with -v to see the output.
func TestDoctorThreeAccounts(t *testing.T) {
	h := opSetup(t)
	q := awssqs.NewFromConfig(h.cfg)
	out, err := q.CreateQueue(h.ctx, &awssqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, "jobs"))})
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("QUEUE_URL", *out.QueueUrl)
	t.Setenv("META_APP_IDS", sandbox.DefaultAppID)
	base := opID(t)
	healthy, expiring, unsubscribed := base[:len(base)-1]+"1", base[:len(base)-1]+"2", base[:len(base)-1]+"3"
	now := time.Now()
	for _, id := range []string{healthy, expiring, unsubscribed} {
		token := "IGAAT-doctor-" + id
		h.sb.AddAccount(id, token, reply.LoginInstagram, "")
		h.sb.SetTokenExpiry(token, now.Add(55*24*time.Hour))
		if id == expiring {
			h.sb.SetTokenExpiry(token, now.Add(3*24*time.Hour+time.Hour))
		}
		if code, _, errs := h.runStdin(token, "accounts", "put", "--file", opWithID(t, "testdata/accounts/flow.yaml", id), "--token-stdin"); code != exitOK {
			t.Fatalf("put %s: %s", id, errs)
		}
		// What the webhook function records as the account's deliveries arrive.
		if err := h.store.SawWebhooks(h.ctx, id, []string{reply.FieldComments, reply.FieldMessages, reply.FieldPostbacks}, now.Add(-2*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	h.sb.Subscribe(unsubscribed, []string{reply.FieldComments, reply.FieldLiveComments, reply.FieldMessages, reply.FieldReactions})

	code, stdout, stderr := h.run("doctor")
	t.Logf("$ replywindow doctor\n%s%s(exit %d)", stdout, stderr, code)
	if code != 2 {
		t.Errorf("exit %d, want 2 (a failure)", code)
	}
	lines := strings.Split(stdout, "\n")
	want := []struct{ account, check, status, detail string }{
		{"-", "stack", "ok", "table " + h.table + " reachable"},
		{"-", "stack", "ok", "queue " + *out.QueueUrl + " reachable"},
		{"-", "graph api version", "ok", "v24.0: served until 2028-02-01"},
		{healthy, "token", "ok", "works; expires in 54d (Meta's inspection)"},
		{healthy, "permissions", "ok", "granted"},
		{healthy, "subscription", "ok", "our app has every field the rules need: comments,live_comments,messages,messaging_postbacks"},
		{healthy, "webhooks", "ok", "last comments 2m ago, messages 2m ago, messaging_postbacks 2m ago"},
		{healthy, "parked", "ok", "nothing parked"},
		{expiring, "token", "warn", "works; expires in 3d"},
		{unsubscribed, "subscription", "fail", "the rules also need messaging_postbacks (button taps arrive on messaging_postbacks only)"},
	}
	for _, w := range want {
		found := false
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) > 2 && f[0] == w.account && strings.HasPrefix(l[len(f[0]):], strings.Repeat(" ", 1)) && strings.Contains(l, " "+w.check+" ") && strings.Contains(l, " "+w.status+" ") && strings.Contains(l, w.detail) {
				found = true
			}
		}
		if !found {
			t.Errorf("no line %s %s %s %q", w.account, w.check, w.status, w.detail)
		}
	}
	for _, fix := range []string{"→ replywindow tokens refresh --account " + expiring, "→ replywindow subscribe --account " + unsubscribed} {
		if !strings.Contains(stdout, fix) {
			t.Errorf("output lacks %q", fix)
		}
	}

	// One account, as JSON: its worst is a warning (exit 1).
	code, stdout, _ = h.run("doctor", "--account", expiring, "--json")
	var r struct {
		Worst  string `json:"worst"`
		Checks []struct {
			Account, Check, Status string
		} `json:"checks"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil || code != 1 || r.Worst != "warn" {
		t.Errorf("--account %s --json: exit %d worst %q (%v)\n%s", expiring, code, r.Worst, err, stdout)
	}
	for _, c := range r.Checks {
		if c.Account != "" && c.Account != expiring {
			t.Errorf("--account %s reports %s", expiring, c.Account)
		}
	}
}

// Usage errors exit 2 with the usage; a table or queue that is not there is a failed stack
// check naming it, the accounts checked all the same where the table answers.
func TestDoctorUsageAndStack(t *testing.T) {
	h := opSetup(t)
	missingQueue := awstest.Endpoint(t) + "/000000000000/no-such-queue"
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"doctor", "--account", "nobody"}, exitUsage, "not a Meta id"},
		{[]string{"doctor", "extra"}, exitUsage, `unexpected argument "extra"`},
		{[]string{"doctor", "--token-warn", "soon"}, exitUsage, "--token-warn"},
		{[]string{"doctor", "--account", "17841499999999999"}, 2, "no account 17841499999999999 (see: replywindow accounts list)"},
		{[]string{"doctor", "--table", "no-such-table"}, 2, "table no-such-table: describe: not found"},
		{[]string{"doctor", "--queue-url", missingQueue}, 2, "queue " + missingQueue + ": attributes: not found"},
	}
	for _, c := range cases {
		code, stdout, stderr := h.run(c.args...)
		if code != c.code || !strings.Contains(stdout+stderr, c.want) {
			t.Errorf("%q: exit %d, want %d; output lacks %q:\n%s%s", c.args, code, c.code, c.want, stdout, stderr)
		}
	}
}

// TestDoctorMessengerProfile: doctor against the sandbox says when Meta's ice breakers and menu
// are the file's, warns naming the item another tool changed, and is content again after the
// `accounts put` its fix names. Run with -v to see the lines.
func TestDoctorMessengerProfile(t *testing.T) {
	h := opSetup(t)
	t.Setenv("META_APP_IDS", sandbox.DefaultAppID)
	id := opID(t)
	token := "IGAAT-doctor-profile-" + id
	h.sb.AddAccount(id, token, reply.LoginInstagram, "")
	h.sb.SetTokenExpiry(token, time.Now().Add(55*24*time.Hour))
	file := h.accountFile("entries.yaml", id)
	if code, _, errs := h.runStdin(token, "accounts", "put", "--file", file, "--token-stdin"); code != exitOK {
		t.Fatalf("put: %s", errs)
	}
	if err := h.store.SawWebhooks(h.ctx, id, []string{reply.FieldComments}, time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	line := func(out string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, id+" ") && strings.Contains(l, " messenger profile ") {
				return l
			}
		}
		return ""
	}

	code, out, errs := h.run("doctor", "--account", id)
	t.Logf("$ replywindow doctor --account %s\n%s%s(exit %d)", id, out, errs, code)
	if l := line(out); code != 0 || !strings.Contains(l, " ok ") || !strings.Contains(l, "Meta's match the file: 1 ice breaker(s), 2 menu item(s)") {
		t.Errorf("after put: exit %d, line %q", code, l)
	}

	// Someone changes the ice breaker in another tool and drops the link from the menu.
	h.sb.SetMessengerProfile(id, reply.MessengerProfile{
		IceBreakers: []reply.IceBreaker{{Question: "Other?", Payload: "OTHER"}},
		Menu:        []reply.MenuItem{{Type: reply.ButtonPostback, Title: "Today's recipe", Payload: "ASK_RECIPE"}},
	})
	code, out, errs = h.run("doctor", "--account", id)
	t.Logf("$ replywindow doctor --account %s\n%s%s(exit %d)", id, out, errs, code)
	l := line(out)
	for _, w := range []string{" warn ", `ice_breakers[0]: Meta "Other?" → OTHER, file "What's cooking today?" → ASK_RECIPE`, `persistent_menu[1]: Meta (none), file "Shop" → https://shop.example.com`} {
		if !strings.Contains(l, w) {
			t.Errorf("line lacks %q: %q", w, l)
		}
	}
	if code != 1 || !strings.Contains(out, "→ replywindow accounts put --file <file> (sets them on Meta)") {
		t.Errorf("exit %d (want 1, a warning) or no fix:\n%s", code, out)
	}

	// The fix it names puts Meta right.
	if code, _, errs := h.run("accounts", "put", "--file", file); code != exitOK {
		t.Fatalf("put again: %s", errs)
	}
	if code, out, _ = h.run("doctor", "--account", id); code != 0 || !strings.Contains(line(out), " ok ") {
		t.Errorf("after the fix: exit %d\n%s", code, out)
	}
}
