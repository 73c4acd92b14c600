package deletion

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// Params removes secrets by name (the account's token parameter in SSM). Removing a parameter
// that does not exist must succeed or return an error wrapping reply.ErrNotFound.
type Params interface {
	Delete(ctx context.Context, name string) error
}

// DefaultPageSize is how many reply records one Scan call reads.
const DefaultPageSize = 100

// Worker works off pending data deletions. A request from Meta (reply.DeletionUser) names the
// person who connected accounts to the app, by app-scoped id: each account they connected
// (Account.AppUserIDs) goes, with its configuration, token parameter, rate buckets, reply records
// (comments' and follow-ups'), funnel guards, conversations, leads and click records. The
// operator's request for a commenter (reply.DeletionPerson, by IGSID) removes the records,
// guards, conversations, leads and click records that hold the person. Tombstones are written before anything
// is removed, so no job still queued or redriven brings the data back. Progress (the scan
// cursor) is stored after every page, so a deletion larger than one run's budget resumes in the
// next run, and two workers never double-count: the one whose progress write loses stops.
type Worker struct {
	Store  reply.Store
	Params Params
	// Cursors, when set, holds the reconciler's cursors: an account's goes with it.
	Cursors reply.Cursors
	// Leads, when set, holds the answers to steps that ask: the request's go after the
	// conversations.
	Leads lead.Store
	// Clicks, when set, holds the people's click records (who opened which tracked link): the
	// request's go last.
	Clicks   reply.ClickRecords
	PageSize int          // 0 means DefaultPageSize
	Clock    reply.Clock  // nil means the system clock
	Log      *slog.Logger // nil means no logs
	Metrics  *telemetry.Metrics
}

// Result is what one Run did.
type Result struct {
	Done    int // requests finished in this run
	Pending int // requests left for a later run
	Removed int // accounts, reply records and conversations removed in this run
}

// Run works until every pending deletion is done or budget has passed; it starts no new page
// after that. Records are deleted rather than anonymized: funnel keys hold the person's id, so
// an anonymized record would still name them.
func (w *Worker) Run(ctx context.Context, budget time.Duration) (Result, error) {
	deadline := w.now().Add(budget)
	pending, err := w.Store.PendingDeletions(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("list pending deletions: %w", err)
	}
	var res Result
	var errs []error
	for i, d := range pending {
		if !w.now().Before(deadline) || ctx.Err() != nil {
			res.Pending += len(pending) - i
			break
		}
		done, removed, err := w.work(ctx, d, deadline)
		res.Removed += removed
		switch {
		case err != nil:
			errs = append(errs, err)
			res.Pending++
		case done:
			res.Done++
		default:
			res.Pending++
		}
	}
	if w.Metrics != nil {
		w.Metrics.Count("DeletionDone", res.Done)
		w.Metrics.Count("DeletionRemoved", res.Removed)
	}
	return res, errors.Join(errs...)
}

// work advances one deletion until it is done or the deadline passes.
func (w *Worker) work(ctx context.Context, d reply.Deletion, deadline time.Time) (done bool, removed int, err error) {
	log := w.logger().With("code", d.Code)
	unsaved := 0 // removals not yet in the stored request
	if d.Cursor == "" {
		if d.Kind != reply.DeletionPerson && d.Accounts == nil {
			// Found once and stored before anything goes: the accounts' configuration, which
			// names who connected them, is removed below.
			accounts, err := w.connected(ctx, d.UserID)
			if err != nil {
				return false, 0, fmt.Errorf("deletion %s: %w", d.Code, err)
			}
			if len(accounts) == 0 {
				log.InfoContext(ctx, "data deletion: the user connected no account here")
				d.State, d.DoneAt = reply.DeletionDone, w.now()
			}
			d.Accounts = accounts
			d.Version++
			stored, err := w.Store.PutDeletion(ctx, d)
			switch {
			case errors.Is(err, reply.ErrConflict):
				return stored.State == reply.DeletionDone, 0, nil // another worker has it
			case err != nil:
				return false, 0, fmt.Errorf("deletion %s: save its accounts: %w", d.Code, err)
			case stored.State == reply.DeletionDone:
				return true, 0, nil
			}
			d = stored
		}
		// Tombstones first: from here on no job still queued, requeued or redriven can create a
		// record for the person or account again (reply.Tombstone), so the scan below is final.
		if err := w.bury(ctx, d); err != nil {
			return false, 0, fmt.Errorf("deletion %s: %w", d.Code, err)
		}
		// The accounts go next, so that no reply is sent for them while their records are
		// removed. Repeating this on a resumed request finds nothing and costs a read each.
		for _, a := range d.Accounts {
			n, err := w.removeAccount(ctx, a)
			if err != nil {
				return false, removed, fmt.Errorf("deletion %s: %w", d.Code, err)
			}
			removed += n
			unsaved += n
		}
	}
	size := w.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	for {
		// Reply records first, then conversations, leads and click records: d.Cursor holds the
		// phase as well as where its listing stopped, so a resumed request carries on where the
		// last run left.
		var n int
		var next string
		if clicks, ok := strings.CutPrefix(d.Cursor, clickPhase); ok {
			n, next, err = w.clicksPage(ctx, d, clicks, size)
			if next != "" {
				next = clickPhase + next
			}
		} else if leads, ok := strings.CutPrefix(d.Cursor, leadPhase); ok {
			n, next, err = w.leadsPage(ctx, d, leads, size)
			switch {
			case next != "":
				next = leadPhase + next
			case w.Clicks != nil:
				next = clickPhase
			}
		} else if conv, ok := strings.CutPrefix(d.Cursor, convPhase); ok {
			n, next, err = w.conversationsPage(ctx, d, conv, size)
			switch {
			case next != "":
				next = convPhase + next
			case w.Leads != nil:
				next = leadPhase
			case w.Clicks != nil:
				next = clickPhase
			}
		} else {
			n, next, err = w.recordsPage(ctx, d, d.Cursor, size)
			if next == "" {
				next = convPhase
			}
		}
		removed += n
		unsaved += n
		if err != nil {
			return false, removed, fmt.Errorf("deletion %s: %w", d.Code, err)
		}
		d.Cursor = next
		d.Removed += unsaved
		if next == "" {
			d.State, d.DoneAt = reply.DeletionDone, w.now()
		}
		d.Version++
		stored, err := w.Store.PutDeletion(ctx, d)
		if errors.Is(err, reply.ErrConflict) {
			// Another worker moved this request on and carries on from its own cursor; this one
			// only adds what it removed, so that the count stays whole.
			stored, err = w.addRemoved(ctx, d.Code, unsaved)
			log.InfoContext(ctx, "data deletion: taken over by another worker", "state", stored.State)
			return stored.State == reply.DeletionDone, removed, err
		}
		if err != nil {
			return false, removed, fmt.Errorf("deletion %s: save progress: %w", d.Code, err)
		}
		d, unsaved = stored, 0
		if d.State == reply.DeletionDone {
			log.InfoContext(ctx, "data deletion done", "removed", d.Removed)
			return true, removed, nil
		}
		if !w.now().Before(deadline) || ctx.Err() != nil {
			return false, removed, nil
		}
	}
}

// convPhase starts the cursor of a request whose reply records are gone and whose
// conversations are being removed. Stores' cursors are base64, which has no ':'.
const convPhase = "V:"

// recordsPage removes the request's reply records (comments' and follow-ups') on one page of
// the store's Scan from cursor; it returns how many went and where the next page starts.
func (w *Worker) recordsPage(ctx context.Context, d reply.Deletion, cursor string, size int) (int, string, error) {
	recs, next, err := w.Store.Scan(ctx, cursor, size)
	if err != nil {
		return 0, "", fmt.Errorf("scan replies: %w", err)
	}
	n := 0
	for _, r := range recs {
		if !holds(d, r) {
			continue
		}
		// The funnel guard names the person too; it goes before the record that points at it.
		for _, k := range []string{r.Funnel, r.Key} {
			if k == "" {
				continue
			}
			if err := w.Store.Delete(ctx, k); err != nil && !errors.Is(err, reply.ErrNotFound) {
				return n, "", fmt.Errorf("delete %s: %w", k, err)
			}
		}
		n++
	}
	return n, next, nil
}

// conversationsPage removes the request's conversations on one page from cursor.
func (w *Worker) conversationsPage(ctx context.Context, d reply.Deletion, cursor string, size int) (int, string, error) {
	convs, next, err := w.Store.Conversations(ctx, cursor, size)
	if err != nil {
		return 0, "", fmt.Errorf("list conversations: %w", err)
	}
	n := 0
	for _, c := range convs {
		if !holdsConversation(d, c) {
			continue
		}
		if err := w.Store.DeleteConversation(ctx, c.AccountID, c.PersonID); err != nil {
			return n, "", fmt.Errorf("delete %s: %w", reply.ConversationKey(c.AccountID, c.PersonID), err)
		}
		n++
	}
	return n, next, nil
}

// holds reports whether the record is data the request removes: a record of one of the user's
// accounts, or one about the person (their comment, or a message of their conversation).
func holds(d reply.Deletion, r reply.Record) bool {
	if d.Kind == reply.DeletionPerson {
		return r.Job.Person() == d.UserID
	}
	return slices.Contains(d.Accounts, r.AccountID)
}

// holdsConversation reports whether the conversation is one the request removes.
func holdsConversation(d reply.Deletion, c reply.Conversation) bool {
	if d.Kind == reply.DeletionPerson {
		return c.PersonID == d.UserID
	}
	return slices.Contains(d.Accounts, c.AccountID)
}

// connected is the ids of the accounts the app-scoped user connected, in id order.
func (w *Worker) connected(ctx context.Context, user string) ([]string, error) {
	accounts, err := w.Store.ListAccounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	var ids []string
	for _, a := range accounts {
		if slices.Contains(a.AppUserIDs, user) {
			ids = append(ids, a.ID)
		}
	}
	return ids, nil
}

// bury writes the request's tombstones, dated now: the person's, or each account's. Every
// comment made before the deletion started is forgotten. Writing them again on a retry is
// harmless.
func (w *Worker) bury(ctx context.Context, d reply.Deletion) error {
	now := w.now()
	graves := []reply.Tombstone{{PersonID: d.UserID, At: now}}
	if d.Kind != reply.DeletionPerson {
		graves = graves[:0]
		for _, a := range d.Accounts {
			graves = append(graves, reply.Tombstone{AccountID: a, At: now})
		}
	}
	for _, t := range graves {
		if err := w.Store.PutTombstone(ctx, t); err != nil {
			return fmt.Errorf("tombstone %s: %w", t.Key(), err)
		}
	}
	return nil
}

// addRemoved adds n removals to the stored request, re-reading it while others write.
func (w *Worker) addRemoved(ctx context.Context, code string, n int) (reply.Deletion, error) {
	for range 5 {
		d, err := w.Store.Deletion(ctx, code)
		if err != nil || n == 0 {
			return d, err
		}
		d.Removed += n
		d.Version++
		stored, err := w.Store.PutDeletion(ctx, d)
		if !errors.Is(err, reply.ErrConflict) {
			return stored, err
		}
	}
	return reply.Deletion{}, fmt.Errorf("deletion %s: count removals: %w five times in a row", code, reply.ErrConflict)
}

// removeAccount deletes the account, its token parameter, its rate buckets (replies' and reads')
// and its reconcile cursor; it reports 1
// when there was an account. The token goes first: should its removal fail, the account still
// names the parameter for the retry, whereas a token orphaned by the account's removal would
// outlive it.
func (w *Worker) removeAccount(ctx context.Context, id string) (int, error) {
	a, err := w.Store.Account(ctx, id)
	if errors.Is(err, reply.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read account %s: %w", id, err)
	}
	if a.TokenParam != "" {
		if err := w.Params.Delete(ctx, a.TokenParam); err != nil && !errors.Is(err, reply.ErrNotFound) {
			return 0, fmt.Errorf("delete token parameter of account %s: %w", id, err)
		}
	}
	for _, lane := range append(slices.Clone(reply.Lanes), reply.LaneReads) {
		if err := w.Store.DeleteBucket(ctx, id, lane); err != nil {
			return 0, fmt.Errorf("delete %s bucket of account %s: %w", lane, id, err)
		}
	}
	if w.Cursors != nil {
		if err := w.Cursors.DeleteCursor(ctx, id); err != nil {
			return 0, fmt.Errorf("delete reconcile cursor of account %s: %w", id, err)
		}
	}
	if err := w.Store.DeleteAccount(ctx, id); err != nil && !errors.Is(err, reply.ErrNotFound) {
		return 0, fmt.Errorf("delete account %s: %w", id, err)
	}
	return 1, nil
}

func (w *Worker) now() time.Time {
	if w.Clock == nil {
		return time.Now()
	}
	return w.Clock.Now()
}

func (w *Worker) logger() *slog.Logger {
	if w.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return w.Log
}
