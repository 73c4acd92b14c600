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

// EnqueueError reports jobs SQS did not accept, for a reason a retry may overcome. Every other
// job was accepted, or refused for good (Refused).
type EnqueueError struct {
	Failed, Total int
	Refused       []reply.Job // jobs that can never be sent (they do not encode, or SQS refuses their content)
	Err           error       // the last failure seen
}

func (e *EnqueueError) Error() string {
	return fmt.Sprintf("enqueue: %d of %d jobs not accepted by SQS (%d refused for good): %v", e.Failed, e.Total, len(e.Refused), e.Err)
}

func (e *EnqueueError) Unwrap() error { return e.Err }

var _ reply.Queue = (*Queue)(nil)

// Enqueue sends every job as one message whose body is the job's JSON. It returns nil only when
// SQS accepted all of them. Jobs that can never be sent are left out: when they are the only
// failures the error is a *reply.RefusedJobsError, otherwise an *EnqueueError names how many
// were not accepted.
func (q *Queue) Enqueue(ctx context.Context, jobs []reply.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	batches, refused, refusedErr := split(jobs)
	var (
		mu      sync.Mutex
		failed  int
		lastErr error
		wg      sync.WaitGroup
		next    = make(chan batch)
	)
	workers := min(q.concurrency, len(batches))
	for range workers {
		wg.Go(func() {
			for b := range next {
				n, bad, err := q.send(ctx, b)
				if n == 0 && len(bad) == 0 {
					continue
				}
				mu.Lock()
				failed += n
				refused = append(refused, bad...)
				if n > 0 {
					lastErr = err
				} else {
					refusedErr = err
				}
				mu.Unlock()
			}
		})
	}
	for _, b := range batches {
		next <- b
	}
	close(next)
	wg.Wait()
	switch {
	case failed > 0:
		return &EnqueueError{Failed: failed, Total: len(jobs), Refused: refused, Err: lastErr}
	case len(refused) > 0:
		return &reply.RefusedJobsError{Jobs: refused, Err: refusedErr}
	}
	return nil
}

// batch is one SendMessageBatch call's entries and the jobs they carry (entry id = index).
type batch struct {
	entries []types.SendMessageBatchRequestEntry
	jobs    []*reply.Job
}

// split marshals the jobs into batches within SQS's entry and byte limits. Entry ids are the
// job's index in its batch, which is all SQS needs to report failures back. A job that does not
// encode, or encodes larger than a message may be, is refused: no retry could send it.
func split(jobs []reply.Job) ([]batch, []reply.Job, error) {
	var (
		batches []batch
		cur     batch
		size    int
		refused []reply.Job
		lastErr error
	)
	for i := range jobs {
		j := &jobs[i]
		b, err := marshalJob(j)
		if err == nil && len(b) > MaxBatchBytes {
			err = fmt.Errorf("%d bytes, over SQS's %d", len(b), MaxBatchBytes)
		}
		if err != nil {
			refused = append(refused, *j)
			lastErr = fmt.Errorf("job for comment %s: %w", j.CommentID, err)
			continue
		}
		if len(cur.entries) == MaxBatchEntries || size+len(b) > MaxBatchBytes {
			batches = append(batches, cur)
			cur, size = batch{}, 0
		}
		cur.entries = append(cur.entries, types.SendMessageBatchRequestEntry{
			Id:          aws.String(strconv.Itoa(len(cur.entries))),
			MessageBody: aws.String(string(b)),
		})
		cur.jobs = append(cur.jobs, j)
		size += len(b)
	}
	if len(cur.entries) > 0 {
		batches = append(batches, cur)
	}
	return batches, refused, lastErr
}

// send delivers one batch, retrying only the entries not reported successful. It returns how
// many could not be sent, the jobs SQS refused for their content (retrying cannot help), and
// the last error seen.
func (q *Queue) send(ctx context.Context, b batch) (int, []reply.Job, error) {
	var (
		lastErr error
		refused []reply.Job
	)
	entries := b.entries
	for attempt := 0; len(entries) > 0; attempt++ {
		if attempt > 0 && (attempt >= q.attempts || !q.pause(ctx, attempt-1)) {
			break
		}
		out, err := q.api.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: &q.url, Entries: entries})
		if err != nil {
			lastErr = fmt.Errorf("send message batch (attempt %d): %w", attempt+1, err)
			continue
		}
		again, faults, err := remaining(entries, out)
		if err != nil {
			lastErr = fmt.Errorf("send message batch (attempt %d): %w", attempt+1, err)
		}
		for _, id := range faults {
			if n, err := strconv.Atoi(id); err == nil && n >= 0 && n < len(b.jobs) {
				refused = append(refused, *b.jobs[n])
			}
		}
		entries = again
	}
	return len(entries), refused, lastErr
}

// contentRefused are the sender faults that are about the message itself: the same body is
// refused again however often it is sent. Other sender faults (a permission, a queue setting)
// are the deployment's and are retried like any failure, so that a fix loses nothing.
var contentRefused = map[string]bool{"InvalidMessageContents": true, "MessageTooLong": true}

// remaining is the entries to send again: those SQS reported failed, except for their content,
// and those it did not mention at all. faults are the ids of entries refused for their content.
func remaining(sent []types.SendMessageBatchRequestEntry, out *awssqs.SendMessageBatchOutput) ([]types.SendMessageBatchRequestEntry, []string, error) {
	ok := make(map[string]bool, len(out.Successful))
	for _, s := range out.Successful {
		ok[aws.ToString(s.Id)] = true
	}
	fault := map[string]bool{}
	var faults []string
	var err error
	for _, f := range out.Failed {
		err = fmt.Errorf("entry failed: %s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
		if f.SenderFault && contentRefused[aws.ToString(f.Code)] {
			fault[aws.ToString(f.Id)] = true
			faults = append(faults, aws.ToString(f.Id))
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
	return again, faults, err
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
