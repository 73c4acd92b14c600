package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// errBudget means the account's read budget has no token now: the pass stops where it is, and the
// cursor keeps its place for the next one.
var errBudget = errors.New("read budget spent")

// errNoTime means the invocation is about to end: the pass stops and saves what it did.
var errNoTime = errors.New("too little time left in the invocation")

// budget is one account's budget of Graph reads: a GCRA bucket in the table (lane reads), shared by
// every reconciler and backfill, so the bound holds whoever reads. Tokens are taken one per call
// with a conditional write; the bucket is read once, when the budget is made.
type budget struct {
	store reply.Buckets
	limit reply.Limit
	clock reply.Clock
	b     reply.Bucket
}

func newBudget(ctx context.Context, store reply.Buckets, account string, limit reply.Limit, clock reply.Clock) (*budget, error) {
	b, err := store.Bucket(ctx, account, reply.LaneReads)
	if err != nil {
		return nil, fmt.Errorf("read budget of account %s: %w", account, err)
	}
	return &budget{store: store, limit: limit, clock: clock, b: b}, nil
}

// write stores next with a conditional write; a lost one adopts the stored bucket and reports
// false, so the caller decides again with it.
func (g *budget) write(ctx context.Context, next reply.Bucket) (bool, error) {
	stored, err := g.store.SaveBucket(ctx, next)
	switch {
	case errors.Is(err, reply.ErrConflict):
		g.b = stored
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read budget %s: %w", reply.BucketKey(next.AccountID, next.Lane), err)
	}
	g.b = next
	return true, nil
}

// take takes one read. When none is left it reports the earliest time one will be.
func (g *budget) take(ctx context.Context) (bool, time.Time, error) {
	for range maxRounds {
		n, next, retryAt := g.limit.Take(g.b, g.clock.Now(), 1)
		if n == 0 {
			return false, retryAt, nil
		}
		if won, err := g.write(ctx, next); won || err != nil {
			return won, time.Time{}, err
		}
	}
	return false, time.Time{}, fmt.Errorf("read budget of account %s: %w %d times", g.b.AccountID, reply.ErrConflict, maxRounds)
}

// hold lets no read through before until (Meta said to slow down).
func (g *budget) hold(ctx context.Context, until time.Time) error {
	for range maxRounds {
		next, moved := g.limit.Hold(g.b, until)
		if !moved {
			return nil
		}
		if won, err := g.write(ctx, next); won || err != nil {
			return err
		}
	}
	return fmt.Errorf("hold read budget of account %s: %w %d times", g.b.AccountID, reply.ErrConflict, maxRounds)
}

// maxRounds bounds the retries of a conditional write that keeps losing to other readers.
const maxRounds = 5

// reader makes one account's Graph reads, each against the budget, and slows the budget down
// when Meta's usage headers run high or Meta throttles.
type reader struct {
	r      *Reconciler
	acct   reply.Account
	token  string
	budget *budget
	// wait, when set, waits for the budget's next token (backfill); otherwise a spent budget ends
	// the pass (the reconciler comes back on its next run).
	wait  func(ctx context.Context, until time.Time) error
	calls int
	// refused counts the items of Meta's answers left out for an id that is not digits
	// (reply.ValidID, the webhook's rule): such an id would end up in a Graph path and a key.
	refused int
}

// call makes one read through f, which returns Meta's usage figures with its error. A throttled
// read holds the budget back; with wait set it is made again once the budget allows.
func (rd *reader) call(ctx context.Context, f func() (int, time.Duration, error)) error {
	for {
		if err := rd.take(ctx); err != nil {
			return err
		}
		rd.calls++
		usage, regain, err := f()
		now := rd.r.clock.Now()
		if reply.Classify(err) == reply.VerdictThrottled {
			wait := rd.r.cfg.ThrottleWait
			var ge *reply.GraphError
			if errors.As(err, &ge) && ge.RetryAfter > wait {
				wait = ge.RetryAfter
			}
			rd.r.log.Warn("reconcile: Meta throttled a read", "account", rd.acct.ID, "until", now.Add(wait), "err", err)
			if herr := rd.budget.hold(ctx, now.Add(wait)); herr != nil {
				return errors.Join(err, herr)
			}
			if rd.wait != nil {
				continue
			}
			return fmt.Errorf("%w: %w", errBudget, err)
		}
		if err == nil && usage >= rd.r.cfg.UsageHigh {
			// Reads yield first: the same allowance carries the account's replies.
			wait := max(regain, rd.budget.limit.Period/12)
			rd.r.log.Warn("reconcile: Meta reports high usage; reads slow down", "account", rd.acct.ID, "usage", usage, "until", now.Add(wait))
			if herr := rd.budget.hold(ctx, now.Add(wait)); herr != nil {
				return herr
			}
		}
		return err
	}
}

// take takes the next read from the budget, waiting for it when the reader waits.
func (rd *reader) take(ctx context.Context) error {
	for {
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < rd.r.cfg.MinLeft {
			return errNoTime
		}
		ok, retryAt, err := rd.budget.take(ctx)
		if err != nil || ok {
			return err
		}
		if rd.wait == nil {
			return errBudget
		}
		if err := rd.wait(ctx, retryAt); err != nil {
			return err
		}
	}
}

// paged makes one paged read, whose usage figures come with the page.
func paged[T any](ctx context.Context, rd *reader, get func() (reply.Page[T], error)) (reply.Page[T], error) {
	var p reply.Page[T]
	err := rd.call(ctx, func() (int, time.Duration, error) {
		var err error
		p, err = get()
		return p.Usage, p.RegainAfter, err
	})
	return p, err
}

// plain makes one read whose answer reports no usage figures.
func plain[T any](ctx context.Context, rd *reader, get func() (T, error)) (T, error) {
	var v T
	err := rd.call(ctx, func() (int, time.Duration, error) {
		var err error
		v, err = get()
		return 0, 0, err
	})
	return v, err
}

func (rd *reader) media(ctx context.Context, after string) (reply.Page[reply.Media], error) {
	p, err := paged(ctx, rd, func() (reply.Page[reply.Media], error) { return rd.r.graph.Media(ctx, rd.acct, rd.token, after) })
	p.Items = slices.DeleteFunc(p.Items, func(m reply.Media) bool { return rd.refuse("media", m.ID, m.ID) })
	return p, err
}

func (rd *reader) comments(ctx context.Context, mediaID, after string, limit int) (reply.Page[reply.Comment], error) {
	p, err := paged(ctx, rd, func() (reply.Page[reply.Comment], error) {
		return rd.r.graph.Comments(ctx, rd.acct, rd.token, mediaID, after, limit)
	})
	p.Items = rd.validComments(p.Items)
	return p, err
}

func (rd *reader) replies(ctx context.Context, commentID, after string) (reply.Page[reply.Comment], error) {
	p, err := paged(ctx, rd, func() (reply.Page[reply.Comment], error) {
		return rd.r.graph.Replies(ctx, rd.acct, rd.token, commentID, after, 0)
	})
	p.Items = rd.validComments(p.Items)
	return p, err
}

func (rd *reader) live(ctx context.Context) ([]string, error) {
	ids, err := plain(ctx, rd, func() ([]string, error) { return rd.r.graph.LiveMedia(ctx, rd.acct, rd.token) })
	return slices.DeleteFunc(ids, func(id string) bool { return rd.refuse("live media", id, id) }), err
}

// validComments leaves out the comments (and nested replies) whose comment, person or parent id
// is not digits. A person or parent Meta left out ("") is no refusal: the replier asks for them.
func (rd *reader) validComments(cs []reply.Comment) []reply.Comment {
	cs = slices.DeleteFunc(cs, func(c reply.Comment) bool {
		return rd.refuse("comment", c.ID, c.ID) ||
			c.FromID != "" && rd.refuse("comment's person", c.ID, c.FromID) ||
			c.ParentID != "" && rd.refuse("comment's parent", c.ID, c.ParentID)
	})
	for i := range cs {
		cs[i].Replies = rd.validComments(cs[i].Replies)
	}
	return cs
}

// refuse reports whether id is not a Graph id (digits), and counts and logs it when so. item
// names what carried it.
func (rd *reader) refuse(what, item, id string) bool {
	if rd.r.validID(id) {
		return false
	}
	rd.refused++
	rd.r.log.Warn("reconcile: Meta answered an id that is not digits; left out", "account", rd.acct.ID, "what", what,
		"item", truncate(item), "id", truncate(id))
	return true
}

// truncate keeps a refused id short in the log: it is not one of Meta's.
func truncate(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

func (rd *reader) subscribed(ctx context.Context) ([]reply.SubscribedApp, error) {
	return plain(ctx, rd, func() ([]reply.SubscribedApp, error) { return rd.r.graph.SubscribedApps(ctx, rd.acct, rd.token) })
}

func (rd *reader) subscribe(ctx context.Context, fields []string) error {
	_, err := plain(ctx, rd, func() (struct{}, error) { return struct{}{}, rd.r.graph.Subscribe(ctx, rd.acct, rd.token, fields) })
	return err
}

// budgeted is the reader as a subscription.Subscriber: every call, each retry without a refused
// field included, comes out of the read budget.
type budgeted struct{ rd *reader }

func (b budgeted) Subscribe(ctx context.Context, _ reply.Account, _ string, fields []string) error {
	return b.rd.subscribe(ctx, fields)
}
