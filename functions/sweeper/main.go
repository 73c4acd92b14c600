// Command sweeper is SweeperFunction: on the EventBridge schedule it expires closed windows,
// releases parked jobs within each account's rate budget and re-drives lost ones; after the sweep
// it works off data-deletion requests, reconciles (answers the comments whose webhook never came)
// and, hourly, refreshes long-lived Instagram tokens.
package main

import (
	"context"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/replywindow/replywindow/shared/awsenv"
	"github.com/replywindow/replywindow/shared/deletion"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/eventbridge"
	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reconcile"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sqs"
	"github.com/replywindow/replywindow/shared/ssm"
	"github.com/replywindow/replywindow/shared/sweeper"
	"github.com/replywindow/replywindow/shared/telemetry"
	"github.com/replywindow/replywindow/shared/tokens"
)

func main() {
	cfg, err := sweeper.LoadConfig(os.Getenv)
	log, inv := telemetry.NewFunctionLogger(os.Stderr, cfg.LogLevel, "sweeper")
	if err != nil {
		log.Error("sweeper config", "err", err)
		os.Exit(1)
	}
	rcfg, err := reconcile.LoadConfig(os.Getenv)
	if err != nil {
		log.Error("reconcile config", "err", err)
		os.Exit(1)
	}
	aws, err := awsenv.Config(os.Getenv) // what Lambda sets, without the SDK's other credential providers
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	params := ssm.NewParams(ssm.NewClient(aws), 0)
	params.KeyID = cfg.TokenKeyID
	var toks reply.Tokens = ssm.Tokens{Params: params}
	if cfg.AccountTokens != "" { // sam local invoke and the local stack: no SSM
		static, err := memory.ParseTokens(cfg.AccountTokens)
		if err != nil {
			log.Error("sweeper config", "err", err) // names the entry, never the token
			os.Exit(1)
		}
		toks = static
	}
	ecfg, err := events.LoadConfig(os.Getenv)
	if err != nil {
		log.Error("events config", "err", err)
		os.Exit(1)
	}
	// Terminal records the sweeper writes (EXPIRED) carry the TTL too.
	table := dynamo.New(dynamodb.NewFromConfig(aws), cfg.TableName, dynamo.WithRetention(cfg.Retention()))
	metrics := telemetry.NewMetrics("sweeper").In(os.Getenv(telemetry.NamespaceEnv))
	var store reply.Store = table
	var drain *events.Drain
	if ecfg.On() { // records the sweeper ends AMBIGUOUS carry their events; the drain publishes what a put left behind
		bus := eventbridge.New(eventbridge.NewClient(aws), ecfg.BusName)
		store = &events.OutboxStore{Store: table, Outbox: table, Bus: bus, Clock: reply.SystemClock{}, Metrics: metrics, Log: log,
			Timeout: ecfg.PutTimeout}
		drain = &events.Drain{Outbox: table, Bus: bus, Clock: reply.SystemClock{}, Metrics: metrics, Log: log, Grace: events.DrainGrace, Limit: events.DrainLimit}
	}
	queue := sqs.NewQueue(awssqs.NewFromConfig(aws), cfg.QueueURL)
	g := graph.New(graph.WithBaseURL(cfg.GraphAPIURL), graph.WithVersion(cfg.GraphAPIVersion))
	s := sweeper.New(cfg, store, queue, g, toks, reply.SystemClock{}, metrics, log)
	if drain != nil {
		s.AddChore(sweeper.Chore{Name: "events", Run: func(ctx context.Context) error {
			_, err := drain.Run(ctx)
			return err
		}})
	}

	deletions := &deletion.Worker{Store: table, Params: params, Cursors: table, Leads: table, Clicks: table, Log: log, Metrics: metrics}
	s.AddChore(sweeper.Chore{Name: "data-deletion", Run: func(ctx context.Context) error {
		_, err := deletions.Run(ctx, 20*time.Second)
		return err
	}})
	reconciler := reconcile.New(rcfg, table, queue, g, toks, reply.SystemClock{}, metrics, log)
	s.AddChore(sweeper.Chore{Name: "reconcile", Run: func(ctx context.Context) error {
		_, err := reconciler.Run(ctx)
		return err
	}})
	if cfg.AccountTokens == "" { // static tokens cannot be refreshed
		tcfg, err := tokens.LoadConfig(os.Getenv)
		if err != nil {
			log.Error("token refresh config", "err", err)
			os.Exit(1)
		}
		refresher := &tokens.Refresher{Accounts: table, Tokens: toks, Params: params, Graph: g, Log: log, Metrics: metrics,
			Within: tcfg.Within, AlarmWithin: tcfg.AlarmWithin}
		s.AddChore(sweeper.Chore{Name: "token-refresh", Every: time.Hour, Run: func(ctx context.Context) error {
			_, err := refresher.Run(ctx)
			return err
		}})
	}
	lambda.Start(telemetry.ServeErr(inv, s.Handle))
}
