package sqs

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// PollAPI is the part of *awssqs.Client a Poller uses.
type PollAPI interface {
	ReceiveMessage(ctx context.Context, in *awssqs.ReceiveMessageInput, optFns ...func(*awssqs.Options)) (*awssqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *awssqs.DeleteMessageBatchInput, optFns ...func(*awssqs.Options)) (*awssqs.DeleteMessageBatchOutput, error)
	GetQueueAttributes(ctx context.Context, in *awssqs.GetQueueAttributesInput, optFns ...func(*awssqs.Options)) (*awssqs.GetQueueAttributesOutput, error)
}

// Poller receives and deletes batches on one SQS queue, handing them out as the events Lambda's
// event source mapping builds. The end-to-end test and `replywindow dev` against moto use it
// where AWS would run the mapping.
type Poller struct {
	api PollAPI
	url string
	// Visibility overrides the queue's visibility timeout for received messages (0: the queue's).
	Visibility time.Duration
	arn        string
}

// NewPoller polls the queue at url through api.
func NewPoller(api PollAPI, url string) *Poller { return &Poller{api: api, url: url} }

// Receive takes up to n messages (1..10), long-polling up to wait (whole seconds, at most 20).
func (p *Poller) Receive(ctx context.Context, n int, wait time.Duration) ([]events.SQSMessage, error) {
	if p.arn == "" {
		a, err := p.attributes(ctx, types.QueueAttributeNameQueueArn)
		if err != nil {
			return nil, err
		}
		p.arn = a[string(types.QueueAttributeNameQueueArn)]
	}
	in := &awssqs.ReceiveMessageInput{
		QueueUrl:                    &p.url,
		MaxNumberOfMessages:         int32(n),
		WaitTimeSeconds:             int32(min(wait/time.Second, 20)),
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		MessageAttributeNames:       []string{"All"},
	}
	if p.Visibility > 0 {
		in.VisibilityTimeout = int32(max(p.Visibility/time.Second, 1))
	}
	out, err := p.api.ReceiveMessage(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("receive from %s: %w", p.url, err)
	}
	msgs := make([]events.SQSMessage, 0, len(out.Messages))
	for _, m := range out.Messages {
		ev := events.SQSMessage{
			MessageId:              aws.ToString(m.MessageId),
			ReceiptHandle:          aws.ToString(m.ReceiptHandle),
			Body:                   aws.ToString(m.Body),
			Md5OfBody:              aws.ToString(m.MD5OfBody),
			Md5OfMessageAttributes: aws.ToString(m.MD5OfMessageAttributes),
			Attributes:             m.Attributes,
			EventSource:            "aws:sqs",
			EventSourceARN:         p.arn,
			AWSRegion:              region(p.arn),
		}
		if len(m.MessageAttributes) > 0 {
			ev.MessageAttributes = map[string]events.SQSMessageAttribute{}
			for k, v := range m.MessageAttributes {
				ev.MessageAttributes[k] = events.SQSMessageAttribute{
					StringValue: v.StringValue, BinaryValue: v.BinaryValue, DataType: aws.ToString(v.DataType),
					StringListValues: v.StringListValues, BinaryListValues: v.BinaryListValues,
				}
			}
		}
		msgs = append(msgs, ev)
	}
	return msgs, nil
}

// region is the region field of an ARN (arn:aws:sqs:REGION:account:name).
func region(arn string) string {
	if f := strings.Split(arn, ":"); len(f) > 3 {
		return f[3]
	}
	return ""
}

// Delete removes the received messages by receipt handle, ten per call. It fails when SQS refused
// any entry, naming how many.
func (p *Poller) Delete(ctx context.Context, receipts ...string) error {
	var failed int
	var last error
	for start := 0; start < len(receipts); start += MaxBatchEntries {
		chunk := receipts[start:min(start+MaxBatchEntries, len(receipts))]
		entries := make([]types.DeleteMessageBatchRequestEntry, len(chunk))
		for i, r := range chunk {
			entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(r)}
		}
		out, err := p.api.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: &p.url, Entries: entries})
		if err != nil {
			failed += len(chunk)
			last = err
			continue
		}
		for _, f := range out.Failed {
			failed++
			last = fmt.Errorf("%s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
		}
	}
	if failed > 0 {
		return fmt.Errorf("delete %d of %d messages from %s: %w", failed, len(receipts), p.url, last)
	}
	return nil
}

// Depth is the queue's approximate visible and in-flight message counts.
func (p *Poller) Depth(ctx context.Context) (visible, inFlight int, err error) {
	a, err := p.attributes(ctx, types.QueueAttributeNameApproximateNumberOfMessages, types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)
	if err != nil {
		return 0, 0, err
	}
	visible, _ = strconv.Atoi(a[string(types.QueueAttributeNameApproximateNumberOfMessages)])
	inFlight, _ = strconv.Atoi(a[string(types.QueueAttributeNameApproximateNumberOfMessagesNotVisible)])
	return visible, inFlight, nil
}

func (p *Poller) attributes(ctx context.Context, names ...types.QueueAttributeName) (map[string]string, error) {
	out, err := p.api.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: &p.url, AttributeNames: names})
	if err != nil {
		return nil, fmt.Errorf("queue attributes of %s: %w", p.url, err)
	}
	return out.Attributes, nil
}

// Source is a queue batches are received from: a *Poller on SQS, or the in-process queue of the
// local stack and the simulations (*memory.Queue), which has the same methods.
type Source interface {
	Receive(ctx context.Context, n int, wait time.Duration) ([]events.SQSMessage, error)
	Delete(ctx context.Context, receipts ...string) error
}

// BatchHandler is the replier's Lambda handler shape with partial batch responses.
type BatchHandler func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error)

// Mapping feeds batches from a Source to a handler as Lambda's SQS event source mapping does with
// ReportBatchItemFailures: a handler error fails the whole batch, a response deletes every message
// it does not list, and a response naming a message that was not in the batch fails the whole
// batch. Messages not deleted come back after their visibility timeout.
type Mapping struct {
	Source    Source
	Handler   BatchHandler
	BatchSize int           // 1..10; 10 when zero
	Wait      time.Duration // long-poll time of each receive
}

// Delivery is what one batch did.
type Delivery struct {
	Received int
	Deleted  int
	Failed   int   // messages left for redelivery
	Err      error // the handler's error, or why its response was refused
}

// ErrBadResponse is a partial batch response that names a message not in the batch.
var ErrBadResponse = errors.New("batch item failure names no message of the batch")

// Once receives one batch and delivers it. A batch with no messages does not call the handler.
// The returned error is about the queue; the handler's failure is in Delivery.Err.
func (m Mapping) Once(ctx context.Context) (Delivery, error) {
	n := m.BatchSize
	if n <= 0 {
		n = MaxBatchEntries
	}
	msgs, err := m.Source.Receive(ctx, n, m.Wait)
	if err != nil || len(msgs) == 0 {
		return Delivery{}, err
	}
	d := Delivery{Received: len(msgs)}
	resp, herr := m.Handler(ctx, events.SQSEvent{Records: msgs})
	failed := map[string]bool{}
	if herr != nil {
		d.Err = herr
	} else {
		inBatch := make(map[string]bool, len(msgs))
		for _, msg := range msgs {
			inBatch[msg.MessageId] = true
		}
		for _, f := range resp.BatchItemFailures {
			if !inBatch[f.ItemIdentifier] {
				d.Err = fmt.Errorf("%w: %q", ErrBadResponse, f.ItemIdentifier)
				break
			}
			failed[f.ItemIdentifier] = true
		}
	}
	var receipts []string
	if d.Err == nil {
		for _, msg := range msgs {
			if !failed[msg.MessageId] {
				receipts = append(receipts, msg.ReceiptHandle)
			}
		}
	}
	d.Deleted = len(receipts)
	d.Failed = d.Received - d.Deleted
	if len(receipts) > 0 {
		if err := m.Source.Delete(ctx, receipts...); err != nil {
			return d, err
		}
	}
	return d, nil
}

// Run delivers batches until ctx ends, calling report (when not nil) after each non-empty batch.
// Queue errors pause the loop briefly instead of ending it, as the managed mapping keeps polling.
func (m Mapping) Run(ctx context.Context, report func(Delivery)) {
	for ctx.Err() == nil {
		d, err := m.Once(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if report != nil {
				report(Delivery{Err: err})
			}
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		if d.Received > 0 && report != nil {
			report(d)
		}
		if d.Received == 0 && m.Wait <= 0 {
			// No long polling: do not spin on an empty queue.
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}
