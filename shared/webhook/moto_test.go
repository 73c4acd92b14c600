package webhook

// Integration: the real handler, the real SQS adapter and a real SQS API (moto server, started by
// shared/awstest or by `make test`).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sqs"
	"github.com/replywindow/replywindow/shared/ssm"
	"github.com/replywindow/replywindow/shared/telemetry"
)

func motoQueue(t testing.TB) (*awssqs.Client, string) {
	t.Helper()
	c := awssqs.NewFromConfig(awstest.Config(t))
	return c, awstest.Queue(t, c, "webhook")
}

// receiveAll (keyed by comment, or by message id for messaging events) takes up to want messages off the queue (deleting them, which keeps moto fast) and
// returns the jobs by comment id with how often each arrived.
func receiveAll(t testing.TB, c *awssqs.Client, url string, want int) (map[string]reply.Job, map[string]int) {
	t.Helper()
	ctx := awstest.Context(t)
	jobs, seen := map[string]reply.Job{}, map[string]int{}
	for total, empty := 0, 0; total < want && empty < 3; {
		out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 600})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		del := &awssqs.DeleteMessageBatchInput{QueueUrl: &url}
		for i, m := range out.Messages {
			var j reply.Job
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &j); err != nil {
				t.Fatalf("message %q: %v", aws.ToString(m.Body), err)
			}
			k := j.CommentID
			if j.Event != nil {
				k = j.Event.MID
			}
			jobs[k] = j
			seen[k]++
			total++
			del.Entries = append(del.Entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if _, err := c.DeleteMessageBatch(ctx, del); err != nil {
			t.Fatalf("delete: %v", err)
		}
	}
	return jobs, seen
}

// envFile is WebhookFunction's environment from events/env.json, as sam local invoke builds it.
func envFile(t testing.TB) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../events/env.json")
	if err != nil {
		t.Fatal(err)
	}
	var sections map[string]map[string]string
	if err := json.Unmarshal(b, &sections); err != nil {
		t.Fatalf("events/env.json: %v", err)
	}
	env := map[string]string{}
	for k, v := range sections["Parameters"] {
		env[k] = v
	}
	for k, v := range sections["WebhookFunction"] {
		env[k] = v
	}
	return env
}

func readEvent(t testing.TB, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile("../../events/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("events/%s: %v", name, err)
	}
	return ev
}

// TestSampleEvents runs the files sam local invoke uses through the handler configured from
// events/env.json, with the queue on moto.
func TestSampleEvents(t *testing.T) {
	client, url := motoQueue(t)
	env := envFile(t)
	env["QUEUE_URL"] = url // env.json's points at a local stack reached from Docker
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("LoadConfig with events/env.json: %v", err)
	}
	secrets, err := NewSecrets(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := New(cfg, sqs.NewQueue(client, cfg.QueueURL, sqs.WithConcurrency(cfg.EnqueueConcurrency)), secrets, telemetry.NewMetrics("webhook"), nil)
	h.emf = io.Discard
	tests := []struct {
		file   string
		status int
		body   string
	}{
		{"webhook-handshake.json", 200, "1158201444"},
		{"webhook-comment.json", 200, "EVENT_RECEIVED"},
		{"webhook-live-comment.json", 200, "EVENT_RECEIVED"},
		{"webhook-postback.json", 200, "EVENT_RECEIVED"},
		{"webhook-bad-signature.json", 401, ""},
	}
	for _, tt := range tests {
		resp, err := h.Handle(awstest.Context(t), readEvent(t, tt.file))
		if err != nil || resp.StatusCode != tt.status || (tt.body != "" && resp.Body != tt.body) {
			t.Errorf("%s: %d %q, %v; want %d %q", tt.file, resp.StatusCode, resp.Body, err, tt.status, tt.body)
		}
	}
	jobs, _ := receiveAll(t, client, url, 5)
	if len(jobs) != 4 {
		t.Fatalf("%d jobs on the queue, want 4 (two comments, a tap and a DM; the bad signature's must not be): %v", len(jobs), jobs)
	}
	if p := jobs["aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAx"]; p.Event == nil || p.Event.Kind != reply.EventPostback || p.Event.Payload != "RECIPE_LINK" {
		t.Errorf("postback job %+v", p)
	}
	c := jobs["17900000000000001"]
	if c.Text != "RECIPE bitte! Sieht köstlich aus 😍 https://example.com/r" || c.FromUsername != "jürgen.köche" || c.Kind != reply.KindReel {
		t.Errorf("comment job %+v", c)
	}
	if l := jobs["17900000000000004"]; l.Kind != reply.KindLive || l.Text != "LINK please ❤️" {
		t.Errorf("live job %+v", l)
	}
}

// bigDelivery is one signed delivery of n comment changes in Meta's escaped form.
func bigDelivery(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"object":"instagram","entry":[{"id":"17841400000000001","time":1763712000,"changes":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"value":{"from":{"id":"1784150%010d","username":"fan_%d"},"media":{"id":"18000000000000042","media_product_type":"REELS"},"id":"179%014d","text":"RECIPE bitte \u00e4\u00f6\u00fc \ud83d\ude0d https:\/\/example.com\/r\/%d"},"field":"comments"}`, i, i, i, i)
	}
	b.WriteString(`]}]}`)
	return b.Bytes()
}

// flaky is the real SQS client with the first send of every odd-numbered entry refused.
type flaky struct {
	sqs.API
	mu      sync.Mutex
	tries   map[string]int
	refused int
}

func (f *flaky) SendMessageBatch(ctx context.Context, in *awssqs.SendMessageBatchInput, opts ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	pass := *in
	pass.Entries = nil
	var failed []types.BatchResultErrorEntry
	f.mu.Lock()
	for _, e := range in.Entries {
		body := aws.ToString(e.MessageBody)
		f.tries[body]++
		if f.tries[body] == 1 && strings.Contains(body, `"comment":"179`) && (body[strings.Index(body, `"comment":"`)+len(`"comment":"`)+16]-'0')%2 == 1 {
			failed = append(failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("ServiceUnavailable"), Message: aws.String("injected")})
			f.refused++
			continue
		}
		pass.Entries = append(pass.Entries, e)
	}
	f.mu.Unlock()
	out := &awssqs.SendMessageBatchOutput{}
	if len(pass.Entries) > 0 {
		var err error
		if out, err = f.API.SendMessageBatch(ctx, &pass, opts...); err != nil {
			return nil, err
		}
	}
	out.Failed = append(out.Failed, failed...)
	return out, nil
}

func TestDeliveryThroughSQS(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		api     func(c *awssqs.Client) sqs.API
		badURL  bool
		status  int
		arrived int
	}{
		{name: "1000 changes in one delivery", n: 1000, status: 200, arrived: 1000},
		{name: "a partial SendMessageBatch failure is retried", n: 60, api: func(c *awssqs.Client) sqs.API { return &flaky{API: c, tries: map[string]int{}} }, status: 200, arrived: 60},
		{name: "a total failure answers 500", n: 30, badURL: true, status: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, url := motoQueue(t)
			var api sqs.API = client
			if tt.api != nil {
				api = tt.api(client)
			}
			target := url
			if tt.badURL {
				target = url + "-does-not-exist"
			}
			metrics := telemetry.NewMetrics("webhook")
			h := New(Config{MaxBodyBytes: DefaultMaxBodyBytes, AnswerBudget: time.Minute /* moto, not SQS, sets this pace */}, sqs.NewQueue(api, target, sqs.WithBackoff(time.Millisecond)),
				StaticSecrets{Apps: []string{testSecret}}, metrics, nil)
			h.emf = io.Discard
			h.now = func() time.Time { return sent.Add(5 * time.Second) } // bigDelivery's entry.time
			body := bigDelivery(tt.n)
			start := time.Now()
			resp, err := h.Handle(awstest.Context(t), post(body, Sign(body, testSecret)))
			if err != nil || resp.StatusCode != tt.status {
				t.Fatalf("Handle: %d %q, %v; want %d", resp.StatusCode, resp.Body, err, tt.status)
			}
			t.Logf("%d changes, %d bytes: answered %d in %v", tt.n, len(body), resp.StatusCode, time.Since(start))
			jobs, seen := receiveAll(t, client, url, tt.arrived)
			if len(jobs) != tt.arrived {
				var missing []string
				for i := range tt.arrived {
					if _, ok := jobs[fmt.Sprintf("179%014d", i)]; !ok {
						missing = append(missing, fmt.Sprintf("179%014d", i))
					}
				}
				t.Fatalf("%d distinct jobs arrived, want %d; missing %v", len(jobs), tt.arrived, missing)
			}
			for id, n := range seen {
				if n != 1 {
					t.Errorf("comment %s arrived %d times", id, n)
				}
			}
			for i := range tt.arrived {
				j, ok := jobs[fmt.Sprintf("179%014d", i)]
				if !ok || j.Text != fmt.Sprintf("RECIPE bitte äöü 😍 https://example.com/r/%d", i) || j.Kind != reply.KindReel {
					t.Fatalf("comment %d arrived as %+v (%v)", i, j, ok)
				}
			}
			if f, ok := api.(*flaky); ok && f.refused != tt.n/2 {
				t.Errorf("%d entries refused once, want %d", f.refused, tt.n/2)
			}
			if tt.status == 200 && (metrics.Get(MetricEnqueued) != float64(tt.n) || metrics.Get(MetricAccepted) != 1) {
				t.Errorf("Enqueued %v, Accepted %v", metrics.Get(MetricEnqueued), metrics.Get(MetricAccepted))
			}
			if tt.status == 500 && (metrics.Get(MetricEnqueueFailed) != 1 || metrics.Get(MetricAccepted) != 0) {
				t.Errorf("EnqueueFailed %v, Accepted %v", metrics.Get(MetricEnqueueFailed), metrics.Get(MetricAccepted))
			}
		})
	}
}

// TestSecretsFromSSM: the function's wiring, with the secrets in SSM SecureStrings on moto.
func TestSecretsFromSSM(t *testing.T) {
	params := ssm.NewParams(ssm.NewClient(awstest.Config(t)), time.Minute)
	prefix := "/" + awstest.Name(t, "rw")
	ctx := awstest.Context(t)
	for name, v := range map[string]string{"/ig": "ig-app-secret", "/fb": "fb-app-secret", "/verify": "verify-me"} {
		if err := params.Put(ctx, prefix+name, v); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"QUEUE_URL": "unused", "APP_SECRETS_PARAMS": prefix + "/ig," + prefix + "/fb", "VERIFY_TOKEN_PARAM": prefix + "/verify",
		"APP_SECRETS": "plain-is-ignored", "VERIFY_TOKEN": "plain-is-ignored"}
	cfg, err := LoadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	secrets, err := NewSecrets(cfg, params)
	if err != nil {
		t.Fatal(err)
	}
	q := &recorder{}
	h := New(cfg, q, secrets, nil, nil)
	h.now = func() time.Time { return now } // comment.json's time
	body := delivery(t, "comment.json")
	tests := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
	}{
		{"handshake with the SSM token", request("GET", "/webhook", "hub.mode=subscribe&hub.challenge=5&hub.verify_token=verify-me"), 200},
		{"handshake with the plain token", request("GET", "/webhook", "hub.mode=subscribe&hub.challenge=5&hub.verify_token=plain-is-ignored"), 403},
		{"signed with the Instagram app secret", post(body, Sign(body, "ig-app-secret")), 200},
		{"signed with the Facebook app secret", post(body, Sign(body, "fb-app-secret")), 200},
		{"signed with the plain value", post(body, Sign(body, "plain-is-ignored")), 401},
	}
	for _, tt := range tests {
		if resp, err := h.Handle(ctx, tt.req); err != nil || resp.StatusCode != tt.status {
			t.Errorf("%s: %d, %v; want %d", tt.name, resp.StatusCode, err, tt.status)
		}
	}
	if len(q.jobs) != 2 {
		t.Errorf("%d jobs enqueued, want 2", len(q.jobs))
	}
}

// TestBlankVerifyTokenInSSM: a verify token parameter of white space is refused like a missing
// one (500, which names the parameter in the log), never compared: it would take any handshake.
func TestBlankVerifyTokenInSSM(t *testing.T) {
	params := ssm.NewParams(ssm.NewClient(awstest.Config(t)), time.Minute)
	name := "/" + awstest.Name(t, "rw") + "/verify"
	ctx := awstest.Context(t)
	if err := params.Put(ctx, name, "  \n"); err != nil {
		t.Fatal(err)
	}
	secrets, err := NewSecrets(Config{AppSecrets: []string{"s"}, VerifyTokenParam: name}, params)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.VerifyToken(ctx); err == nil || !strings.Contains(err.Error(), name) {
		t.Errorf("VerifyToken: %v, want an error naming %s", err, name)
	}
	h := New(Config{QueueURL: "unused"}, &recorder{}, secrets, nil, nil)
	for _, q := range []string{"hub.mode=subscribe&hub.challenge=5&hub.verify_token=%20%20%0A", "hub.mode=subscribe&hub.challenge=5&hub.verify_token="} {
		if resp, _ := h.Handle(ctx, request("GET", "/webhook", q)); resp.StatusCode != 500 {
			t.Errorf("handshake %q with a blank token in SSM: %d, want 500", q, resp.StatusCode)
		}
	}
}

// TestOldDeliveriesReplayForever is issue 24's finding 3: a delivery Meta signed thirty days ago,
// replayed, is answered 200 (so nobody retries it) with nothing enqueued and the replay counted,
// while the events of a delivery that are within Meta's retry horizon still go through. Each
// event is judged by its own time: entry.time in seconds for changes, the messaging timestamp in
// milliseconds.
func TestOldDeliveriesReplayForever(t *testing.T) {
	client, url := motoQueue(t)
	now := time.Now().UTC().Truncate(time.Second)
	old := now.Add(-30 * 24 * time.Hour)
	edge := now.Add(-StaleAfter + time.Minute) // a late retry of Meta's, inside the horizon
	comment := func(at time.Time, id string) string {
		return fmt.Sprintf(`{"id":"17841400000000001","time":%d,"changes":[{"field":"comments","value":{"id":"%s","text":"RECIPE","from":{"id":"17841400000000555","username":"fan"},"media":{"id":"18000000000000042","media_product_type":"REELS"}}}]}`, at.Unix(), id)
	}
	tap := func(at time.Time, mid string) string {
		// entry.time is fresh: the event's own timestamp decides.
		return fmt.Sprintf(`{"id":"17841400000000001","time":%d,"messaging":[{"sender":{"id":"17841400000000777"},"recipient":{"id":"17841400000000001"},"timestamp":%d,"postback":{"mid":"%s","title":"Link","payload":"LINK"}}]}`, now.UnixMilli(), at.UnixMilli(), mid)
	}
	delivery := func(entries ...string) []byte {
		return []byte(`{"object":"instagram","entry":[` + strings.Join(entries, ",") + `]}`)
	}
	tests := []struct {
		name   string
		body   []byte
		stale  float64
		arrive []string
	}{
		{name: "thirty days old", body: delivery(comment(old, "17900000000000001"), tap(old, "mid.old")), stale: 2},
		{name: "old and fresh in one delivery", body: delivery(comment(old, "17900000000000002"), comment(edge, "17900000000000003"), tap(old, "mid.old2"), tap(now, "mid.new")),
			stale: 2, arrive: []string{"17900000000000003", "mid.new"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metrics := telemetry.NewMetrics("webhook")
			h := New(Config{MaxBodyBytes: DefaultMaxBodyBytes, AnswerBudget: time.Minute}, sqs.NewQueue(client, url), StaticSecrets{Apps: []string{testSecret}}, metrics, nil)
			h.emf = io.Discard
			h.now = func() time.Time { return now }
			resp, err := h.Handle(awstest.Context(t), post(tt.body, Sign(tt.body, testSecret)))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("Handle: %d %q, %v; want 200", resp.StatusCode, resp.Body, err)
			}
			if got := metrics.Get(MetricStale); got != tt.stale {
				t.Errorf("metric %s = %v, want %v", MetricStale, got, tt.stale)
			}
			if got := metrics.Get(MetricEnqueued); got != float64(len(tt.arrive)) {
				t.Errorf("metric %s = %v, want %d", MetricEnqueued, got, len(tt.arrive))
			}
			jobs, _ := receiveAll(t, client, url, len(tt.arrive)+1) // one more: read until the queue is empty
			if len(jobs) != len(tt.arrive) {
				t.Fatalf("%d jobs on the queue (%v), want %v", len(jobs), jobs, tt.arrive)
			}
			for _, id := range tt.arrive {
				if _, ok := jobs[id]; !ok {
					t.Errorf("job %s did not arrive: %v", id, jobs)
				}
			}
		})
	}
}
