// Command replier is ReplierFunction: it answers each queued comment with its one private reply
// and carries the conversation on (messaging events, follow-ups).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/replywindow/replywindow/shared/awsenv"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/replier"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/ssm"
	"github.com/replywindow/replywindow/shared/telemetry"
)

func main() {
	cfg, err := replier.LoadConfig(os.Getenv)
	log, inv := telemetry.NewFunctionLogger(os.Stderr, cfg.LogLevel, "replier")
	if err != nil {
		log.Error("replier config", "err", err)
		os.Exit(1)
	}
	aws, err := awsenv.Config(os.Getenv) // what Lambda sets, without the SDK's other credential providers
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	var tokens reply.Tokens = ssm.Tokens{Params: ssm.NewParams(ssm.NewClient(aws), 0)}
	if cfg.AccountTokens != nil { // sam local invoke and the local stack: no SSM
		tokens = memory.Tokens(cfg.AccountTokens)
	}
	store := dynamo.New(dynamodb.NewFromConfig(aws), cfg.TableName, dynamo.WithRetention(cfg.Retention()))
	g := graph.New(graph.WithBaseURL(cfg.GraphAPIURL), graph.WithVersion(cfg.GraphAPIVersion))
	r := replier.New(cfg, store, g, tokens, reply.SystemClock{}, telemetry.NewMetrics("replier").In(os.Getenv(telemetry.NamespaceEnv)), log)
	r.Converse(g)
	lambda.Start(telemetry.Serve(inv, r.Handle))
}
