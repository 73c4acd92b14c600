package sqs

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// QueueSettings are the jobs queue's and its dead-letter queue's attributes.
type QueueSettings struct {
	Visibility   time.Duration // 6 x the replier's timeout
	Retention    time.Duration // the jobs queue's
	DLQRetention time.Duration // longer than Retention: a moved message keeps its age
	MaxReceive   int           // deliveries before the dead-letter queue
}

// Settings are the queues template.yaml declares (functions/bundle_test.go holds the two
// equal), for the local stacks that create their own.
var Settings = QueueSettings{Visibility: 180 * time.Second, Retention: 4 * 24 * time.Hour, DLQRetention: 14 * 24 * time.Hour, MaxReceive: 10}

// CreateAPI is the part of *awssqs.Client CreateQueues uses.
type CreateAPI interface {
	CreateQueue(context.Context, *awssqs.CreateQueueInput, ...func(*awssqs.Options)) (*awssqs.CreateQueueOutput, error)
	GetQueueAttributes(context.Context, *awssqs.GetQueueAttributesInput, ...func(*awssqs.Options)) (*awssqs.GetQueueAttributesOutput, error)
}

// CreateQueues creates the jobs queue name and its dead-letter queue name-dlq with s (queues
// that exist with these attributes are fine) and returns their URLs.
func CreateQueues(ctx context.Context, api CreateAPI, name string, s QueueSettings) (queueURL, dlqURL string, err error) {
	secs := func(d time.Duration) string { return strconv.Itoa(int(d / time.Second)) }
	dlq, err := api.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name + "-dlq"),
		Attributes: map[string]string{"MessageRetentionPeriod": secs(s.DLQRetention)}})
	if err != nil {
		return "", "", fmt.Errorf("create queue %s-dlq: %w", name, err)
	}
	attrs, err := api.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: dlq.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameQueueArn}})
	if err != nil {
		return "", "", fmt.Errorf("arn of queue %s-dlq: %w", name, err)
	}
	policy := fmt.Sprintf(`{"deadLetterTargetArn":%q,"maxReceiveCount":"%d"}`, attrs.Attributes["QueueArn"], s.MaxReceive)
	q, err := api.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name), Attributes: map[string]string{
		"RedrivePolicy": policy, "VisibilityTimeout": secs(s.Visibility), "MessageRetentionPeriod": secs(s.Retention)}})
	if err != nil {
		return "", "", fmt.Errorf("create queue %s: %w", name, err)
	}
	return aws.ToString(q.QueueUrl), aws.ToString(dlq.QueueUrl), nil
}
