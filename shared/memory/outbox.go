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

// PendingEvents is at most limit records whose outbox mark (EventsAt) is at or before before,
// oldest first, like the DynamoDB store's IndexOutbox. It walks every record: the local stack
// and the simulations hold few.
func (s *Store) PendingEvents(_ context.Context, before time.Time, limit int) ([]reply.Record, error) {
	if limit < 1 {
		return nil, fmt.Errorf("pending events: limit %d, want 1 or more", limit)
	}
	s.mu.RLock()
	var recs []reply.Record
	for _, r := range s.replies {
		// The DynamoDB store compares milliseconds; so does this one.
		if !r.EventsAt.IsZero() && r.EventsAt.UnixMilli() <= before.UnixMilli() {
			recs = append(recs, r)
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(recs, func(a, b reply.Record) int {
		return cmp.Or(cmp.Compare(a.EventsAt.UnixMilli(), b.EventsAt.UnixMilli()), strings.Compare(a.Key, b.Key))
	})
	return recs[:min(limit, len(recs))], nil
}

// ClearEvents removes the outbox mark of the record under key at version; the version stays.
func (s *Store) ClearEvents(_ context.Context, key string, version int64) error {
	s.lock()
	defer s.mu.Unlock()
	if r, ok := s.replies[key]; ok && r.Version == version {
		r.EventsAt = time.Time{}
		s.replies[key] = r
	}
	return nil
}
