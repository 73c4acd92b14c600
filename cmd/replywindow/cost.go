package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/replywindow/replywindow/shared/cost"
	"github.com/replywindow/replywindow/shared/simulation"
)

func init() {
	commands["cost"] = command{summary: "price a month of traffic from a scale simulation's counts and AWS's us-east-1 prices", run: runCost}
}

// runCost is `make cost`: the scale simulation counts what the bundle asks of AWS per comment,
// shared/cost prices it.
func runCost(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cost", flag.ContinueOnError)
	fs.SetOutput(stderr)
	perMonth := fs.Int("comments-per-month", 1_000_000, "the traffic to price a month of")
	scale := fs.String("scale", "small", "the scale simulation to count on: tiny (20 accounts, seconds), small (50 accounts, a minute) or full (1,000 accounts and 1,000,000 comments, long)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: replywindow cost [-comments-per-month N] [-scale tiny|small|full]

Runs the scale simulation (the real webhook, replier and sweeper on a fake clock, with latency
models for DynamoDB, SQS and Graph), counts Lambda invocations and billed duration, API Gateway
and SQS requests, DynamoDB read and write units and the bytes logged at info, and prices them
at AWS's us-east-1 list prices (shared/cost, with their date and sources). Prints the cost per
100,000 comments, the fixed cost of a month, a month of N comments, and the DynamoDB units per
comment by item kind and operation.

Exit status: 0 printed, 1 the simulation failed, 2 bad usage.`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	preset, ok := simulation.Scales[*scale]
	if fs.NArg() > 0 || *perMonth < 0 || !ok {
		fmt.Fprintf(stderr, "cost: want only flags, a traffic of 0 or more and a scale of tiny, small or full; got %q, %d and %q\n", fs.Args(), *perMonth, *scale)
		return exitUsage
	}
	res, err := simulation.RunScale(ctx, preset())
	if err != nil {
		fmt.Fprintf(stderr, "cost: %v\n", err)
		return exitFail
	}
	est, err := res.Cost()
	if err != nil {
		fmt.Fprintf(stderr, "cost: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "counted on %d comments of %d accounts (scale simulation); prices: us-east-1 list prices of %s (%s), free tiers left out\n\n",
		res.Comments, res.Accounts, cost.PricesDate, cost.PricesSource)
	if err := est.Write(stdout, *perMonth); err != nil {
		fmt.Fprintf(stderr, "cost: %v\n", err)
		return exitFail
	}
	fmt.Fprintln(stdout)
	res.Breakdown(stdout) // where the DynamoDB units go, by item kind and operation
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, res.Line(est.PerHundredThousand()))
	return exitOK
}
