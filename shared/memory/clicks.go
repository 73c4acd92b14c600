package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/reply"
)

// clickBook is the click counters and unique-click guards, under the store's lock.
type clickBook struct {
	counts map[string]reply.ClickCounts // by the all-clicks counter item key (funnel.Click)
	guards map[string]bool              // by ClickGuardKey
	marks  map[string]reply.MarkedClick // first clicks whose event is not out (Click.Events)
}

// RecordClick counts c, and counts it unique when its visitor's guard is free; a tombstone of
// the account or the person at or after the link was sent forbids the guard (and the unique
// count), not the anonymous count.
func (s *Store) RecordClick(_ context.Context, c reply.Click) (bool, error) {
	if c.Origin.Account == "" || c.Link == "" || c.Visitor == "" || c.At.IsZero() {
		return false, fmt.Errorf("record click: account, link, visitor and time are required")
	}
	s.lock()
	defer s.mu.Unlock()
	if s.clicks.counts == nil {
		s.clicks.counts, s.clicks.guards = map[string]reply.ClickCounts{}, map[string]bool{}
	}
	day := reply.ClickDay(c.At)
	key := funnel.Click(c.Origin.Account, c.Origin.Rule, c.Origin.Variant, c.Origin.Media, c.Link, c.At, false).Key
	n := s.clicks.counts[key]
	if n.Day == "" {
		o := c.Origin
		o.Person = ""
		n = reply.ClickCounts{Origin: o, Link: c.Link, Target: c.Target, Day: day}
	}
	n.All++
	defer func() { s.clicks.counts[key] = n }()
	o := c.Origin
	s.addTally(funnel.Click(o.Account, o.Rule, o.Variant, o.Media, c.Link, c.At, false)) // the report's counts
	if k, ok := s.buriedAt(c.Origin.Account, c.Origin.Person, c.Issued); ok {
		return false, fmt.Errorf("record click on %s: %w (%s)", c.Link, reply.ErrForgotten, k)
	}
	guard := reply.ClickGuardKey(c.Origin.Account, c.Visitor)
	if s.clicks.guards[guard] {
		return false, nil
	}
	s.clicks.guards[guard] = true
	if c.Events {
		if s.clicks.marks == nil {
			s.clicks.marks = map[string]reply.MarkedClick{}
		}
		s.clicks.marks[guard] = reply.MarkedClick{Key: guard, Origin: c.Origin, Link: c.Link, At: c.At, EventsAt: c.At}
	}
	n.Unique++
	s.addTally(funnel.Click(o.Account, o.Rule, o.Variant, o.Media, c.Link, c.At, true))
	return true, nil
}

// ClickCounts is the counters of o's link on day.
func (s *Store) ClickCounts(_ context.Context, o reply.Origin, link string, day time.Time) (reply.ClickCounts, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n, ok := s.clicks.counts[funnel.Click(o.Account, o.Rule, o.Variant, o.Media, link, day, false).Key]
	if !ok {
		return reply.ClickCounts{}, fmt.Errorf("click counts of %s on %s: %w", link, reply.ClickDay(day), reply.ErrNotFound)
	}
	return n, nil
}

// MarkedClick is the first click whose guard is under key, while its event is not out.
func (s *Store) MarkedClick(_ context.Context, key string) (reply.MarkedClick, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m, ok := s.clicks.marks[key]
	if !ok {
		return reply.MarkedClick{}, fmt.Errorf("marked click %s: %w", key, reply.ErrNotFound)
	}
	if grave, ok := s.buriedAt(m.Origin.Account, m.Origin.Person, m.At); ok {
		return m, fmt.Errorf("marked click %s: %w (%s)", key, reply.ErrForgotten, grave)
	}
	return m, nil
}
