package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

func init() {
	commands["dlq"] = command{summary: "move dead-lettered jobs back to the jobs queue (redrive)", run: runDLQ}
}

const dlqHelp = `Usage: replywindow dlq redrive [--dlq-url URL] [--queue-url URL] [--json]

  redrive  move every message of the dead-letter queue back to the jobs queue, with progress

Run 'replywindow dlq redrive --help' for flags and examples.
`

func runDLQ(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return opDispatch(ctx, "dlq", dlqHelp, map[string]opSub{"redrive": dlqRedrive}, args, stdout, stderr)
}

// Redrive methods and pacing.
const (
	opMoveTask = "StartMessageMoveTask" // SQS moves the messages itself
	opCopy     = "receive-send-delete"  // we move them, for endpoints without move tasks
	opAuto     = "auto"                 // the move task, else the copy
	opPoll     = 2 * time.Second        // how often a move task's progress is read
	opCopyWait = int32(1)               // long-poll seconds of one receive in the copy
	opCopyHide = int32(120)             // how long a message being copied stays hidden
	opProgress = 500 * time.Millisecond // least spacing of the copy's progress lines
)

// opRedrive is what dlq redrive did.
type opRedrive struct {
	Method   string `json:"method"`
	Reason   string `json:"fallback_reason,omitempty"` // why the move task was not used
	Task     string `json:"task_handle,omitempty"`
	ToMove   int64  `json:"to_move"`
	Moved    int64  `json:"moved"`
	Failed   int64  `json:"failed,omitempty"` // copy only: left in the DLQ, visible again later
	Status   string `json:"status"`
	Duration string `json:"duration"`
}

func dlqRedrive(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("dlq redrive", "[--dlq-url URL] [--queue-url URL] [--method auto|task|copy] [--json]", `  # with DLQ_URL and QUEUE_URL set (the stack's outputs)
  replywindow dlq redrive

  replywindow dlq redrive --dlq-url https://sqs.eu-west-1.amazonaws.com/123456789012/replywindow-dlq \
      --queue-url https://sqs.eu-west-1.amazonaws.com/123456789012/replywindow-jobs --json

Moving a job twice is harmless: the reply record admits one reply per comment.
`, stdout, stderr)
	dlqURL := c.fs.String("dlq-url", c.getenv("DLQ_URL"), "dead-letter queue `url`; $DLQ_URL when not given")
	queueURL := c.fs.String("queue-url", c.getenv("QUEUE_URL"), "jobs queue `url`; $QUEUE_URL when not given")
	method := c.fs.String("method", opAuto, "auto (a move task, else receive-send-delete), task, or copy")
	limit := c.fs.Int64("max", 0, "copy at most `n` messages (copy only; 0: all)")
	asJSON := c.fs.Bool("json", false, "print JSON (progress still goes to stderr)")
	c.awsNeeded()
	st, code, ok := c.open(ctx, args, func() error {
		switch {
		case *dlqURL == "":
			return opUsagef("no dead-letter queue: set DLQ_URL or pass --dlq-url")
		case *queueURL == "":
			return opUsagef("no jobs queue: set QUEUE_URL or pass --queue-url")
		case *dlqURL == *queueURL:
			return opUsagef("--dlq-url and --queue-url name the same queue")
		case *method != opAuto && *method != "task" && *method != "copy":
			return opUsagef("--method %q: want auto, task or copy", *method)
		}
		return nil
	})
	if !ok {
		return code
	}
	q := awssqs.NewFromConfig(st.cfg)
	dlqArn, toMove, err := opQueueInfo(ctx, q, *dlqURL)
	if err != nil {
		return c.fail(fmt.Errorf("dead-letter queue: %w", err))
	}
	queueArn, _, err := opQueueInfo(ctx, q, *queueURL)
	if err != nil {
		return c.fail(fmt.Errorf("jobs queue: %w", err))
	}
	start := time.Now()
	res := opRedrive{ToMove: toMove}
	progress := func(moved, total int64) {
		fmt.Fprintf(stderr, "moved %d of %d\n", moved, total)
	}
	switch *method {
	case "copy":
		res.Method = opCopy
		err = opCopyMessages(ctx, q, *dlqURL, *queueURL, *limit, &res, progress)
	case "task":
		res.Method = opMoveTask
		err = opRunMoveTask(ctx, q, dlqArn, queueArn, &res, progress)
	default:
		res.Method = opMoveTask
		err = opRunMoveTask(ctx, q, dlqArn, queueArn, &res, progress)
		if err != nil && opNoMoveTask(err) {
			res = opRedrive{Method: opCopy, ToMove: toMove, Reason: opOneLine(err)}
			fmt.Fprintf(stderr, "StartMessageMoveTask unavailable here (%s); moving the messages with receive, send and delete\n", res.Reason)
			err = opCopyMessages(ctx, q, *dlqURL, *queueURL, *limit, &res, progress)
		}
	}
	res.Duration = time.Since(start).Round(time.Millisecond).String()
	if err != nil {
		res.Status = "failed"
	}
	if *asJSON {
		if e := opJSON(stdout, res); e != nil && err == nil {
			err = e
		}
	} else {
		fmt.Fprintf(stdout, "%s: moved %d of %d messages from the dead-letter queue to the jobs queue in %s (%s)\n", res.Status, res.Moved, res.ToMove, res.Duration, res.Method)
		if res.Failed > 0 {
			fmt.Fprintf(stdout, "%d messages could not be sent and stay in the dead-letter queue; run again\n", res.Failed)
		}
	}
	if err != nil {
		return c.fail(err)
	}
	if res.Failed > 0 {
		return exitFail
	}
	return exitOK
}

// opQueueInfo is a queue's ARN and approximate number of visible messages.
func opQueueInfo(ctx context.Context, q *awssqs.Client, url string) (string, int64, error) {
	out, err := q.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn, types.QueueAttributeNameApproximateNumberOfMessages},
	})
	if err != nil {
		return "", 0, fmt.Errorf("attributes of %s: %w", url, err)
	}
	n, _ := strconv.ParseInt(out.Attributes[string(types.QueueAttributeNameApproximateNumberOfMessages)], 10, 64)
	return out.Attributes[string(types.QueueAttributeNameQueueArn)], n, nil
}

// opNoMoveTask reports whether err says the endpoint cannot run move tasks (an emulator without
// the action, a region or a policy without it), as opposed to a task that ran and failed.
func opNoMoveTask(err error) bool {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		if s := re.HTTPStatusCode(); s >= 500 || s == 404 || s == 403 {
			return true
		}
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		return strings.Contains(code, "InvalidAction") || strings.Contains(code, "UnsupportedOperation") ||
			strings.Contains(code, "AccessDenied") || strings.Contains(code, "UnknownOperation")
	}
	return false
}

func opOneLine(err error) string {
	s := err.Error()
	if i := strings.IndexAny(s, "\n<"); i > 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s
}

// opRunMoveTask starts an SQS message move task and follows it to its end.
func opRunMoveTask(ctx context.Context, q *awssqs.Client, src, dst string, res *opRedrive, progress func(moved, total int64)) error {
	// No rate given: SQS moves at its own pace (up to 500 messages a second).
	in := &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(src), DestinationArn: aws.String(dst)}
	// One attempt: an endpoint without the action answers 5xx, and retries would only delay the
	// fallback.
	out, err := q.StartMessageMoveTask(ctx, in, func(o *awssqs.Options) { o.RetryMaxAttempts = 1 })
	if err != nil {
		return fmt.Errorf("start message move task: %w", err)
	}
	res.Task = aws.ToString(out.TaskHandle)
	t := time.NewTicker(opPoll)
	defer t.Stop()
	for {
		list, err := q.ListMessageMoveTasks(ctx, &awssqs.ListMessageMoveTasksInput{SourceArn: aws.String(src), MaxResults: aws.Int32(1)})
		if err != nil {
			return fmt.Errorf("progress of move task: %w", err)
		}
		if len(list.Results) > 0 {
			r := list.Results[0]
			res.Moved = r.ApproximateNumberOfMessagesMoved
			if r.ApproximateNumberOfMessagesToMove != nil {
				res.ToMove = *r.ApproximateNumberOfMessagesToMove
			}
			res.Status = strings.ToLower(aws.ToString(r.Status))
			progress(res.Moved, res.ToMove)
			switch aws.ToString(r.Status) {
			case "COMPLETED":
				res.Status = "done"
				return nil
			case "FAILED", "CANCELLED":
				return fmt.Errorf("move task %s: %s", res.Status, aws.ToString(r.FailureReason))
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped following move task %s (it goes on in SQS): %w", res.Task, ctx.Err())
		case <-t.C:
		}
	}
}

// opCopyMessages moves messages by receiving them from the DLQ, sending them to the jobs queue
// and deleting only those the jobs queue accepted. A message that could not be sent becomes
// visible in the DLQ again; one sent but not deleted (a crash) is moved twice, which the reply
// record makes harmless.
func opCopyMessages(ctx context.Context, q *awssqs.Client, dlqURL, queueURL string, limit int64, res *opRedrive, progress func(moved, total int64)) error {
	empty := 0
	last, shown := time.Time{}, int64(0) // when progress was last shown, and at what count
	for empty < 2 && (limit == 0 || res.Moved+res.Failed < limit) {
		n := int32(10)
		if limit > 0 && limit-res.Moved-res.Failed < int64(n) {
			n = int32(limit - res.Moved - res.Failed)
		}
		out, err := q.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{
			QueueUrl: aws.String(dlqURL), MaxNumberOfMessages: n, WaitTimeSeconds: opCopyWait,
			VisibilityTimeout: opCopyHide, MessageAttributeNames: []string{"All"},
		})
		if err != nil {
			return fmt.Errorf("receive from dead-letter queue: %w", err)
		}
		if len(out.Messages) == 0 {
			// Two empty long polls in a row: SQS samples servers, one empty answer is not proof.
			empty++
			continue
		}
		empty = 0
		entries := make([]types.SendMessageBatchRequestEntry, len(out.Messages))
		for i, m := range out.Messages {
			entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: m.Body, MessageAttributes: m.MessageAttributes}
		}
		sent, err := q.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL), Entries: entries})
		if err != nil {
			return fmt.Errorf("send to jobs queue: %w", err)
		}
		var del []types.DeleteMessageBatchRequestEntry
		for _, s := range sent.Successful {
			i, _ := strconv.Atoi(aws.ToString(s.Id))
			del = append(del, types.DeleteMessageBatchRequestEntry{Id: s.Id, ReceiptHandle: out.Messages[i].ReceiptHandle})
		}
		res.Failed += int64(len(sent.Failed))
		if len(del) > 0 {
			d, err := q.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(dlqURL), Entries: del})
			if err != nil {
				return fmt.Errorf("delete moved messages from dead-letter queue: %w", err)
			}
			// Not deleted means it comes back and is moved again: still moved now.
			res.Moved += int64(len(d.Successful) + len(d.Failed))
		}
		if res.ToMove < res.Moved+res.Failed {
			res.ToMove = res.Moved + res.Failed
		}
		if time.Since(last) >= opProgress {
			progress(res.Moved, res.ToMove)
			last, shown = time.Now(), res.Moved+res.Failed
		}
	}
	if shown != res.Moved+res.Failed || last.IsZero() {
		progress(res.Moved, res.ToMove)
	}
	res.Status = "done"
	return nil
}
