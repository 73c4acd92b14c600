package sweeper

import (
	"context"
	"time"
)

// MetricChoreFailed counts chores that returned an error (dimension Chore).
const MetricChoreFailed = "ChoreFailed"

// Chore is periodic work the sweeper function does after a sweep, with what is left of the
// invocation: refreshing access tokens, working off data-deletion requests. A chore runs when at
// least Every has passed since it last ran in this process (a cold start runs it at once).
type Chore struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// AddChore schedules c after every sweep that finds it due.
func (s *Sweeper) AddChore(c Chore) {
	s.mu.Lock()
	s.chores = append(s.chores, &chore{Chore: c})
	s.mu.Unlock()
}

type chore struct {
	Chore
	last time.Time
}

// runChores runs the due chores one after another while the time budget lasts. A failing chore
// is logged and counted; it does not fail the sweep, and it is tried again on its next turn.
func (s *Sweeper) runChores(ctx context.Context) {
	stop := s.budget(ctx)
	for _, c := range s.dueChores() {
		if !s.wall().Before(stop) || ctx.Err() != nil {
			return
		}
		if err := c.Run(ctx); err != nil {
			s.m.Count(MetricChoreFailed, 1, "Chore", c.Name)
			s.log.Error("chore failed", "chore", c.Name, "err", err)
		}
	}
}

// dueChores marks the due chores as run now and returns them.
func (s *Sweeper) dueChores() []Chore {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.wall()
	var due []Chore
	for _, c := range s.chores {
		if c.last.IsZero() || now.Sub(c.last) >= c.Every {
			c.last = now
			due = append(due, c.Chore)
		}
	}
	return due
}
