package memory

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/reply"
)

// Queue is an in-process stand-in for the SQS jobs queue with the semantics replywindow relies on:
// batches of at most 10, a visibility timeout (a received message that is not deleted comes back
// when it runs out, which is how a partial batch failure is retried), receipt handles that go
// stale when a message is received again, and maxReceiveCount after which a message moves to the
// dead-letter list instead of being delivered. Time comes from Clock, so simulations can run it on
// a fake clock. It is safe for concurrent use.
type Queue struct {
	clock      reply.Clock
	visibility time.Duration
	maxReceive int
	arn        string

	mu      sync.Mutex
	seq     int
	msgs    map[string]*message // by message id
	order   []string            // message ids in the order they were sent
	dead    []events.SQSMessage
	wake    chan struct{} // closed and replaced whenever a message is sent
	sent    int
	deleted int
}

type message struct {
	id       string
	body     string
	sentAt   time.Time
	visible  time.Time // invisible until then
	receives int
	receipt  string // the latest receipt handle; older ones no longer delete
}

// QueueOptions configure a Queue; zero values take SQS's defaults.
type QueueOptions struct {
	Clock      reply.Clock   // SystemClock when nil
	Visibility time.Duration // 30 s when zero (SQS's default)
	MaxReceive int           // maxReceiveCount of the redrive policy; 0 means no dead-letter queue
	ARN        string        // eventSourceARN put on received messages
}

// MaxBatch is SQS's most messages per send or receive call.
const MaxBatch = 10

// ErrBatchSize is returned for receive requests outside 1..MaxBatch, as SQS would.
var ErrBatchSize = errors.New("batch size must be 1 to 10")

var errWaited = errors.New("waited long enough")

// NewQueue is an empty queue.
func NewQueue(o QueueOptions) *Queue {
	if o.Clock == nil {
		o.Clock = reply.SystemClock{}
	}
	if o.Visibility <= 0 {
		o.Visibility = 30 * time.Second
	}
	if o.ARN == "" {
		o.ARN = "arn:aws:sqs:us-east-1:000000000000:replywindow-jobs"
	}
	return &Queue{
		clock: o.Clock, visibility: o.Visibility, maxReceive: o.MaxReceive, arn: o.ARN,
		msgs: map[string]*message{}, wake: make(chan struct{}),
	}
}

// Enqueue sends every job as one JSON message, as the SQS adapter's SendMessageBatch calls do. A
// job that cannot be encoded is left out and reported in a *reply.RefusedJobsError; the others
// are sent.
func (q *Queue) Enqueue(ctx context.Context, jobs []reply.Job) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("enqueue %d jobs: %w", len(jobs), err)
	}
	bodies := make([]string, 0, len(jobs))
	var refused *reply.RefusedJobsError
	for _, j := range jobs {
		b, err := json.Marshal(j)
		if err != nil {
			// As SQS would: the others go, this one never can.
			if refused == nil {
				refused = &reply.RefusedJobsError{}
			}
			refused.Jobs, refused.Err = append(refused.Jobs, j), fmt.Errorf("encode comment %s: %w", j.CommentID, err)
			continue
		}
		bodies = append(bodies, string(b))
	}
	q.Send(bodies...)
	if refused != nil {
		return refused
	}
	return nil
}

// Send puts raw message bodies on the queue (tests use it for bodies no job encodes to) and
// returns their message ids.
func (q *Queue) Send(bodies ...string) []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	ids := make([]string, 0, len(bodies))
	for _, b := range bodies {
		q.seq++
		id := fmt.Sprintf("msg-%08d", q.seq)
		q.msgs[id] = &message{id: id, body: b, sentAt: now, visible: now}
		q.order = append(q.order, id)
		ids = append(ids, id)
	}
	q.sent += len(bodies)
	if len(bodies) > 0 {
		close(q.wake)
		q.wake = make(chan struct{})
	}
	return ids
}

// Receive takes up to n visible messages, oldest first, and hides them for the visibility
// timeout. A message already received maxReceive times moves to the dead-letter list instead.
// When nothing is visible it waits up to wait (real time: long polling) for a send.
func (q *Queue) Receive(ctx context.Context, n int, wait time.Duration) ([]events.SQSMessage, error) {
	if n < 1 || n > MaxBatch {
		return nil, fmt.Errorf("receive %d messages: %w", n, ErrBatchSize)
	}
	var deadline <-chan time.Time
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		got, wake, next := q.take(n)
		if len(got) > 0 || wait <= 0 {
			return got, nil
		}
		// Nothing visible: sleep until a send, until the first hidden message comes back (on
		// the real clock) or until the wait is over.
		var back <-chan time.Time
		var timer *time.Timer
		if !next.IsZero() {
			timer = time.NewTimer(max(next.Sub(q.clock.Now()), time.Millisecond))
			back = timer.C
		}
		var err error
		select {
		case <-ctx.Done():
			err = fmt.Errorf("receive messages: %w", ctx.Err())
		case <-deadline:
			err = errWaited
		case <-wake:
		case <-back:
		}
		if timer != nil {
			timer.Stop()
		}
		if err == errWaited {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

func (q *Queue) take(n int) (got []events.SQSMessage, wake chan struct{}, next time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	live := q.order[:0]
	for _, id := range q.order {
		m, ok := q.msgs[id]
		if !ok {
			continue // deleted
		}
		switch {
		case len(got) >= n || m.visible.After(now):
			if m.visible.After(now) && (next.IsZero() || m.visible.Before(next)) {
				next = m.visible
			}
			live = append(live, id)
		case q.maxReceive > 0 && m.receives >= q.maxReceive:
			// SQS moves the message on the receive that would exceed maxReceiveCount.
			q.dead = append(q.dead, q.event(m))
			delete(q.msgs, id)
		default:
			m.receives++
			m.receipt = m.id + "#" + strconv.Itoa(m.receives)
			m.visible = now.Add(q.visibility)
			got = append(got, q.event(m))
			live = append(live, id)
		}
	}
	q.order = live
	return got, q.wake, next
}

func (q *Queue) event(m *message) events.SQSMessage {
	sum := md5.Sum([]byte(m.body))
	return events.SQSMessage{
		MessageId:     m.id,
		ReceiptHandle: m.receipt,
		Body:          m.body,
		Md5OfBody:     hex.EncodeToString(sum[:]),
		Attributes: map[string]string{
			"ApproximateReceiveCount":          strconv.Itoa(m.receives),
			"SentTimestamp":                    strconv.FormatInt(m.sentAt.UnixMilli(), 10),
			"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.sentAt.UnixMilli(), 10),
		},
		EventSource:    "aws:sqs",
		EventSourceARN: q.arn,
		AWSRegion:      "us-east-1",
	}
}

// Delete removes the messages whose receipt handles are given. Like SQS, a stale handle (the
// message was received again since) succeeds but leaves the message on the queue, and a handle of
// a message already gone is ignored.
func (q *Queue) Delete(ctx context.Context, receipts ...string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %d messages: %w", len(receipts), err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, r := range receipts {
		id, _, _ := cutLast(r, '#')
		if m, ok := q.msgs[id]; ok && m.receipt == r {
			delete(q.msgs, id)
			q.deleted++
		}
	}
	return nil
}

func cutLast(s string, sep byte) (string, string, bool) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// QueueCounts are the queue's approximate attributes, as the status view and alarms read them.
type QueueCounts struct {
	Visible     int           // ApproximateNumberOfMessages
	InFlight    int           // ApproximateNumberOfMessagesNotVisible
	Dead        int           // messages in the dead-letter list
	Sent        int           // messages ever sent
	Deleted     int           // messages ever deleted
	OldestAge   time.Duration // ApproximateAgeOfOldestMessage
	NextVisible time.Time     // when the first hidden message comes back; zero when none is hidden
}

// Counts reports the queue's current counts.
func (q *Queue) Counts() QueueCounts {
	q.mu.Lock()
	defer q.mu.Unlock()
	now := q.clock.Now()
	c := QueueCounts{Dead: len(q.dead), Sent: q.sent, Deleted: q.deleted}
	for _, m := range q.msgs {
		if m.visible.After(now) {
			c.InFlight++
			if c.NextVisible.IsZero() || m.visible.Before(c.NextVisible) {
				c.NextVisible = m.visible
			}
		} else {
			c.Visible++
		}
		if age := now.Sub(m.sentAt); age > c.OldestAge {
			c.OldestAge = age
		}
	}
	return c
}

// Len is how many messages are on the queue, visible or not (dead letters excluded).
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs)
}

// DeadLetters is a copy of the messages moved to the dead-letter list, oldest move first.
func (q *Queue) DeadLetters() []events.SQSMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	return append([]events.SQSMessage(nil), q.dead...)
}
