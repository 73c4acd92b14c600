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
				r := opRulesTestJSON(t, h, c.code, append(from, c.args...)...)
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
		{[]string{"rules", "test", "--file", "testdata/accounts/bad/flow_text_too_long.yaml", "recipe"}, exitFail, `flow_text_too_long.yaml:18: rules[0] "recipe": flow[1] "link": messages[0]: text: 1043 bytes`},
		{[]string{"rules", "test", "--account", "1", "--answer", "hi", "--payload", "P", "recipe"}, exitUsage, "--answer and --payload exclude each other"},
		{[]string{"rules", "test", "--account", "1", "--story", "recipe"}, exitUsage, "--story needs --answer"},
		{[]string{"rules", "test", "--account", "1", "--answer", "hi", "a", "b"}, exitUsage, "want exactly one comment text"},
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

// rules test shows the flow after the private reply, and which step an answer or a tap runs,
// from a file and from the stored account alike.
func TestRulesTestFlow(t *testing.T) {
	h := opSetup(t)
	id := opID(t)
	example := opWithID(t, "account.example.yaml", id)
	flow := opWithID(t, "testdata/accounts/flow.yaml", id)
	h.must("accounts", "put", "--file", example)
	const disclosed = "\n\nThis is an automated reply."
	cases := []struct {
		name    string
		file    string // the account file, also tested as stored when it is the example
		args    []string
		code    int
		step    string // the step the answer runs; "" = none
		rule    string
		outcome string // part of the answer's outcome
	}{
		{"the button's tap runs the gated step", example, []string{"--payload", "RECIPE_LINK", "recipe please"}, exitOK, "link", "recipe", "ask Meta whether the person follows"},
		{"a tap without the comment", example, []string{"--payload", "RECIPE_LINK"}, exitOK, "link", "recipe", "Meta cannot say → the gate's message"},
		{"a payload no step has", example, []string{"--payload", "NOPE", "recipe"}, exitFail, "", "", `no step of any flow runs on payload "NOPE"`},
		{"an answer the flow does not take", example, []string{"--answer", "thanks!", "recipe"}, exitFail, "", "", `no step of "recipe" and no DM rule takes this answer`},
		{"a DM keyword after the private reply", example, []string{"--answer", "and the price?", "recipe"}, exitOK, "opening", "price", `send DM rule "price"'s answer`},
		{"a DM the person starts", example, []string{"--answer", "Prix ?"}, exitOK, "opening", "price", `DM rule "price"`},
		{"a story reply", example, []string{"--story", "--answer", "price?"}, exitOK, "opening", "price", `DM rule "price"`},
		{"a DM no rule takes", example, []string{"--answer", "hello"}, exitFail, "", "", "no DM rule takes this message"},
		{"a comment no rule matches, then a DM", example, []string{"--answer", "price", "hello"}, exitOK, "opening", "price", ""},
		{"a keyword step", flow, []string{"--answer", "encore!", "recipe"}, exitOK, "more", "recipe", `send step "more"`},
		{"the any-answer step", flow, []string{"--answer", "lovely", "recipe"}, exitOK, "thanks", "recipe", `send step "thanks"`},
		{"the gate sends anyway", flow, []string{"--payload", "LINK", "recipe"}, exitOK, "link", "recipe", "Meta cannot say → send the step anyway"},
		{"a DM rule's flow", flow, []string{"--payload", "MENU"}, exitOK, "menu", "hello", `send step "menu"`},
	}
	for _, c := range cases {
		froms := [][]string{{"--file", c.file}}
		if c.file == example {
			froms = append(froms, []string{"--account", id})
		}
		for _, from := range froms {
			t.Run(c.name+" "+from[0], func(t *testing.T) {
				r := opRulesTestJSON(t, h, c.code, append(from, c.args...)...)
				a := r.Answer
				if a == nil {
					t.Fatalf("no answer in %+v", r)
				}
				step := ""
				if a.Step != nil {
					step = a.Step.Name
				}
				if step != c.step || a.Rule != c.rule || a.Matched != (c.step != "") || !strings.Contains(a.Outcome, c.outcome) {
					t.Errorf("answer runs %q of %q (%s), want %q of %q (%s)", step, a.Rule, a.Outcome, c.step, c.rule, c.outcome)
				}
				// A new conversation's first automated message discloses.
				if c.file == example && a.Step != nil && !strings.HasSuffix(a.Step.Messages[0].Text, disclosed) {
					t.Errorf("first message %q lacks the disclosure", a.Step.Messages[0].Text)
				}
			})
		}
	}

	// The comment's flow in JSON: the button with the step it runs, the step with its gate.
	r := opRulesTestJSON(t, h, exitOK, "--file", example, "recipe")
	if len(r.Choices) != 1 || r.Choices[0] != (opChoice{Type: "postback", Title: "Send me the link", Payload: "RECIPE_LINK", Runs: `"recipe" step "link"`}) {
		t.Errorf("choices %+v", r.Choices)
	}
	if len(r.Flow) != 1 {
		t.Fatalf("flow %+v", r.Flow)
	}
	s := r.Flow[0]
	if s.Name != "link" || s.Trigger != "tap RECIPE_LINK" || s.Repeat != "once per conversation" || s.Gate == nil || s.Gate.Text != "Follow us, then tap the button again 💛" || s.Fallback != "ask" {
		t.Errorf("step %+v", s)
	}
	if len(s.Messages) != 2 || s.Messages[0].Text != "Here is the recipe, ana: https://bakery.example/recipe" || s.Messages[0].Bytes != 54 || s.Messages[1].Kind != "like_heart" {
		t.Errorf("messages %+v", s.Messages)
	}

	// The human form: the private reply's button, the flow, and the step a tap runs.
	out := h.must("rules", "test", "--file", example, "--username", "ana", "--payload", "RECIPE_LINK", "recipe")
	for _, w := range []string{
		`[Send me the link] button RECIPE_LINK → "recipe" step "link"`,
		"then, once the person answers or taps (Meta's 24-hour window opens):",
		`  step "link" on tap RECIPE_LINK; once per conversation`,
		"    follow gate (Meta cannot say: the gate's message), to people who do not follow:",
		"      | Follow us, then tap the button again 💛",
		"    1. text (54 of 1000 bytes)",
		"       | Here is the recipe, ana: https://bakery.example/recipe",
		"    2. like_heart (the heart sticker)",
		`tap RECIPE_LINK (in the conversation of "recipe") runs step "link" of "recipe":`,
		"    1. text (83 of 1000 bytes)",
		"outcome: ask Meta whether the person follows",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	// Every kind of step and message, and a quick reply whose payload runs nothing.
	out = h.must("rules", "test", "--file", flow, "--username", "ana", "recipe")
	for _, w := range []string{
		`(Yes please) quick reply LINK → "recipe" step "link"`,
		`step "more" on answer with "more", "encore" (contains); again on a trigger 10m0s after the last`,
		`step "thanks" on any other answer; once per conversation`,
		"follow gate (Meta cannot say: send the step anyway)",
		"[Open] opens https://bakery.example/r",
		"2. image https://bakery.example/cake.png",
		"3. video https://bakery.example/how.mp4",
		"4. audio https://bakery.example/hi.mp3",
		"6. reaction love on the person's message",
		"7. media_share of post 18000000000000001",
		"(Cake) quick reply CAKE → no step runs on it (the tap sends nothing)",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	out = h.must("rules", "test", "--file", flow, "--answer", "hi")
	for _, w := range []string{`answer "hi" runs DM rule "hello":`, "[Menu] button MENU", "  then:", `    step "menu" on tap MENU`} {
		if !strings.Contains(out, w) {
			t.Errorf("DM output lacks %q:\n%s", w, out)
		}
	}
	// A rule without a flow says so.
	if out := h.must("rules", "test", "--file", h.accountFile("good.yaml", id), "recipe"); !strings.Contains(out, "no flow:") {
		t.Errorf("no flow:\n%s", out)
	}
}

// opRulesTestJSON runs rules test --json --username ana with args, wants exit code, and
// returns the answer.
func opRulesTestJSON(t *testing.T, h *opHarness, code int, args ...string) opRuleTest {
	t.Helper()
	got, out, errs := h.run(append([]string{"rules", "test", "--json", "--username", "ana"}, args...)...)
	if got != code {
		t.Fatalf("exit %d, want %d\n%s%s", got, code, out, errs)
	}
	var r opRuleTest
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return r
}
