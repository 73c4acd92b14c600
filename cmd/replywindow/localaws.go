package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

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
	if err := motoAnswers(ctx, endpoint); err != nil {
		return c.fail(err)
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

// motoAnswers checks that what listens at endpoint is moto, not another program that held the
// port first (then moto could not bind, and the table and queues would go to that program or
// fail with its errors). Moto's own API serves /moto-api/data.json; AWS services do not.
func motoAnswers(ctx context.Context, endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("AWS_ENDPOINT_URL %q: %w", endpoint, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.JoinPath("moto-api", "data.json").String(), nil)
	if err != nil {
		return fmt.Errorf("AWS_ENDPOINT_URL %q: %w", endpoint, err)
	}
	why := ""
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		why = err.Error()
	} else {
		// Only the start of moto's JSON object: a moto shared with other work holds megabytes.
		var tok json.Token
		tok, err = json.NewDecoder(io.LimitReader(resp.Body, 1<<10)).Token()
		if err == nil && tok != json.Delim('{') {
			err = fmt.Errorf("starts with %v", tok)
		}
		resp.Body.Close()
		switch {
		case resp.StatusCode != http.StatusOK:
			why = "GET /moto-api/data.json answered " + resp.Status
		case err != nil:
			why = "GET /moto-api/data.json is not moto's JSON"
		}
	}
	if why == "" {
		return nil
	}
	return fmt.Errorf("port %s on %s: what answers is not moto (%s): another program holds the port; stop it, or pick another port (make local-aws LOCAL_AWS_PORT=5001, and AWS_ENDPOINT_URL in events/env.json to match)", u.Port(), u.Hostname(), why)
}
