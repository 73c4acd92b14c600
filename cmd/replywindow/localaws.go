package main

import (
	"context"
	"fmt"
	"io"

	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/sqs"
)

func init() {
	commands["local-aws"] = command{summary: "create the table and queues in a local AWS emulator (make local-aws)", run: runLocalAWS}
}

// runLocalAWS makes a local emulator (moto) look like a deployed stack for sam local invoke: the
// table from dynamo.TableInput, the jobs queue and its dead-letter queue from sqs.Settings, under
// the names events/env.json uses.
func runLocalAWS(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("local-aws", "[--table NAME] [--queue NAME]", `  # what make local-aws runs once moto listens (AWS_ENDPOINT_URL points at it)
  AWS_ENDPOINT_URL=http://127.0.0.1:5000 replywindow local-aws
`, stdout, stderr)
	table := c.fs.String("table", "replywindow-local", "DynamoDB `table` to create (events/env.json's TABLE_NAME)")
	queue := c.fs.String("queue", "replywindow-jobs", "jobs `queue` to create, with NAME-dlq (events/env.json's QUEUE_URL)")
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.fail(opUsagef("unexpected argument %q", pos[0]))
	}
	// Never create anything in a real account: only an emulator on this machine.
	endpoint := c.getenv("AWS_ENDPOINT_URL")
	if !opLocal(endpoint) {
		return c.fail(opUsagef("AWS_ENDPOINT_URL %q: want a local emulator such as http://127.0.0.1:5000 (make local-aws starts moto there)", endpoint))
	}
	cfg, err := opAWS(ctx)
	if err != nil {
		return c.fail(err)
	}
	if err := dynamo.CreateTable(ctx, awsdynamodb.NewFromConfig(cfg), *table); err != nil {
		return c.fail(err)
	}
	q, dlq, err := sqs.CreateQueues(ctx, awssqs.NewFromConfig(cfg), *queue, sqs.Settings)
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(stdout, "table %s, queue %s, dead-letter queue %s in %s (region %s)\n", *table, q, dlq, endpoint, cfg.Region)
	return exitOK
}
