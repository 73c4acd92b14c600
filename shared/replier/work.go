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
	variant   string // the person's variant of the rule ("" without variants)
	skip      string // close the record as SKIPPED for this reason instead of replying
	parked    string // park the record for this reason: something failed before the decision
	detail    string // why, for people reading the record (kept when the deadline expires it)
	funnel    string // the funnel guard the reply must hold ("" without one-DM-per-person)
	text      string
	renderErr error
	owner     string
	token     string
	haveToken bool // a rate token was taken for this job (never take two)
	// finished is the comment's record when complete read it and found it terminal: the
	// decision starts from it, with no lookup of Meta's.
	finished *reply.Record
}

// errAgain means a conditional write lost: decide again with the record as it is now stored.
var errAgain = errors.New("record changed, decide again")

// run decides with the record believed absent (a new comment: no read) or, for a job the sweeper
// requeued, as stored; and again with the stored record each time a conditional write says
// otherwise. Every decision meets the comment's one record, whatever the job's shape.
func (w *work) run(ctx context.Context) (Decision, error) {
	rec := reply.NewRecord(w.job, w.r.clock.Now())
	if w.finished != nil {
		rec = *w.finished
	} else if w.job.Requeued {
		stored, err := w.r.store.Get(ctx, w.job.Key())
		switch {
		case err == nil:
			rec = stored
		case !errors.Is(err, reply.ErrNotFound): // deleted meanwhile: a new comment after all
			return Decision{}, fmt.Errorf("read record %s: %w", w.job.Key(), err)
		}
	}
	for range maxRounds {
		d, stored, err := w.decide(ctx, rec)
		switch {
		case errors.Is(err, errAgain):
			rec = stored
			continue
		case errors.Is(err, reply.ErrForgotten):
			// Deleted on request: nothing that names the person may be written again.
			d = Decision{Action: ActionSkipped, Reason: reply.SkipForgotten}
			w.r.count(d)
			return d, nil
		}
		return d, err
	}
	return Decision{}, fmt.Errorf("record %s: %w %d times", w.job.Key(), reply.ErrConflict, maxRounds)
}

// decide takes one pass over the decision with rec (Version 0: believed absent). It returns
// errAgain with the stored record when a write lost.
func (w *work) decide(ctx context.Context, rec reply.Record) (Decision, reply.Record, error) {
	r, job := w.r, w.job
	now := r.clock.Now()
	lane := job.Lane()
	if rec.Version > 0 {
		// The domain's own claim rules say whether this record is ours to move at all.
		if _, err := rec.Claim(job, w.owner, now, now.Add(minLease)); err != nil {
			d, err := w.refused(rec, err)
			return d, rec, err
		}
		rec = rec.Learn(job) // Meta's creation time may close the window earlier than we thought
	}
	if w.skip != "" {
		return w.close(ctx, rec, w.skip)
	}
	if !now.Before(rec.Deadline) {
		n, err := rec.Expire(now)
		if err != nil {
			return Decision{}, rec, err
		}
		return w.save(ctx, rec, n, closedDecision(n))
	}
	if w.parked != "" {
		return w.park(ctx, rec, now.Add(parkWait(w.parked, rec, now)), w.parked)
	}
	if !w.acct.Healthy() {
		return w.park(ctx, rec, now.Add(r.cfg.UnhealthyRecheck), ParkUnhealthy)
	}
	if job.Kind == reply.KindLive && job.MediaID != "" {
		// Without a media id there is nothing to ask about; Meta's 10/2534022 decides then.
		if err := w.needToken(ctx); err != nil {
			return w.park(ctx, rec, now.Add(parkWait(ParkTokenUnavailable, rec, now)), ParkTokenUnavailable)
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
			return w.save(ctx, rec, n, closedDecision(n))
		}
	}
	// The sweeper took a token when it released the record, and it still lives; but not while
	// Meta's usage or a throttle holds the lane: a token granted before the hold is given up.
	granted := (w.haveToken || rec.Granted(w.acct.Limit(lane), now)) && !r.heldAt(w.acct.ID, lane, now)
	if !granted && rec.Version == 0 {
		// A new comment in a backlog: park it in one write, without claiming first.
		if ok, retryAt := r.peek(w.acct, lane, now); !ok && !waits(w.acct.Limit(lane), now, retryAt) {
			return w.park(ctx, rec, retryAt, ParkRateLimited)
		}
	}
	// Fetched before the claim: a token that cannot be read parks the record for the sweeper.
	if err := w.needToken(ctx); err != nil {
		return w.park(ctx, rec, now.Add(parkWait(ParkTokenUnavailable, rec, now)), ParkTokenUnavailable)
	}
	leaseUntil, err := r.leaseUntil(ctx)
	if err != nil {
		return w.park(ctx, rec, now, ParkNoTime)
	}
	claimed, err := w.claim(ctx, rec, leaseUntil)
	if err != nil {
		return Decision{}, claimed, err
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

// claim takes the lease on rec until leaseUntil, with the funnel guard the reply needs: in the
// record's create for a new comment, or first on its own for a record that was written before
// its person or media was known.
func (w *work) claim(ctx context.Context, rec reply.Record, leaseUntil time.Time) (reply.Record, error) {
	claimed, err := rec.Claim(w.job, w.owner, w.r.clock.Now(), leaseUntil)
	if err != nil {
		return rec, err
	}
	if claimed.Job.Funnel() == "" && w.job.Funnel() != "" {
		claimed.Job = w.job // what Meta told us of the comment is kept for the next look
	}
	if claimed.Funnel == "" && w.funnel != "" {
		claimed.Funnel = w.funnel
		if rec.Version > 0 {
			if err := w.r.store.HoldFunnel(ctx, claimed); err != nil {
				return rec, w.guardLost(ctx, rec, err)
			}
		}
	}
	return w.write(ctx, rec, claimed)
}

// guardLost turns a funnel guard held by another comment into a skip, decided again. A record
// written before its person was known, whose person has since been forgotten, is removed.
func (w *work) guardLost(ctx context.Context, rec reply.Record, err error) error {
	switch {
	case errors.Is(err, reply.ErrForgotten) && rec.Version > 0:
		if derr := w.r.store.Delete(ctx, rec.Key); derr != nil {
			return fmt.Errorf("remove the record of a forgotten person: %w", derr)
		}
		return err
	case !errors.Is(err, reply.ErrOtherOwner):
		return fmt.Errorf("funnel %s: %w", w.funnel, err)
	}
	w.skip, w.funnel = reply.SkipDuplicatePerson, ""
	return fmt.Errorf("%w: %v", errAgain, err)
}

// needToken fetches the account's access token once per job (the Tokens adapter caches it).
func (w *work) needToken(ctx context.Context) error {
	if w.token != "" {
		return nil
	}
	tok, err := w.r.tokens.Token(ctx, w.acct)
	if err != nil {
		// The account cannot send while its token cannot be read: AttentionAlarm says so.
		w.r.m.Count(MetricTokenUnavailable, 1)
		w.r.m.Count(MetricAccountUnhealthy, 1)
		w.r.log.Error("account token unavailable", "account", w.acct.ID, "err", err)
		return fmt.Errorf("token of account %s: %w", w.acct.ID, err)
	}
	w.token = tok
	return nil
}

// closedDecision is the decision for a record closed because its window or broadcast ended.
func closedDecision(n reply.Record) Decision {
	if n.State == reply.StateAmbiguous {
		return Decision{Action: ActionAmbiguous, Reason: n.Reason}
	}
	return Decision{Action: ActionExpired, Reason: n.Reason}
}

// close records the comment as SKIPPED: in one create when it has no record, else under a lease
// taken for the purpose (a parked or re-driven record whose rule is gone, say). A record whose
// earlier send may have been delivered ends AMBIGUOUS instead: SKIPPED would hide a DM.
func (w *work) close(ctx context.Context, rec reply.Record, reason string) (Decision, reply.Record, error) {
	now := w.r.clock.Now()
	d := Decision{Action: ActionSkipped, Reason: reason}
	if rec.Version == 0 {
		return w.save(ctx, rec, reply.NewSkipped(w.job, reason, now), d)
	}
	claimed, err := rec.Claim(w.job, w.owner, now, now.Add(minLease))
	if err != nil {
		d, err := w.refused(rec, err)
		return d, rec, err
	}
	if stored, err := w.write(ctx, rec, claimed); err != nil {
		return Decision{}, stored, err
	}
	o := reply.Skipped(reason)
	if rec.Attempts > 0 {
		o = reply.Outcome{State: reply.StateAmbiguous, Reason: reply.AmbiguousSkip, Detail: reason}
		d = Decision{Action: ActionAmbiguous, Reason: reply.AmbiguousSkip}
	}
	d, err = w.finish(ctx, claimed, o, false, d)
	return d, claimed, err
}

// refused turns the domain's reasons not to claim into decisions that need no retry.
func (w *work) refused(rec reply.Record, err error) (Decision, error) {
	switch {
	case errors.Is(err, reply.ErrDone):
		return Decision{Action: ActionDone, Reason: rec.Reason, Record: rec}, nil
	case errors.Is(err, reply.ErrBusy):
		// The lease holder finishes it, or the sweeper releases or expires it: ack the message.
		return Decision{Action: ActionBusy, Reason: string(rec.State), Record: rec, RetryAt: rec.DueAt}, nil
	}
	return Decision{}, err
}

// write stores n, derived from prev, with the matching conditional write. A lost write returns
// the stored record and errAgain; a tombstone, an error wrapping reply.ErrForgotten.
func (w *work) write(ctx context.Context, prev, n reply.Record) (reply.Record, error) {
	var (
		stored reply.Record
		err    error
	)
	n = w.attribute(n)
	if prev.Version == 0 {
		stored, err = w.r.store.Create(ctx, n)
	} else {
		stored, err = w.r.store.Update(ctx, n)
	}
	switch {
	case errors.Is(err, reply.ErrForgotten):
		return prev, err
	case errors.Is(err, reply.ErrOtherOwner):
		return prev, w.guardLost(ctx, prev, err)
	case errors.Is(err, reply.ErrExists), errors.Is(err, reply.ErrConflict), errors.Is(err, reply.ErrNotFound):
		if n.Owner != "" && ours(stored, n) {
			return n, nil // our claim landed; only this worker writes its owner id
		}
		if stored.Version == 0 {
			// Deleted under us (data deletion): start over as a new comment; the tombstone, if
			// any, refuses the create.
			stored = reply.NewRecord(w.job, w.r.clock.Now())
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
	stored, err := w.write(ctx, prev, n)
	if err != nil {
		return Decision{}, stored, err
	}
	n = stored // as written: with its attribution
	d.Record = n
	w.r.count(d)
	return d, n, nil
}

// park sets a record that nobody holds aside until `until`: in one create for a new comment
// (with the funnel guard when the reply will need one); otherwise the domain allows parking only
// under a lease, so claim first.
func (w *work) park(ctx context.Context, rec reply.Record, until time.Time, reason string) (Decision, reply.Record, error) {
	now := w.r.clock.Now()
	if rec.Version == 0 {
		n := reply.NewParked(w.job, until, reason, now)
		n.Funnel = w.funnel
		if w.detail != "" {
			n.Detail = w.detail
		}
		return w.save(ctx, rec, n, Decision{Action: ActionParked, Reason: reason, RetryAt: n.DueAt})
	}
	claimed, err := w.claim(ctx, rec, now.Add(minLease))
	if err != nil {
		return Decision{}, claimed, err
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
	if w.detail != "" && reason == w.parked {
		n.Detail = w.detail
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
// uncertain attempt), so the message is acknowledged. A write whose answer never came is read
// back, so that a landed outcome is counted once, here, and not left to a retry that would find
// it terminal and count nothing.
func (w *work) settle(ctx context.Context, n reply.Record, d Decision) (Decision, error) {
	n = w.attribute(n)
	stored, err := w.r.store.Update(ctx, n)
	if err != nil && !errors.Is(err, reply.ErrConflict) && !errors.Is(err, reply.ErrNotFound) {
		stored, err = w.readBack(ctx, n, err)
	}
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

// readBackTries bounds the reads that settle an outcome write whose answer was lost.
const readBackTries = 3

// readBack reads the record after a write that failed without an answer. It returns the stored
// record and ErrConflict when it is known (ours or not: the caller compares), or the write's own
// error when the record could not be read.
func (w *work) readBack(ctx context.Context, n reply.Record, writeErr error) (reply.Record, error) {
	for range readBackTries {
		stored, err := w.r.store.Get(ctx, n.Key)
		switch {
		case errors.Is(err, reply.ErrNotFound):
			return reply.Record{}, fmt.Errorf("record %s: %w", n.Key, reply.ErrNotFound)
		case err == nil && stored.Version >= n.Version:
			return stored, fmt.Errorf("record %s: %w", n.Key, reply.ErrConflict)
		case err == nil:
			// The write did not land: the record is still ours to write.
			if _, err := w.r.store.Update(ctx, n); err == nil {
				return n, nil
			}
		}
	}
	return reply.Record{}, writeErr
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
	lane := job.Lane()
	out := w.rule.Opening(w.text)
	if r.links != nil {
		out = r.links.Track(sendCtx, w.acct, reply.Origin{Account: job.AccountID, Rule: w.rule.Name, Media: job.FunnelMedia(), Person: job.Person()}, out)
	}
	res, err := r.graph.PrivateReply(sendCtx, w.acct, w.token, job.CommentID, out)
	cancel()
	now := r.clock.Now()
	code, detail := codeOf(err), detailOf(err)
	v := reply.Classify(err)
	if v != reply.VerdictThrottled { // a throttle holds the lane longer anyway
		w.pace(ctx, lane, res, now)
	}
	switch v {
	case reply.VerdictSent:
		d, err := w.finish(ctx, claimed, reply.Sent(res.MessageID, res.RecipientID), true, Decision{Action: ActionSent})
		if err == nil && d.Action == ActionSent {
			w.joinFlow(ctx)
			w.publicReply(ctx)
		}
		return d, err
	case reply.VerdictExpired:
		return w.refusal(ctx, claimed, reply.StateExpired, code, detail)
	case reply.VerdictAlreadyReplied:
		if claimed.Uncertain {
			// Meta allows one reply per comment: an earlier attempt we could not confirm arrived.
			d, err := w.finish(ctx, claimed, reply.Outcome{State: reply.StateSent, Reason: ReasonDeliveredBefore, Detail: detail}, true,
				Decision{Action: ActionSent, Reason: ReasonDeliveredBefore})
			if err == nil && d.Action == ActionSent {
				w.joinFlow(ctx)
				w.publicReply(ctx) // the earlier holder never reached it: it comes after recording
			}
			return d, err
		}
		return w.finish(ctx, claimed, reply.Outcome{State: reply.StateFailed, Reason: code, Detail: detail}, true,
			Decision{Action: ActionFailed, Reason: code})
	case reply.VerdictPermanent:
		return w.refusal(ctx, claimed, reply.StateFailed, code, detail)
	case reply.VerdictAccount:
		w.acct = r.markUnhealthy(ctx, w.acct, code)
		return w.refusal(ctx, claimed, reply.StateFailed, code, detail)
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
		if attempted && w.exhausted(claimed, now) {
			r.log.Warn("uncertain retries exhausted: the DM may have been delivered", "account", job.AccountID,
				"comment", job.CommentID, "attempts", claimed.Attempts)
			return w.finish(ctx, claimed, reply.Outcome{State: reply.StateAmbiguous, Reason: reply.AmbiguousRetries, Detail: detail}, true,
				Decision{Action: ActionAmbiguous, Reason: reply.AmbiguousRetries})
		}
		wait := uncertainWait(lane, claimed.Attempts, r.cfg.UncertainAttempts, r.cfg.UncertainPeriod)
		return w.parkClaimed(ctx, claimed, now.Add(wait), ParkUncertain, attempted)
	}
}

// joinFlow puts the person into the rule's flow, so that their answer finds the steps that
// follow this private reply (taps find theirs by payload anyway). It opens no window: only the
// person's answer does. A failure costs keyword and any-answer steps only, so it is logged.
func (w *work) joinFlow(ctx context.Context) {
	if len(w.rule.Flow) == 0 || w.job.FromID == "" {
		return
	}
	t := reply.Touch{AccountID: w.job.AccountID, PersonID: w.job.FromID, Rule: w.rule.Name, Username: w.job.FromUsername, Now: w.r.clock.Now()}
	if _, err := w.r.store.Touch(ctx, t); err != nil {
		w.r.log.Error("join flow", "account", w.job.AccountID, "comment", w.job.CommentID, "rule", w.rule.Name, "err", err)
	}
}

// refusal records Meta's refusal for good (state EXPIRED or FAILED, Reason its code). After an
// uncertain attempt the refusal says nothing of that attempt, which may have arrived: the record
// ends AMBIGUOUS with Meta's code as its detail, so Expired and Failed never hide a DM.
func (w *work) refusal(ctx context.Context, claimed reply.Record, state reply.State, code, detail string) (Decision, error) {
	if claimed.Uncertain {
		reason := reply.AmbiguousRefused
		if state == reply.StateExpired {
			reason = reply.AmbiguousWindow
		}
		return w.finish(ctx, claimed, reply.Outcome{State: reply.StateAmbiguous, Reason: reason, Detail: code + ": " + detail}, true,
			Decision{Action: ActionAmbiguous, Reason: reason})
	}
	action := ActionFailed
	if state == reply.StateExpired {
		action = ActionExpired
	}
	return w.finish(ctx, claimed, reply.Outcome{State: state, Reason: code, Detail: detail}, true, Decision{Action: action, Reason: code})
}

// exhausted reports whether a send that may have been delivered has had its bounded retries:
// claimed.Attempts counts this one, and UncertainSince dates the first.
func (w *work) exhausted(claimed reply.Record, now time.Time) bool {
	cfg := w.r.cfg
	return claimed.Attempts >= cfg.UncertainAttempts ||
		(!claimed.UncertainSince.IsZero() && now.Sub(claimed.UncertainSince) >= cfg.UncertainPeriod)
}

// pace holds the lane when Meta's usage header shows the account's allowance shared with other
// apps and too little of it left (brake), before Meta must refuse; Meta's own estimate of when
// access is regained, when it gives one, is waited out too.
func (w *work) pace(ctx context.Context, lane reply.Lane, res reply.SendResult, now time.Time) {
	lim := w.acct.Limit(lane)
	wait, ok := w.r.brake(ctx, w.acct.ID, lane, lim, res.Usage, now)
	if !ok {
		return
	}
	wait = max(wait, res.RegainAfter)
	w.r.log.Info("lane held: other apps share the allowance", "account", w.job.AccountID, "lane", lane, "usage", res.Usage, "wait", wait)
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
	case ActionAmbiguous:
		r.m.Count(MetricAmbiguous, 1, "Reason", d.Reason)
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
