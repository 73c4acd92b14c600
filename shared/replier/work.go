package replier

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// work is one job on its way through the decision: everything known before the record is met.
type work struct {
	r         *Replier
	job       reply.Job
	acct      reply.Account
	rule      reply.Rule
	key       string
	text      string
	renderErr error
	lease     time.Duration
	owner     string
	token     string
	haveToken bool // a rate token was taken for this job (never take two)
}

// errAgain means a conditional write lost: decide again with the record as it is now stored.
var errAgain = errors.New("record changed, decide again")

// run decides with the record believed absent (a new comment: no read) or, for a job the sweeper
// requeued, as stored; and again with the stored record each time a conditional write says
// otherwise.
func (w *work) run(ctx context.Context) (Decision, error) {
	rec := reply.NewRecord(w.job, w.key, w.r.clock.Now())
	if w.job.Requeued {
		stored, err := w.r.store.Get(ctx, w.key)
		switch {
		case err == nil:
			rec = stored
		case !errors.Is(err, reply.ErrNotFound): // deleted meanwhile: a new comment after all
			return Decision{}, fmt.Errorf("read record %s: %w", w.key, err)
		}
	}
	for range maxRounds {
		d, stored, err := w.decide(ctx, rec)
		if errors.Is(err, errAgain) {
			rec = stored
			continue
		}
		return d, err
	}
	return Decision{}, fmt.Errorf("record %s: %w %d times", w.key, reply.ErrConflict, maxRounds)
}

// decide takes one pass over the decision with rec (Version 0: believed absent). It returns
// errAgain with the stored record when a write lost.
func (w *work) decide(ctx context.Context, rec reply.Record) (Decision, reply.Record, error) {
	r, job := w.r, w.job
	now := r.clock.Now()
	lane := job.Kind.Lane()
	if rec.Version > 0 {
		// The domain's own claim rules say whether this record is ours to move at all.
		if _, err := rec.Claim(job, w.owner, now, now.Add(w.lease)); err != nil {
			d, err := w.refused(ctx, rec, err)
			return d, rec, err
		}
	}
	if !now.Before(job.Deadline()) {
		n, err := rec.Expire(now)
		if err != nil {
			return Decision{}, rec, err
		}
		return w.save(ctx, rec, n, Decision{Action: ActionExpired, Reason: n.Reason})
	}
	if !w.acct.Healthy() {
		return w.park(ctx, rec, now.Add(r.cfg.UnhealthyRecheck), ParkUnhealthy)
	}
	if job.Kind == reply.KindLive && job.MediaID != "" {
		// Without a media id there is nothing to ask about; Meta's 10/2534022 decides then.
		if err := w.needToken(ctx); err != nil {
			return Decision{}, rec, err
		}
		live, err := r.liveNow(ctx, w.acct, w.token, job.MediaID)
		if err != nil {
			if reply.Classify(err) == reply.VerdictAuth {
				w.acct = r.markUnhealthy(ctx, w.acct, codeOf(err))
				return w.park(ctx, rec, now.Add(r.cfg.UnhealthyRecheck), ParkUnhealthy)
			}
			return Decision{}, rec, err
		}
		if !live {
			n, err := rec.EndBroadcast(now)
			if err != nil {
				return Decision{}, rec, err
			}
			return w.save(ctx, rec, n, Decision{Action: ActionExpired, Reason: n.Reason})
		}
	}
	granted := w.haveToken || rec.Granted // Granted: the sweeper took the token when it released
	if !granted && rec.Version == 0 {
		// A new comment in a backlog: park it in one write, without claiming first.
		if ok, retryAt := r.peek(w.acct, lane, now); !ok {
			return w.park(ctx, rec, retryAt, ParkRateLimited)
		}
	}
	// Fetched before the claim: a missing token leaves the record untouched and SQS retries.
	if err := w.needToken(ctx); err != nil {
		return Decision{}, rec, err
	}
	claimed, err := rec.Claim(job, w.owner, now, now.Add(w.lease))
	if err != nil {
		d, err := w.refused(ctx, rec, err)
		return d, rec, err
	}
	if stored, err := w.write(ctx, rec, claimed); err != nil {
		return Decision{}, stored, err
	}
	// The token is taken after the claim, so a duplicate turned away by the claim costs none.
	if !granted {
		ok, retryAt, err := r.take(ctx, w.acct, lane)
		if err != nil {
			// The lease runs out and the sweeper re-drives the record; SQS retries the message.
			return Decision{}, claimed, err
		}
		if !ok {
			d, err := w.parkClaimed(ctx, claimed, retryAt, ParkRateLimited, false)
			return d, claimed, err
		}
		w.haveToken = true
	}
	d, err := w.send(ctx, claimed)
	return d, claimed, err
}

// needToken fetches the account's access token once per job (the Tokens adapter caches it).
func (w *work) needToken(ctx context.Context) error {
	if w.token != "" {
		return nil
	}
	tok, err := w.r.tokens.Token(ctx, w.acct)
	if err != nil {
		return fmt.Errorf("token of account %s: %w", w.acct.ID, err)
	}
	w.token = tok
	return nil
}

// refused turns the domain's reasons not to claim into decisions that need no retry.
func (w *work) refused(ctx context.Context, rec reply.Record, err error) (Decision, error) {
	switch {
	case errors.Is(err, reply.ErrOtherOwner):
		// Funnel dedup: this person already has a reply (or one on its way) for this media.
		return w.r.skip(ctx, w.job, reply.SkipDuplicatePerson)
	case errors.Is(err, reply.ErrDone):
		return Decision{Action: ActionDone, Reason: rec.Reason, Record: rec}, nil
	case errors.Is(err, reply.ErrBusy):
		// The lease holder finishes it, or the sweeper releases or expires it: ack the message.
		return Decision{Action: ActionBusy, Reason: string(rec.State), Record: rec, RetryAt: rec.DueAt}, nil
	}
	return Decision{}, err
}

// write stores n, derived from prev, with the matching conditional write. A lost write returns
// the stored record and errAgain.
func (w *work) write(ctx context.Context, prev, n reply.Record) (reply.Record, error) {
	var (
		stored reply.Record
		err    error
	)
	if prev.Version == 0 {
		stored, err = w.r.store.Create(ctx, n)
	} else {
		stored, err = w.r.store.Update(ctx, n)
	}
	switch {
	case errors.Is(err, reply.ErrExists), errors.Is(err, reply.ErrConflict), errors.Is(err, reply.ErrNotFound):
		if n.Owner != "" && ours(stored, n) {
			return n, nil // our claim landed; only this worker writes its owner id
		}
		if stored.Version == 0 {
			// Deleted under us (data deletion): start over as a new comment.
			stored = reply.NewRecord(w.job, w.key, w.r.clock.Now())
		}
		return stored, fmt.Errorf("record %s: %w", n.Key, errAgain)
	case err != nil:
		return prev, fmt.Errorf("write record %s (%s): %w", n.Key, n.State, err)
	}
	return n, nil
}

// ours reports whether the stored record is the very write we attempted: the SDK retries a
// write whose answer was lost, and the retry then "conflicts" with the write that landed. It is
// only asked where no other worker can have written the same thing: a claim (the owner id is
// this worker's) or a write from this worker's own lease. Buckets have no owner, so a bucket
// write that seems lost is taken again: a wasted token is safe, a doubled one is not.
func ours(stored, n reply.Record) bool {
	return stored.Version == n.Version && stored.Version > 0 && stored.State == n.State &&
		stored.Owner == n.Owner && stored.UpdatedAt.Equal(n.UpdatedAt) && stored.CommentID == n.CommentID
}

// save writes n and, when it lands, counts and returns d.
func (w *work) save(ctx context.Context, prev, n reply.Record, d Decision) (Decision, reply.Record, error) {
	if stored, err := w.write(ctx, prev, n); err != nil {
		return Decision{}, stored, err
	}
	d.Record = n
	w.r.count(d)
	return d, n, nil
}

// park sets a record that nobody holds aside until `until`: in one create for a new comment;
// otherwise the domain allows parking only under a lease, so claim first.
func (w *work) park(ctx context.Context, rec reply.Record, until time.Time, reason string) (Decision, reply.Record, error) {
	now := w.r.clock.Now()
	if rec.Version == 0 {
		n := reply.NewParked(w.job, w.key, until, reason, now)
		return w.save(ctx, rec, n, Decision{Action: ActionParked, Reason: reason, RetryAt: n.DueAt})
	}
	claimed, err := rec.Claim(w.job, w.owner, now, now.Add(w.lease))
	if err != nil {
		d, err := w.refused(ctx, rec, err)
		return d, rec, err
	}
	if stored, err := w.write(ctx, rec, claimed); err != nil {
		return Decision{}, stored, err
	}
	d, err := w.parkClaimed(ctx, claimed, until, reason, false)
	return d, claimed, err
}

// parkClaimed parks the record this worker holds. attempted says the send may have reached Meta.
func (w *work) parkClaimed(ctx context.Context, claimed reply.Record, until time.Time, reason string, attempted bool) (Decision, error) {
	n, err := claimed.Park(until, reason, attempted, w.r.clock.Now())
	if err != nil {
		return Decision{}, err
	}
	return w.settle(ctx, n, Decision{Action: ActionParked, Reason: reason, RetryAt: n.DueAt})
}

// finish records the terminal outcome of the record this worker holds.
func (w *work) finish(ctx context.Context, claimed reply.Record, o reply.Outcome, attempted bool, d Decision) (Decision, error) {
	n, err := claimed.Finish(o, attempted, w.r.clock.Now())
	if err != nil {
		return Decision{}, err
	}
	return w.settle(ctx, n, d)
}

// settle writes the leased record's next state. Losing here means the lease ran out and someone
// took the record over; they will reach the same end (a delivered reply shows as 2534025 after an
// uncertain attempt), so the message is acknowledged.
func (w *work) settle(ctx context.Context, n reply.Record, d Decision) (Decision, error) {
	stored, err := w.r.store.Update(ctx, n)
	switch {
	case (errors.Is(err, reply.ErrConflict) || errors.Is(err, reply.ErrNotFound)) && !ours(stored, n):
		w.r.log.Warn("lease lost before recording", "account", w.job.AccountID, "comment", w.job.CommentID,
			"wanted", n.State, "stored", stored.State)
		return Decision{Action: ActionBusy, Reason: string(stored.State), Record: stored}, nil
	case err != nil && !ours(stored, n):
		return Decision{}, fmt.Errorf("record %s as %s: %w", n.Key, n.State, err)
	}
	d.Record = n
	w.r.count(d)
	return d, nil
}

// send makes the one Graph call and records what Meta's answer means (design.md §2).
func (w *work) send(ctx context.Context, claimed reply.Record) (Decision, error) {
	r, job := w.r, w.job
	if w.renderErr != nil {
		r.log.Error("render message", "account", job.AccountID, "rule", w.rule.Name, "err", w.renderErr)
		return w.finish(ctx, claimed, reply.Outcome{State: reply.StateFailed, Reason: ReasonInvalidMessage, Detail: w.renderErr.Error()}, false,
			Decision{Action: ActionFailed, Reason: ReasonInvalidMessage})
	}
	// The call must not outlive the lease: after it, another worker may take over.
	sendCtx, cancel := context.WithTimeout(ctx, claimed.LeaseUntil.Sub(r.clock.Now()))
	res, err := r.graph.PrivateReply(sendCtx, w.acct, w.token, job.CommentID, w.text)
	cancel()
	now := r.clock.Now()
	lane := job.Kind.Lane()
	code, detail := codeOf(err), detailOf(err)
	v := reply.Classify(err)
	if v != reply.VerdictThrottled { // a throttle holds the lane longer anyway
		w.pace(ctx, lane, res, now)
	}
	switch v {
	case reply.VerdictSent:
		d, err := w.finish(ctx, claimed, reply.Sent(res.MessageID, res.RecipientID), true, Decision{Action: ActionSent})
		if err == nil && d.Action == ActionSent {
			w.publicReply(ctx)
		}
		return d, err
	case reply.VerdictExpired:
		return w.finish(ctx, claimed, reply.Outcome{State: reply.StateExpired, Reason: code, Detail: detail}, true,
			Decision{Action: ActionExpired, Reason: code})
	case reply.VerdictAlreadyReplied:
		if claimed.Uncertain {
			// Meta allows one reply per comment: an earlier attempt we could not confirm arrived.
			d, err := w.finish(ctx, claimed, reply.Outcome{State: reply.StateSent, Reason: ReasonDeliveredBefore, Detail: detail}, true,
				Decision{Action: ActionSent, Reason: ReasonDeliveredBefore})
			if err == nil && d.Action == ActionSent {
				w.publicReply(ctx) // the earlier holder never reached it: it comes after recording
			}
			return d, err
		}
		return w.finish(ctx, claimed, reply.Outcome{State: reply.StateFailed, Reason: code, Detail: detail}, true,
			Decision{Action: ActionFailed, Reason: code})
	case reply.VerdictPermanent:
		return w.finish(ctx, claimed, reply.Outcome{State: reply.StateFailed, Reason: code, Detail: detail}, true,
			Decision{Action: ActionFailed, Reason: code})
	case reply.VerdictAccount:
		w.acct = r.markUnhealthy(ctx, w.acct, code)
		return w.finish(ctx, claimed, reply.Outcome{State: reply.StateFailed, Reason: code, Detail: detail}, true,
			Decision{Action: ActionFailed, Reason: code})
	case reply.VerdictAuth:
		// The token, not the comment, is the problem: keep the window for after re-auth.
		w.acct = r.markUnhealthy(ctx, w.acct, code)
		return w.parkClaimed(ctx, claimed, now.Add(r.cfg.UnhealthyRecheck), ParkUnhealthy, false)
	case reply.VerdictThrottled:
		r.m.Count(MetricThrottled, 1)
		until := now.Add(throttleWait(lane, retryAfterOf(err)))
		// Every job of the lane waits, not only this one, so the next ones do not hear 613 too.
		if err := r.hold(ctx, w.acct, lane, until); err != nil {
			r.log.Error("hold bucket after throttle", "account", job.AccountID, "err", err)
		}
		return w.parkClaimed(ctx, claimed, until, ParkThrottled, false)
	default: // uncertain: the send may have happened; Meta's one-reply rule makes a retry safe
		// A request never written cannot have been delivered: it is no attempt, and must not
		// turn a later 2534025 into "delivered".
		attempted := !errors.Is(err, reply.ErrNotSent)
		if attempted {
			r.m.Count(MetricUncertain, 1)
		}
		r.log.Warn("send uncertain", "account", job.AccountID, "comment", job.CommentID, "verdict", v,
			"code", code, "attempted", attempted, "err", err)
		return w.parkClaimed(ctx, claimed, now.Add(uncertainBackoff(lane, claimed.Attempts)), ParkUncertain, attempted)
	}
}

// pace slows the lane down when Meta reports its usage near the limit, before Meta must refuse.
func (w *work) pace(ctx context.Context, lane reply.Lane, res reply.SendResult, now time.Time) {
	if res.Usage < usageHigh {
		return
	}
	wait := res.RegainAfter
	if wait <= 0 {
		wait = w.acct.Limit(lane).Period / 20
	}
	if err := w.r.hold(ctx, w.acct, lane, now.Add(wait)); err != nil {
		w.r.log.Error("hold bucket at high usage", "account", w.job.AccountID, "usage", res.Usage, "err", err)
	}
}

// publicReply answers a top-level, non-Live comment publicly when the rule has variants. It
// never changes the private reply's outcome.
func (w *work) publicReply(ctx context.Context) {
	job, variants := w.job, w.rule.PublicReplies
	if len(variants) == 0 || !job.TopLevel() || job.Kind == reply.KindLive {
		return
	}
	text := variants[variantOf(job.CommentID, len(variants))]
	if err := w.r.graph.PublicReply(ctx, w.acct, w.token, job.CommentID, text); err != nil {
		w.r.m.Count(MetricPublicReplyFailed, 1)
		w.r.log.Warn("public reply failed", "account", job.AccountID, "comment", job.CommentID, "code", codeOf(err), "err", err)
	}
}

// variantOf picks a public reply variant from the comment id: spread across comments, and the
// same on every retry.
func variantOf(commentID string, n int) int {
	h := fnv.New32a()
	h.Write([]byte(commentID))
	return int(h.Sum32() % uint32(n))
}

// count records a decision that was written.
func (r *Replier) count(d Decision) {
	switch d.Action {
	case ActionSent:
		r.m.Count(MetricSent, 1)
	case ActionSkipped:
		r.m.Count(MetricSkipped, 1, "Reason", d.Reason)
	case ActionExpired:
		r.m.Count(MetricExpired, 1)
	case ActionFailed:
		r.m.Count(MetricFailed, 1, "Code", d.Reason)
	case ActionParked:
		r.m.Count(MetricParked, 1, "Reason", d.Reason)
	}
}

func codeOf(err error) string {
	var ge *reply.GraphError
	if errors.As(err, &ge) {
		return ge.CodeString()
	}
	if err != nil {
		return "no_answer"
	}
	return ""
}

// detailOf is Meta's message, kept short: it is for people reading the record.
func detailOf(err error) string {
	var ge *reply.GraphError
	if !errors.As(err, &ge) {
		if err != nil {
			return truncate(err.Error(), 200)
		}
		return ""
	}
	return truncate(ge.Message, 200)
}

func retryAfterOf(err error) time.Duration {
	var ge *reply.GraphError
	if errors.As(err, &ge) {
		return ge.RetryAfter
	}
	return 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
		n--
	}
	return s[:n]
}
