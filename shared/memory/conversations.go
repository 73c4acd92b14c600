package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// Touch applies t to the person's conversation and returns it as it was.
func (s *Store) Touch(_ context.Context, t reply.Touch) (reply.Conversation, error) {
	if t.AccountID == "" || t.PersonID == "" {
		return reply.Conversation{}, fmt.Errorf("touch conversation: account and person required")
	}
	s.lock()
	defer s.mu.Unlock()
	k := reply.ConversationKey(t.AccountID, t.PersonID)
	before, exists := s.convs[k]
	if !exists {
		if grave, ok := s.buriedAt(t.AccountID, t.PersonID, t.TouchTime()); ok {
			return reply.Conversation{}, fmt.Errorf("touch %s: %w (%s)", k, reply.ErrForgotten, grave)
		}
	}
	// As in DynamoDB: a touch that would not move its time later writes nothing.
	if before.Moves(t) {
		s.convs[k] = copyConversation(before).Touched(t)
	}
	return copyConversation(before), nil
}

// Conversation is the stored conversation.
func (s *Store) Conversation(_ context.Context, account, person string) (reply.Conversation, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.convs[reply.ConversationKey(account, person)]
	if !ok {
		return reply.Conversation{}, fmt.Errorf("conversation %s: %w", reply.ConversationKey(account, person), reply.ErrNotFound)
	}
	return copyConversation(c), nil
}

// ClaimStep creates recs and moves the step, all or nothing.
func (s *Store) ClaimStep(_ context.Context, recs []reply.Record, claim reply.StepClaim) (reply.Record, error) {
	if len(recs) == 0 {
		return reply.Record{}, fmt.Errorf("claim step %q: no records", claim.Step.Name)
	}
	for _, rec := range recs {
		if err := checkRecord(rec); err != nil {
			return reply.Record{}, fmt.Errorf("claim step: %w", err)
		}
		if rec.Version != 1 {
			return reply.Record{}, fmt.Errorf("claim step %s: version %d, want 1", rec.Key, rec.Version)
		}
	}
	s.lock()
	defer s.mu.Unlock()
	for _, rec := range recs {
		if old, ok := s.replies[rec.Key]; ok {
			return old, fmt.Errorf("claim step %s: %w (version %d, %s)", rec.Key, reply.ErrExists, old.Version, old.State)
		}
		if k, ok := s.buried(rec.Job); ok {
			return reply.Record{}, fmt.Errorf("claim step %s: %w (%s)", rec.Key, reply.ErrForgotten, k)
		}
	}
	k := reply.ConversationKey(claim.AccountID, claim.PersonID)
	c := s.convs[k]
	if !c.Due(claim) {
		return reply.Record{}, fmt.Errorf("claim step %s of %s: %w (sent since)", claim.Key(), k, reply.ErrConflict)
	}
	for _, rec := range recs {
		s.put(reply.Record{}, false, rec)
	}
	s.convs[k] = copyConversation(c).Claimed(claim)
	return recs[0], nil
}

// Disclosed moves the conversation's DisclosedAt later, if the conversation exists.
func (s *Store) Disclosed(_ context.Context, account, person string, at time.Time) error {
	s.lock()
	defer s.mu.Unlock()
	k := reply.ConversationKey(account, person)
	c, ok := s.convs[k]
	if !ok {
		return nil // deleted on request: it stays deleted
	}
	if at.After(c.DisclosedAt) {
		c = copyConversation(c)
		c.DisclosedAt = at
		s.convs[k] = c
	}
	return nil
}

// DeleteConversation removes the conversation.
func (s *Store) DeleteConversation(_ context.Context, account, person string) error {
	s.lock()
	defer s.mu.Unlock()
	delete(s.convs, reply.ConversationKey(account, person))
	return nil
}

// Conversations pages through every conversation, ordered by key; the cursor is the last key
// handed out, so conversations written or removed between pages never shift the next one.
func (s *Store) Conversations(_ context.Context, cursor string, limit int) ([]reply.Conversation, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("conversations: limit %d, want 1 or more", limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys, next, err := keyPage(s.convs, "", cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("conversations: %w", err)
	}
	out := make([]reply.Conversation, len(keys))
	for i, k := range keys {
		out[i] = copyConversation(s.convs[k])
	}
	return out, next, nil
}

func copyConversation(c reply.Conversation) reply.Conversation {
	if c.Steps != nil {
		steps := make(map[string]time.Time, len(c.Steps))
		for k, v := range c.Steps {
			steps[k] = v
		}
		c.Steps = steps
	}
	return c
}
