package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRulesTest(t *testing.T) {
	h := opSetup(t)
	id := opID(t)
	file := h.accountFile("good.yaml", id)
	h.must("accounts", "put", "--file", file)
	recipe := "Hi @ana! Crème brûlée recipe: https://bakery.example/r\n\nAutomated reply."
	cases := []struct {
		name    string
		args    []string
		code    int
		rule    string
		index   int
		message string
	}{
		{"keyword as a word, accents and case folded", []string{"RECETTE please"}, exitOK, "recipe", 1, recipe},
		{"kind filter lets a reel through", []string{"--kind", "reel", "recipe?"}, exitOK, "recipe", 1, recipe},
		{"excluded word vetoes", []string{"recipe spam"}, exitFail, "", 0, ""},
		{"not a whole word", []string{"recipes"}, exitFail, "", 0, ""},
		{"media filter: other media", []string{"--media", "18000000000000002", "linky"}, exitFail, "", 0, ""},
		{"media filter: its media, contains", []string{"--media", "18000000000000001", "linky"}, exitOK, "reel-only-link", 2, "The link: https://bakery.example/l"},
		{"any rule on live", []string{"--kind", "live", "hello"}, exitOK, "live", 3, "Thanks for watching, ana!"},
		{"kind filter keeps live away from recipe", []string{"--kind", "live", "recipe"}, exitOK, "live", 3, "Thanks for watching, ana!"},
	}
	for _, c := range cases {
		for _, from := range [][]string{{"--account", id}, {"--file", file}} {
			t.Run(c.name+" "+from[0], func(t *testing.T) {
				args := append([]string{"rules", "test", "--json", "--username", "ana"}, from...)
				code, out, errs := h.run(append(args, c.args...)...)
				if code != c.code {
					t.Fatalf("exit %d, want %d\n%s%s", code, c.code, out, errs)
				}
				var r opRuleTest
				if err := json.Unmarshal([]byte(out), &r); err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				if r.Rule != c.rule || r.RuleIndex != c.index || r.Message != c.message || r.Matched != (c.rule != "") {
					t.Errorf("got rule %q #%d message %q, want %q #%d %q", r.Rule, r.RuleIndex, r.Message, c.rule, c.index, c.message)
				}
				// Bytes, not characters: Meta's limit is on UTF-8 bytes.
				if r.Bytes != len(c.message) || r.MaxBytes != 1000 {
					t.Errorf("bytes %d of %d, want %d of 1000", r.Bytes, r.MaxBytes, len(c.message))
				}
				if c.rule == "" && r.Outcome != "skip: no_rule" {
					t.Errorf("outcome %q", r.Outcome)
				}
			})
		}
	}
	// The human form shows the rule, the byte count and the exact text.
	out := h.must("rules", "test", "--account", id, "--username", "ana", "Recipe!")
	for _, w := range []string{`rule #1 "recipe" matches`, "(75 of 1000 bytes)", "  | Hi @ana! Crème brûlée", "  | Automated reply.", "Sent you a DM!"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	if len(recipe) != 75 {
		t.Fatalf("recipe is %d bytes; fix the expectation above", len(recipe))
	}
	if code, out, _ := h.run("rules", "test", "--account", id, "nothing here"); code != exitFail || !strings.Contains(out, "SKIPPED (no_rule)") {
		t.Errorf("no match: exit %d\n%s", code, out)
	}
}

func TestRulesTestUsage(t *testing.T) {
	h := opSetup(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"rules"}, exitUsage, "Usage: replywindow rules test"},
		{[]string{"rules", "try"}, exitUsage, `unknown subcommand "try"`},
		{[]string{"rules", "test", "--account", "1"}, exitUsage, "want exactly one comment text"},
		{[]string{"rules", "test", "hello"}, exitUsage, "give --account ID or --file"},
		{[]string{"rules", "test", "--account", "1", "--kind", "story", "hi"}, exitUsage, `--kind "story"`},
		{[]string{"rules", "test", "--account", "17841499999999999", "hi"}, exitFail, "no account 17841499999999999"},
		{[]string{"rules", "test", "--account", "nobody", "hi"}, exitUsage, `--account: account id "nobody": not a Meta id`},
		{[]string{"rules", "test", "--account", "1", "--media", "reel-1", "hi"}, exitUsage, `--media: media id "reel-1": not a Meta id`},
		{[]string{"rules", "test", "--file", "testdata/accounts/bad/bad_kind.yaml", "hi"}, exitFail, "bad_kind.yaml:6:"},
	}
	for _, c := range cases {
		code, _, errs := h.run(c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, want %d; stderr %q lacks %q", c.args, code, c.code, errs, c.want)
		}
	}
	// A comment that starts with a dash is text after "--".
	code, out, _ := h.run("rules", "test", "--file", h.accountFile("good.yaml", "1"), "--", "-recipe-")
	if code != exitOK || !strings.Contains(out, `"recipe" matches`) {
		t.Errorf("after --: exit %d\n%s", code, out)
	}
	if code, out, _ := h.run("rules", "test", "--help"); code != exitOK || !strings.Contains(out, "Examples:") {
		t.Errorf("--help: exit %d\n%s", code, out)
	}
}
