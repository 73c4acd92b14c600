// Command sweeper is SweeperFunction: on the EventBridge schedule it expires closed windows,
// releases parked jobs within each account's rate budget and re-drives lost ones.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/replier"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sqs"
	"github.com/replywindow/replywindow/shared/ssm"
	"github.com/replywindow/replywindow/shared/sweeper"
	"github.com/replywindow/replywindow/shared/telemetry"
)

func main() {
	cfg, err := sweeper.LoadConfig(os.Getenv)
	log := telemetry.NewLogger(os.Stderr, cfg.LogLevel)
	if err != nil {
		log.Error("sweeper config", "err", err)
		os.Exit(1)
	}
	aws, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	var tokens reply.Tokens = ssm.Tokens{Params: ssm.NewParams(awsssm.NewFromConfig(aws), 0)}
	if cfg.AccountTokens != "" { // sam local invoke and the local stack: no SSM
		toks, err := replier.ParseTokens(cfg.AccountTokens)
		if err != nil {
			log.Error("sweeper config", "err", err) // names the entry, never the token
			os.Exit(1)
		}
		tokens = replier.StaticTokens(toks)
	}
	// Terminal records the sweeper writes (EXPIRED) carry the TTL too.
	store := dynamo.New(dynamodb.NewFromConfig(aws), cfg.TableName, dynamo.WithRetention(cfg.Retention()))
	queue := sqs.NewQueue(awssqs.NewFromConfig(aws), cfg.QueueURL)
	g := graph.New(graph.WithBaseURL(cfg.GraphAPIURL), graph.WithVersion(cfg.GraphAPIVersion))
	s := sweeper.New(cfg, store, queue, g, tokens, reply.SystemClock{}, telemetry.NewMetrics("sweeper"), log)
	lambda.Start(s.Handle)
}
