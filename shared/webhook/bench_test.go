package webhook

import (
	"context"
	"fmt"
	"io"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sqs"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// BenchmarkVerifyParse is the per-delivery CPU work on one comment: verify the signature over
// the raw bytes, parse, build the job. Target: <= 25 µs/op and <= 60 allocs/op.
func BenchmarkVerifyParse(b *testing.B) {
	body := delivery(b, "comment.json")
	sig := Sign(body, testSecret)
	secrets := []string{testSecret}
	b.ReportAllocs()
	defer measureCPU(b)()
	for b.Loop() {
		if err := Verify(body, sig, secrets); err != nil {
			b.Fatal(err)
		}
		d, err := Parse(body, now)
		if err != nil || len(d.Jobs) != 1 {
			b.Fatal(err, d)
		}
	}
}

// cpuTime is the process's user+system CPU time. Reported per op next to ns/op, it tells the
// code's cost apart from time spent waiting for a busy machine's cores.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measureCPU reports cpu-ns/op for the loop that follows; call the returned func after it.
func measureCPU(b *testing.B) func() {
	start := cpuTime(b)
	return func() { b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op") }
}

// discard is a reply.Queue that accepts everything (the handler's own cost, without SQS).
type discard struct{}

func (discard) Enqueue(context.Context, []reply.Job) error { return nil }

// BenchmarkHandleOneComment is the whole handler for one comment, the queue aside.
func BenchmarkHandleOneComment(b *testing.B) {
	body := delivery(b, "comment.json")
	req := post(body, Sign(body, testSecret))
	h := New(Config{}, discard{}, StaticSecrets{Apps: []string{testSecret}}, telemetry.NewMetrics("webhook"), nil)
	h.emf = io.Discard
	b.ReportAllocs()
	defer measureCPU(b)()
	for b.Loop() {
		if resp, _ := h.Handle(context.Background(), req); resp.StatusCode != 200 {
			b.Fatal(resp)
		}
	}
}

// stubSQS accepts every entry without a network: the handler and the SQS adapter's own work
// (marshalling, batching, fan-out) on a 1000-change delivery. Target: <= 10 ms/op.
type stubSQS struct{}

func (stubSQS) SendMessageBatch(_ context.Context, in *awssqs.SendMessageBatchInput, _ ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	out := &awssqs.SendMessageBatchOutput{Successful: make([]types.SendMessageBatchResultEntry, len(in.Entries))}
	for i, e := range in.Entries {
		out.Successful[i].Id = e.Id
	}
	return out, nil
}

func BenchmarkHandle1000Changes(b *testing.B) {
	body := bigDelivery(1000)
	req := post(body, Sign(body, testSecret))
	h := New(Config{}, sqs.NewQueue(stubSQS{}, "http://stub/queue"), StaticSecrets{Apps: []string{testSecret}}, telemetry.NewMetrics("webhook"), nil)
	h.emf = io.Discard
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	defer measureCPU(b)()
	for b.Loop() {
		if resp, _ := h.Handle(context.Background(), req); resp.StatusCode != 200 {
			b.Fatal(resp)
		}
	}
}

// BenchmarkHandle1000ChangesMoto is the wall time of a 1000-change delivery into a real SQS API
// (moto) at several enqueue concurrencies; each iteration gets a fresh queue, as moto slows down
// with every message a queue holds. Run with -benchtime=1x: moto, not the code, dominates.
func BenchmarkHandle1000ChangesMoto(b *testing.B) {
	body := bigDelivery(1000)
	req := post(body, Sign(body, testSecret))
	for _, conc := range []int{1, 8, 16} {
		b.Run(fmt.Sprintf("concurrency_%d", conc), func(b *testing.B) {
			client := awssqs.NewFromConfig(awstest.Config(b))
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				out, err := client.CreateQueue(context.Background(), &awssqs.CreateQueueInput{QueueName: aws.String(fmt.Sprintf("%s-%d", awstest.Name(b, "bench"), i))})
				if err != nil {
					b.Fatal(err)
				}
				h := New(Config{}, sqs.NewQueue(client, aws.ToString(out.QueueUrl), sqs.WithConcurrency(conc)), StaticSecrets{Apps: []string{testSecret}}, nil, nil)
				b.StartTimer()
				if resp, _ := h.Handle(context.Background(), req); resp.StatusCode != 200 {
					b.Fatal(resp)
				}
			}
		})
	}
}

// slowSQS accepts everything after a fixed round trip, as SQS in the function's region would:
// what enqueue concurrency buys once the network, not moto's Python, sets the pace.
type slowSQS struct{ rtt time.Duration }

func (s slowSQS) SendMessageBatch(ctx context.Context, in *awssqs.SendMessageBatchInput, opts ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	time.Sleep(s.rtt)
	return stubSQS{}.SendMessageBatch(ctx, in, opts...)
}

// BenchmarkHandle1000ChangesLatency is the wall time of a 1000-change delivery when every
// SendMessageBatch takes 20 ms. Target at DefaultEnqueueConcurrency: <= 300 ms/op, far inside
// DefaultAnswerBudget.
func BenchmarkHandle1000ChangesLatency(b *testing.B) {
	body := bigDelivery(1000)
	req := post(body, Sign(body, testSecret))
	for _, conc := range []int{1, 8, DefaultEnqueueConcurrency, 32} {
		b.Run(fmt.Sprintf("rtt_20ms_concurrency_%d", conc), func(b *testing.B) {
			h := New(Config{}, sqs.NewQueue(slowSQS{rtt: 20 * time.Millisecond}, "http://stub/queue", sqs.WithConcurrency(conc)),
				StaticSecrets{Apps: []string{testSecret}}, nil, nil)
			for b.Loop() {
				if resp, _ := h.Handle(context.Background(), req); resp.StatusCode != 200 {
					b.Fatal(resp)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
		})
	}
}
