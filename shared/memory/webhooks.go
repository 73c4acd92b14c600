package memory

import (
	"context"
	"maps"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

var _ reply.Webhooks = (*Store)(nil)

// SawWebhooks records the fields' arrival at at, when one of them was last recorded in an
// earlier reply.SeenEvery slot (or never), as the DynamoDB store's conditional update does.
func (s *Store) SawWebhooks(_ context.Context, account string, fields []string, at time.Time) error {
	if account == "" || len(fields) == 0 {
		return nil
	}
	s.lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]map[string]time.Time{}
	}
	m := s.seen[account]
	if m == nil {
		m = map[string]time.Time{}
		s.seen[account] = m
	}
	slot := at.Truncate(reply.SeenEvery)
	stale := false
	for _, f := range fields {
		if t, ok := m[f]; !ok || t.Truncate(time.Second).Before(slot) {
			stale = true
		}
	}
	if stale {
		for _, f := range fields {
			m[f] = at.Truncate(time.Second).UTC() // the table keeps whole seconds
		}
	}
	return nil
}

// LastWebhooks is a copy of the account's last arrivals.
func (s *Store) LastWebhooks(_ context.Context, account string) (map[string]time.Time, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := maps.Clone(s.seen[account])
	if out == nil {
		out = map[string]time.Time{}
	}
	return out, nil
}
