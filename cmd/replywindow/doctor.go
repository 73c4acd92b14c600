package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/replywindow/replywindow/shared/doctor"
)

func init() {
	commands["doctor"] = command{summary: "check tokens, webhook subscriptions, ice breakers and menu, webhooks seen, parked work and the stack (exit 0 ok, 1 warn, 2 fail)", run: runDoctor}
}

func runDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("doctor", "[--account ID] [--json]", `  # every account and the stack (TABLE_NAME, QUEUE_URL, DLQ_URL, META_APP_IDS set)
  replywindow doctor

  # one account, as JSON, from a cron job that alerts on a non-zero exit
  replywindow doctor --account 17841400000000001 --json || notify-ops

Checks, each ok / warn / fail with what to do:
  stack              the table and queues answer with the caller's credentials
  graph api version  GRAPH_API_VERSION against Meta's published end of availability (warn 90 days ahead)
  token              the token works and what Meta's inspection says of its expiry (warn --token-warn ahead)
  permissions        the token holds every permission replywindow's calls need
  subscription       our app (META_APP_IDS) is subscribed to every field the account's rules need
  messenger profile  Meta's ice breakers and persistent menu are the account file's (accounts put sets them)
  webhooks           when the account's webhooks last arrived, by field (recorded by the webhook function)
  parked             how many replies wait parked, and since when

Exit status: 0 all ok, 1 a warning, 2 a failure (or bad usage).
`, stdout, stderr)
	account := c.idFlag("account", "account", "check only this account `ID`", false)
	asJSON := c.fs.Bool("json", false, "print JSON")
	queueURL := c.fs.String("queue-url", c.getenv("QUEUE_URL"), "jobs queue `url` to check; $QUEUE_URL when not given")
	dlqURL := c.fs.String("dlq-url", c.getenv("DLQ_URL"), "dead-letter queue `url` to check; $DLQ_URL when not given")
	appIDs := c.fs.String("app-ids", c.getenv("META_APP_IDS"), "our Meta app `ids`, comma-separated (the stack's MetaAppIds); $META_APP_IDS when not given")
	warn := c.spanFlag("token-warn", "7d", "warn when a token expires within this `duration`")
	table := c.tableFlag()
	c.graphFlag()
	st, code, ok := c.open(ctx, args, nil)
	if !ok {
		return code
	}
	d := &doctor.Doctor{
		Accounts: st.store, Tokens: c.tokens(st.cfg), Meta: st.graph, Webhooks: st.store,
		Parked: doctor.DueScan{Records: st.store}, Pieces: opPieces(st.cfg, *table, *queueURL, *dlqURL),
		AppIDs: opSplit(*appIDs), Version: st.graph.Version(), TokenWarn: *warn,
	}
	r, err := d.Run(ctx, *account)
	if err != nil {
		// The stack's checks still say what is reachable: print them before the error.
		r.WriteText(stderr)
		fmt.Fprintf(stderr, "replywindow doctor: %v\n", err)
		return int(doctor.Fail)
	}
	if *asJSON {
		if err := opJSON(stdout, r); err != nil {
			return c.fail(err)
		}
	} else if err := r.WriteText(stdout); err != nil {
		return c.fail(err)
	}
	return r.Worst.ExitCode()
}

// opPieces are the stack's parts doctor probes with the caller's credentials: the table and the
// queues that are configured.
func opPieces(cfg aws.Config, table, queueURL, dlqURL string) []doctor.Piece {
	db := awsdynamodb.NewFromConfig(cfg)
	pieces := []doctor.Piece{{
		Name: "table " + table,
		Probe: func(ctx context.Context) error {
			_, err := db.DescribeTable(ctx, &awsdynamodb.DescribeTableInput{TableName: aws.String(table)})
			return opAWSError("describe", err)
		},
		Fix: "check --table / TABLE_NAME (the stack's TableName output) and AWS_REGION",
	}}
	q := awssqs.NewFromConfig(cfg)
	for _, u := range []struct{ what, url, flag string }{{"queue", queueURL, "--queue-url / QUEUE_URL (QueueUrl)"}, {"dead-letter queue", dlqURL, "--dlq-url / DLQ_URL (DeadLetterQueueUrl)"}} {
		if u.url == "" {
			continue
		}
		pieces = append(pieces, doctor.Piece{
			Name: u.what + " " + u.url,
			Probe: func(ctx context.Context) error {
				_, _, err := opQueueInfo(ctx, q, u.url)
				return opAWSError("attributes", err)
			},
			Fix: "check " + u.flag + " and AWS_REGION",
		})
	}
	return pieces
}

// opSplit is the comma-separated list s without blanks.
func opSplit(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
