// Command links is LinksFunction: the click route GET /l/{code} of tracked links, behind API
// Gateway's HTTP API (shared/links).
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/replywindow/replywindow/shared/awsenv"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/links"
	"github.com/replywindow/replywindow/shared/ssm"
	"github.com/replywindow/replywindow/shared/telemetry"
)

func main() {
	cfg, err := links.LoadConfig(os.Getenv)
	log, inv := telemetry.NewFunctionLogger(os.Stderr, cfg.LogLevel, "links")
	if err != nil {
		log.Error("links config", "err", err)
		os.Exit(1)
	}
	aws, err := awsenv.Config(os.Getenv)
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	keys := &links.SecretKeys{Secret: cfg.Secret, MaxAge: cfg.MaxAge}
	if cfg.SecretParam != "" {
		keys.Params, keys.Param = ssm.NewParams(ssm.NewClient(aws), cfg.SecretsTTL), cfg.SecretParam
	}
	route := &links.Route{Keys: keys, Clicks: dynamo.New(dynamodb.NewFromConfig(aws), cfg.TableName),
		Budget: cfg.Budget, MaxAge: cfg.MaxAge, Events: cfg.Events, Metrics: telemetry.NewMetrics("links").In(os.Getenv(telemetry.NamespaceEnv)), Log: log}
	log.Info("links ready", "config", cfg)
	lambda.Start(telemetry.Serve(inv, route.Serve))
}
