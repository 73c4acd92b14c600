// Package sqs is replywindow's job queue on Amazon SQS: it implements reply.Queue with
// SendMessageBatch, sending batches concurrently and retrying only the entries SQS refused.
package sqs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/replywindow/replywindow/shared/reply"
)

// API is the part of *awssqs.Client the queue uses; tests wrap the real client to inject failures.
type API interface {
	SendMessageBatch(ctx context.Context, in *awssqs.SendMessageBatchInput, optFns ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error)
}

// SQS limits on one SendMessageBatch call.
const (
	MaxBatchEntries = 10
	MaxBatchBytes   = 256 * 1024
)

// Defaults of the options.
const (
	DefaultConcurrency = 8
	DefaultAttempts    = 4
	DefaultBackoff     = 25 * time.Millisecond
)

// Queue sends jobs to one SQS queue. It is safe for concurrent use.
type Queue struct {
	api         API
	url         string
	concurrency int
	attempts    int
	backoff     time.Duration
}

// Option tunes a Queue.
type Option func(*Queue)

// WithConcurrency bounds how many SendMessageBatch calls run at once (default 8).
func WithConcurrency(n int) Option {
	return func(q *Queue) {
		if n > 0 {
			q.concurrency = n
		}
	}
}

// WithAttempts bounds how often one entry is sent before it counts as not enqueued (default 4).
func WithAttempts(n int) Option {
	return func(q *Queue) {
		if n > 0 {
			q.attempts = n
		}
	}
}

// WithBackoff is the first pause before a retry; it doubles with each attempt (default 25ms).
// The default keeps four attempts well inside Meta's 5-second answer budget.
func WithBackoff(d time.Duration) Option {
	return func(q *Queue) {
		if d >= 0 {
			q.backoff = d
		}
	}
}

// NewQueue sends to the queue at url through api.
func NewQueue(api API, url string, opts ...Option) *Queue {
	q := &Queue{api: api, url: url, concurrency: DefaultConcurrency, attempts: DefaultAttempts, backoff: DefaultBackoff}
	for _, o := range opts {
		o(q)
	}
	return q
}

// EnqueueError reports jobs SQS did not accept. Every other job was accepted.
type EnqueueError struct {
	Failed, Total int
	Err           error // the last failure seen
}

func (e *EnqueueError) Error() string {
	return fmt.Sprintf("enqueue: %d of %d jobs not accepted by SQS: %v", e.Failed, e.Total, e.Err)
}

func (e *EnqueueError) Unwrap() error { return e.Err }

var _ reply.Queue = (*Queue)(nil)

// Enqueue sends every job as one message whose body is the job's JSON. It returns nil only when
// SQS accepted all of them; otherwise an *EnqueueError naming how many were not.
func (q *Queue) Enqueue(ctx context.Context, jobs []reply.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	batches, err := split(jobs)
	if err != nil {
		return &EnqueueError{Failed: len(jobs), Total: len(jobs), Err: err}
	}
	var (
		mu      sync.Mutex
		failed  int
		lastErr error
		wg      sync.WaitGroup
		next    = make(chan []types.SendMessageBatchRequestEntry)
	)
	workers := min(q.concurrency, len(batches))
	for range workers {
		wg.Go(func() {
			for b := range next {
				if n, err := q.send(ctx, b); n > 0 {
					mu.Lock()
					failed += n
					lastErr = err
					mu.Unlock()
				}
			}
		})
	}
	for _, b := range batches {
		next <- b
	}
	close(next)
	wg.Wait()
	if failed > 0 {
		return &EnqueueError{Failed: failed, Total: len(jobs), Err: lastErr}
	}
	return nil
}

// split marshals the jobs into batches within SQS's entry and byte limits. Entry ids are the
// job's index in its batch, which is all SQS needs to report failures back.
func split(jobs []reply.Job) ([][]types.SendMessageBatchRequestEntry, error) {
	var (
		batches [][]types.SendMessageBatchRequestEntry
		cur     []types.SendMessageBatchRequestEntry
		size    int
	)
	for i := range jobs {
		j := &jobs[i]
		b, err := marshalJob(j)
		if err != nil {
			return nil, fmt.Errorf("marshal job for comment %s: %w", j.CommentID, err)
		}
		if len(b) > MaxBatchBytes {
			return nil, fmt.Errorf("job for comment %s is %d bytes, over SQS's %d", j.CommentID, len(b), MaxBatchBytes)
		}
		if len(cur) == MaxBatchEntries || size+len(b) > MaxBatchBytes {
			batches = append(batches, cur)
			cur, size = nil, 0
		}
		if cur == nil {
			cur = make([]types.SendMessageBatchRequestEntry, 0, MaxBatchEntries)
		}
		cur = append(cur, types.SendMessageBatchRequestEntry{
			Id:          aws.String(strconv.Itoa(len(cur))),
			MessageBody: aws.String(string(b)),
		})
		size += len(b)
	}
	return append(batches, cur), nil
}

// send delivers one batch, retrying only the entries not reported successful, and returns how
// many could not be sent with the last error seen.
func (q *Queue) send(ctx context.Context, entries []types.SendMessageBatchRequestEntry) (int, error) {
	var (
		lastErr error
		faults  int // sender faults (a malformed entry): retrying cannot help, so they are counted
	)
	for attempt := 0; len(entries) > 0; attempt++ {
		if attempt > 0 && (attempt >= q.attempts || !q.pause(ctx, attempt-1)) {
			break
		}
		out, err := q.api.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: &q.url, Entries: entries})
		if err != nil {
			lastErr = fmt.Errorf("send message batch (attempt %d): %w", attempt+1, err)
			continue
		}
		again, n, err := remaining(entries, out)
		if err != nil {
			lastErr = fmt.Errorf("send message batch (attempt %d): %w", attempt+1, err)
		}
		faults += n
		entries = again
	}
	return faults + len(entries), lastErr
}

// remaining is the entries to send again: those SQS reported failed without a sender fault, and
// those it did not mention at all. permanent counts sender faults.
func remaining(sent []types.SendMessageBatchRequestEntry, out *awssqs.SendMessageBatchOutput) ([]types.SendMessageBatchRequestEntry, int, error) {
	ok := make(map[string]bool, len(out.Successful))
	for _, s := range out.Successful {
		ok[aws.ToString(s.Id)] = true
	}
	fault := map[string]bool{}
	var err error
	for _, f := range out.Failed {
		err = fmt.Errorf("entry failed: %s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
		if f.SenderFault {
			fault[aws.ToString(f.Id)] = true
		}
	}
	var again []types.SendMessageBatchRequestEntry
	for _, e := range sent {
		id := aws.ToString(e.Id)
		if !ok[id] && !fault[id] {
			again = append(again, e)
		}
	}
	if err == nil && len(again) > 0 {
		err = errors.New("entries missing from the answer")
	}
	return again, len(fault), err
}

// pause waits before retry number attempt+1 with jittered exponential backoff; false when ctx
// ended first.
func (q *Queue) pause(ctx context.Context, attempt int) bool {
	d := q.backoff << attempt
	if d > 0 {
		d = d/2 + rand.N(d/2+1)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
