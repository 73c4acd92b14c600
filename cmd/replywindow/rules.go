package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

func init() {
	commands["rules"] = command{summary: "test which rule answers a comment, the exact message and the flow after it (test)", run: runRules}
}

const rulesHelp = `Usage: replywindow rules test --account ID [flags] "comment text"

  test  which rule matches a comment, the exact private reply it would send and the flow that
        follows; with --answer or --payload, which step an answer or a tap would run

Run 'replywindow rules test --help' for flags and examples.
`

func runRules(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return opDispatch(ctx, "rules", rulesHelp, map[string]opSub{"test": rulesTest}, args, stdout, stderr)
}

// opRuleTest is the answer of rules test.
type opRuleTest struct {
	Account    string        `json:"account"`
	Comment    string        `json:"comment"`
	Kind       reply.Kind    `json:"kind"`
	Media      string        `json:"media,omitempty"`
	Matched    bool          `json:"matched"`
	Rule       string        `json:"rule,omitempty"`
	RuleIndex  int           `json:"rule_index,omitempty"` // 1-based, as rule order is what decides
	Message    string        `json:"message,omitempty"`
	Bytes      int           `json:"bytes"`
	MaxBytes   int           `json:"max_bytes"`
	Public     []string      `json:"public_replies,omitempty"`
	Choices    []opChoice    `json:"choices,omitempty"` // the private reply's buttons or quick replies
	Flow       []opStepView  `json:"flow,omitempty"`    // what follows once the person answers
	Answer     *opAnswerTest `json:"answer,omitempty"`
	Outcome    string        `json:"outcome"` // what the replier would do: send, or skip and why
	RenderErr  string        `json:"error,omitempty"`
	FromConfig string        `json:"from"` // "table" or the file tested
}

func rulesTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("rules test", `--account ID [--media ID] [--kind KIND] [--username NAME] [--answer TEXT | --payload P] "comment text"`, `  replywindow rules test --account 17841400000000001 "RECIPE please!"
  replywindow rules test --account 17841400000000001 --media 18000000000000001 --kind reel --username ana "recette"

  # try a file before storing it
  replywindow rules test --file account.yaml "link?"

  # the person taps the private reply's button, or answers it: which step runs
  replywindow rules test --file account.yaml --payload RECIPE_LINK "recipe"
  replywindow rules test --file account.yaml --answer "thank you!" "recipe"

  # a DM the person starts (no comment): which DM rule answers it
  replywindow rules test --file account.yaml --answer "what's the price?"
  replywindow rules test --file account.yaml --story --answer "price?"

Exit status: 0 a rule matches (with --answer or --payload: a step or DM rule runs), 1 no rule
matches (the comment would be skipped; or the answer runs nothing) or an error, 2 bad usage.
`, stdout, stderr)
	account := c.fs.String("account", "", "account `ID` whose stored rules to test")
	file := c.fs.String("file", "", "test the rules of this account `file` instead of the stored ones")
	media := c.fs.String("media", "", "media `ID` the comment is on (rules may be limited to media)")
	kind := c.fs.String("kind", string(reply.KindPost), "what the comment is on: post, reel, ad or live")
	username := c.fs.String("username", "username", "commenter's `name` for {username}")
	answer := c.fs.String("answer", "", "the person's answer `TEXT` after the private reply (or a DM, without a comment)")
	payload := c.fs.String("payload", "", "the `payload` of a button or quick reply the person taps")
	story := c.fs.Bool("story", false, "the --answer is a reply to one of the account's stories")
	asJSON := c.fs.Bool("json", false, "print JSON")
	table := c.tableFlag()
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	answering := *answer != "" || *payload != ""
	switch {
	case len(pos) > 1 || len(pos) == 0 && !answering:
		return c.fail(opUsagef(`want exactly one comment text (quote it: "comment text"), or --answer or --payload alone for a DM`))
	case *answer != "" && *payload != "":
		return c.fail(opUsagef("--answer and --payload exclude each other: a tap carries no answer text"))
	case *story && *answer == "":
		return c.fail(opUsagef("--story needs --answer, the text of the story reply"))
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
	// The conversation a tap or an answer arrives in: just opened, in the matched rule's flow.
	now := time.Now()
	view := opFlowView{a: a, username: *username, conv: reply.Conversation{
		AccountID: a.ID, PersonID: "rules-test", Username: *username, WindowEnd: now.Add(reply.ConversationWindow), LastInbound: now,
	}}
	var res opRuleTest
	matched := false
	if len(pos) == 1 {
		var r reply.Rule
		res, r, matched = opTestComment(a, pos[0], *media, reply.Kind(*kind), *username, from)
		if matched {
			view.conv.Rule = r.Name
			res.Choices = view.choices(r.Buttons, r.QuickReplies)
			res.Flow = view.steps(r.Flow)
		}
	} else {
		res = opRuleTest{Account: a.ID, MaxBytes: reply.MaxTextBytes, FromConfig: from, Outcome: "no comment: a DM the person starts"}
	}
	if answering {
		ans := view.answer(*answer, *payload, *story)
		res.Answer = &ans
	}
	if *asJSON {
		if err := opJSON(stdout, res); err != nil {
			return c.fail(err)
		}
	} else {
		opPrintRuleTest(stdout, res, len(pos) == 1)
	}
	switch {
	case res.RenderErr != "":
		return exitFail
	case answering && !res.Answer.Matched:
		return exitFail
	case !answering && !matched:
		return exitFail
	}
	return exitOK
}

// opTestComment is which rule answers comment and the private reply it would send.
func opTestComment(a reply.Account, comment, media string, kind reply.Kind, username, from string) (opRuleTest, reply.Rule, bool) {
	job := reply.Job{
		V: reply.JobVersion, AccountID: a.ID, CommentID: "rules-test", MediaID: media,
		FromUsername: username, Text: comment, Kind: kind, CommentedAt: time.Now(),
	}
	res := opRuleTest{Account: a.ID, Comment: comment, Kind: job.Kind, Media: media, MaxBytes: reply.MaxTextBytes, FromConfig: from}
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
		text, err := r.Render(username, a.Disclosure)
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
	return res, r, matched
}

func opPrintRuleTest(w io.Writer, r opRuleTest, comment bool) {
	if comment {
		opPrintComment(w, r)
	}
	if a := r.Answer; a != nil {
		opPrintAnswer(w, *a)
	}
}

func opPrintComment(w io.Writer, r opRuleTest) {
	if !r.Matched {
		fmt.Fprintf(w, "no rule matches: the comment would be SKIPPED (%s)\n", reply.SkipNoRule)
		return
	}
	fmt.Fprintf(w, "rule #%d %q matches\n", r.RuleIndex, r.Rule)
	if r.RenderErr != "" {
		fmt.Fprintf(w, "but the message cannot be sent: %s\n", r.RenderErr)
	}
	fmt.Fprintf(w, "private reply (%d of %d bytes):\n", r.Bytes, r.MaxBytes)
	opPrintMessage(w, "  ", opMessageView{Text: r.Message, Choices: r.Choices})
	if len(r.Public) > 0 {
		fmt.Fprintf(w, "public reply, one of %d:\n", len(r.Public))
		for _, p := range r.Public {
			fmt.Fprintf(w, "  - %s\n", p)
		}
	}
	if len(r.Flow) == 0 {
		fmt.Fprintln(w, "no flow: an answer to the private reply runs no step of this rule (DM rules may take it)")
		return
	}
	fmt.Fprintln(w, "then, once the person answers or taps (Meta's 24-hour window opens):")
	opPrintSteps(w, "  ", r.Flow)
}

func opPrintAnswer(w io.Writer, a opAnswerTest) {
	what := fmt.Sprintf("answer %q", a.Text)
	switch a.Event {
	case reply.EventPostback:
		what = "tap " + a.Payload
	case reply.EventStoryReply:
		what = fmt.Sprintf("story reply %q", a.Text)
	}
	if a.In != "" {
		what += fmt.Sprintf(" (in the conversation of %q)", a.In)
	}
	if !a.Matched {
		fmt.Fprintf(w, "%s: %s\n", what, a.Outcome)
		return
	}
	fmt.Fprintf(w, "%s runs", what)
	if a.DMRule {
		fmt.Fprintf(w, " DM rule %q:\n", a.Rule)
	} else {
		fmt.Fprintf(w, " step %q of %q:\n", a.Step.Name, a.Rule)
	}
	opPrintStep(w, "  ", *a.Step)
	if len(a.Then) > 0 {
		fmt.Fprintln(w, "  then:")
		opPrintSteps(w, "    ", a.Then)
	}
	// The messages are shown as the first automated ones of a new conversation: with the
	// disclosure line, which later ones carry only after a lapse or a human pause.
	fmt.Fprintf(w, "outcome: %s\n", a.Outcome)
}
