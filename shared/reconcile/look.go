package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// Outcome is what reading one comment led to.
type Outcome string

const (
	OutcomeKnown     Outcome = "answered_before" // a record exists: the webhook (or an earlier read) brought it
	OutcomeOwn       Outcome = "own_comment"     // the account's own comment: never answered, as in the webhook
	OutcomeYoung     Outcome = "too_young"       // made moments ago: its webhook may be on its way; looked at again next pass
	OutcomeEnqueued  Outcome = "enqueued"        // no record: a job on the replier's queue, like a webhook's
	OutcomeWouldSend Outcome = "would_send"      // dry run: no record, and a rule matches
	OutcomeWouldSkip Outcome = "would_skip"      // dry run: no record, and no rule matches (the replier records SKIPPED)
)

// Found is one comment a read met above its floor, and what became of it.
type Found struct {
	Job     reply.Job `json:"job"`
	Outcome Outcome   `json:"outcome"`
	Rule    string    `json:"rule,omitempty"` // the rule that answers it (dry run)
}

// scan reads the comments of one account's media and turns every comment without a record into
// a job on the same queue as the webhook's: the reconciler's passes and backfill both use it.
type scan struct {
	r      *Reconciler
	rd     *reader
	acct   reply.Account
	now    time.Time
	dryRun bool
	whole  bool // every look reads its media whole, down to its floor (backfill)
	rep    *Report
	found  func(Found) // every comment met above the floor; nil for none
}

// mediaError is a read of one media's comments that failed. Whether it is the media's alone or
// the account's (a throttle, the token) is the caller's to say (accountWide).
type mediaError struct {
	media string
	err   error
}

func (e *mediaError) Error() string {
	msg, prefix := e.err.Error(), "comments of media "+e.media+": "
	if strings.HasPrefix(msg, prefix) {
		return msg // the Graph client's error names the media already
	}
	return prefix + msg
}
func (e *mediaError) Unwrap() error { return e.err }

// errStaleCursor means a resumed look's saved Meta cursor was refused: the look starts over.
var errStaleCursor = errors.New("saved paging cursor refused")

// minPage is the least a sized page asks for beyond the new comments the count announces: room for
// comments deleted meanwhile and for the boundary.
const minPage = 10

// window is how far back a comment can still be answered: the floor of every look.
func (s *scan) window() time.Time { return s.now.Add(-reply.Window) }

// look reads the media's comments newest first, down to what the last look saw (or to `from`
// when it has never been read), and returns the media's cursor after the look. Meta lists
// top-level comments with their replies nested, so a reply to an older comment sits below the
// floor of the top-level ones: the move of the count since the last look says how many comments
// are new, and the look goes on until it met them. A count is net of deletions, though, and Meta
// may list a comment late; so every Config.Revisit the media is read whole, and every comment made
// since the last whole read is checked again. A look the budget stops part way returns the cursor
// of an unfinished look and the error.
func (s *scan) look(ctx context.Context, m reply.Media, mc reply.MediaCursor, from time.Time) (reply.MediaCursor, error) {
	live := m.ProductType == "LIVE"
	// Meta's timestamps are whole seconds, so are the bounds they meet: a first look takes in the
	// whole second its floor falls in; a later one starts after the second the last one ended at.
	floor := from.Truncate(time.Second).Add(-time.Second)
	if !mc.Seen.IsZero() {
		floor = mc.Seen
	}
	whole := mc.Sweeping || !live && !mc.Swept.IsZero() && !s.now.Before(mc.Swept.Add(s.r.cfg.Revisit))
	if whole {
		floor = mc.Swept
	}
	whole = whole || s.whole
	floor = maxTime(floor, s.window())
	upper, after, found, count := s.now.Add(-s.r.cfg.Grace).Truncate(time.Second), "", 0, m.CommentsCount
	if mc.Resuming() {
		upper, after, found, count = mc.Upper, mc.After, mc.Found, mc.StartCount
	}
	missing := -1 // unknown: a first look, or a broadcast (Meta counts no Live comments)
	if !mc.LookedAt.IsZero() && !live {
		missing = count - mc.Count
	}
	// A look that knows how many comments are new asks for a page about that size: Meta counts
	// calls, not comments, but every comment read is sent, decoded and checked.
	limit := 0
	if missing >= 0 && !whole && !mc.Resuming() {
		limit = missing + minPage
	}
	young := false
	for {
		p, err := s.rd.comments(ctx, m.ID, after, limit)
		limit = 0 // further pages: full ones
		if err != nil {
			switch {
			case mc.Resuming() && reply.Classify(err) == reply.VerdictPermanent:
				// Meta's saved cursor went stale (cursors expire, and die with the comment they
				// point at): the look starts from the top again.
				mc.After, mc.Upper, mc.StartCount, mc.Found, mc.Sweeping = "", time.Time{}, 0, 0, false
				return mc, fmt.Errorf("%w: %w", errStaleCursor, err)
			case (errors.Is(err, errBudget) || errors.Is(err, errNoTime)) && after != "":
				mc.After, mc.Upper, mc.StartCount, mc.Found, mc.Sweeping = after, upper, count, found, whole
			}
			return mc, &mediaError{media: m.ID, err: err}
		}
		var jobs []reply.Job
		pageFound := found
		consider := func(c reply.Comment) error {
			if !c.CreatedAt.After(floor) {
				return nil
			}
			found++
			if c.CreatedAt.After(upper) {
				young = true
				s.report(Found{Job: s.job(m, c), Outcome: OutcomeYoung})
				return nil
			}
			job, err := s.check(ctx, m, c)
			if job != nil {
				jobs = append(jobs, *job)
			}
			return err
		}
		for _, top := range p.Items {
			for _, c := range append([]reply.Comment{top}, top.Replies...) {
				if err := consider(c); err != nil {
					return mc, err
				}
			}
			if err := s.moreReplies(ctx, top, floor, whole, consider); err != nil {
				if (errors.Is(err, errBudget) || errors.Is(err, errNoTime)) && after != "" {
					// This page is read again: what it found so far is found again.
					mc.After, mc.Upper, mc.StartCount, mc.Found, mc.Sweeping = after, upper, count, pageFound, whole
				}
				return mc, &mediaError{media: m.ID, err: err}
			}
		}
		if err := s.enqueue(ctx, jobs); err != nil {
			return mc, err
		}
		after = p.After
		// Newest first: once a page ends below the floor, so does everything after it, unless
		// the count says new comments (replies to older ones) are still unseen further down.
		below := len(p.Items) == 0 || !p.Items[len(p.Items)-1].CreatedAt.After(floor)
		if after == "" || !whole && below && (missing < 0 || found >= missing) {
			break
		}
	}
	n := reply.MediaCursor{CreatedAt: mc.CreatedAt, Live: live, Count: count, Seen: upper, Swept: mc.Swept, LookedAt: s.now, Again: young}
	if whole || n.Swept.IsZero() {
		// A first look starts the whole reads: replies it could not see under older comments
		// wait for the count.
		n.Swept = upper
	}
	return n, nil
}

// moreReplies reads the replies of top past those Meta nested (GET /{comment-id}/replies), newest
// first, and hands each to consider, until a page ends at or below the floor (a whole read reads
// them all). A comment Meta no longer serves (deleted meanwhile, its replies with it) has none.
func (s *scan) moreReplies(ctx context.Context, top reply.Comment, floor time.Time, whole bool, consider func(reply.Comment) error) error {
	below := func(rs []reply.Comment) bool { return len(rs) == 0 || !rs[len(rs)-1].CreatedAt.After(floor) }
	if top.RepliesAfter == "" || !whole && below(top.Replies) {
		return nil
	}
	for after := top.RepliesAfter; after != ""; {
		p, err := s.rd.replies(ctx, top.ID, after)
		if err != nil {
			if reply.Classify(err) == reply.VerdictPermanent {
				s.r.log.Info("reconcile: replies of a comment unreadable; skipped", "account", s.acct.ID, "comment", top.ID, "err", err)
				return nil
			}
			return err
		}
		for _, c := range p.Items {
			if err := consider(c); err != nil {
				return err
			}
		}
		if !whole && below(p.Items) {
			return nil
		}
		after = p.After
	}
	return nil
}

// job is the job for comment c of media m, as the webhook would enqueue it, with Meta's timestamp
// as the comment's creation time (so its deadline is exact). A found comment has no delivery.
func (s *scan) job(m reply.Media, c reply.Comment) reply.Job {
	kind := reply.KindOf(m.ProductType, "")
	if m.ProductType == "LIVE" {
		kind = reply.KindLive
	}
	return reply.Job{
		V: reply.JobVersion, AccountID: s.acct.ID, CommentID: c.ID, MediaID: m.ID, ProductType: m.ProductType,
		FromID: c.FromID, FromUsername: c.Username, Text: c.Text, ParentID: c.ParentID, Kind: kind, CommentedAt: c.CreatedAt,
	}
}

// own reports whether the account itself commented: Meta names it by id (as in webhooks), and by
// username in the listings.
func (s *scan) own(j reply.Job) bool {
	return j.Own() || s.acct.Username != "" && strings.EqualFold(j.FromUsername, s.acct.Username)
}

// check decides on one comment old enough to check: the job to enqueue when it has no record.
func (s *scan) check(ctx context.Context, m reply.Media, c reply.Comment) (*reply.Job, error) {
	job := s.job(m, c)
	if s.own(job) {
		s.rep.Own++
		s.report(Found{Job: job, Outcome: OutcomeOwn})
		return nil, nil
	}
	if err := job.Validate(); err != nil {
		s.r.log.Warn("reconcile: comment unusable", "account", s.acct.ID, "media", m.ID, "comment", c.ID, "err", err)
		return nil, nil
	}
	s.rep.Comments++
	_, err := s.r.store.ByComment(ctx, c.ID)
	switch {
	case err == nil:
		s.rep.Known++
		s.report(Found{Job: job, Outcome: OutcomeKnown})
		return nil, nil
	case !errors.Is(err, reply.ErrNotFound):
		return nil, fmt.Errorf("record of comment %s: %w", c.ID, err)
	}
	if s.dryRun {
		f := Found{Job: job, Outcome: OutcomeWouldSkip}
		if rule, ok := s.acct.Match(job); ok {
			f.Outcome, f.Rule = OutcomeWouldSend, rule.Name
		}
		s.report(f)
		return nil, nil
	}
	return &job, nil
}

// enqueue puts the found jobs on the replier's queue: from there on a found comment is a webhook's
// comment like any other, and the replier's exactly-once rules decide.
func (s *scan) enqueue(ctx context.Context, jobs []reply.Job) error {
	if len(jobs) == 0 {
		return nil
	}
	if err := s.r.queue.Enqueue(ctx, jobs); err != nil {
		return fmt.Errorf("enqueue %d found comments of account %s: %w", len(jobs), s.acct.ID, err)
	}
	s.rep.Reconciled += len(jobs)
	s.r.m.Count(MetricReconciled, len(jobs)) // now, not at the end of the run: they are being answered
	for _, j := range jobs {
		s.r.log.Info("comment found without a webhook", "account", j.AccountID, "media", j.MediaID, "comment", j.CommentID,
			"kind", j.Kind, "commented_at", j.CommentedAt)
		s.report(Found{Job: j, Outcome: OutcomeEnqueued})
	}
	return nil
}

func (s *scan) report(f Found) {
	if f.Outcome == OutcomeYoung {
		s.rep.Young++
	}
	if s.found != nil {
		s.found(f)
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
