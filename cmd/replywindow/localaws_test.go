package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/sqs"
)

// TestLocalAWS: the table and the queues the stack has, in moto, twice over (a second run finds
// them there); never against an endpoint that is not on this machine.
func TestLocalAWS(t *testing.T) {
	h := opSetup(t)
	table, queue := awstest.Name(t, "tbl"), awstest.Name(t, "jobs")
	for range 2 {
		if out := h.must("local-aws", "--table", table, "--queue", queue); !strings.Contains(out, "table "+table) {
			t.Errorf("output: %s", out)
		}
	}
	api := awssqs.NewFromConfig(h.cfg)
	url, err := api.GetQueueUrl(h.ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String(queue)})
	if err != nil {
		t.Fatal(err)
	}
	attrs, err := api.GetQueueAttributes(h.ctx, &awssqs.GetQueueAttributesInput{QueueUrl: url.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatal(err)
	}
	var redrive struct {
		Target string `json:"deadLetterTargetArn"`
		Max    any    `json:"maxReceiveCount"` // a number or a string of one
	}
	if err := json.Unmarshal([]byte(attrs.Attributes["RedrivePolicy"]), &redrive); err != nil {
		t.Fatal(err)
	}
	if attrs.Attributes["VisibilityTimeout"] != "180" || attrs.Attributes["MessageRetentionPeriod"] != "345600" ||
		!strings.HasSuffix(redrive.Target, ":"+queue+"-dlq") || fmt.Sprint(redrive.Max) != strconv.Itoa(sqs.Settings.MaxReceive) {
		t.Errorf("queue attributes %v, want sqs.Settings %+v", attrs.Attributes, sqs.Settings)
	}
	t.Setenv("AWS_ENDPOINT_URL", "https://sqs.eu-west-1.amazonaws.com")
	if code, _, errs := h.run("local-aws"); code != exitUsage || !strings.Contains(errs, "want a local emulator") {
		t.Errorf("real endpoint: exit %d %q", code, errs)
	}
}
