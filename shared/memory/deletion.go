package memory

import (
	"context"
	"fmt"

	"github.com/replywindow/replywindow/shared/reply"
)

// OpenDeletion stores d unless its code is stored or its subject has a pending request.
func (s *Store) OpenDeletion(_ context.Context, d reply.Deletion) (reply.Deletion, error) {
	if d.Code == "" || d.UserID == "" || d.Version != 1 || d.State != reply.DeletionPending {
		return reply.Deletion{}, fmt.Errorf("open deletion %q: want a code, a user, version 1 and state pending", d.Code)
	}
	s.lock()
	defer s.mu.Unlock()
	if old, ok := s.deletions[d.Code]; ok {
		return old, fmt.Errorf("open deletion %s: %w", d.Code, reply.ErrExists)
	}
	for _, old := range s.deletions {
		if old.State == reply.DeletionPending && old.Subject() == d.Subject() {
			return old, fmt.Errorf("open deletion %s: %w (pending: %s)", d.Code, reply.ErrExists, old.Code)
		}
	}
	s.deletions[d.Code] = d
	return d, nil
}

// DeleteBucket removes the account's bucket for lane.
func (s *Store) DeleteBucket(_ context.Context, account string, lane reply.Lane) error {
	s.lock()
	defer s.mu.Unlock()
	delete(s.buckets, reply.BucketKey(account, lane))
	return nil
}
