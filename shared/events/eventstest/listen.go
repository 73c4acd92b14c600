package eventstest

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/eventbridge"
)

// Listener is an event bus on moto with a rule that sends every replywindow event to an SQS
// queue, as a user's own code would read them (README "Events out").
type Listener struct {
	Bus   string
	EB    *awseb.Client       // the SDK's client, to set the bus and its rule up
	Put   *eventbridge.Client // the functions' client, to put events
	SQS   *awssqs.Client
	Queue string
}

// Listen creates the bus, the queue and the rule between them.
func Listen(t testing.TB) *Listener {
	t.Helper()
	cfg := awstest.Config(t)
	ctx := awstest.Context(t)
	l := &Listener{Bus: awstest.Name(t, "bus"), EB: awseb.NewFromConfig(cfg), Put: eventbridge.NewClient(cfg), SQS: awssqs.NewFromConfig(cfg)}
	l.Queue = awstest.Queue(t, l.SQS, "events")
	arn, err := l.SQS.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: &l.Queue,
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.EB.CreateEventBus(ctx, &awseb.CreateEventBusInput{Name: &l.Bus}); err != nil {
		t.Fatal(err)
	}
	rule := awstest.Name(t, "all")
	if _, err := l.EB.PutRule(ctx, &awseb.PutRuleInput{Name: &rule, EventBusName: &l.Bus,
		EventPattern: aws.String(`{"source":["replywindow"]}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.EB.PutTargets(ctx, &awseb.PutTargetsInput{Rule: &rule, EventBusName: &l.Bus, Targets: []ebtypes.Target{
		{Id: aws.String("queue"), Arn: aws.String(arn.Attributes["QueueArn"])}}}); err != nil {
		t.Fatal(err)
	}
	return l
}

// Received takes everything on the queue now, as the consumer gets it.
func (l *Listener) Received(t testing.TB) [][]byte {
	t.Helper()
	var got [][]byte
	for {
		out, err := l.SQS.ReceiveMessage(awstest.Context(t), &awssqs.ReceiveMessageInput{QueueUrl: &l.Queue, MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return got
		}
		for _, m := range out.Messages {
			got = append(got, []byte(aws.ToString(m.Body)))
			if _, err := l.SQS.DeleteMessage(awstest.Context(t), &awssqs.DeleteMessageInput{QueueUrl: &l.Queue, ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Counting is EventBridge's PutEvents through API, counted: what the figure tests report.
type Counting struct {
	API   eventbridge.API
	Calls int
}

// PutEvents counts the call and makes it.
func (c *Counting) PutEvents(ctx context.Context, entries []eventbridge.Entry) ([]eventbridge.Result, error) {
	c.Calls++
	return c.API.PutEvents(ctx, entries)
}
