package sqs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sqs"
)

// pollQueue is a queue on moto with a dead-letter queue after maxReceive receives.
func pollQueue(t *testing.T, maxReceive int) (c *awssqs.Client, url, dlq string) {
	t.Helper()
	ctx := awstest.Context(t)
	c = awssqs.NewFromConfig(awstest.Config(t))
	d, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(awstest.Name(t, "dlq"))})
	if err != nil {
		t.Fatalf("create dlq: %v", err)
	}
	attrs, err := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: d.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, attrs.Attributes["QueueArn"], maxReceive)
	q, err := c.CreateQueue(ctx, &awssqs.CreateQueueInput{
		QueueName:  aws.String(awstest.Name(t, "jobs")),
		Attributes: map[string]string{"RedrivePolicy": policy, "VisibilityTimeout": "30"},
	})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	return c, aws.ToString(q.QueueUrl), aws.ToString(d.QueueUrl)
}

func pollJobs(n int) []reply.Job {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	js := make([]reply.Job, n)
	for i := range js {
		js[i] = reply.Job{V: reply.JobVersion, AccountID: "17841400000000001", CommentID: fmt.Sprint("c", i),
			MediaID: "m1", FromID: fmt.Sprint("u", i), Text: "RECIPE", Kind: reply.KindReel, CommentedAt: at, DeliveredAt: at}
	}
	return js
}

func commentOf(t *testing.T, m events.SQSMessage) int {
	t.Helper()
	var j reply.Job
	if err := json.Unmarshal([]byte(m.Body), &j); err != nil {
		t.Fatalf("body %q: %v", m.Body, err)
	}
	n, _ := strconv.Atoi(j.CommentID[1:])
	return n
}

// TestMapping drives batches from moto's SQS through Mapping as Lambda's event source mapping
// would, with each way a handler can answer.
func TestMapping(t *testing.T) {
	const jobsSent = 25
	tests := []struct {
		name string
		// handler answers a batch; comments fail on their first receive when fail(comment) holds.
		handler     func(t *testing.T, ev events.SQSEvent) (events.SQSEventResponse, error)
		maxReceive  int
		wantDeleted int // after the first pass over the queue
		wantDead    int // after a second pass once the visibility timeout ran out
	}{
		{
			name:       "every message succeeds",
			maxReceive: 3,
			handler: func(*testing.T, events.SQSEvent) (events.SQSEventResponse, error) {
				return events.SQSEventResponse{}, nil
			},
			wantDeleted: jobsSent,
		},
		{
			name:       "odd comments fail once and come back",
			maxReceive: 3,
			handler: func(t *testing.T, ev events.SQSEvent) (events.SQSEventResponse, error) {
				var r events.SQSEventResponse
				for _, m := range ev.Records {
					if commentOf(t, m)%2 == 1 && m.Attributes["ApproximateReceiveCount"] == "1" {
						r.BatchItemFailures = append(r.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: m.MessageId})
					}
				}
				return r, nil
			},
			wantDeleted: 13,
		},
		{
			name:       "a handler error fails the whole batch and ends in the DLQ",
			maxReceive: 1,
			handler: func(*testing.T, events.SQSEvent) (events.SQSEventResponse, error) {
				return events.SQSEventResponse{}, errors.New("crashed")
			},
			wantDead: jobsSent,
		},
		{
			name:       "a response naming a stranger fails the whole batch",
			maxReceive: 1,
			handler: func(*testing.T, events.SQSEvent) (events.SQSEventResponse, error) {
				return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: "not-in-batch"}}}, nil
			},
			wantDead: jobsSent,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := awstest.Context(t)
			c, url, dlq := pollQueue(t, tt.maxReceive)
			if err := sqs.NewQueue(c, url).Enqueue(ctx, pollJobs(jobsSent)); err != nil {
				t.Fatal(err)
			}
			p := sqs.NewPoller(c, url)
			p.Visibility = time.Second
			m := sqs.Mapping{Source: p, Handler: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
				if len(ev.Records) > 10 {
					t.Errorf("batch of %d", len(ev.Records))
				}
				for _, r := range ev.Records {
					if r.EventSource != "aws:sqs" || r.EventSourceARN == "" || r.AWSRegion != "us-east-1" || r.ReceiptHandle == "" {
						t.Errorf("event record %+v", r)
					}
				}
				return tt.handler(t, ev)
			}}
			pass := func() (got sqs.Delivery) {
				for {
					d, err := m.Once(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if d.Received == 0 {
						return got
					}
					got.Received += d.Received
					got.Deleted += d.Deleted
					got.Failed += d.Failed
					if tt.wantDead > 0 && d.Err == nil {
						t.Errorf("delivery error nil, want the batch failed")
					}
				}
			}
			first := pass()
			if first.Received != jobsSent || first.Deleted != tt.wantDeleted || first.Failed != jobsSent-tt.wantDeleted {
				t.Fatalf("first pass %+v, want %d received, %d deleted", first, jobsSent, tt.wantDeleted)
			}
			if first.Failed > 0 {
				time.Sleep(1100 * time.Millisecond) // the failed messages' visibility runs out
			}
			second := pass()
			if second.Deleted+first.Deleted+tt.wantDead != jobsSent {
				t.Errorf("second pass %+v after %+v: not every message deleted or dead", second, first)
			}
			if v, f, err := p.Depth(ctx); err != nil || v+f != 0 {
				t.Errorf("depth %d visible + %d in flight (%v), want empty", v, f, err)
			}
			dv, _, err := sqs.NewPoller(c, dlq).Depth(ctx)
			if err != nil || dv != tt.wantDead {
				t.Errorf("dead-letter queue holds %d (%v), want %d", dv, err, tt.wantDead)
			}
		})
	}
}

func TestPollerDeleteRefused(t *testing.T) {
	ctx := awstest.Context(t)
	c, url, _ := pollQueue(t, 3)
	err := sqs.NewPoller(c, url).Delete(ctx, "not-a-receipt-handle")
	if err == nil {
		t.Fatal("deleting with a made-up receipt handle succeeded")
	}
}
