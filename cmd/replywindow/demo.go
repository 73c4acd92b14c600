package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/replywindow/replywindow/shared/devstack"
	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// exampleAccountFile is account.example.yaml, the account the demo runs: the documented example
// and the demo are one file (devstack.DemoAccounts is a copy a test holds equal to it).
//
//go:embed account.example.yaml
var exampleAccountFile []byte

// exampleAccount is the example file as `accounts put` stores it on a new account.
func exampleAccount() (reply.Account, error) {
	a, err := opParseAccount("account.example.yaml", exampleAccountFile, opDefaultTokenPath)
	if err != nil {
		return a, err
	}
	a.Version = 1
	if a.ID != devstack.DemoAccountID {
		// The sample deliveries, the sandbox's token and its Live broadcast are the demo id's.
		return a, fmt.Errorf("account.example.yaml: id %q: the demo's sample deliveries are for %s", a.ID, devstack.DemoAccountID)
	}
	return a, nil
}

func init() {
	commands["demo"] = command{summary: "start the local stack, post signed sample comments, print outcomes and the sandbox ledger", run: runDemo}
}

// runDemo is `make demo`: the whole product on this machine with nothing but Go, and a smoke test
// (exit 1 when any sample does not end as it must).
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quiet := fs.Bool("q", false, "no progress lines, only the tables")
	wait := fs.Duration("wait", 15*time.Second, "how long one comment may take to reach a terminal state")
	htmlOut := fs.String("html", filepath.Join(os.TempDir(), "replywindow-demo-report.html"), "where the run's HTML report goes (\"\" for none)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: replywindow demo [-q] [-wait 15s] [-html FILE]

Starts the local stack (webhook, queue, replier, sweeper, memory store, Graph API sandbox) on
free loopback ports with the account of cmd/replywindow/account.example.yaml (embedded when the
CLI is built: edit it and rebuild, and the demo plays your rules), posts signed sample
deliveries (a matching comment, one no rule matches, the same comment twice, the account's own
comment, a second comment by the same person on the same post, a comment for the second rule on
another reel, a Live comment during a broadcast, a forged signature, a comment whose webhook
never comes and which reconciliation finds), waits until each comment is terminal, then
carries the conversations on (a tap that meets the follow gate, a follow and a second tap that
get the link, a third tap, the second rule's flow up to its own step "link", a first message
that is an image and so gets the disclosure as a message of its own, a DM that arrives after
its window, two DMs answered by two DM rules), checks the whole ledger (both links, both DM
rules, the disclosure opening each conversation) and prints what became of each and what the
sandbox delivered.

Exit status: 0 every sample ended as it must, 1 otherwise, 2 bad usage.`)
		fs.PrintDefaults()
	}
	if code, ok := flagsOnly(fs, args, stderr); !ok {
		return code
	}
	telemetry.Stdout = io.Discard // EMF lines are for CloudWatch, not for the terminal
	acct, err := exampleAccount()
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return exitFail
	}
	turns, err := devstack.DemoFunnel(acct)
	if err != nil {
		fmt.Fprintf(stderr, "demo: account.example.yaml no longer has what the demo's conversation plays: %v\n", err)
		return exitFail
	}
	leadTurns, err := devstack.DemoLeadTurns(acct)
	if err != nil {
		fmt.Fprintf(stderr, "demo: account.example.yaml: %v\n", err)
		return exitFail
	}
	turns = append(turns, leadTurns...)
	cfg := devstack.Config{Addr: "127.0.0.1:0", Accounts: []reply.Account{acct}}
	if !*quiet {
		cfg.Progress = stdout
	}
	start := time.Now()
	s, err := devstack.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "local stack: webhook %s, Graph API sandbox %s\n\n", s.WebhookURL, s.SandboxURL)
	res, err := s.Demo(ctx, devstack.DemoCases(), *wait)
	var played []devstack.TurnOutcome
	var proofs []devstack.Proof
	if err == nil {
		played, err = s.Funnel(ctx, turns, *wait)
	}
	if err == nil {
		proofs, err = s.Prove(ctx)
	}
	var clicks devstack.LinkClicks
	if err == nil {
		clicks, err = s.DemoClicks(ctx) // a tracked link: Meta's preview, then a person's two clicks
	}
	if err == nil {
		err = s.DrainEvents(ctx) // the first click's LinkClicked: the sweeper's to publish
	}
	var leads []lead.Lead
	if err == nil {
		if leads, err = s.Leads(ctx); err == nil {
			proofs = append(proofs, devstack.ProveLeads(acct, leads))
		}
	}
	// The stack stops before the tables: its services may still be logging progress (the replier
	// finishing a duplicate, the sweeper's next run) into the same output. A slow shutdown is no
	// outcome of the demo.
	_ = s.Close()
	if err != nil {
		fmt.Fprintf(stderr, "demo: %v\n", err)
		return exitFail
	}
	fmt.Fprintln(stdout)
	res.Print(stdout, s)
	fmt.Fprintln(stdout, "\nThe conversations after the private replies (24-hour window, follow gate, two flows, DM rules):")
	devstack.PrintFunnel(stdout, played)
	fmt.Fprintln(stdout, "\nOver the whole ledger of follow-ups:")
	devstack.PrintProofs(stdout, proofs)
	fmt.Fprintln(stdout, "\nA tracked link (shared/links), fetched by Meta's crawler, then opened twice by the person:")
	devstack.PrintClicks(stdout, clicks)
	s.PrintEvents(stdout)
	fmt.Fprintln(stdout, "\nThe leads kept (replywindow leads export --account "+acct.ID+"):")
	devstack.PrintLeads(stdout, leads)
	if err := demoReport(ctx, stdout, s.Store, acct.ID, *htmlOut); err != nil {
		fmt.Fprintf(stderr, "demo: report: %v\n", err)
		return exitFail
	}
	dms := len(s.Sandbox.Deliveries())
	missed := res.Failed() + devstack.FunnelFailed(played) + devstack.ProofsFailed(proofs) + len(clicks.Problems)
	fmt.Fprintf(stdout, "\n%d sample(s), %d turn(s) of conversation and %d ledger check(s), %d private repl(ies), %d follow-up(s), %d second send(s) refused by Meta's one-reply rule, %d expectation(s) missed; %s (stack up %s)\n",
		len(res.Outcomes), len(played), len(proofs), dms, len(s.Sandbox.Messages()), s.Sandbox.Stats().Duplicates, missed, res.Took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if missed > 0 {
		fmt.Fprintln(stderr, "demo: FAILED: some samples did not end as they must (see the OK column)")
		return exitFail
	}
	return exitOK
}

// demoReport prints the run's funnel report (what `replywindow report` shows) and writes its
// HTML page: the counts were written with the run's own transitions.
func demoReport(ctx context.Context, w io.Writer, store reply.Store, account, htmlPath string) error {
	counts, ok := reply.StoreAs[funnel.Reader](store)
	if !ok {
		return fmt.Errorf("the demo's store keeps no funnel counts")
	}
	now := time.Now().UTC()
	rows, err := counts.Counts(ctx, account, now.Add(-24*time.Hour), now)
	if err != nil {
		return err
	}
	rep, err := opBuildReport(account, now.Add(-24*time.Hour), now, funnel.ByRule, rows)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nThe run's funnel (replywindow report --account "+account+" --since 1d):")
	if err := opReportTable(w, rep); err != nil {
		return err
	}
	// Who got a DM, tapped and clicked: personal data, shown here because the people are made up.
	clicks, _ := reply.StoreAs[reply.ClickRecords](store)
	people, err := opPeople(ctx, store, clicks, account, now.Add(-24*time.Hour))
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nThe people (replywindow report --account "+account+" --people --csv):")
	if err := opPeopleCSV(w, people); err != nil {
		return err
	}
	if htmlPath == "" {
		return nil
	}
	if err := opWriteHTML(htmlPath, rep, rows); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nHTML report: %s\n", htmlPath)
	return nil
}
