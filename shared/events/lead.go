package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

// OfLead is the LeadCaptured event of a stored lead: the lead item is created once (one per
// account, person and kind), so its event is derived from the item alone, the same whether the
// writer or the sweeper's drain publishes it.
func OfLead(l lead.Lead) Event {
	return Captured(Lead{Account: l.AccountID, Person: l.PersonID, Rule: l.Rule, Step: l.Step, Variant: l.Variant,
		Kind: l.Kind, Value: l.Value, Consent: ConsentDigest(l.Consent), At: l.CapturedAt})
}

// ConsentDigest names a consent line in an event: the first 16 hex digits of its SHA-256 ("" for
// none). The line is the account's own text and may be long; the digest tells a consumer which
// version the person saw, and `leads export` has the line itself.
func ConsentDigest(line string) string {
	if line == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(line))
	return hex.EncodeToString(sum[:8])
}

var _ lead.Store = (*OutboxStore)(nil)

// leads is the lead store the outbox writes through.
func (s *OutboxStore) leads() (lead.Store, error) {
	ls, ok := reply.StoreAs[lead.Store](s.Store)
	if !ok {
		return nil, fmt.Errorf("leads: the store behind the outbox keeps none")
	}
	return ls, nil
}

// CreateLead stores l marked for its LeadCaptured event, in the lead's own conditional write,
// and publishes the event once it is stored. A lead that was there already (a second answer,
// a duplicate delivery) or that a tombstone refused is no change: nothing marked, no event.
func (s *OutboxStore) CreateLead(ctx context.Context, l lead.Lead) (lead.Lead, error) {
	ls, err := s.leads()
	if err != nil {
		return lead.Lead{}, err
	}
	l.EventsAt = s.Clock.Now()
	stored, err := ls.CreateLead(ctx, l)
	if err != nil {
		return stored, err
	}
	if s.publish(ctx, []Event{OfLead(stored)}, reply.Mark{Key: stored.Key(), At: l.EventsAt}) {
		stored.EventsAt = time.Time{}
	}
	return stored, nil
}

// Lead is the stored lead.
func (s *OutboxStore) Lead(ctx context.Context, account, person string, kind lead.Kind) (lead.Lead, error) {
	ls, err := s.leads()
	if err != nil {
		return lead.Lead{}, err
	}
	return ls.Lead(ctx, account, person, kind)
}

// Leads pages through the account's leads.
func (s *OutboxStore) Leads(ctx context.Context, account, cursor string, limit int) ([]lead.Lead, string, error) {
	ls, err := s.leads()
	if err != nil {
		return nil, "", err
	}
	return ls.Leads(ctx, account, cursor, limit)
}

// DeleteLead removes the lead (and its mark with it: a forgotten person's event is not sent).
func (s *OutboxStore) DeleteLead(ctx context.Context, account, person string, kind lead.Kind) error {
	ls, err := s.leads()
	if err != nil {
		return err
	}
	return ls.DeleteLead(ctx, account, person, kind)
}
