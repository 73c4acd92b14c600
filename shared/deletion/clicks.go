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

// clicksPage removes one page of the request's click records from cursor (without its phase): a
// commenter's on every account (a Query of their key prefix per account), or a user's accounts'
// (listed by account). Never a scan. It counts the records removed.
func (w *Worker) clicksPage(ctx context.Context, d reply.Deletion, cursor string, size int) (int, string, error) {
	if d.Kind == reply.DeletionPerson {
		accounts, err := w.Store.ListAccounts(ctx)
		if err != nil {
			return 0, "", fmt.Errorf("list accounts: %w", err)
		}
		n := 0
		for _, a := range accounts {
			gone, err := w.Clicks.ForgetClicks(ctx, a.ID, d.UserID)
			n += gone
			if err != nil {
				return n, "", err
			}
		}
		return n, "", nil
	}
	return accountPages(d, "click records", cursor, func(account, page string) (int, string, error) {
		cs, next, err := w.Clicks.ClickedBy(ctx, account, page, size)
		if err != nil {
			return 0, "", fmt.Errorf("list click records of %s: %w", account, err)
		}
		n, done := 0, map[string]bool{}
		for _, c := range cs {
			if done[c.Person] {
				continue // the person's records went together
			}
			done[c.Person] = true
			gone, err := w.Clicks.ForgetClicks(ctx, account, c.Person)
			n += gone
			if err != nil {
				return n, "", err
			}
		}
		return n, next, nil
	})
}
