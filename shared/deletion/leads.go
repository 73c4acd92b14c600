package deletion

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

// leadPhase starts the cursor of a request whose records and conversations are gone and whose
// leads are being removed: "L:" then, for a user's accounts, the index of the account being
// worked and the store's cursor in its leads.
const leadPhase = "L:"

// leadsPage removes one page of the request's leads from cursor (without its phase); it returns
// how many went and where the next page starts ("" when none is left). A commenter's leads are
// keyed by account, person and kind, so they are found without a listing; a user's accounts'
// leads are listed by account (a Query, never a scan).
func (w *Worker) leadsPage(ctx context.Context, d reply.Deletion, cursor string, size int) (int, string, error) {
	if d.Kind == reply.DeletionPerson {
		n, err := w.personLeads(ctx, d.UserID)
		return n, "", err
	}
	return accountPages(d, "leads", cursor, func(account, page string) (int, string, error) {
		ls, next, err := w.Leads.Leads(ctx, account, page, size)
		if err != nil {
			return 0, "", fmt.Errorf("list leads of %s: %w", account, err)
		}
		n := 0
		for _, l := range ls {
			if err := w.Leads.DeleteLead(ctx, l.AccountID, l.PersonID, l.Kind); err != nil {
				return n, "", fmt.Errorf("delete lead %s: %w", l.Key(), err)
			}
			n++
		}
		return n, next, nil
	})
}

// accountPages works one page of a listing per account of a user's request: cursor is the index
// of the account being worked, ":", and the store's cursor in its listing ("" to start); page
// removes what one page of account lists from its cursor and returns the store's next.
func accountPages(d reply.Deletion, what, cursor string, page func(account, cursor string) (int, string, error)) (int, string, error) {
	i, from := 0, ""
	if cursor != "" {
		is, rest, _ := strings.Cut(cursor, ":")
		var err error
		if i, err = strconv.Atoi(is); err != nil || i < 0 {
			return 0, "", fmt.Errorf("%s: cursor %q: not this worker's", what, cursor)
		}
		from = rest
	}
	if i >= len(d.Accounts) {
		return 0, "", nil
	}
	n, next, err := page(d.Accounts[i], from)
	switch {
	case err != nil:
		return n, "", err
	case next != "":
		return n, strconv.Itoa(i) + ":" + next, nil
	case i+1 < len(d.Accounts):
		return n, strconv.Itoa(i+1) + ":", nil
	}
	return n, "", nil
}

// personLeads removes the person's leads of every account.
func (w *Worker) personLeads(ctx context.Context, person string) (int, error) {
	accounts, err := w.Store.ListAccounts(ctx)
	if err != nil {
		return 0, fmt.Errorf("list accounts: %w", err)
	}
	n := 0
	for _, a := range accounts {
		for _, kind := range lead.Kinds {
			_, err := w.Leads.Lead(ctx, a.ID, person, kind)
			switch {
			case errors.Is(err, reply.ErrNotFound):
				continue
			case err != nil:
				return n, fmt.Errorf("read lead %s: %w", lead.Key(a.ID, person, kind), err)
			}
			if err := w.Leads.DeleteLead(ctx, a.ID, person, kind); err != nil {
				return n, fmt.Errorf("delete lead %s: %w", lead.Key(a.ID, person, kind), err)
			}
			n++
		}
	}
	return n, nil
}
