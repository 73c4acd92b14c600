package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// BackfillOptions says what a backfill reads.
type BackfillOptions struct {
	// Since is how far back comments are read; the window (7 days, the most that can still be
	// answered) when zero or longer.
	Since time.Duration
	// Media reads only this media (it may be older than the window: its recent comments are
	// answered all the same); "" reads every media of the window and the broadcasts on air.
	Media  string
	DryRun bool // read and decide, enqueue nothing
	// MaxWait is the most the backfill waits for the read budget, in all: a wait that would take
	// it past that stops the backfill at once (ErrWaitTooLong), with what is left in the result.
	// Zero waits as long as it takes.
	MaxWait time.Duration
	// Progress is told after each media, and while the read budget makes the backfill wait.
	Progress func(Progress)
}

// Progress is where a backfill stands.
type Progress struct {
	Done, Total int       // media read, of the media to read
	Found       int       // comments met so far
	Enqueued    int       // of Found: enqueued (dry run: would be sent)
	Reads       int       // Graph reads so far
	WaitUntil   time.Time // set while waiting for the read budget
	// Media is the media just finished (or failed), when the call is about one; Stopped says its
	// failure stops the backfill (it was the whole account's).
	Media   *MediaSummary
	Stopped bool
}

// MediaSummary is what a backfill found on one media.
type MediaSummary struct {
	ID          string          `json:"id"`
	ProductType string          `json:"media_product_type"`
	CreatedAt   time.Time       `json:"created_at,omitzero"`
	Count       int             `json:"comments_count"`
	Outcomes    map[Outcome]int `json:"outcomes"`
	// Read is the comments met in the backfill's span; Missing of them had no record (enqueued,
	// or in a dry run would be sent or skipped).
	Read    int `json:"read"`
	Missing int `json:"missing"`
	// Error is why the media could not be read (whole): the backfill went on with the next one.
	Error string `json:"error,omitempty"`
}

// Enqueued is how many of the media's comments were enqueued (in a dry run: would be sent).
func (m MediaSummary) Enqueued() int {
	return m.Outcomes[OutcomeEnqueued] + m.Outcomes[OutcomeWouldSend]
}

// BackfillResult is what a backfill did.
type BackfillResult struct {
	Account string         `json:"account"`
	Since   time.Time      `json:"since"` // comments made after it were read
	DryRun  bool           `json:"dry_run"`
	Media   []MediaSummary `json:"media"`
	// Found lists the comments without a record: enqueued, or (dry run) what would be sent or
	// skipped.
	Found  []Found `json:"found"`
	Report Report  `json:"report"`
	// Failed names the media that could not be read (MediaSummary.Error says why): reading one
	// again with Media retries it.
	Failed []string `json:"failed,omitempty"`
	// Left names the media not read (the one the backfill stopped in first) when something of
	// the whole account stopped it: the read budget (ErrWaitTooLong), Meta's refusal of the token.
	Left []string `json:"left,omitempty"`
	// ResumeAt is when the read budget has a read again, after ErrWaitTooLong.
	ResumeAt time.Time `json:"resume_at,omitzero"`
}

// Total is the number of comments met with the outcome, over every media.
func (b BackfillResult) Total(o Outcome) int {
	n := 0
	for _, m := range b.Media {
		n += m.Outcomes[o]
	}
	return n
}

// ErrNoMedia means the media asked for is not the account's.
var ErrNoMedia = errors.New("no such media of the account")

// ErrWaitTooLong means the read budget would have kept the backfill waiting past
// BackfillOptions.MaxWait: it stopped, and BackfillResult.Left and ResumeAt say what is left and
// when the budget allows it.
var ErrWaitTooLong = fmt.Errorf("%w: the backfill would wait longer than it may", errBudget)

// ErrMediaFailed means some media could not be read; the others were (BackfillResult.Failed).
var ErrMediaFailed = errors.New("media could not be read")

// Backfill answers an account's comments made before it was connected, inside their window,
// through the replier's queue like the webhook's (rate limits, rules, exactly once): every comment
// without a record is enqueued, or only listed with DryRun. It reads against the account's read
// budget and waits for it when spent, at most o.MaxWait in all. A media that cannot be read is
// that media's failure: the backfill goes on with the next one and ends with ErrMediaFailed. What
// is the whole account's (the budget's wait, the token) stops it, naming the media left. Cursors
// are left alone: the reconciler's watch goes on.
func (r *Reconciler) Backfill(ctx context.Context, accountID string, o BackfillOptions) (BackfillResult, error) {
	now := r.clock.Now()
	if o.Since <= 0 || o.Since > reply.Window {
		o.Since = reply.Window
	}
	res := BackfillResult{Account: accountID, Since: now.Add(-o.Since), DryRun: o.DryRun}
	a, err := r.store.Account(ctx, accountID)
	if err != nil {
		return res, fmt.Errorf("backfill: account %s: %w", accountID, err)
	}
	if !a.Healthy() {
		return res, fmt.Errorf("backfill: account %s cannot send (%s): fix it first, or its replies only wait", a.ID, a.Unhealthy)
	}
	rd, err := r.reader(ctx, a)
	if err != nil {
		return res, fmt.Errorf("backfill: %w", err)
	}
	progress := func(p Progress) {
		if o.Progress != nil {
			p.Reads = rd.calls
			o.Progress(p)
		}
	}
	var at Progress
	var waited time.Duration
	rd.wait = func(ctx context.Context, until time.Time) error {
		d := until.Sub(r.clock.Now())
		if o.MaxWait > 0 && waited+d > o.MaxWait {
			res.ResumeAt = until
			return fmt.Errorf("%w (waited %s, the next read at %s)", ErrWaitTooLong, waited.Round(time.Second), until.UTC().Format(time.TimeOnly))
		}
		waited += max(d, 0)
		p := at
		p.WaitUntil = until
		progress(p)
		return r.sleep(ctx, d)
	}
	media, err := r.backfillMedia(ctx, rd, o.Media, now)
	if err != nil {
		return res, fmt.Errorf("backfill account %s: %w", a.ID, err)
	}
	var sums []*MediaSummary
	// Each media is read whole: a reply made since `since` under an older comment counts too, and
	// there is no earlier count to say how many there are.
	s := &scan{r: r, rd: rd, acct: a, now: now, dryRun: o.DryRun, whole: true, rep: &res.Report}
	at.Total = len(media)
	progress(at)
	var stop error
	for i, m := range media {
		sum := &MediaSummary{ID: m.ID, ProductType: m.ProductType, CreatedAt: m.CreatedAt, Count: m.CommentsCount, Outcomes: map[Outcome]int{}}
		sums = append(sums, sum)
		s.found = func(f Found) {
			sum.Outcomes[f.Outcome]++
			sum.Read++
			at.Found++
			switch f.Outcome {
			case OutcomeEnqueued, OutcomeWouldSend:
				at.Enqueued++
			}
			switch f.Outcome {
			case OutcomeEnqueued, OutcomeWouldSend, OutcomeWouldSkip:
				sum.Missing++
				res.Found = append(res.Found, f)
			}
		}
		res.Report.Media++
		if _, err := s.look(ctx, m, reply.MediaCursor{CreatedAt: m.CreatedAt}, res.Since); err != nil {
			sum.Error = err.Error()
			// What is not a read of this media's comments (the token, the budget, our table or
			// queue) would fail the next media too.
			var me *mediaError
			if accountWide(ctx, err) || !errors.As(err, &me) {
				for _, l := range media[i:] {
					res.Left = append(res.Left, l.ID)
				}
				stop = fmt.Errorf("backfill account %s stopped at media %s, %d media left: %w", a.ID, m.ID, len(res.Left), err)
				p := at
				p.Media, p.Stopped = sum, true
				progress(p)
				break
			}
			// This media's failure alone: the next one may read fine.
			res.Failed = append(res.Failed, m.ID)
			res.Report.MediaFailed++
		}
		at.Done++
		p := at
		p.Media = sum
		progress(p)
	}
	res.Report.Accounts, res.Report.Calls, res.Report.IDRefused = 1, rd.calls, rd.refused
	res.Media = summaries(sums)
	r.m.Count(MetricReconcileCalls, rd.calls)
	r.m.Count(MetricIDRefused, rd.refused)
	switch {
	case stop != nil:
		return res, stop
	case len(res.Failed) > 0:
		return res, fmt.Errorf("backfill account %s: %d of %d %w: %s", a.ID, len(res.Failed), len(media), ErrMediaFailed, strings.Join(res.Failed, ", "))
	}
	return res, nil
}

func summaries(ps []*MediaSummary) []MediaSummary {
	out := make([]MediaSummary, 0, len(ps))
	for _, p := range ps {
		out = append(out, *p)
	}
	return out
}

// backfillMedia is what a backfill reads: the broadcasts on air and the media of the window,
// newest first; or the one media asked for, listed as far back as it takes to find it.
func (r *Reconciler) backfillMedia(ctx context.Context, rd *reader, only string, now time.Time) ([]reply.Media, error) {
	var out []reply.Media
	live, err := rd.live(ctx)
	if err != nil {
		return nil, fmt.Errorf("live media: %w", err)
	}
	for _, id := range live {
		if only == "" || only == id {
			out = append(out, reply.Media{ID: id, ProductType: "LIVE", CreatedAt: now})
		}
	}
	if only != "" && len(out) > 0 {
		return out, nil
	}
	after := ""
	for {
		p, err := rd.media(ctx, after)
		if err != nil {
			return nil, fmt.Errorf("media: %w", err)
		}
		for _, m := range p.Items {
			if only != "" {
				if m.ID == only {
					return []reply.Media{m}, nil
				}
				continue
			}
			if m.CreatedAt.Before(now.Add(-reply.Window)) {
				return out, nil
			}
			if readable(m) {
				out = append(out, m)
			}
		}
		if p.After == "" {
			break
		}
		after = p.After
	}
	if only != "" {
		return nil, fmt.Errorf("%w: %s", ErrNoMedia, only)
	}
	return out, nil
}
