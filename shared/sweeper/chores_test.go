package sweeper

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

func TestChores(t *testing.T) {
	m := telemetry.NewMetrics("sweeper")
	s := New(Config{TableName: "t", QueueURL: "q"}, memory.NewStore(), memory.NewQueue(memory.QueueOptions{}), nil, nil, nil, m, nil)
	wall := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	s.wall = func() time.Time { return wall }
	runs := map[string]int{}
	s.AddChore(Chore{Name: "hourly", Every: time.Hour, Run: func(context.Context) error { runs["hourly"]++; return nil }})
	s.AddChore(Chore{Name: "always", Run: func(context.Context) error { runs["always"]++; return errors.New("boom") }})

	for i, step := range []time.Duration{0, time.Minute, time.Hour} {
		wall = wall.Add(step)
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(time.Minute))
		if err := s.Handle(ctx, events.EventBridgeEvent{}); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		cancel()
	}
	if runs["hourly"] != 2 || runs["always"] != 3 {
		t.Errorf("runs = %v, want hourly 2 (cold start, an hour later) and always 3", runs)
	}
	if got := m.Get(MetricChoreFailed + "|Chore=always"); got != 3 {
		t.Errorf("ChoreFailed = %v, want 3", got)
	}
}

// TestRunOutOfTime: an invocation whose time runs out mid-write ends as a partial run, not an error.
func TestRunOutOfTime(t *testing.T) {
	e := newEnv(t, backends[0])
	e.account(t, "A1", nil)
	seedMany(t, e.store, 50, func(i int) reply.Record {
		at := t0.Add(-reply.Window - time.Duration(i+1)*time.Second)
		return parked(job("A1", fmt.Sprintf("c%02d", i), reply.KindReel, "m1", at), at, t0)
	})
	ctx, cancel := context.WithCancel(context.Background())
	s := New(Config{}, &cancelling{Store: e.store, cancel: cancel, after: 10}, e.queue, e.graph, e.tokens, e.clock, e.m, nil)
	rep, err := s.Run(ctx)
	if err != nil || !rep.Partial {
		t.Fatalf("run: %+v, %v; want partial and no error", rep, err)
	}
	if rep.Expired == 0 || rep.Expired == 50 {
		t.Fatalf("expired %d of 50 before the time ran out", rep.Expired)
	}
}

// cancelling ends the invocation's context after `after` updates, the way a Lambda deadline
// ends it in the middle of a run, and fails every update from then on as the SDK would.
type cancelling struct {
	reply.Store
	cancel context.CancelFunc
	mu     sync.Mutex
	after  int
}

func (c *cancelling) Update(ctx context.Context, rec reply.Record) (reply.Record, error) {
	if ctx.Err() != nil {
		return reply.Record{}, fmt.Errorf("update %s: %w", rec.Key, ctx.Err())
	}
	got, err := c.Store.Update(ctx, rec)
	c.mu.Lock()
	c.after--
	if c.after <= 0 {
		c.cancel()
	}
	c.mu.Unlock()
	return got, err
}
