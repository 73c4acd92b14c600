package eventbridge_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/replywindow/replywindow/shared/awsjson"
	"github.com/replywindow/replywindow/shared/eventbridge"
)

// TestClientPutEvents: PutEvents as EventBridge's JSON protocol has it (the target, the entries,
// times in epoch seconds), each entry's answer in order, a throttled call retried, and a refused
// one an error naming EventBridge's code. The moto tests (TestPutEveryKind and the others) put
// real events through the same client.
func TestClientPutEvents(t *testing.T) {
	var mu sync.Mutex
	var targets []string
	var bodies []map[string]any
	answers := []struct {
		status int
		body   string
	}{
		{400, `{"__type":"ThrottlingException","message":"Rate exceeded"}`},
		{200, `{"FailedEntryCount":1,"Entries":[{"EventId":"e-1"},{"ErrorCode":"InternalFailure","ErrorMessage":"try again"}]}`},
		{400, `{"__type":"AccessDeniedException","message":"not authorized to perform events:PutEvents"}`},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var b map[string]any
		_ = json.Unmarshal(raw, &b)
		mu.Lock()
		n := len(targets)
		targets, bodies = append(targets, r.Header.Get("X-Amz-Target")), append(bodies, b)
		mu.Unlock()
		a := answers[min(n, len(answers)-1)]
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	}))
	t.Cleanup(srv.Close)
	c := eventbridge.NewClient(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
	at := time.Date(2026, 12, 6, 12, 0, 0, 500e6, time.UTC)
	entries := []eventbridge.Entry{
		{EventBusName: "b", Source: "replywindow", DetailType: "PrivateReplySent", Detail: `{"id":"1"}`, Time: at},
		{EventBusName: "b", Source: "replywindow", DetailType: "FollowUpSent", Detail: `{"id":"2"}`, Time: at},
	}
	res, err := c.PutEvents(context.Background(), entries)
	if err != nil || len(res) != 2 || res[0].EventID != "e-1" || res[1].ErrorCode != "InternalFailure" || res[1].ErrorMessage != "try again" {
		t.Fatalf("PutEvents = %+v, %v", res, err)
	}
	if len(targets) != 2 || targets[0] != "AWSEvents.PutEvents" {
		t.Errorf("targets %v: want the throttled call and its retry, to AWSEvents.PutEvents", targets)
	}
	sent, _ := bodies[1]["Entries"].([]any)
	first, _ := sent[0].(map[string]any)
	if len(sent) != 2 || first["DetailType"] != "PrivateReplySent" || first["Time"] != 1796558400.5 || first["EventBusName"] != "b" {
		t.Errorf("entries sent %v", bodies[1])
	}
	if _, err := c.PutEvents(context.Background(), entries); err == nil || !strings.Contains(err.Error(), "AccessDeniedException") || !strings.Contains(err.Error(), "events PutEvents") {
		t.Errorf("refused call: %v", err)
	}
	if got := awsjson.Endpoint(aws.Config{Region: "eu-west-1"}, awsjson.Service{Signing: "events", EnvID: "EVENTBRIDGE"},
		func(k string) string { return map[string]string{"AWS_ENDPOINT_URL_EVENTBRIDGE": "http://moto:5000"}[k] }); got != "http://moto:5000" {
		t.Errorf("endpoint %q", got)
	}
}
