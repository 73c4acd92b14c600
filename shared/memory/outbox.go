package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// PendingEvents is at most limit outbox marks at or before before, oldest first, of records,
// leads, conversations and first clicks alike, like the DynamoDB store's IndexOutbox. It walks
// every item: the local stack and the simulations hold few.
func (s *Store) PendingEvents(_ context.Context, before time.Time, limit int) ([]reply.Mark, error) {
	if limit < 1 {
		return nil, fmt.Errorf("pending events: limit %d, want 1 or more", limit)
	}
	// The DynamoDB store compares milliseconds; so does this one.
	due := func(at time.Time) bool { return !at.IsZero() && at.UnixMilli() <= before.UnixMilli() }
	s.mu.RLock()
	var marks []reply.Mark
	for _, r := range s.replies {
		if due(r.EventsAt) {
			marks = append(marks, reply.Mark{Key: r.Key, At: r.EventsAt})
		}
	}
	for k, l := range s.leads {
		if due(l.EventsAt) {
			marks = append(marks, reply.Mark{Key: k, At: l.EventsAt})
		}
	}
	for k, c := range s.convs {
		if due(c.EventsAt) {
			marks = append(marks, reply.Mark{Key: k, At: c.EventsAt})
		}
	}
	for k, c := range s.clicks.marks {
		if due(c.EventsAt) {
			marks = append(marks, reply.Mark{Key: k, At: c.EventsAt})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(marks, func(a, b reply.Mark) int {
		return cmp.Or(cmp.Compare(a.At.UnixMilli(), b.At.UnixMilli()), strings.Compare(a.Key, b.Key))
	})
	return marks[:min(limit, len(marks))], nil
}

// ClearEvents removes m from its item if the item still carries it; the item is otherwise
// unchanged (a record's version stays).
func (s *Store) ClearEvents(_ context.Context, m reply.Mark) error {
	s.lock()
	defer s.mu.Unlock()
	if r, ok := s.replies[m.Key]; ok && m.Same(reply.Mark{Key: r.Key, At: r.EventsAt}) {
		r.EventsAt, r.StartEvents = time.Time{}, false
		s.replies[m.Key] = r
	}
	if l, ok := s.leads[m.Key]; ok && m.Same(reply.Mark{Key: m.Key, At: l.EventsAt}) {
		l.EventsAt = time.Time{}
		s.leads[m.Key] = l
	}
	if c, ok := s.convs[m.Key]; ok && m.Same(reply.Mark{Key: m.Key, At: c.EventsAt}) {
		c = copyConversation(c)
		c.EventsAt = time.Time{}
		s.convs[m.Key] = c
	}
	if c, ok := s.clicks.marks[m.Key]; ok && m.Same(reply.Mark{Key: m.Key, At: c.EventsAt}) {
		delete(s.clicks.marks, m.Key) // the person's id goes with the mark; the guard stays
	}
	return nil
}
