package memory

import (
	"context"
	"sync"
	"time"
)

// Clock is reply.Clock standing still until it is moved: the fake clock of tests, simulations
// and the chaos runs, shared by the services, the stores and the Graph sandbox of one run.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock d forward.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Sleep is a wait on the simulated clock: it moves the clock d forward and returns at once, so a
// service that waits (the replier for a Live token) spends simulated time, not real time.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if d > 0 {
		c.Add(d)
	}
	return ctx.Err()
}

// Set moves the clock to t; it never goes back.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	if t.After(c.t) {
		c.t = t
	}
	c.mu.Unlock()
}
