package eventbridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/eventbridge"
	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// stack is the DynamoDB table and the bus on moto, the outbox between them.
type stack struct {
	*eventstest.Listener
	table   *dynamo.Store
	bus     *switchBus
	outbox  *events.OutboxStore
	drain   *events.Drain
	clock   *memory.Clock
	metrics *telemetry.Metrics
}

// switchBus is the real bus, or down: every put fails as a network error does.
type switchBus struct {
	events.Bus
	down bool
}

func (b *switchBus) Put(ctx context.Context, evs []events.Event) error {
	if b.down {
		return errors.New("put events: dial tcp: i/o timeout")
	}
	return b.Bus.Put(ctx, evs)
}

func newStack(t *testing.T) *stack {
	t.Helper()
	l := eventstest.Listen(t)
	api := dynamodb.NewFromConfig(awstest.Config(t))
	name := awstest.Name(t, "rw")
	if err := dynamo.CreateTable(awstest.Context(t), api, name); err != nil {
		t.Fatal(err)
	}
	s := &stack{Listener: l, clock: memory.NewClock(time.Now().UTC()), metrics: telemetry.NewMetrics("test")}
	s.table = dynamo.New(api, name, dynamo.WithClock(s.clock))
	s.bus = &switchBus{Bus: eventbridge.New(l.Put, l.Bus)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s.outbox = &events.OutboxStore{Store: s.table, Outbox: s.table, Bus: s.bus, Clock: s.clock, Metrics: s.metrics, Log: log,
		Timeout: 30 * time.Second} // moto on a busy machine: a put that times out is a duplicate, tested apart
	s.drain = &events.Drain{Outbox: s.table, Bus: s.bus, Clock: s.clock, Metrics: s.metrics, Log: log, Grace: time.Minute, Limit: 50}
	return s
}

func (s *stack) pending(t *testing.T) int {
	t.Helper()
	recs, err := s.table.PendingEvents(awstest.Context(t), s.clock.Now().Add(time.Hour), 50)
	if err != nil {
		t.Fatal(err)
	}
	return len(recs)
}

// one is the one event received now, checked against its schema: its detail-type and detail.
func (s *stack) one(t *testing.T) (string, events.Detail) {
	t.Helper()
	raws := s.Received(t)
	if len(raws) != 1 {
		t.Fatalf("received %d events, want 1", len(raws))
	}
	if err := eventstest.Check(raws[0]); err != nil {
		t.Error(err)
	}
	e := decode(t, raws[0])
	var d events.Detail
	if err := json.Unmarshal(e.Detail, &d); err != nil {
		t.Fatal(err)
	}
	return e.DetailType, d
}

func (s *stack) kinds(t *testing.T) []string {
	t.Helper()
	var got []string
	for _, raw := range s.Received(t) {
		if err := eventstest.Check(raw); err != nil {
			t.Error(err)
		}
		got = append(got, decode(t, raw).DetailType)
	}
	return got
}

func TestOutboxOnMoto(t *testing.T) {
	s := newStack(t)
	ctx := awstest.Context(t)
	job := eventstest.Comment()
	// A private reply SENT, a follow-up FAILED, a comment SKIPPED: two events, published with
	// their writes.
	if _, err := eventstest.Reply(ctx, s.outbox, job, reply.Sent("mid.1", eventstest.Person), s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := eventstest.Reply(ctx, s.outbox, eventstest.FollowUp(), eventstest.Failed, s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	skipped := job
	skipped.CommentID = "17900000000000043"
	if _, err := eventstest.Reply(ctx, s.outbox, skipped, reply.Skipped(reply.SkipNoRule), s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if got := s.kinds(t); len(got) != 2 || got[0] != "PrivateReplySent" || got[1] != "ReplyFailed" {
		t.Fatalf("received %v; want PrivateReplySent, ReplyFailed", got)
	}
	// The same comment again (a duplicate delivery): its create fails, nothing changed, no event.
	if _, err := eventstest.Reply(ctx, s.outbox, job, reply.Sent("mid.2", eventstest.Person), s.clock.Now()); !errors.Is(err, reply.ErrExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if got := s.kinds(t); len(got) != 0 || s.pending(t) != 0 {
		t.Fatalf("after a duplicate: received %v, %d pending", got, s.pending(t))
	}

	// The bus fails after the state changed: the reply does not wait, the event waits in the
	// table, and the sweeper's drain publishes it once the bus is back.
	s.bus.down = true
	late := job
	late.CommentID = "17900000000000044"
	rec, err := eventstest.Reply(ctx, s.outbox, late, reply.Sent("mid.3", eventstest.Person), s.clock.Now())
	if err != nil || rec.State != reply.StateSent {
		t.Fatalf("reply with the bus down: %s, %v", rec.State, err)
	}
	if s.pending(t) != 1 {
		t.Fatalf("%d pending, want the SENT reply's event", s.pending(t))
	}
	s.clock.Add(2 * time.Minute)
	if rep, err := s.drain.Run(ctx); err == nil || rep.Failed != 1 {
		t.Fatalf("drain with the bus down: %+v, %v", rep, err)
	}
	s.bus.down = false
	if rep, err := s.drain.Run(ctx); err != nil || rep.Published != 1 {
		t.Fatalf("drain: %+v, %v", rep, err)
	}
	raws := s.Received(t)
	if len(raws) != 1 {
		t.Fatalf("received %d after the drain, want 1", len(raws))
	}
	e := decode(t, raws[0])
	want := events.ID(events.PrivateReplySent, late.Key())
	if e.DetailType != "PrivateReplySent" || !strings.Contains(string(e.Detail), want) {
		t.Errorf("drained %s %s, want id %s", e.DetailType, e.Detail, want)
	}
	if rep, err := s.drain.Run(ctx); err != nil || rep.Pending != 0 || s.pending(t) != 0 {
		t.Errorf("second drain: %+v, %v", rep, err)
	}
}

// Events off: the functions use the table without the outbox: nothing marked, nothing put.
func TestEventsOffOnMoto(t *testing.T) {
	s := newStack(t)
	ctx := awstest.Context(t)
	if _, err := eventstest.Reply(ctx, s.table, eventstest.Comment(), reply.Sent("mid.1", eventstest.Person), s.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if rep, err := s.drain.Run(ctx); err != nil || rep.Pending != 0 {
		t.Fatalf("drain: %+v, %v", rep, err)
	}
	if got := s.Received(t); len(got) != 0 || s.pending(t) != 0 {
		t.Errorf("events off: received %d, %d pending", len(got), s.pending(t))
	}
}

// countingTable counts the table's write requests.
type countingTable struct {
	*dynamodb.Client
	writes map[string]int
}

func (c *countingTable) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.writes["PutItem"]++
	return c.Client.PutItem(ctx, in, o...)
}

func (c *countingTable) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.writes["UpdateItem"]++
	return c.Client.UpdateItem(ctx, in, o...)
}

func (c *countingTable) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.writes["TransactWriteItems"]++
	return c.Client.TransactWriteItems(ctx, in, o...)
}

// TestRequestsPerSentReply measures what events add to a SENT private reply's writes (the
// record's claim and its outcome here; the replier adds the rate bucket's write to both): one
// UpdateItem (the clear) and one PutEvents call, nothing when events are off. It prints the
// figures.
func TestRequestsPerSentReply(t *testing.T) {
	l := eventstest.Listen(t)
	api := dynamodb.NewFromConfig(awstest.Config(t))
	name := awstest.Name(t, "rw")
	if err := dynamo.CreateTable(awstest.Context(t), api, name); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clock := memory.NewClock(time.Now().UTC())
	measure := func(on bool, comment string) (map[string]int, int) {
		table := &countingTable{Client: api, writes: map[string]int{}}
		store := dynamo.New(table, name, dynamo.WithClock(clock))
		bus := &eventstest.Counting{API: l.Put}
		var s reply.Replies = store
		if on {
			s = &events.OutboxStore{Store: store, Outbox: store, Bus: eventbridge.New(bus, l.Bus), Clock: clock, Metrics: telemetry.NewMetrics("test"), Log: log,
				Timeout: 30 * time.Second}
		}
		job := eventstest.Comment()
		job.CommentID = comment
		if _, err := eventstest.Reply(awstest.Context(t), s, job, reply.Sent("mid."+comment, eventstest.Person), clock.Now()); err != nil {
			t.Fatal(err)
		}
		return table.writes, bus.Calls
	}
	offW, offC := measure(false, "17900000000000101")
	onW, onC := measure(true, "17900000000000102")
	total := func(w map[string]int) int { return w["PutItem"] + w["UpdateItem"] + w["TransactWriteItems"] }
	t.Logf("per SENT reply, store writes: events off %v = %d requests, %d PutEvents; events on %v = %d requests, %d PutEvents",
		offW, total(offW), offC, onW, total(onW), onC)
	if total(onW) != total(offW)+1 || onW["UpdateItem"] != offW["UpdateItem"]+1 || onC != 1 || offC != 0 {
		t.Errorf("events add %d write requests and %d PutEvents calls to a SENT reply; want 1 (the clear) and 1", total(onW)-total(offW), onC)
	}
	if n := len(l.Received(t)); n != 1 {
		t.Errorf("%d events received, want 1", n)
	}
}
