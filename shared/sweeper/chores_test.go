package sweeper

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/memory"
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
