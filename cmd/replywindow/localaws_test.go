package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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
	// Another program on the port: a one-line error naming the port and how to pick another.
	for _, tt := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"a web server", func(w http.ResponseWriter, _ *http.Request) { http.NotFound(w, nil) }},
		{"an AWS look-alike", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "<ok/>") }},
	} {
		srv := httptest.NewServer(tt.handler)
		t.Setenv("AWS_ENDPOINT_URL", srv.URL)
		port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
		code, _, errs := h.run("local-aws", "--table", table+"x", "--queue", queue+"x")
		srv.Close()
		if code != exitFail || !strings.Contains(errs, "port "+port) || !strings.Contains(errs, "LOCAL_AWS_PORT=") || strings.Count(strings.TrimSpace(errs), "\n") != 0 {
			t.Errorf("%s on the port: exit %d, stderr %q; want %d, one line naming port %s and LOCAL_AWS_PORT", tt.name, code, errs, exitFail, port)
		}
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens there any more
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	if code, _, errs := h.run("local-aws"); code != exitFail || !strings.Contains(errs, "not moto") {
		t.Errorf("nothing on the port: exit %d %q", code, errs)
	}
	t.Setenv("AWS_ENDPOINT_URL", "https://sqs.eu-west-1.amazonaws.com")
	if code, _, errs := h.run("local-aws"); code != exitUsage || !strings.Contains(errs, "want a local emulator") {
		t.Errorf("real endpoint: exit %d %q", code, errs)
	}
}
