package deletion

import (
	"context"
	"errors"
	"fmt"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

// Matches is what a person-level request would remove: `replywindow forget --dry-run`.
type Matches struct {
	Records       int `json:"records"`       // reply records (comments' and follow-ups')
	Conversations int `json:"conversations"` // conversations with an account
	Leads         int `json:"leads"`         // leads the person gave (when the worker has Leads)
	Clicks        int `json:"click_records"` // their click records of tracked links (when it has Clicks)
}

// Total is everything the request would remove.
func (m Matches) Total() int { return m.Records + m.Conversations + m.Leads + m.Clicks }

// Count reads what the request d would remove, removing and writing nothing (no tombstone
// either): the same scans and the same tests as the worker's pages.
func (w *Worker) Count(ctx context.Context, d reply.Deletion) (Matches, error) {
	var m Matches
	size := w.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	for cursor := ""; ; {
		recs, next, err := w.Store.Scan(ctx, cursor, size)
		if err != nil {
			return m, fmt.Errorf("scan replies: %w", err)
		}
		for _, r := range recs {
			if holds(d, r) {
				m.Records++
			}
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	for cursor := ""; ; {
		convs, next, err := w.Store.Conversations(ctx, cursor, size)
		if err != nil {
			return m, fmt.Errorf("list conversations: %w", err)
		}
		for _, c := range convs {
			if holdsConversation(d, c) {
				m.Conversations++
			}
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	if d.Kind != reply.DeletionPerson || (w.Leads == nil && w.Clicks == nil) {
		return m, nil
	}
	accounts, err := w.Store.ListAccounts(ctx)
	if err != nil {
		return m, fmt.Errorf("list accounts: %w", err)
	}
	for _, a := range accounts {
		if err := w.countPerson(ctx, a.ID, d.UserID, size, &m); err != nil {
			return m, err
		}
	}
	return m, nil
}

// countPerson adds the person's leads and click records on account to m.
func (w *Worker) countPerson(ctx context.Context, account, person string, size int, m *Matches) error {
	if w.Leads != nil {
		for _, kind := range lead.Kinds {
			_, err := w.Leads.Lead(ctx, account, person, kind)
			switch {
			case errors.Is(err, reply.ErrNotFound):
			case err != nil:
				return fmt.Errorf("read lead %s: %w", lead.Key(account, person, kind), err)
			default:
				m.Leads++
			}
		}
	}
	if w.Clicks == nil {
		return nil
	}
	for cursor := ""; ; {
		cs, next, err := w.Clicks.ClickedBy(ctx, account, cursor, size)
		if err != nil {
			return fmt.Errorf("list click records of %s: %w", account, err)
		}
		for _, c := range cs {
			if c.Person == person {
				m.Clicks++
			}
		}
		if cursor = next; cursor == "" {
			return nil
		}
	}
}
