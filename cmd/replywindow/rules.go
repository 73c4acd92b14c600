package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

func init() {
	commands["rules"] = command{summary: "test which rule answers a comment, and the exact message (test)", run: runRules}
}

const rulesHelp = `Usage: replywindow rules test --account ID [flags] "comment text"

  test  which rule matches a comment and the exact private reply it would send

Run 'replywindow rules test --help' for flags and examples.
`

func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, rulesHelp)
		return exitUsage
	}
	switch args[0] {
	case "test":
		return rulesTest(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, rulesHelp)
		return exitOK
	}
	fmt.Fprintf(stderr, "replywindow rules: unknown subcommand %q\n\n%s", args[0], rulesHelp)
	return exitUsage
}

// opRuleTest is the answer of rules test.
type opRuleTest struct {
	Account    string     `json:"account"`
	Comment    string     `json:"comment"`
	Kind       reply.Kind `json:"kind"`
	Media      string     `json:"media,omitempty"`
	Matched    bool       `json:"matched"`
	Rule       string     `json:"rule,omitempty"`
	RuleIndex  int        `json:"rule_index,omitempty"` // 1-based, as rule order is what decides
	Message    string     `json:"message,omitempty"`
	Bytes      int        `json:"bytes"`
	MaxBytes   int        `json:"max_bytes"`
	Public     []string   `json:"public_replies,omitempty"`
	Outcome    string     `json:"outcome"` // what the replier would do: send, or skip and why
	RenderErr  string     `json:"error,omitempty"`
	FromConfig string     `json:"from"` // "table" or the file tested
}

func rulesTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("rules test", `--account ID [--media ID] [--kind KIND] [--username NAME] "comment text"`, `  replywindow rules test --account 17841400000000001 "RECIPE please!"
  replywindow rules test --account 17841400000000001 --media 18000000000000001 --kind reel --username ana "recette"

  # try a file before storing it
  replywindow rules test --file account.yaml "link?"

Exit status: 0 a rule matches, 1 no rule matches (the comment would be skipped) or an error,
2 bad usage.
`, stdout, stderr)
	account := c.fs.String("account", "", "account `ID` whose stored rules to test")
	file := c.fs.String("file", "", "test the rules of this account `file` instead of the stored ones")
	media := c.fs.String("media", "", "media `ID` the comment is on (rules may be limited to media)")
	kind := c.fs.String("kind", string(reply.KindPost), "what the comment is on: post, reel, ad or live")
	username := c.fs.String("username", "username", "commenter's `name` for {username}")
	asJSON := c.fs.Bool("json", false, "print JSON")
	table := c.tableFlag()
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	switch {
	case len(pos) != 1:
		return c.fail(opUsagef(`want exactly one comment text (quote it: "comment text")`))
	case (*account == "") == (*file == ""):
		return c.fail(opUsagef("give --account ID or --file account.yaml"))
	case !reply.Kind(*kind).Valid():
		return c.fail(opUsagef("--kind %q: want post, reel, ad or live", *kind))
	}
	if *account != "" {
		if err := opCheckID("--account", "account", *account); err != nil {
			return c.fail(err)
		}
	}
	if *media != "" {
		if err := opCheckID("--media", "media", *media); err != nil {
			return c.fail(err)
		}
	}
	var a reply.Account
	from := "table"
	if *file != "" {
		var err error
		if a, err = opLoadAccount(*file, opDefaultTokenPath); err != nil {
			return c.fail(err)
		}
		from = *file
	} else {
		store, _, err := c.store(ctx, *table)
		if err != nil {
			return c.fail(err)
		}
		a, err = store.Account(ctx, *account)
		if errors.Is(err, reply.ErrNotFound) {
			return c.fail(fmt.Errorf("no account %s (see: replywindow accounts list)", *account))
		}
		if err != nil {
			return c.fail(fmt.Errorf("read account %s: %w", *account, err))
		}
	}
	job := reply.Job{
		V: reply.JobVersion, AccountID: a.ID, CommentID: "rules-test", MediaID: *media,
		FromUsername: *username, Text: pos[0], Kind: reply.Kind(*kind), CommentedAt: time.Now(),
	}
	res := opRuleTest{Account: a.ID, Comment: pos[0], Kind: job.Kind, Media: *media, MaxBytes: reply.MaxTextBytes, FromConfig: from}
	r, matched := a.Match(job)
	if matched {
		res.Matched, res.Rule = true, r.Name
		// The first rule that matches alone is the one Match chose (first match wins).
		for i := range a.Rules {
			one := a
			one.Rules = a.Rules[i : i+1]
			if _, ok := one.Match(job); ok {
				res.RuleIndex = i + 1
				break
			}
		}
		text, err := r.Render(*username, a.Disclosure)
		res.Message, res.Bytes = text, len(text)
		res.Outcome = "send"
		if err != nil {
			res.RenderErr = err.Error()
			res.Outcome = "fail: " + err.Error()
		}
		if job.Kind != reply.KindLive {
			res.Public = r.PublicReplies
		}
	} else {
		res.Outcome = "skip: " + reply.SkipNoRule
	}
	if *asJSON {
		if err := opJSON(stdout, res); err != nil {
			return c.fail(err)
		}
	} else {
		opPrintRuleTest(stdout, res)
	}
	if !matched || res.RenderErr != "" {
		return exitFail
	}
	return exitOK
}

func opPrintRuleTest(w io.Writer, r opRuleTest) {
	if !r.Matched {
		fmt.Fprintf(w, "no rule matches: the comment would be SKIPPED (%s)\n", reply.SkipNoRule)
		return
	}
	fmt.Fprintf(w, "rule #%d %q matches\n", r.RuleIndex, r.Rule)
	if r.RenderErr != "" {
		fmt.Fprintf(w, "but the message cannot be sent: %s\n", r.RenderErr)
	}
	fmt.Fprintf(w, "private reply (%d of %d bytes):\n", r.Bytes, r.MaxBytes)
	for _, line := range strings.Split(r.Message, "\n") {
		fmt.Fprintln(w, strings.TrimRight("  | "+line, " "))
	}
	if len(r.Public) > 0 {
		fmt.Fprintf(w, "public reply, one of %d:\n", len(r.Public))
		for _, p := range r.Public {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
}
