package memory

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/reply"
)

var qt0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func qjob(i int) reply.Job {
	return reply.Job{V: reply.JobVersion, AccountID: "acct", CommentID: fmt.Sprint("c", i), MediaID: "m1",
		FromID: fmt.Sprint("p", i), Text: "RECIPE", Kind: reply.KindReel, CommentedAt: qt0, DeliveredAt: qt0}
}

func receipts(ms []events.SQSMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ReceiptHandle
	}
	return out
}

func TestQueueBatchesAndBodies(t *testing.T) {
	ctx := context.Background()
	clock := NewClock(qt0)
	q := NewQueue(QueueOptions{Clock: clock})
	jobs := make([]reply.Job, 25)
	for i := range jobs {
		jobs[i] = qjob(i)
	}
	if err := q.Enqueue(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	var sizes []int
	seen := map[string]bool{}
	for {
		got, err := q.Receive(ctx, MaxBatch, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		sizes = append(sizes, len(got))
		for _, m := range got {
			var j reply.Job
			if err := json.Unmarshal([]byte(m.Body), &j); err != nil {
				t.Fatalf("body %q: %v", m.Body, err)
			}
			if seen[j.CommentID] {
				t.Errorf("comment %s received twice while invisible", j.CommentID)
			}
			seen[j.CommentID] = true
			if m.Attributes["ApproximateReceiveCount"] != "1" || m.EventSource != "aws:sqs" || m.Md5OfBody == "" {
				t.Errorf("message attributes %+v", m)
			}
		}
	}
	if fmt.Sprint(sizes) != "[10 10 5]" || len(seen) != 25 {
		t.Errorf("batches %v, %d distinct jobs; want [10 10 5] and 25", sizes, len(seen))
	}
	if c := q.Counts(); c.Visible != 0 || c.InFlight != 25 || c.Sent != 25 {
		t.Errorf("counts %+v", c)
	}
	for _, n := range []int{0, 11, -1} {
		if _, err := q.Receive(ctx, n, 0); !errors.Is(err, ErrBatchSize) {
			t.Errorf("Receive(%d) error %v, want ErrBatchSize", n, err)
		}
	}
}

// TestQueueRedelivery walks one batch through the cases the replier's partial batch failures and
// the redrive policy produce.
func TestQueueRedelivery(t *testing.T) {
	tests := []struct {
		name       string
		maxReceive int
		// rounds: in each, receive one batch, delete the messages at these indexes, then let the
		// visibility timeout pass.
		deletes   [][]int
		wantCount []int // messages received in each round
		wantLeft  int   // still on the queue at the end
		wantDead  int
	}{
		{"all deleted", 0, [][]int{{0, 1, 2}, {}}, []int{3, 0}, 0, 0},
		{"partial failure comes back alone", 0, [][]int{{0, 2}, {0}, {}}, []int{3, 1, 0}, 0, 0},
		{"nothing deleted without redrive stays forever", 0, [][]int{{}, {}, {}, {}}, []int{3, 3, 3, 3}, 3, 0},
		{"maxReceiveCount 2 moves to the dead letters", 2, [][]int{{0}, {}, {}}, []int{3, 2, 0}, 0, 2},
		{"success on the last receive is not dead", 2, [][]int{{}, {0, 1, 2}, {}}, []int{3, 3, 0}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clock := NewClock(qt0)
			q := NewQueue(QueueOptions{Clock: clock, Visibility: time.Minute, MaxReceive: tt.maxReceive})
			if err := q.Enqueue(ctx, []reply.Job{qjob(1), qjob(2), qjob(3)}); err != nil {
				t.Fatal(err)
			}
			for round, del := range tt.deletes {
				got, err := q.Receive(ctx, MaxBatch, 0)
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != tt.wantCount[round] {
					t.Fatalf("round %d: received %d, want %d", round, len(got), tt.wantCount[round])
				}
				for _, m := range got {
					if n, _ := strconv.Atoi(m.Attributes["ApproximateReceiveCount"]); n != round+1 {
						t.Errorf("round %d: receive count %d", round, n)
					}
				}
				// Still hidden before the timeout runs out.
				if again, _ := q.Receive(ctx, MaxBatch, 0); len(again) != 0 {
					t.Fatalf("round %d: %d messages visible during the visibility timeout", round, len(again))
				}
				var rs []string
				for _, i := range del {
					rs = append(rs, got[i].ReceiptHandle)
				}
				if err := q.Delete(ctx, rs...); err != nil {
					t.Fatal(err)
				}
				clock.Add(time.Minute)
			}
			if n := q.Len(); n != tt.wantLeft {
				t.Errorf("left on queue %d, want %d", n, tt.wantLeft)
			}
			if d := q.DeadLetters(); len(d) != tt.wantDead {
				t.Errorf("dead letters %d, want %d", len(d), tt.wantDead)
			}
		})
	}
}

func TestQueueStaleReceiptDoesNotDelete(t *testing.T) {
	ctx := context.Background()
	clock := NewClock(qt0)
	q := NewQueue(QueueOptions{Clock: clock, Visibility: 30 * time.Second})
	q.Send("a")
	first, _ := q.Receive(ctx, 1, 0)
	clock.Add(31 * time.Second) // the slow consumer's visibility ran out
	second, _ := q.Receive(ctx, 1, 0)
	if len(first) != 1 || len(second) != 1 || first[0].ReceiptHandle == second[0].ReceiptHandle {
		t.Fatalf("receives %v / %v", first, second)
	}
	if err := q.Delete(ctx, first[0].ReceiptHandle); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 1 {
		t.Fatalf("a stale receipt handle deleted the message")
	}
	if err := q.Delete(ctx, second[0].ReceiptHandle, "msg-unknown#1"); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 0 {
		t.Fatalf("the current receipt handle did not delete the message")
	}
}

func TestQueueCounts(t *testing.T) {
	ctx := context.Background()
	clock := NewClock(qt0)
	q := NewQueue(QueueOptions{Clock: clock, Visibility: time.Minute})
	q.Send("a", "b", "c")
	clock.Add(5 * time.Second)
	got, _ := q.Receive(ctx, 2, 0)
	c := q.Counts()
	want := QueueCounts{Visible: 1, InFlight: 2, Sent: 3, OldestAge: 5 * time.Second, NextVisible: qt0.Add(65 * time.Second)}
	if c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
	_ = q.Delete(ctx, receipts(got)...)
	if c := q.Counts(); c.Deleted != 2 || c.InFlight != 0 || c.Visible != 1 || !c.NextVisible.IsZero() {
		t.Errorf("counts after delete %+v", c)
	}
}

func TestQueueLongPollWakesOnSend(t *testing.T) {
	q := NewQueue(QueueOptions{})
	done := make(chan []events.SQSMessage)
	go func() {
		got, err := q.Receive(context.Background(), MaxBatch, time.Minute)
		if err != nil {
			t.Error(err)
		}
		done <- got
	}()
	time.Sleep(10 * time.Millisecond)
	q.Send("hello")
	if got := <-done; len(got) != 1 || got[0].Body != "hello" {
		t.Fatalf("long poll returned %v", got)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := q.Receive(ctx, 1, time.Minute); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled long poll error %v", err)
	}
}

// TestQueueConcurrentConsumers checks that consumers racing for messages each get a message
// exactly once while it is hidden, as Lambda's parallel pollers do.
func TestQueueConcurrentConsumers(t *testing.T) {
	ctx := context.Background()
	q := NewQueue(QueueOptions{Visibility: time.Hour})
	const n = 500
	for i := range n {
		q.Send(strconv.Itoa(i))
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				got, err := q.Receive(ctx, MaxBatch, 0)
				if err != nil || len(got) == 0 {
					return
				}
				mu.Lock()
				for _, m := range got {
					seen[m.Body]++
				}
				mu.Unlock()
				_ = q.Delete(ctx, receipts(got)...)
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Errorf("%d distinct messages received, want %d", len(seen), n)
	}
	for b, c := range seen {
		if c != 1 {
			t.Errorf("message %s received %d times", b, c)
		}
	}
}

// A job that cannot be encoded is refused alone, as the SQS adapter refuses it.
func TestQueueRefusesWhatCannotBeEncoded(t *testing.T) {
	q := NewQueue(QueueOptions{Clock: NewClock(qt0)})
	bad := qjob(2)
	bad.DeliveredAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	err := q.Enqueue(context.Background(), []reply.Job{qjob(1), bad, qjob(3)})
	var refused *reply.RefusedJobsError
	if !errors.As(err, &refused) || len(refused.Jobs) != 1 || refused.Jobs[0].CommentID != bad.CommentID || !errors.Is(err, reply.ErrInvalidJob) {
		t.Fatalf("Enqueue = %v, want comment %s refused", err, bad.CommentID)
	}
	if got, _ := q.Receive(context.Background(), MaxBatch, 0); len(got) != 2 {
		t.Errorf("%d messages queued, want the other 2", len(got))
	}
}
