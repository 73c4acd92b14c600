package conversation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// sendTurn sends a step's claimed messages one after the other, each after the previous one's
// answer. When one must wait, the ones after it are held behind it; owed says whether the
// disclosure line is still to be delivered (a refused message that carried it passes it on).
func (s *Service) sendTurn(ctx context.Context, acct reply.Account, token string, recs []reply.Record, msgs []reply.Message, owed bool) (Result, error) {
	var res Result
	for i, rec := range recs {
		r, n, err := s.send(ctx, acct, token, rec, &msgs[i], owed)
		res.Sent += r.Sent
		if err != nil {
			return res, err
		}
		res.Action, res.Reason = r.Action, r.Reason
		if n.State == reply.StateParked {
			return res, s.hold(ctx, recs[i+1:], n.DueAt)
		}
		if rest := endsTurn(n); rest != nil {
			return res, s.cut(ctx, recs[i+1:], *rest)
		}
		owed = owed && !(n.State == reply.StateSent && msgs[i].CarriesText() && acct.Disclosure != "")
	}
	return res, nil
}

// endsTurn is the outcome of every message after n in its turn when none of them can land: the
// conversation's window closed (they expire with it), or Meta refused the person (they are
// skipped). nil: the turn goes on.
func endsTurn(n reply.Record) *reply.Outcome {
	switch {
	case n.State == reply.StateExpired:
		return &reply.Outcome{State: reply.StateExpired, Reason: n.Reason}
	case n.State == reply.StateFailed && reply.Unreachable(n.Reason):
		o := reply.Skipped(ReasonTurnEnded)
		o.Detail = "Meta refused the person (" + n.Reason + ") for the message before it"
		return &o
	}
	return nil
}

// cut ends a turn's later messages with rest, without a call: each would only be refused like
// the one before it.
func (s *Service) cut(ctx context.Context, recs []reply.Record, rest reply.Outcome) error {
	for _, rec := range recs {
		if _, _, err := s.finish(ctx, rec, rest, false); err != nil {
			return err
		}
	}
	return nil
}

// hold parks a turn's later messages behind the one that waits: the sweeper hands each back
// when until passes, and it goes only once the one before it has its answer.
func (s *Service) hold(ctx context.Context, recs []reply.Record, until time.Time) error {
	for _, rec := range recs {
		if _, _, err := s.park(ctx, rec, until.Add(notSentWait), ParkHeld, false); err != nil {
			return err
		}
	}
	return nil
}

// followUp is a parked or orphaned follow-up the sweeper put back on the queue. Once it has its
// answer, the turn goes on with the message after it.
func (s *Service) followUp(ctx context.Context, job reply.Job, l Lease) (Result, error) {
	rec, err := s.store.Get(ctx, job.Key())
	switch {
	case errors.Is(err, reply.ErrNotFound):
		return Result{Action: "done", Reason: "no_record"}, nil // deleted on request, or expired
	case err != nil:
		return Result{}, err
	}
	var (
		res  Result
		rest *reply.Outcome
	)
	for prevDone := false; ; prevDone = true {
		r, next, err := s.resume(ctx, job, rec, l, prevDone, rest)
		res.Sent += r.Sent
		if err != nil || next == nil {
			res.Action, res.Reason = r.Action, r.Reason
			return res, err
		}
		job, rec, rest = next.Job, next.Record, next.rest
	}
}

// held is the message held behind one that now has its answer, and its outcome when that
// answer ended the turn (nil: it goes on).
type held struct {
	reply.Record
	rest *reply.Outcome
}

// resume claims and sends one follow-up; next is the held message after it, due now that this
// one has its answer. prevDone says the message before it is known to have its answer; rest,
// that this answer ended the turn (the follow-up then ends so, without a call).
func (s *Service) resume(ctx context.Context, job reply.Job, rec reply.Record, l Lease, prevDone bool, rest *reply.Outcome) (Result, *held, error) {
	f, now := *job.FollowUp, s.clock.Now()
	waitFor := time.Time{} // when the message before it may have its answer, if it has none yet
	if prev, ok := f.Previous(); ok && !prevDone && !rec.State.Terminal() {
		var err error
		if waitFor, rest, err = s.before(ctx, job.AccountID, prev); err != nil {
			return Result{}, nil, err
		}
	}
	if prevDone && rec.State == reply.StateParked && rec.Reason == ParkHeld {
		rec.DueAt = now // nothing holds it any more
	}
	claimed, err := rec.Claim(job, l.Owner, now, l.Until)
	switch {
	case errors.Is(err, reply.ErrDone):
		return Result{Action: "done"}, nil, nil
	case err != nil:
		return Result{Action: "busy"}, nil, nil
	}
	if claimed, err = s.store.Update(ctx, claimed); err != nil {
		if errors.Is(err, reply.ErrConflict) {
			return Result{Action: "busy"}, nil, nil
		}
		return Result{}, nil, err
	}
	if !waitFor.IsZero() {
		r, _, err := s.park(ctx, claimed, waitFor.Add(notSentWait), ParkHeld, false)
		return r, nil, err
	}
	var (
		r Result
		n reply.Record
	)
	if rest != nil {
		r, n, err = s.finish(ctx, claimed, *rest, false)
	} else {
		r, n, err = s.decide(ctx, job, claimed)
	}
	if err != nil || !n.State.Terminal() {
		return r, nil, err
	}
	nf, ok := f.Next()
	if !ok {
		return r, nil, nil
	}
	nj := reply.Job{V: reply.JobVersion, AccountID: job.AccountID, FollowUp: &nf, DeliveredAt: job.DeliveredAt}
	next, err := s.store.Get(ctx, nj.Key())
	switch {
	case errors.Is(err, reply.ErrNotFound):
		return r, nil, nil
	case err != nil:
		// The held message is the sweeper's to hand back: this one's answer is recorded.
		s.log.Warn("turn: next message unreadable", "account", job.AccountID, "record", nj.Key(), "err", err)
		return r, nil, nil
	case next.State != reply.StateParked || next.Reason != ParkHeld:
		return r, nil, nil
	}
	if rest == nil {
		rest = endsTurn(n)
	}
	return r, &held{next, rest}, nil
}

// before is zero when the follow-up prev (the one before a released message in its turn) has its
// answer or is gone, else when it may have one; rest is the outcome for the messages after it
// when that answer ended the turn.
func (s *Service) before(ctx context.Context, account string, prev reply.FollowUp) (time.Time, *reply.Outcome, error) {
	pj := reply.Job{V: reply.JobVersion, AccountID: account, FollowUp: &prev}
	rec, err := s.store.Get(ctx, pj.Key())
	switch {
	case errors.Is(err, reply.ErrNotFound):
		return time.Time{}, nil, nil // gone (retention, deletion): nothing to wait for
	case err != nil:
		return time.Time{}, nil, fmt.Errorf("the message before %s: %w", pj.Key(), err)
	case rec.State.Terminal():
		return time.Time{}, endsTurn(rec), nil
	}
	return later(rec.DueAt, s.clock.Now()), nil, nil
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// decide ends or sends one claimed follow-up of the sweeper's.
func (s *Service) decide(ctx context.Context, job reply.Job, claimed reply.Record) (Result, reply.Record, error) {
	f, now := *job.FollowUp, s.clock.Now()
	if claimed.Uncertain {
		// An earlier holder's lease ran out without an outcome: it may have died after Meta
		// accepted the message. The Send API has no one-message rule to stop a second copy.
		return s.finish(ctx, claimed, reply.Outcome{State: reply.StateAmbiguous, Reason: ReasonUncertainSend,
			Detail: "an earlier holder's lease ran out without an outcome"}, false)
	}
	acct, err := s.accounts(ctx, job.AccountID)
	if errors.Is(err, reply.ErrNotFound) {
		return s.finish(ctx, claimed, reply.Skipped(ReasonNoAccount), false)
	}
	if err != nil {
		return Result{}, claimed, err
	}
	conv, err := s.store.Conversation(ctx, acct.ID, f.PersonID)
	if err != nil && !errors.Is(err, reply.ErrNotFound) {
		return Result{}, claimed, err
	}
	if conv.Paused(now) {
		return s.finish(ctx, claimed, reply.Skipped(ReasonPaused), false)
	}
	token, err := s.tokens.Token(ctx, acct)
	if err != nil {
		return s.park(ctx, claimed, now.Add(tokenWait), ParkToken, false)
	}
	return s.send(ctx, acct, token, claimed, nil, conv.Owes())
}

// send sends one claimed follow-up and records Meta's answer. m is its message when the caller
// has it (nil: found by the record's digest). owed adds the disclosure line to a message that
// can carry it although it was not claimed with it: one before it that carried it was refused.
func (s *Service) send(ctx context.Context, acct reply.Account, token string, rec reply.Record, m *reply.Message, owed bool) (Result, reply.Record, error) {
	f, now := *rec.Job.FollowUp, s.clock.Now()
	if !now.Before(rec.Deadline) {
		return s.finish(ctx, rec, reply.Outcome{State: reply.StateExpired, Reason: ReasonWindowClosed}, false)
	}
	if m == nil {
		found, ok := acct.StepMessage(f)
		if !ok {
			return s.finish(ctx, rec, reply.Skipped(ReasonFlowChanged), false)
		}
		m = &found
	}
	ok, retryAt, err := s.pacer.Take(ctx, acct, rec.Lane)
	if err != nil {
		// No call was made: the message waits, with no attempt counted, instead of being
		// taken over later as a send that may have landed.
		s.log.Warn("follow-up lane unavailable: parked", "account", acct.ID, "record", rec.Key, "err", err)
		return s.park(ctx, rec, now.Add(notSentWait), ParkBucket, false)
	}
	if !ok {
		return s.park(ctx, rec, retryAt, ParkRateLimited, false)
	}
	disclose := (f.Disclose || owed) && !f.Notice
	if f.Consent != "" {
		withConsent := m.WithConsent(f.Consent)
		m = &withConsent
	}
	out, err := m.Render(f.Username, acct.Disclosure, disclose)
	if err != nil {
		return s.finish(ctx, rec, reply.Outcome{State: reply.StateFailed, Reason: ReasonInvalid, Detail: err.Error()}, false)
	}
	sendCtx, cancel := context.WithTimeout(ctx, rec.LeaseUntil.Sub(s.clock.Now()))
	if s.links != nil {
		out = s.links.Track(sendCtx, acct, reply.Origin{Account: acct.ID, Rule: f.Rule, Person: f.PersonID}, out)
	}
	res, err := s.msgr.SendMessage(sendCtx, acct, token, f.PersonID, out, f.Trigger)
	cancel()
	now = s.clock.Now()
	code := ""
	var ge *reply.GraphError
	if errors.As(err, &ge) {
		code = ge.CodeString()
	}
	switch reply.Classify(err) {
	case reply.VerdictSent:
		r, n, ferr := s.finish(ctx, rec, reply.Sent(res.MessageID, res.RecipientID), true)
		if ferr == nil && (f.Notice || (disclose && m.CarriesText() && acct.Disclosure != "")) {
			s.disclosed(ctx, rec, now)
		}
		return r, n, ferr
	case reply.VerdictExpired:
		return s.finish(ctx, rec, reply.Outcome{State: reply.StateExpired, Reason: code}, true)
	case reply.VerdictThrottled:
		wait := throttleWait
		if ge != nil && ge.RetryAfter > 0 {
			wait = ge.RetryAfter
		}
		return s.park(ctx, rec, now.Add(wait), ParkThrottled, false)
	case reply.VerdictAuth:
		return s.park(ctx, rec, now.Add(tokenWait), ParkToken, false)
	case reply.VerdictUncertain:
		if errors.Is(err, reply.ErrNotSent) {
			return s.park(ctx, rec, now.Add(notSentWait), ParkNotSent, false)
		}
		// Meta has no one-message rule to stop a second copy: at most once wins.
		return s.finish(ctx, rec, reply.Outcome{State: reply.StateAmbiguous, Reason: ReasonUncertainSend, Detail: errString(err)}, true)
	}
	return s.finish(ctx, rec, reply.Outcome{State: reply.StateFailed, Reason: code, Detail: errString(err)}, true)
}

// disclosed records that the disclosure line reached the person. The message's own outcome is
// already recorded; failing here only means the line goes once more.
func (s *Service) disclosed(ctx context.Context, rec reply.Record, at time.Time) {
	err := s.store.Disclosed(ctx, rec.AccountID, rec.Job.FollowUp.PersonID, at)
	if err != nil {
		s.log.Warn("disclosure delivered but not recorded", "account", rec.AccountID, "record", rec.Key, "err", err)
	}
}

func (s *Service) finish(ctx context.Context, rec reply.Record, o reply.Outcome, attempted bool) (Result, reply.Record, error) {
	n, err := rec.Finish(o, attempted, s.clock.Now())
	if err != nil {
		return Result{}, rec, err
	}
	if n, err = s.store.Update(ctx, n); err != nil {
		return Result{}, rec, fmt.Errorf("record follow-up %s: %w", rec.Key, err)
	}
	r := Result{Action: string(o.State), Reason: o.Reason}
	switch o.State {
	case reply.StateSent:
		r.Action, r.Sent = "sent", 1
		s.m.Count(MetricSent, 1)
	case reply.StateExpired:
		r.Action = "expired"
		s.m.Count(MetricExpired, 1)
	case reply.StateFailed:
		r.Action = "failed"
		s.m.Count(MetricFailed, 1, "Code", o.Reason)
	case reply.StateAmbiguous:
		r.Action = "ambiguous"
		s.m.Count(MetricAmbiguous, 1)
	case reply.StateSkipped:
		r.Action = "skipped"
	}
	s.log.Info("follow-up", "account", rec.AccountID, "record", rec.Key, "state", o.State, "reason", o.Reason)
	return r, n, nil
}

func (s *Service) park(ctx context.Context, rec reply.Record, until time.Time, reason string, attempted bool) (Result, reply.Record, error) {
	n, err := rec.Park(until, reason, attempted, s.clock.Now())
	if err != nil {
		return Result{}, rec, err
	}
	if n, err = s.store.Update(ctx, n); err != nil {
		return Result{}, rec, fmt.Errorf("park follow-up %s: %w", rec.Key, err)
	}
	s.m.Count(MetricParked, 1, "Reason", reason)
	return Result{Action: "parked", Reason: reason}, n, nil
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return reply.RedactSecrets(err.Error())
}
