package deletion

import (
	"context"
	"fmt"

	"github.com/replywindow/replywindow/shared/reply"
)

// Matches is what a person-level request would remove: `replywindow forget --dry-run`.
type Matches struct {
	Records       int `json:"records"`       // reply records (comments' and follow-ups')
	Conversations int `json:"conversations"` // conversations with an account
}

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
	return m, nil
}
