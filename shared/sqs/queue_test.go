package sqs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sqs"
)

func newQueue(t testing.TB) (*awssqs.Client, string) {
	t.Helper()
	c := awssqs.NewFromConfig(awstest.Config(t))
	return c, awstest.Queue(t, c, "jobs")
}

func jobs(n int, text string) []reply.Job {
	at := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	js := make([]reply.Job, n)
	for i := range js {
		js[i] = reply.Job{
			V: reply.JobVersion, AccountID: "17841400000000001", CommentID: fmt.Sprintf("c%05d", i),
			MediaID: "m1", FromID: fmt.Sprintf("u%d", i), FromUsername: "fan", Text: text,
			Kind: reply.KindReel, CommentedAt: at, DeliveredAt: at,
		}
	}
	return js
}

// drain receives until want messages arrived (or the queue stays empty), returning the jobs by
// comment id and how many messages carried each.
func drain(t *testing.T, c *awssqs.Client, url string, want int) (map[string]reply.Job, map[string]int) {
	t.Helper()
	ctx := awstest.Context(t)
	got, seen := map[string]reply.Job{}, map[string]int{}
	total, empty := 0, 0
	for total < want && empty < 3 {
		out, err := c.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 600})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if len(out.Messages) == 0 {
			empty++
			continue
		}
		// Deleting keeps moto fast: it scans every message the queue holds on each receive.
		del := &awssqs.DeleteMessageBatchInput{QueueUrl: &url}
		for i, m := range out.Messages {
			del.Entries = append(del.Entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(i)), ReceiptHandle: m.ReceiptHandle})
		}
		if _, err := c.DeleteMessageBatch(ctx, del); err != nil {
			t.Fatalf("delete: %v", err)
		}
		for _, m := range out.Messages {
			var j reply.Job
			if err := json.Unmarshal([]byte(aws.ToString(m.Body)), &j); err != nil {
				t.Fatalf("message body %q: %v", aws.ToString(m.Body), err)
			}
			got[j.CommentID] = j
			seen[j.CommentID]++
			total++
		}
	}
	return got, seen
}

// faulty wraps the real client and answers some entries as failed without sending them.
type faulty struct {
	sqs.API
	calls atomic.Int64
	// decide says what to do with an entry sent for the nth time: "" send, "fail" report a
	// retryable failure, "sender" refuse its content (a sender fault), "denied" report a sender
	// fault of the deployment (a permission), "drop" leave it out of the answer.
	decide func(nth int, body string) string
	err    error // returned for every call when set
	mu     sync.Mutex
	sent   map[string]int
}

func (f *faulty) SendMessageBatch(ctx context.Context, in *awssqs.SendMessageBatchInput, opts ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	f.calls.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	pass := *in
	pass.Entries = nil
	var failed []types.BatchResultErrorEntry
	for _, e := range in.Entries {
		body := aws.ToString(e.MessageBody)
		f.mu.Lock()
		if f.sent == nil {
			f.sent = map[string]int{}
		}
		f.sent[body]++
		nth := f.sent[body]
		f.mu.Unlock()
		switch f.decide(nth, body) {
		case "fail":
			failed = append(failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InternalError"), Message: aws.String("injected")})
		case "sender":
			failed = append(failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("InvalidMessageContents"), Message: aws.String("injected"), SenderFault: true})
		case "denied":
			failed = append(failed, types.BatchResultErrorEntry{Id: e.Id, Code: aws.String("KMS.AccessDeniedException"), Message: aws.String("injected"), SenderFault: true})
		case "drop":
		default:
			pass.Entries = append(pass.Entries, e)
		}
	}
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

func TestEnqueue(t *testing.T) {
	odd := func(body string) bool {
		var j reply.Job
		_ = json.Unmarshal([]byte(body), &j)
		return j.CommentID[len(j.CommentID)-1]%2 == 1
	}
	tests := []struct {
		name       string
		n          int
		decide     func(nth int, body string) string
		wantFailed int // jobs the error must name; 0 = success
		// wantRefused: jobs refused for their content, the only failure (*reply.RefusedJobsError)
		wantRefused int
		wantCalls   int64
	}{
		{name: "none", n: 0},
		{name: "one", n: 1, wantCalls: 1},
		{name: "partial batch", n: 25, wantCalls: 3},
		// moto's SQS slows down with every message a queue holds (it recounts them per send), so
		// the 1000-message delivery is proven once, end to end, in shared/webhook.
		{name: "many batches at once", n: 250, wantCalls: 25},
		{name: "odd entries fail once then succeed", n: 100, wantCalls: 20, decide: func(nth int, body string) string {
			if nth == 1 && odd(body) {
				return "fail"
			}
			return ""
		}},
		{name: "entries missing from the answer are resent", n: 10, wantCalls: 2, decide: func(nth int, body string) string {
			if nth == 1 && odd(body) {
				return "drop"
			}
			return ""
		}},
		{name: "always failing entries give up after the attempts", n: 20, wantFailed: 10, wantCalls: 2 * 3, decide: func(_ int, body string) string {
			if odd(body) {
				return "fail"
			}
			return ""
		}},
		{name: "content refused is not retried", n: 10, wantRefused: 5, wantCalls: 1, decide: func(_ int, body string) string {
			if odd(body) {
				return "sender"
			}
			return ""
		}},
		// A permission is the deployment's fault: retried, and failed (500) until it is fixed.
		{name: "other sender faults are failures", n: 10, wantFailed: 5, wantCalls: 3, decide: func(_ int, body string) string {
			if odd(body) {
				return "denied"
			}
			return ""
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, url := newQueue(t)
			f := &faulty{API: c, decide: tt.decide}
			if f.decide == nil {
				f.decide = func(int, string) string { return "" }
			}
			q := sqs.NewQueue(f, url, sqs.WithConcurrency(tt.n/100+1), sqs.WithAttempts(3), sqs.WithBackoff(time.Millisecond))
			want := jobs(tt.n, "Rezept bitte ä 🍰 </script>")
			err := q.Enqueue(awstest.Context(t), want)
			if calls := f.calls.Load(); calls != tt.wantCalls {
				t.Errorf("SendMessageBatch calls = %d, want %d", calls, tt.wantCalls)
			}
			var ee *sqs.EnqueueError
			var refused *reply.RefusedJobsError
			lost := tt.wantFailed + tt.wantRefused
			switch {
			case tt.wantRefused > 0 && (!errors.As(err, &refused) || len(refused.Jobs) != tt.wantRefused || !errors.Is(err, reply.ErrInvalidJob)):
				t.Fatalf("Enqueue error = %v, want %d jobs refused for good", err, tt.wantRefused)
			case tt.wantRefused > 0:
			case tt.wantFailed == 0 && err != nil:
				t.Fatalf("Enqueue: %v", err)
			case tt.wantFailed > 0 && !errors.As(err, &ee):
				t.Fatalf("Enqueue error = %v, want *EnqueueError", err)
			case tt.wantFailed > 0 && (ee.Failed != tt.wantFailed || ee.Total != tt.n):
				t.Fatalf("Enqueue error = %v, want %d of %d failed", err, tt.wantFailed, tt.n)
			case tt.wantFailed > 0 && !strings.Contains(err.Error(), fmt.Sprintf("%d of %d jobs", tt.wantFailed, tt.n)):
				t.Errorf("error %q does not name the count", err)
			}
			got, seen := drain(t, c, url, tt.n-lost)
			if len(got) != tt.n-lost {
				t.Fatalf("received %d distinct jobs, want %d", len(got), tt.n-lost)
			}
			for _, j := range want {
				g, ok := got[j.CommentID]
				if lost > 0 && odd(mustJSON(t, j)) {
					if ok {
						t.Errorf("job %s was reported failed but arrived", j.CommentID)
					}
					continue
				}
				if !ok {
					t.Errorf("job %s did not arrive", j.CommentID)
					continue
				}
				if seen[j.CommentID] != 1 {
					t.Errorf("job %s arrived %d times", j.CommentID, seen[j.CommentID])
				}
				if !g.CommentedAt.Equal(j.CommentedAt) || g.Text != j.Text || g.Kind != j.Kind || g.V != j.V {
					t.Errorf("job %s arrived as %+v, want %+v", j.CommentID, g, j)
				}
			}
		})
	}
}

// TestEnqueueRefusesWhatCannotBeEncoded: a job whose time has no four-digit year cannot be
// encoded; it is refused alone, the rest of the batch is sent, and the error says which.
func TestEnqueueRefusesWhatCannotBeEncoded(t *testing.T) {
	c, url := newQueue(t)
	q := sqs.NewQueue(c, url)
	js := jobs(12, "x")
	js[3].DeliveredAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	js[7].CommentedAt = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)
	err := q.Enqueue(awstest.Context(t), js)
	var refused *reply.RefusedJobsError
	if !errors.As(err, &refused) || len(refused.Jobs) != 2 || refused.Jobs[0].CommentID != js[3].CommentID || refused.Jobs[1].CommentID != js[7].CommentID {
		t.Fatalf("Enqueue error = %v, want jobs %s and %s refused", err, js[3].CommentID, js[7].CommentID)
	}
	if !strings.Contains(err.Error(), "comment "+js[3].CommentID) {
		t.Errorf("error %q does not name the first refused comment", err)
	}
	if got, _ := drain(t, c, url, 10); len(got) != 10 {
		t.Errorf("received %d jobs, want the other 10", len(got))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestEnqueueTotalFailure(t *testing.T) {
	c, url := newQueue(t)
	tests := []struct {
		name string
		api  sqs.API
		url  string
	}{
		// A queue that does not exist: moto's real answer, for every batch and attempt.
		{name: "missing queue", api: c, url: url + "-missing"},
		{name: "transport error", api: &faulty{API: c, err: errors.New("connection reset")}, url: url},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := sqs.NewQueue(tt.api, tt.url, sqs.WithAttempts(2), sqs.WithBackoff(time.Millisecond))
			err := q.Enqueue(awstest.Context(t), jobs(35, "x"))
			var ee *sqs.EnqueueError
			if !errors.As(err, &ee) || ee.Failed != 35 || ee.Total != 35 {
				t.Fatalf("Enqueue error = %v, want all 35 failed", err)
			}
			if f, ok := tt.api.(*faulty); ok && f.calls.Load() != 4*2 {
				t.Errorf("calls = %d, want 4 batches x 2 attempts", f.calls.Load())
			}
		})
	}
}

func TestEnqueueStopsWithContext(t *testing.T) {
	c, url := newQueue(t)
	f := &faulty{API: c, decide: func(int, string) string { return "fail" }}
	q := sqs.NewQueue(f, url, sqs.WithAttempts(100), sqs.WithBackoff(time.Hour))
	ctx, cancel := context.WithTimeout(awstest.Context(t), 200*time.Millisecond)
	defer cancel()
	err := q.Enqueue(ctx, jobs(3, "x"))
	var ee *sqs.EnqueueError
	if !errors.As(err, &ee) || ee.Failed != 3 {
		t.Fatalf("Enqueue error = %v, want 3 failed", err)
	}
	if f.calls.Load() != 1 {
		t.Errorf("calls = %d, want 1 (the backoff outlives the context)", f.calls.Load())
	}
}

// recorder is an API that accepts everything and remembers the batches, to check how jobs are
// split without a server.
type recorder struct {
	mu      sync.Mutex
	batches [][]types.SendMessageBatchRequestEntry
}

func (r *recorder) SendMessageBatch(_ context.Context, in *awssqs.SendMessageBatchInput, _ ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	r.mu.Lock()
	r.batches = append(r.batches, in.Entries)
	r.mu.Unlock()
	out := &awssqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

func TestEnqueueSplitsWithinLimits(t *testing.T) {
	tests := []struct {
		name    string
		jobs    []reply.Job
		batches int
		wantErr bool
	}{
		{name: "ten per batch", jobs: jobs(95, "short"), batches: 10},
		{name: "bytes bound the batch", jobs: jobs(20, strings.Repeat("ä", 20000)), batches: 4}, // ~40 KB each: 6 fit in 256 KiB
		{name: "a job over the limit is refused whole", jobs: jobs(2, strings.Repeat("x", sqs.MaxBatchBytes)), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{}
			err := sqs.NewQueue(r, "http://queue").Enqueue(context.Background(), tt.jobs)
			if tt.wantErr {
				if err == nil {
					t.Fatal("Enqueue succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Enqueue: %v", err)
			}
			if len(r.batches) != tt.batches {
				t.Errorf("%d batches, want %d", len(r.batches), tt.batches)
			}
			n := 0
			for _, b := range r.batches {
				size, ids := 0, map[string]bool{}
				for _, e := range b {
					size += len(aws.ToString(e.MessageBody))
					ids[aws.ToString(e.Id)] = true
				}
				if len(b) > sqs.MaxBatchEntries || size > sqs.MaxBatchBytes || len(ids) != len(b) {
					t.Errorf("batch of %d entries, %d bytes, %d distinct ids breaks SQS's limits", len(b), size, len(ids))
				}
				n += len(b)
			}
			if n != len(tt.jobs) {
				t.Errorf("%d entries sent, want %d", n, len(tt.jobs))
			}
		})
	}
}
