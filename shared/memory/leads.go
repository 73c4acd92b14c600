package memory

import (
	"context"
	"fmt"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

var _ lead.Store = (*Store)(nil)

// CreateLead stores l unless its account, person and kind has one, or a tombstone covers it.
func (s *Store) CreateLead(_ context.Context, l lead.Lead) (lead.Lead, error) {
	if err := l.Validate(); err != nil {
		return lead.Lead{}, err
	}
	s.lock()
	defer s.mu.Unlock()
	if old, ok := s.leads[l.Key()]; ok {
		return old, fmt.Errorf("create lead %s: %w", l.Key(), reply.ErrExists)
	}
	if k, ok := s.buriedAt(l.AccountID, l.PersonID, l.CapturedAt); ok {
		return lead.Lead{}, fmt.Errorf("create lead %s: %w (%s)", l.Key(), reply.ErrForgotten, k)
	}
	if s.leads == nil {
		s.leads = map[string]lead.Lead{}
	}
	s.leads[l.Key()] = l
	return l, nil
}

// Lead is the stored lead.
func (s *Store) Lead(_ context.Context, account, person string, kind lead.Kind) (lead.Lead, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	l, ok := s.leads[lead.Key(account, person, kind)]
	if !ok {
		return lead.Lead{}, fmt.Errorf("lead %s: %w", lead.Key(account, person, kind), reply.ErrNotFound)
	}
	return l, nil
}

// Leads pages through the account's leads in key order.
func (s *Store) Leads(_ context.Context, account, cursor string, limit int) ([]lead.Lead, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("leads of %s: limit %d, want 1 or more", account, limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys, next, err := keyPage(s.leads, "L#"+account+"#", cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("leads of %s: %w", account, err)
	}
	out := make([]lead.Lead, len(keys))
	for i, k := range keys {
		out[i] = s.leads[k]
	}
	return out, next, nil
}

// DeleteLead removes the lead.
func (s *Store) DeleteLead(_ context.Context, account, person string, kind lead.Kind) error {
	s.lock()
	defer s.mu.Unlock()
	delete(s.leads, lead.Key(account, person, kind))
	return nil
}
