package deletion

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

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

// Worker works off pending data deletions: for the person in each request it removes the
// account's configuration and token when the person owns an account, and every reply record
// that belongs to that account or holds the person as commenter. Progress (the scan cursor) is
// stored after every page, so a deletion larger than one run's budget resumes in the next run,
// and two workers never double-count: the one whose progress write loses stops.
type Worker struct {
	Store    reply.Store
	Params   Params
	PageSize int          // 0 means DefaultPageSize
	Clock    reply.Clock  // nil means the system clock
	Log      *slog.Logger // nil means no logs
	Metrics  *telemetry.Metrics
}

// Result is what one Run did.
type Result struct {
	Done    int // requests finished in this run
	Pending int // requests left for a later run
	Removed int // accounts and reply records removed in this run
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
		// Tombstones first: from here on no job still queued, requeued or redriven can create a
		// record for the person or account again (reply.Tombstone), so the scan below is final.
		if err := w.bury(ctx, d); err != nil {
			return false, 0, fmt.Errorf("deletion %s: %w", d.Code, err)
		}
		// The account goes first, so that no reply is sent for it while its records are removed.
		// Repeating this on a resumed request finds nothing and costs one read.
		n, err := w.removeAccount(ctx, d.UserID)
		if err != nil {
			return false, 0, fmt.Errorf("deletion %s: %w", d.Code, err)
		}
		removed, unsaved = n, n
	}
	size := w.PageSize
	if size <= 0 {
		size = DefaultPageSize
	}
	for {
		recs, next, err := w.Store.Scan(ctx, d.Cursor, size)
		if err != nil {
			return false, removed, fmt.Errorf("deletion %s: scan replies: %w", d.Code, err)
		}
		for _, r := range recs {
			if r.AccountID != d.UserID && r.Job.FromID != d.UserID {
				continue
			}
			// The funnel guard names the person too; it goes before the record that points at it.
			for _, k := range []string{r.Funnel, r.Key} {
				if k == "" {
					continue
				}
				if err := w.Store.Delete(ctx, k); err != nil && !errors.Is(err, reply.ErrNotFound) {
					return false, removed, fmt.Errorf("deletion %s: delete %s: %w", d.Code, k, err)
				}
			}
			removed++
			unsaved++
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

// bury writes the tombstones of the request's user, as a person and as an account, dated now:
// every comment made before the deletion started is forgotten. Writing them again on a retry is
// harmless.
func (w *Worker) bury(ctx context.Context, d reply.Deletion) error {
	now := w.now()
	for _, t := range []reply.Tombstone{{PersonID: d.UserID, At: now}, {AccountID: d.UserID, At: now}} {
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

// removeAccount deletes the account owned by user and its token parameter; it reports 1 when
// there was one. The token goes first: should its removal fail, the account still names the
// parameter for the retry, whereas a token orphaned by the account's removal would outlive it.
func (w *Worker) removeAccount(ctx context.Context, user string) (int, error) {
	a, err := w.Store.Account(ctx, user)
	if errors.Is(err, reply.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read account %s: %w", user, err)
	}
	if a.TokenParam != "" {
		if err := w.Params.Delete(ctx, a.TokenParam); err != nil && !errors.Is(err, reply.ErrNotFound) {
			return 0, fmt.Errorf("delete token parameter of account %s: %w", user, err)
		}
	}
	if err := w.Store.DeleteAccount(ctx, user); err != nil && !errors.Is(err, reply.ErrNotFound) {
		return 0, fmt.Errorf("delete account %s: %w", user, err)
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
