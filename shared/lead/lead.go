// Package lead is what a person types in answer to a step that asks (reply.Ask): the checks
// that decide whether an answer is an email address or a phone number, and the lead kept for
// it, one per account, person and kind. A lead is personal data: it is never logged (ids only),
// it expires after the account's retention, and data deletion removes it behind the same
// tombstones as every other item naming a person.
package lead

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// Kind is what a lead holds. The values are reply's Ask kinds.
type Kind = string

// The kinds of lead.
const (
	KindEmail Kind = reply.AskEmail
	KindPhone Kind = reply.AskPhone
)

// Kinds are every kind, in the order exports list them.
var Kinds = []Kind{KindEmail, KindPhone}

// DefaultRetention is how long a lead is kept when the account sets no retention.
const DefaultRetention = 365 * 24 * time.Hour

// Lead is one checked answer of one person to one account's question of one kind.
type Lead struct {
	AccountID string `json:"account"`
	PersonID  string `json:"person"` // the person's IGSID
	Kind      Kind   `json:"kind"`
	Value     string `json:"value"` // Check's form: the address, or E.164
	Rule      string `json:"rule"`  // the rule (or DM rule) whose flow asked
	Step      string `json:"step"`  // the asking step's key
	Variant   string `json:"variant,omitempty"`
	// Consent is the consent line the question carried when the person answered it ("" when
	// the step asked without one).
	Consent    string    `json:"consent,omitempty"`
	CapturedAt time.Time `json:"captured_at"`
	ExpiresAt  time.Time `json:"expires"` // the store's TTL
	// EventsAt is the outbox mark of the lead's LeadCaptured event (shared/events): written with
	// the lead when events are on, removed once the bus took it. Not part of the lead's export.
	EventsAt time.Time `json:"-"`
}

// Key is the lead's item key: one per account, person and kind.
func Key(account, person string, kind Kind) string { return "L#" + account + "#" + person + "#" + kind }

// ParseKey is the account, person and kind of a lead's item key; ok is false for any other key.
func ParseKey(key string) (account, person string, kind Kind, ok bool) {
	parts := strings.Split(key, "#")
	if len(parts) != 4 || parts[0] != "L" || (parts[3] != KindEmail && parts[3] != KindPhone) ||
		!reply.ValidID(parts[1]) || !reply.ValidID(parts[2]) {
		return "", "", "", false
	}
	return parts[1], parts[2], parts[3], true
}

// Key is l's item key.
func (l Lead) Key() string { return Key(l.AccountID, l.PersonID, l.Kind) }

// Validate checks what a store requires of a lead.
func (l Lead) Validate() error {
	switch {
	case !reply.ValidID(l.AccountID):
		return fmt.Errorf("lead: account: %w", reply.CheckID("account", l.AccountID))
	case !reply.ValidID(l.PersonID):
		return fmt.Errorf("lead: person: %w", reply.CheckID("person", l.PersonID))
	case l.Kind != KindEmail && l.Kind != KindPhone:
		return fmt.Errorf("lead: kind %q, want %q or %q", l.Kind, KindEmail, KindPhone)
	case l.Value == "":
		return fmt.Errorf("lead %s: no value", l.Key())
	case l.CapturedAt.IsZero() || !l.ExpiresAt.After(l.CapturedAt):
		return fmt.Errorf("lead %s: capture time and a later expiry required", l.Key())
	}
	return nil
}

// Store keeps leads. Both stores (shared/memory, shared/dynamo) implement it;
// shared/storetest.Leads is its contract.
type Store interface {
	// CreateLead stores l unless a lead of its account, person and kind is stored: then it
	// stores nothing and returns that lead with an error wrapping reply.ErrExists (one lead per
	// person and kind, whoever answered first). A tombstone of the account or the person
	// covering l.CapturedAt refuses it with reply.ErrForgotten, nothing stored.
	CreateLead(ctx context.Context, l Lead) (Lead, error)
	// Lead is the stored lead, or an error wrapping reply.ErrNotFound.
	Lead(ctx context.Context, account, person string, kind Kind) (Lead, error)
	// Leads pages through the account's leads (by key, never a scan of the table). An empty
	// returned cursor means there is no more.
	Leads(ctx context.Context, account, cursor string, limit int) ([]Lead, string, error)
	// DeleteLead removes the lead; removing none is not an error.
	DeleteLead(ctx context.Context, account, person string, kind Kind) error
}
