package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/replywindow/replywindow/shared/devstack"
	"github.com/replywindow/replywindow/shared/telemetry"
)

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
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: replywindow demo [-q] [-wait 15s]

Starts the local stack (webhook, queue, replier, sweeper, memory store, Graph API sandbox) on
free loopback ports, posts signed sample deliveries (a matching comment, one no rule matches, the
same comment twice, the account's own comment, a second comment by the same person on the same
post, a Live comment during a broadcast, a forged signature, a comment whose webhook never
comes and which reconciliation finds), waits until each comment is terminal, then carries one
conversation on (a tap on the private reply's button that meets the follow gate, a follow and a
second tap that get the link, a third tap, a DM that arrives after its window, a DM keyword)
and prints what became of each and what the sandbox delivered.

Exit status: 0 every sample ended as it must, 1 otherwise, 2 bad usage.`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "demo: unexpected argument %q\n", fs.Arg(0))
		return exitUsage
	}
	telemetry.Stdout = io.Discard // EMF lines are for CloudWatch, not for the terminal
	cfg := devstack.Config{Addr: "127.0.0.1:0"}
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
	var turns []devstack.TurnOutcome
	if err == nil {
		turns, err = s.Funnel(ctx, devstack.DemoFunnel(), *wait)
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
	fmt.Fprintln(stdout, "\nThe conversation after the private reply (24-hour window, follow gate, DM rule):")
	devstack.PrintFunnel(stdout, turns)
	dms := len(s.Sandbox.Deliveries())
	missed := res.Failed() + devstack.FunnelFailed(turns)
	fmt.Fprintf(stdout, "\n%d sample(s) and %d turn(s) of conversation, %d private repl(ies), %d follow-up(s), %d second send(s) refused by Meta's one-reply rule, %d expectation(s) missed; %s (stack up %s)\n",
		len(res.Outcomes), len(turns), dms, len(s.Sandbox.Messages()), s.Sandbox.Stats().Duplicates, missed, res.Took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if missed > 0 {
		fmt.Fprintln(stderr, "demo: FAILED: some samples did not end as they must (see the OK column)")
		return exitFail
	}
	return exitOK
}
