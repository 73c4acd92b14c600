package deletion

import (
	"context"
	"fmt"

	"github.com/replywindow/replywindow/shared/reply"
)

// clickPhase starts the cursor of a request whose records, conversations and leads are gone and
// whose people's click records (reply.ClickRecords) are being removed; after it, as for leads,
// the index of the user's account being worked and the store's cursor in its records.
const clickPhase = "K:"

// clicksPage removes one page of the request's click records from cursor (without its phase). A
// commenter's record is keyed by account and person, so it goes without a listing, on every
// account; a user's accounts' records are listed by account (a Query, never a scan). It counts
// the people whose record went.
func (w *Worker) clicksPage(ctx context.Context, d reply.Deletion, cursor string, size int) (int, string, error) {
	if d.Kind == reply.DeletionPerson {
		accounts, err := w.Store.ListAccounts(ctx)
		if err != nil {
			return 0, "", fmt.Errorf("list accounts: %w", err)
		}
		n := 0
		for _, a := range accounts {
			links, err := w.Clicks.ForgetClicks(ctx, a.ID, d.UserID)
			if err != nil {
				return n, "", err
			}
			if links > 0 {
				n++
			}
		}
		return n, "", nil
	}
	return accountPages(d, "click records", cursor, func(account, page string) (int, string, error) {
		cs, next, err := w.Clicks.ClickedBy(ctx, account, page, size)
		if err != nil {
			return 0, "", fmt.Errorf("list click records of %s: %w", account, err)
		}
		n, gone := 0, map[string]bool{}
		for _, c := range cs {
			if gone[c.Person] {
				continue // a record holds each of the person's links
			}
			gone[c.Person] = true
			if _, err := w.Clicks.ForgetClicks(ctx, account, c.Person); err != nil {
				return n, "", err
			}
			n++
		}
		return n, next, nil
	})
}
