package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/replywindow/replywindow/shared/devstack"
)

func TestDemoCommand(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want []string // in stdout
	}{
		{[]string{"demo"}, exitOK, []string{"→ sent", "SKIPPED duplicate_person", "no record (dropped)", "never (found by reconciliation)", "Sandbox ledger: 8 DM(s) delivered", "0 expectation(s) missed"}},
		// The account is account.example.yaml's: its texts, both steps "link", both DM rules,
		// the disclosure, checked turn by turn and over the ledger.
		{[]string{"demo", "-q"}, exitOK, []string{"SENT", "13 sample(s), 19 turn(s) of conversation and 4 ledger check(s), 8 private repl(ies), 22 follow-up(s)",
			// The "book" rule's variants, and the run's report: counts written with the run's
			// transitions (recipe: 5 matched, 3 sent, 2 skipped; its taps, gate and follow-ups).
			"Hi @gus! Our recipe book", "@hana, 60 recipes in one book", "The run's funnel",
			"recipe     5        3     2        0        0       0          2     1          1             3",
			"book  B", "no difference yet", "HTML report: ",
			// The tracked link's clicks reach the report: 2 clicks, 1 unique (Meta's preview is none).
			"live-link  1        1     0        0        0       0          0     0          0             0               2       1",
			"follow, tap again: the link and a heart", "a third tap: nothing more",
			"Hi @ana! The sourdough guide is a tap away.", "Here is the recipe, ana: https://bakery.example/recipe | ♥",
			"Here is the sourdough guide, ana: https://bakery.example/sourdough", "own message, first",
			"Our recipe book is 12 €", "We're open Tuesday to Sunday",
			// The entry points (issue 25): a story mention, an ig.me ref in a conversation and on a
			// first message, a ref no rule takes, an ice breaker tap.
			"a story mention: the mention rule", "Thanks for the mention!", "a second mention the same day: nothing",
			"ig.me link in a conversation: its ref's rule", "Welcome from the shop! Today's menu", "a link whose ref no rule takes: nothing",
			"an ice breaker tap: its step",
			`2 rules' steps "link" reached ana, each once (recipe, sourdough): yes`, "2 DM rules answered 900000022, each once (price, hours): yes",
			"the disclosure line opened each of 7 conversations, and only then (2 as a message of its own): yes", "0 expectation(s) missed",
			// The lead capture (issue 21): one invalid answer, then the email, kept once with its consent line.
			"an answer that is no email: the retry, nothing kept", "Hmm, that doesn't look like an email address.",
			"one lead for 900000026: the email typed after one invalid answer, with the consent line seen: yes",
			"lea@example.com  price/email"}},
		{[]string{"demo", "extra"}, exitUsage, nil},
		{[]string{"demo", "-nope"}, exitUsage, nil},
	}
	// The people export names the clicker: dev opened the live-link rule's tracked link (twice:
	// one link, first opened then), and nobody else clicked.
	clicker := regexp.MustCompile(`(?m)^900000006,dev,live-link,,\d+,\d+,SENT,[^,]+,0,0,1,\d{4}-\d\d-\d\dT[\d:]+Z,https://bakery\.example/live$`)
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, &stdout, &stderr)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.code, stdout.String(), stderr.String())
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("%v: stdout lacks %q:\n%s", tt.args, w, stdout.String())
			}
		}
		if tt.code == exitOK && (!clicker.MatchString(stdout.String()) || strings.Count(stdout.String(), ",0,,\n") != 7) {
			t.Errorf("%v: the people export does not show dev's click alone:\n%s", tt.args, stdout.String())
		}
		// No secret in any output (issue 24): the app secret and the account's token.
		for _, secret := range []string{devstack.DefaultAppSecret, devstack.DemoToken} {
			if strings.Contains(stdout.String()+stderr.String(), secret) {
				t.Errorf("%v: the output holds the secret %q", tt.args, secret)
			}
		}
		if tt.code == exitOK && strings.Contains(stdout.String(), "→ sent") == (len(tt.args) > 1) {
			t.Errorf("%v: progress lines shown %v", tt.args, len(tt.args) == 1)
		}
	}
}
