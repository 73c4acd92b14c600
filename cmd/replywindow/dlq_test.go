package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/replywindow/replywindow/shared/awstest"
)

// opQueues makes a jobs queue with a redrive policy to a DLQ on moto and puts n messages in the
// DLQ the way SQS does: received more than maxReceiveCount times from the jobs queue.
func opQueues(t *testing.T, h *opHarness, n int) (*awssqs.Client, string, string, []string) {
	t.Helper()
	q := awssqs.NewFromConfig(h.cfg)
	dlq, err := q.CreateQueue(h.ctx, &awssqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, "dlq"))})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := q.GetQueueAttributes(h.ctx, &awssqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := q.CreateQueue(h.ctx, &awssqs.CreateQueueInput{
		QueueName: aws.String(awstest.Name(t, "jobs")),
		Attributes: map[string]string{
			"RedrivePolicy":     fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"1"}`, attrs.Attributes["QueueArn"]),
			"VisibilityTimeout": "0",
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for i := range n {
		body := fmt.Sprintf(`{"v":1,"account":"a","comment":"c%03d","kind":"post"}`, i)
		bodies = append(bodies, body)
		if _, err := q.SendMessage(h.ctx, &awssqs.SendMessageInput{
			QueueUrl: jobs.QueueUrl, MessageBody: aws.String(body),
			MessageAttributes: map[string]types.MessageAttributeValue{"trace": {DataType: aws.String("String"), StringValue: aws.String("t" + body[len(body)-12:])}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	// First receive counts 1; the next receive finds the count exceeded and moves to the DLQ.
	for range 2 {
		for {
			out, err := q.ReceiveMessage(h.ctx, &awssqs.ReceiveMessageInput{QueueUrl: jobs.QueueUrl, MaxNumberOfMessages: 10})
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Messages) == 0 {
				break
			}
		}
	}
	if got := opCount(t, h, q, *dlq.QueueUrl); got != n {
		t.Fatalf("DLQ holds %d messages after redrive policy, want %d", got, n)
	}
	return q, *jobs.QueueUrl, *dlq.QueueUrl, bodies
}

func opCount(t *testing.T, h *opHarness, q *awssqs.Client, url string) int {
	t.Helper()
	out, err := q.GetQueueAttributes(h.ctx, &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	fmt.Sscan(out.Attributes["ApproximateNumberOfMessages"], &n)
	return n
}

// drain receives every message of url and returns the bodies and trace attributes, sorted.
func opDrain(t *testing.T, h *opHarness, q *awssqs.Client, url string) ([]string, []string) {
	t.Helper()
	var bodies, traces []string
	for {
		out, err := q.ReceiveMessage(h.ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10, VisibilityTimeout: 60, MessageAttributeNames: []string{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			traces = append(traces, aws.ToString(m.MessageAttributes["trace"].StringValue))
		}
	}
	slices.Sort(bodies)
	slices.Sort(traces)
	return bodies, traces
}

// moto 5.2.1 has no StartMessageMoveTask: auto falls back to receive-send-delete and says so;
// every message arrives once in the jobs queue, attributes intact, and the DLQ is empty.
func TestDLQRedrive(t *testing.T) {
	h := opSetup(t)
	q, jobs, dlq, bodies := opQueues(t, h, 25)
	t.Setenv("QUEUE_URL", jobs)
	t.Setenv("DLQ_URL", dlq)

	code, out, errs := h.run("dlq", "redrive", "--json")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	var res opRedrive
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Method != opCopy || res.Reason == "" || res.Moved != 25 || res.ToMove != 25 || res.Status != "done" {
		t.Errorf("result %+v", res)
	}
	if !strings.Contains(errs, "StartMessageMoveTask unavailable here") || !strings.Contains(errs, "moved 25 of 25") {
		t.Errorf("stderr lacks the fallback notice or progress:\n%s", errs)
	}
	got, traces := opDrain(t, h, q, jobs)
	if !slices.Equal(got, bodies) {
		t.Errorf("jobs queue holds %d bodies, want the %d moved ones", len(got), len(bodies))
	}
	for i, tr := range traces {
		if !strings.HasPrefix(tr, "t") {
			t.Errorf("message %d lost its attribute: %q", i, tr)
		}
	}
	if n := opCount(t, h, q, dlq); n != 0 {
		t.Errorf("DLQ still holds %d", n)
	}

	// Nothing left: a second run moves nothing and succeeds.
	if out := h.must("dlq", "redrive", "--method", "copy"); !strings.Contains(out, "moved 0 of 0") {
		t.Errorf("empty DLQ: %s", out)
	}
}

func TestDLQRedriveMax(t *testing.T) {
	h := opSetup(t)
	q, jobs, dlq, _ := opQueues(t, h, 12)
	out := h.must("dlq", "redrive", "--method", "copy", "--max", "5", "--dlq-url", dlq, "--queue-url", jobs)
	if !strings.Contains(out, "moved 5 of") || !strings.Contains(out, "receive-send-delete") {
		t.Errorf("output: %s", out)
	}
	if got, _ := opDrain(t, h, q, jobs); len(got) != 5 {
		t.Errorf("jobs queue holds %d, want 5", len(got))
	}
}

// Asking for the move task explicitly on an endpoint without it fails; it never falls back.
func TestDLQRedriveTaskOnly(t *testing.T) {
	h := opSetup(t)
	q, jobs, dlq, _ := opQueues(t, h, 3)
	code, _, errs := h.run("dlq", "redrive", "--method", "task", "--dlq-url", dlq, "--queue-url", jobs)
	if code != exitFail || !strings.Contains(errs, "start message move task") {
		t.Errorf("exit %d %q", code, errs)
	}
	if n := opCount(t, h, q, dlq); n != 3 {
		t.Errorf("DLQ holds %d, want the 3 untouched", n)
	}
}

func TestDLQUsage(t *testing.T) {
	h := opSetup(t)
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"dlq"}, exitUsage, "Usage: replywindow dlq redrive"},
		{[]string{"dlq", "purge"}, exitUsage, `unknown subcommand "purge"`},
		{[]string{"dlq", "redrive"}, exitUsage, "set DLQ_URL or pass --dlq-url"},
		{[]string{"dlq", "redrive", "--dlq-url", "http://x/q"}, exitUsage, "set QUEUE_URL or pass --queue-url"},
		{[]string{"dlq", "redrive", "--dlq-url", "http://x/q", "--queue-url", "http://x/q"}, exitUsage, "the same queue"},
		{[]string{"dlq", "redrive", "--dlq-url", "a", "--queue-url", "b", "--method", "fast"}, exitUsage, `--method "fast"`},
	}
	for _, c := range cases {
		code, _, errs := h.run(c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%q: exit %d, want %d; stderr %q lacks %q", c.args, code, c.code, errs, c.want)
		}
	}
	if code, out, _ := h.run("dlq", "redrive", "--help"); code != exitOK || !strings.Contains(out, "Examples:") {
		t.Errorf("--help: exit %d %q", code, out)
	}
}
