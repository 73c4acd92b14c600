package replier

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/conversation"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// Handle is the Lambda handler for a batch of SQS messages, each one reply.Job. It reports the
// messages to retry as partial batch failures (ReportBatchItemFailures), so one job's trouble
// never sends its neighbours round again. It never returns an error: that would retry the batch.
func (r *Replier) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	failed := make([]bool, len(ev.Records))
	sem := make(chan struct{}, r.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, msg := range ev.Records {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			failed[i] = !r.handleMessage(ctx, msg)
		}()
	}
	wg.Wait()
	var resp events.SQSEventResponse
	for i, f := range failed {
		if f {
			resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: ev.Records[i].MessageId})
		}
	}
	if err := r.m.Flush(telemetry.Stdout); err != nil {
		r.log.Error("flush metrics", "err", err)
	}
	return resp, nil
}

// handleMessage processes one message and reports whether it may be deleted from the queue.
func (r *Replier) handleMessage(ctx context.Context, msg events.SQSMessage) (ack bool) {
	defer func() {
		// A bug in one job must not lose the batch's other outcomes: retry this one only.
		if p := recover(); p != nil {
			r.log.Error("job panicked", "message", msg.MessageId, "panic", fmt.Sprint(p))
			ack = false
		}
	}()
	var job reply.Job
	if err := json.Unmarshal([]byte(msg.Body), &job); err != nil {
		r.invalid(msg, fmt.Errorf("%w: %v", reply.ErrInvalidJob, err))
		return true
	}
	_, err := r.Process(ctx, job)
	switch {
	case err == nil:
		return true
	case errors.Is(err, reply.ErrInvalidJob):
		r.invalid(msg, err)
		return true // retrying cannot help
	case errors.Is(err, conversation.ErrEchoUnsettled):
		// Expected: the queue hands the echo back once our send's record holds Meta's id.
		r.log.Info("echo looked at again later", "message", msg.MessageId, "account", job.AccountID)
		return false
	default:
		r.log.Error("job failed, will be retried", "message", msg.MessageId, "account", job.AccountID,
			"comment", job.CommentID, "receive_count", msg.Attributes["ApproximateReceiveCount"], "err", err)
		return false
	}
}

func (r *Replier) invalid(msg events.SQSMessage, err error) {
	r.m.Count(MetricInvalidJob, 1)
	r.log.Error("invalid job dropped", "message", msg.MessageId, "err", err)
}
