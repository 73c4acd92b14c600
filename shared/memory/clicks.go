package memory

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/reply"
)

var _ reply.ClickRecords = (*Store)(nil)

// clickBook is the click counters and the people's click records, under the store's lock.
type clickBook struct {
	counts map[string]reply.ClickCounts // by the all-clicks counter item key (funnel.Click)
	people map[string]reply.Clicked     // by ClickGuardKey: a person's first click on a link
	marks  map[string]reply.MarkedClick // first clicks whose event is not out (Click.Events)
}

// RecordClick counts c, and counts it unique when the person has no click record of the link
// yet, which it then writes; a tombstone of the account or the person at or after the
// link was sent forbids the record (and the unique count), not the anonymous count.
func (s *Store) RecordClick(_ context.Context, c reply.Click) (bool, error) {
	if c.Origin.Account == "" || c.Link == "" || c.At.IsZero() {
		return false, fmt.Errorf("record click: account, link and time are required")
	}
	s.lock()
	defer s.mu.Unlock()
	if s.clicks.counts == nil {
		s.clicks.counts, s.clicks.people = map[string]reply.ClickCounts{}, map[string]reply.Clicked{}
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
	if o.Person == "" {
		return false, nil // a link sent to nobody known: no record, no unique count
	}
	if k, ok := s.buriedAt(c.Origin.Account, c.Origin.Person, c.Issued); ok {
		return false, fmt.Errorf("record click on %s: %w (%s)", c.Link, reply.ErrForgotten, k)
	}
	guard := reply.ClickGuardKey(o.Account, o.Person, c.Link)
	if _, ok := s.clicks.people[guard]; ok {
		return false, nil
	}
	s.clicks.people[guard] = reply.Clicked{Account: o.Account, Person: o.Person, Link: c.Link, Target: c.Target,
		Rule: o.Rule, Variant: o.Variant, Media: o.Media, At: c.At}
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

// ClickedBy pages through the account's click records in key order, limit a page.
func (s *Store) ClickedBy(_ context.Context, account, cursor string, limit int) ([]reply.Clicked, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("click records of %s: limit %d, want 1 or more", account, limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys, next, err := keyPage(s.clicks.people, reply.ClickPersonPrefix(account, ""), cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("click records of %s: %w", account, err)
	}
	out := make([]reply.Clicked, len(keys))
	for i, k := range keys {
		out[i] = s.clicks.people[k]
	}
	return out, next, nil
}

// ForgetClicks removes the person's click records of the account.
func (s *Store) ForgetClicks(_ context.Context, account, person string) (int, error) {
	if person == "" {
		return 0, fmt.Errorf("forget clicks on %s: no person", account)
	}
	s.lock()
	defer s.mu.Unlock()
	n := 0
	for k := range s.clicks.people {
		if strings.HasPrefix(k, reply.ClickPersonPrefix(account, person)) {
			delete(s.clicks.people, k)
			delete(s.clicks.marks, k)
			n++
		}
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
