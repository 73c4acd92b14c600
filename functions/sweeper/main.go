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
	// Terminal records the sweeper writes (EXPIRED) carry the TTL too.
	store := dynamo.New(dynamodb.NewFromConfig(aws), cfg.TableName, dynamo.WithRetention(cfg.Retention()))
	queue := sqs.NewQueue(awssqs.NewFromConfig(aws), cfg.QueueURL)
	g := graph.New(graph.WithBaseURL(cfg.GraphAPIURL), graph.WithVersion(cfg.GraphAPIVersion))
	metrics := telemetry.NewMetrics("sweeper").In(os.Getenv(telemetry.NamespaceEnv))
	s := sweeper.New(cfg, store, queue, g, toks, reply.SystemClock{}, metrics, log)

	deletions := &deletion.Worker{Store: store, Params: params, Cursors: store, Log: log, Metrics: metrics}
	s.AddChore(sweeper.Chore{Name: "data-deletion", Run: func(ctx context.Context) error {
		_, err := deletions.Run(ctx, 20*time.Second)
		return err
	}})
	reconciler := reconcile.New(rcfg, store, queue, g, toks, reply.SystemClock{}, metrics, log)
	s.AddChore(sweeper.Chore{Name: "reconcile", Run: func(ctx context.Context) error {
		_, err := reconciler.Run(ctx)
		return err
	}})
	if cfg.AccountTokens == "" { // static tokens cannot be refreshed
		refresher := &tokens.Refresher{Accounts: store, Tokens: toks, Params: params, Graph: g, Log: log, Metrics: metrics}
		s.AddChore(sweeper.Chore{Name: "token-refresh", Every: time.Hour, Run: func(ctx context.Context) error {
			_, err := refresher.Run(ctx)
			return err
		}})
	}
	lambda.Start(telemetry.ServeErr(inv, s.Handle))
}
