package replier

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sampledate"
	"github.com/replywindow/replywindow/shared/sandbox"
)

func sampleEvent(t *testing.T) events.SQSEvent {
	t.Helper()
	return sampleEventAt(t, time.Time{})
}

// sampleEventAt is events/replier-sqs.json dated at now as `make events` dates it (as committed
// when now is zero).
func sampleEventAt(t *testing.T, now time.Time) events.SQSEvent {
	t.Helper()
	b, err := os.ReadFile("../../events/replier-sqs.json")
	if err != nil {
		t.Fatal(err)
	}
	if !now.IsZero() {
		if b, err = sampledate.Redate(b, now); err != nil {
			t.Fatalf("dating events/replier-sqs.json: %v", err)
		}
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatalf("events/replier-sqs.json: %v", err)
	}
	return ev
}

func failedIDs(resp events.SQSEventResponse) []string {
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	slices.Sort(ids)
	return ids
}

// TestHandleSampleEvent runs events/replier-sqs.json (the sam local invoke event) through the
// real handler: one reply, one duplicate person, one comment without a keyword, two jobs that
// can never be processed; nothing goes back to the queue.
func TestHandleSampleEvent(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(nil)
			resp, err := e.r.Handle(context.Background(), sampleEvent(t))
			if err != nil {
				t.Fatal(err)
			}
			if ids := failedIDs(resp); len(ids) != 0 {
				t.Fatalf("batch item failures %v, want none", ids)
			}
			for name, want := range map[string]float64{
				"Sent": 1, "Skipped|Reason=duplicate_person": 1, "Skipped|Reason=no_rule": 1, MetricInvalidJob: 2,
			} {
				if got := e.m.Get(name); got != want {
					t.Errorf("%s = %v, want %v", name, got, want)
				}
			}
			if n := len(e.sb.Deliveries()); n != 1 {
				t.Fatalf("%d deliveries, want 1", n)
			}
		})
	}
}

// TestHandleDatedSampleEvent: months after its dates the committed sample only expires; dated
// now by `make events` (sampledate.Redate), the real handler answers it as it did when it was new.
func TestHandleDatedSampleEvent(t *testing.T) {
	later := start.AddDate(0, 9, 5)
	for _, tt := range []struct {
		name          string
		dated         bool
		sent, expired float64
	}{
		{name: "as committed", dated: false, sent: 0, expired: 2},
		{name: "dated now", dated: true, sent: 1, expired: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, memoryStore)
			e.clock.Set(later)
			e.put(nil)
			at := time.Time{}
			if tt.dated {
				at = later
			}
			resp, err := e.r.Handle(context.Background(), sampleEventAt(t, at))
			if err != nil {
				t.Fatal(err)
			}
			if ids := failedIDs(resp); len(ids) != 0 {
				t.Fatalf("batch item failures %v, want none", ids)
			}
			if got := e.m.Get("Sent"); got != tt.sent {
				t.Errorf("Sent = %v, want %v", got, tt.sent)
			}
			if got := e.m.Get(MetricExpired); got != tt.expired {
				t.Errorf("Expired = %v, want %v", got, tt.expired)
			}
			if n := len(e.sb.Deliveries()); n != int(tt.sent) {
				t.Errorf("%d deliveries, want %v", n, tt.sent)
			}
		})
	}
}

// TestHandleParksTokenFailures: a job whose token cannot be read leaves a PARKED record the
// sweeper owns (never only a message on its way to the dead-letter queue); its neighbours in the
// batch are answered; every message is acknowledged.
func TestHandleParksTokenFailures(t *testing.T) {
	e := newEnv(t, memoryStore)
	e.put(nil)
	other := loadAccount(t)
	other.ID, other.Version = "17841400000000002", 1
	if _, err := e.store.PutAccount(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	for i := range 6 {
		j := sampleJob(t, i)
		if i%3 == 0 {
			j.AccountID = other.ID // no token for this account
		}
		b, _ := json.Marshal(j)
		ev.Records = append(ev.Records, events.SQSMessage{MessageId: j.CommentID, Body: string(b)})
	}
	resp, err := e.r.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if ids := failedIDs(resp); len(ids) != 0 {
		t.Fatalf("failures %v, want none: the troubled jobs are parked", ids)
	}
	if n := len(e.sb.Deliveries()); n != 4 {
		t.Fatalf("%d deliveries, want 4", n)
	}
	for _, i := range []int{0, 3} {
		rec := e.record(reply.Job{CommentID: ev.Records[i].MessageId})
		if rec.State != reply.StateParked || rec.Reason != ParkTokenUnavailable {
			t.Fatalf("record of a job without a token: %s %q, want PARKED %q", rec.State, rec.Reason, ParkTokenUnavailable)
		}
	}
	if got := e.m.Get(MetricTokenUnavailable); got != 2 {
		t.Fatalf("%s = %v, want 2", MetricTokenUnavailable, got)
	}
}

// TestHandleStoreDown: with the table missing (a real DynamoDB error from moto) every job that
// needs the store is retried, and the undecodable ones are still dropped.
func TestHandleStoreDown(t *testing.T) {
	e := newEnv(t, memoryStore)
	client := dynamodb.NewFromConfig(awstest.Config(t))
	down := dynamo.New(client, awstest.Name(t, "missing"))
	r := New(Config{TableName: "missing"}, down, e.graph, e.tokens, e.clock, e.m, nil)
	ev := sampleEvent(t)
	resp, err := r.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{ev.Records[0].MessageId, ev.Records[1].MessageId, ev.Records[2].MessageId}
	if ids := failedIDs(resp); !slices.Equal(ids, want) {
		t.Fatalf("failures %v, want %v", ids, want)
	}
	if n := e.sb.Stats().Calls[sandbox.OpPrivateReply]; n != 0 {
		t.Fatalf("%d Graph calls without a store", n)
	}
}

// TestHandleNoTimeLeft: too close to the Lambda deadline to hold a lease, jobs are parked for
// the sweeper, due at once, with no Graph call.
func TestHandleNoTimeLeft(t *testing.T) {
	e := newEnv(t, memoryStore)
	e.put(nil)
	ctx, cancel := context.WithTimeout(context.Background(), DefaultLeaseMargin+minLease/2)
	defer cancel()
	ev := sampleEvent(t)
	resp, err := e.r.Handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if ids := failedIDs(resp); len(ids) != 0 {
		t.Fatalf("failures %v, want none: the jobs are parked", ids)
	}
	if n := e.sb.Stats().Calls[sandbox.OpPrivateReply]; n != 0 {
		t.Fatalf("%d Graph calls", n)
	}
	for _, id := range []string{"17900000000000001", "17900000000000002", "17900000000000003"} {
		if rec := e.record(reply.Job{CommentID: id}); rec.State != reply.StateParked || rec.Reason != ParkNoTime {
			t.Fatalf("comment %s: %s %q, want PARKED %q", id, rec.State, rec.Reason, ParkNoTime)
		}
	}
	// With time left, the same batch goes through.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel2()
	if resp, _ := e.r.Handle(ctx2, ev); len(resp.BatchItemFailures) != 0 {
		t.Fatalf("failures %v", failedIDs(resp))
	}
	// The batch's two comments by one person race; exactly one of them is answered.
	a, b := e.record(reply.Job{CommentID: "17900000000000001"}), e.record(reply.Job{CommentID: "17900000000000002"})
	if (a.State == reply.StateSent) == (b.State == reply.StateSent) {
		t.Fatalf("records %s and %s, want one SENT", a.State, b.State)
	}
}

// TestLeaseFromDeadline: the lease ends LeaseMargin before the Lambda deadline, so a takeover can
// only happen once the crashed invocation can no longer be sending; without a deadline it is the
// default.
func TestLeaseFromDeadline(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline time.Duration // 0: none
		min, max time.Duration
	}{
		{"lambda deadline", 20 * time.Second, 20*time.Second - DefaultLeaseMargin - time.Second, 20*time.Second - DefaultLeaseMargin},
		{"no deadline", 0, DefaultLease, DefaultLease},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, memoryStore)
			e.put(nil)
			job := sampleJob(t, 1)
			var lease time.Time
			e.sb.SetFault(func(c sandbox.Call) sandbox.Fault {
				if rec, err := e.store.ByComment(context.Background(), c.CommentID); err == nil && c.Op == sandbox.OpPrivateReply {
					lease = rec.LeaseUntil
				}
				return sandbox.Fault{}
			})
			ctx := context.Background()
			if tc.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			if d, err := e.r.Process(ctx, job); err != nil || d.Action != ActionSent {
				t.Fatalf("%s, %v", d.Action, err)
			}
			if got := lease.Sub(start); got < tc.min || got > tc.max {
				t.Fatalf("lease %s after the claim, want %s..%s", got, tc.min, tc.max)
			}
		})
	}
}
