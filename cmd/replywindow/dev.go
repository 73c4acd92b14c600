package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/replywindow/replywindow/shared/devstack"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
	"github.com/replywindow/replywindow/shared/webhook"
)

func init() {
	commands["dev"] = command{summary: "run the whole pipeline on 127.0.0.1 (embedded by default; moto/AWS and Graph by flag)", run: runDev}
}

// devSandboxAddr is where dev's sandbox listens unless told: a fixed port, so the Graph API URL
// and the token it prints stay the same from one run to the next.
const devSandboxAddr = "127.0.0.1:8081"

// devReady, when set, hears the running stack (tests use it to post to it and stop it).
var devReady func(*devstack.Stack)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && devSendActions[args[0]] != "" {
		return runDevSend(ctx, args[0], args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "follow" {
		return runDevFollow(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(stderr)
	getenv := os.Getenv
	addr := fs.String("addr", devstack.DefaultAddr, "the webhook's listen address")
	sandboxAddr := fs.String("sandbox-addr", devSandboxAddr, "the Graph API sandbox's listen address (\"127.0.0.1:0\": any free port)")
	table := fs.String("table", getenv("TABLE_NAME"), "DynamoDB table instead of the memory store (env TABLE_NAME)")
	queueURL := fs.String("queue-url", getenv("QUEUE_URL"), "SQS queue instead of the memory queue (env QUEUE_URL)")
	graphURL := fs.String("graph-api-url", getenv("GRAPH_API_URL"), "Graph API base URL instead of the embedded sandbox (env GRAPH_API_URL)")
	create := fs.Bool("create", false, "create the table and queue when missing (default on when their endpoints are local, i.e. moto)")
	sweepEvery := fs.Duration("sweep-every", 5*time.Second, "the sweeper's schedule")
	statusEvery := fs.Duration("status-every", 5*time.Second, "print the status line this often when it changed (0: never)")
	logs := fs.String("log-level", "", "also write the services' JSON logs to stderr at this level (debug shows comment text)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `Usage: replywindow dev [flags]

Runs the webhook (behind an API Gateway v2 adapter), the jobs queue feeding the replier like
Lambda's event source mapping, the sweeper on a ticker, a store and the Graph API sandbox, all on
127.0.0.1, until interrupted. Progress lines say what arrived, what was sent, what is parked.

Embedded by default: memory store and queue, the sandbox, the account of account.example.yaml
(as built into the CLI: RECIPE and SOURDOUGH on posts and reels, LINK on Live, two DM rules)
with a local app secret and verify token. Switch parts to the real thing:
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 replywindow dev -table replywindow-dev \
      -queue-url http://127.0.0.1:5000/000000000000/replywindow-dev-jobs     # moto
  GRAPH_API_URL=https://graph.instagram.com ACCOUNT_TOKENS=<id>=<token> \
      APP_SECRETS=<app secret> VERIFY_TOKEN=<token> replywindow dev -table <real table>
Each client is judged by the endpoint it will really use (AWS_ENDPOINT_URL,
AWS_ENDPOINT_URL_<SERVICE>, the shared config, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS). With any
of them not on this machine (a real Graph API, table or queue) the webhook listens on a loopback
address only, and the app secret and verify token committed in this repository are refused:
anyone could sign deliveries with them. Give yours in APP_SECRETS and VERIFY_TOKEN. A queue URL
on AWS (*.amazonaws.com) is refused on any address: the dev poller would take the real jobs.

Examples:
  replywindow dev
  curl 'http://127.0.0.1:8080/_status'`)
		fs.PrintDefaults()
	}
	if code, ok := flagsOnly(fs, args, stderr); !ok {
		return code
	}
	telemetry.Stdout = io.Discard // EMF lines are for CloudWatch, not for the terminal
	cfg := devstack.Config{
		Addr: *addr, SandboxAddr: *sandboxAddr, TableName: *table, QueueURL: *queueURL, GraphAPIURL: *graphURL, Create: *create,
		SweepEvery: *sweepEvery, Progress: stdout,
		AppSecret: getenv("APP_SECRETS"), VerifyToken: getenv("VERIFY_TOKEN"),
	}
	if *table != "" || *queueURL != "" {
		// Loaded before the checks: the endpoints they judge are the ones its clients resolve.
		aws, err := config.LoadDefaultConfig(ctx)
		if err != nil {
			fmt.Fprintf(stderr, "dev: aws config: %v\n", err)
			return exitFail
		}
		cfg.AWS = &aws
		if !devFlagSet(fs, "create") {
			// By the endpoints the clients resolve, not by AWS_ENDPOINT_URL alone: with
			// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true it would have created them on AWS.
			cfg.Create = devCreate(cfg)
		}
	}
	if err := devSafe(cfg); err != nil {
		fmt.Fprintf(stderr, "dev: %v\n", err)
		return exitUsage
	}
	if *logs != "" {
		cfg.Log = slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: devLevel(*logs)})
	}
	if *graphURL != "" {
		// A real Graph API needs real tokens and the operator's accounts (replywindow accounts put).
		toks, err := memory.ParseTokens(getenv("ACCOUNT_TOKENS"))
		if err != nil {
			fmt.Fprintf(stderr, "dev: ACCOUNT_TOKENS: %v (with -graph-api-url, give id=token,...)\n", err)
			return exitUsage
		}
		cfg.Tokens, cfg.Accounts = toks, []reply.Account{}
	} else {
		// The sandbox's account is the documented example, as the demo's is.
		acct, err := exampleAccount()
		if err != nil {
			fmt.Fprintf(stderr, "dev: %v\n", err)
			return exitFail
		}
		cfg.Accounts = []reply.Account{acct}
	}
	s, err := devstack.Start(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "dev: %v\n", err)
		return exitFail
	}
	defer s.Close()
	devBanner(stdout, s, cfg)
	if devReady != nil {
		devReady(s)
	}
	var last string
	var tick <-chan time.Time
	if *statusEvery > 0 {
		t := time.NewTicker(*statusEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			if st, err := s.Status(context.Background()); err == nil {
				fmt.Fprintln(stdout, st)
			}
			fmt.Fprintln(stdout, "stopped")
			return exitOK
		case <-tick:
			st, err := s.Status(ctx)
			if err != nil {
				fmt.Fprintf(stderr, "dev: status: %v\n", err)
				continue
			}
			// Uptime and the counters of invocations change on their own; print on real change.
			st.Uptime, st.Batches, st.Sweeps = "", 0, 0
			if line := st.String(); line != last {
				fmt.Fprintln(stdout, line)
				last = line
			}
		}
	}
}

// devSafe refuses what would expose real accounts. Every client the stack builds is judged by
// the endpoint it will really use (devstack.Endpoints: the SDK's own resolution of
// AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, the shared config and
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS): a queue URL on AWS is refused whatever the address, a
// listen address other than loopback unless every client is local (devstack.CheckExposure), and
// with any client not local neither the app secret nor the verify token may be the ones
// committed in this repository.
func devSafe(cfg devstack.Config) error {
	if err := devstack.CheckExposure(cfg); err != nil {
		return err
	}
	if devAllLocal(cfg) {
		return nil
	}
	var real []string
	for _, e := range devstack.Endpoints(cfg) {
		if !e.Local {
			real = append(real, e.String())
		}
	}
	what := strings.Join(real, " and ")
	switch {
	case cfg.AppSecret == "" || cfg.AppSecret == devstack.DefaultAppSecret:
		return fmt.Errorf("with %s, set APP_SECRETS to your app secret: the default one is committed in this repository, and anyone could sign deliveries with it", what)
	case cfg.VerifyToken == "" || cfg.VerifyToken == devstack.DefaultVerifyToken:
		return fmt.Errorf("with %s, set VERIFY_TOKEN to a token of your own: the default one is committed in this repository", what)
	}
	return nil
}

// devAllLocal reports whether every client of cfg's stack is on this machine.
func devAllLocal(cfg devstack.Config) bool {
	for _, e := range devstack.Endpoints(cfg) {
		if !e.Local {
			return false
		}
	}
	return true
}

// devCreate is -create's default: on when the table's and the queue's clients are both local
// (an emulator), never when either would reach AWS.
func devCreate(cfg devstack.Config) bool {
	for _, e := range devstack.Endpoints(cfg) {
		if (e.Service == "DynamoDB" || e.Service == "SQS") && !e.Local {
			return false
		}
	}
	return true
}

// devFlagSet reports whether the command line set the flag name.
func devFlagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func devLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

func devBanner(w io.Writer, s *devstack.Stack, cfg devstack.Config) {
	store, queue, g := "memory", "memory (visibility 30s, maxReceiveCount 5)", "sandbox at "+s.SandboxURL+" (ledger: "+s.SandboxURL+"/_sandbox/ledger; account "+devstack.DemoAccountID+", token "+devstack.DemoToken+")"
	if cfg.TableName != "" {
		store = "DynamoDB table " + cfg.TableName
	}
	if cfg.QueueURL != "" {
		queue = "SQS " + cfg.QueueURL
	}
	if cfg.GraphAPIURL != "" {
		g = cfg.GraphAPIURL
	}
	fmt.Fprintf(w, `replywindow dev
  webhook    POST/GET %s  (verify token %q; deliveries signed with the local app secret)
  status     GET %s/_status
  store      %s
  queue      %s
  graph api  %s
  sweeper    every %s
Try: replywindow dev comment TEXT, dev dm TEXT, dev tap PAYLOAD (signed for you; --webhook %s
--sandbox %s when not the defaults), dev follow (past a follow gate), replywindow demo (its own stack), or sign a body with the app secret in
%s and POST it. Ctrl-C stops.
`, s.WebhookURL, s.Verify, s.URL, store, queue, g, cfg.SweepEvery, s.WebhookURL, s.SandboxURL, webhook.SignatureHeader)
}
