// Command webhook is WebhookFunction: Meta's webhook (handshake and deliveries) and the
// data-deletion callback, behind API Gateway's HTTP API.
package main

import (
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/replywindow/replywindow/shared/awsenv"
	"github.com/replywindow/replywindow/shared/deletion"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/sqs"
	"github.com/replywindow/replywindow/shared/ssm"
	"github.com/replywindow/replywindow/shared/telemetry"
	"github.com/replywindow/replywindow/shared/webhook"
)

func main() {
	cfg, err := webhook.LoadConfig(os.Getenv)
	log, inv := telemetry.NewFunctionLogger(os.Stderr, cfg.LogLevel, "webhook")
	if err != nil {
		log.Error("webhook config", "err", err)
		os.Exit(1)
	}
	aws, err := awsenv.Config(os.Getenv) // what Lambda sets, without the SDK's other credential providers
	if err != nil {
		log.Error("aws config", "err", err)
		os.Exit(1)
	}
	secrets, err := webhook.NewSecrets(cfg, ssm.NewParams(ssm.NewClient(aws), cfg.SecretsTTL))
	if err != nil {
		log.Error("webhook secrets", "err", err)
		os.Exit(1)
	}
	queue := sqs.NewQueue(awssqs.NewFromConfig(aws), cfg.QueueURL, sqs.WithConcurrency(cfg.EnqueueConcurrency))
	metrics := telemetry.NewMetrics("webhook").In(os.Getenv(telemetry.NamespaceEnv))
	h := webhook.New(cfg, queue, secrets, metrics, log)
	if cfg.TableName != "" {
		store := dynamo.New(dynamodb.NewFromConfig(aws), cfg.TableName)
		del := &deletion.Handler{Store: store, Secrets: secrets.AppSecrets, Log: log, Metrics: metrics}
		h.Extra = map[string]webhook.Route{deletion.Route: del.Serve}
		h.SetWebhooks(store) // W# items: when each account's webhooks last arrived, for doctor
	}
	log.Info("webhook ready", "config", cfg)
	lambda.Start(telemetry.Serve(inv, h.Handle))
}
