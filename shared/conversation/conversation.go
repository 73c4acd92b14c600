// Package conversation carries a conversation on after the private reply: each messaging event
// (a tap, an answer, a DM, a human's echo) moves the person's 24-hour window and runs the step
// of the flow it triggers, and each automated message is claimed, paced by its Send API lane,
// sent only inside the window and recorded with Meta's answer, like a private reply.
package conversation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// Metric names (EMF, namespace ReplyWindow, dimension Function=replier).
const (
	MetricOpened       = "ConversationsOpened" // a person's message or tap opened a closed window
	MetricSent         = "FollowUpsSent"
	MetricGateBlocked  = "FollowGateBlocked" // a gated step found the person not following (or Meta could not say)
	MetricExpired      = "FollowUpsExpired"  // the window closed before the message could go
	MetricHumanPaused  = "HumanPaused"       // a person on the account answered: automation paused
	MetricNoStep       = "NoStep"            // dimension Reason: an event that triggers nothing
	MetricFailed       = "FollowUpsFailed"   // dimension Code
	MetricParked       = "FollowUpsParked"   // dimension Reason
	MetricAmbiguous    = "FollowUpsAmbiguous"
	MetricGateNoAnswer = "FollowGateUnavailable" // the profile API did not answer
)

// Reasons recorded on follow-up records and in the NoStep metric.
const (
	ReasonNoAccount     = "no_account"
	ReasonOwnEcho       = "own_echo"     // the echo of a message replywindow sent
	ReasonPauseOff      = "pause_off"    // an echo, and no app ids to tell ours from a human's
	ReasonReaction      = "reaction"     // reactions open no window and trigger nothing
	ReasonNoTrigger     = "no_trigger"   // an answer no step or DM rule takes
	ReasonUnknownTap    = "unknown_tap"  // a payload no step has (an old button, an edited flow)
	ReasonPaused        = "human_paused" // a human is answering the person
	ReasonAlreadySent   = "already_sent" // the step went out already (or is inside its cooldown)
	ReasonWindowClosed  = "window_closed"
	ReasonFlowChanged   = "flow_changed" // the step or message is gone from the account's flows
	ReasonForgotten     = "forgotten"
	ReasonInvalid       = "invalid_message"
	ReasonUncertainSend = "uncertain_follow_up"   // Meta may have delivered it; no second try
	ParkRateLimited     = reply.ReasonRateLimited // waits in its account lane's line for the sweeper
	ParkThrottled       = "throttled"
	ParkNotSent         = "not_sent"
	ParkToken           = "token_unavailable"
)

// Waits before a parked follow-up is released again.
const (
	notSentWait  = 30 * time.Second
	throttleWait = time.Second // the Send API lanes are per second
	tokenWait    = 15 * time.Minute
)

// Pacer is the account's rate lanes: the replier's GCRA buckets.
type Pacer interface {
	// Take takes one send from the lane, or says when one will be free.
	Take(ctx context.Context, a reply.Account, lane reply.Lane) (bool, time.Time, error)
}

// Accounts reads account configuration (the replier's cache).
type Accounts func(ctx context.Context, id string) (reply.Account, error)

// Result is what handling one job did.
type Result struct {
	Action string // "sent", "parked", "skipped", "expired", "failed", "ambiguous", "busy", "done", "paused", "ignored"
	Reason string
	Sent   int // messages sent by this job
}

// Service handles conversation jobs. It is safe for concurrent use.
type Service struct {
	store    reply.Store
	msgr     reply.Messenger
	tokens   reply.Tokens
	pacer    Pacer
	accounts Accounts
	clock    reply.Clock
	m        *telemetry.Metrics
	log      *slog.Logger
	appIDs   map[string]bool
}

// New is a Service. appIDs are the Meta app ids replywindow sends as: an echo from one of them is
// ours, any other echo is a person on the account answering.
func New(store reply.Store, msgr reply.Messenger, tokens reply.Tokens, pacer Pacer, accounts Accounts,
	appIDs []string, clock reply.Clock, m *telemetry.Metrics, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = telemetry.NewMetrics("replier")
	}
	ids := map[string]bool{}
	for _, id := range appIDs {
		ids[id] = true
	}
	return &Service{store: store, msgr: msgr, tokens: tokens, pacer: pacer, accounts: accounts,
		clock: clock, m: m, log: log, appIDs: ids}
}

// Lease is the claim a job's records are written with: owner holds them until Until.
type Lease struct {
	Owner string
	Until time.Time
}

// Handle carries out one conversation job: a messaging event, or a follow-up the sweeper
// released. An error means the job should be retried.
func (s *Service) Handle(ctx context.Context, job reply.Job, l Lease) (Result, error) {
	switch {
	case job.Event != nil:
		return s.event(ctx, job, l)
	case job.FollowUp != nil:
		return s.followUp(ctx, job, l)
	}
	return Result{}, fmt.Errorf("%w: neither an event nor a follow-up", reply.ErrInvalidJob)
}

func (s *Service) event(ctx context.Context, job reply.Job, l Lease) (Result, error) {
	ev, now := *job.Event, s.clock.Now()
	acct, err := s.accounts(ctx, job.AccountID)
	switch {
	case errors.Is(err, reply.ErrNotFound):
		return s.ignore(ReasonNoAccount), nil
	case err != nil:
		return Result{}, err
	}
	touch := reply.Touch{AccountID: acct.ID, PersonID: ev.PersonID, At: ev.At, Now: now}
	switch ev.Kind {
	case reply.EventEcho:
		if s.appIDs[ev.AppID] {
			return Result{Action: "ignored", Reason: ReasonOwnEcho}, nil
		}
		if len(s.appIDs) == 0 {
			// Without our app ids our own echoes look like a human's: pausing on them would stop
			// every funnel after its first message. The pause is off until META_APP_IDS is set.
			return s.ignore(ReasonPauseOff), nil
		}
		touch.Pause = acct.Pause()
		if _, err := s.store.Touch(ctx, touch); err != nil {
			return Result{}, fmt.Errorf("pause conversation: %w", err)
		}
		s.m.Count(MetricHumanPaused, 1)
		return Result{Action: "paused", Reason: ReasonPaused}, nil
	case reply.EventReaction:
		return s.ignore(ReasonReaction), nil
	}
	before, err := s.store.Touch(ctx, touch)
	if err != nil {
		return Result{}, fmt.Errorf("touch conversation: %w", err)
	}
	conv := before.Touched(touch)
	if !before.Open(ev.At) {
		s.m.Count(MetricOpened, 1)
	}
	flow, ok := acct.Route(conv, ev)
	switch {
	case !ok && ev.Payload != "" && ev.Kind == reply.EventPostback:
		return s.ignore(ReasonUnknownTap), nil
	case !ok:
		return s.ignore(ReasonNoTrigger), nil
	case conv.Paused(now):
		return s.ignore(ReasonPaused), nil
	case !conv.Due(flow.Step, now):
		return s.ignore(ReasonAlreadySent), nil
	case !conv.Open(now):
		s.m.Count(MetricExpired, 1)
		return Result{Action: "expired", Reason: ReasonWindowClosed}, nil
	}
	// Without a token (SSM failing) the event is still claimed and its messages parked: retried
	// by the queue instead, a tap would be lost to the dead-letter queue in a long outage.
	token, tokenErr := s.tokens.Token(ctx, acct)
	if tokenErr != nil {
		s.log.Warn("token unavailable: follow-up parked", "account", acct.ID, "step", flow.Step.Name, "err", tokenErr)
	}
	msgs, gated := flow.Step.Messages, false
	if g := flow.Step.Gate; g != nil {
		p, err := reply.Profile{}, tokenErr
		if tokenErr == nil {
			p, err = s.msgr.Profile(ctx, acct, token, ev.PersonID)
		}
		switch {
		case err != nil:
			s.m.Count(MetricGateNoAnswer, 1)
			s.log.Warn("follow gate: profile unavailable", "account", acct.ID, "step", flow.Step.Name, "fallback", g.Unavailable, "err", err)
			gated = g.Unavailable == reply.GateAsk
		case !p.Following:
			gated = true
		}
		if err == nil && conv.Username == "" {
			conv.Username = p.Username
		}
		if gated {
			s.m.Count(MetricGateBlocked, 1)
			msgs = []reply.Message{g.Message}
		}
	}
	recs := make([]reply.Record, len(msgs))
	for i, m := range msgs {
		f := reply.FollowUp{PersonID: ev.PersonID, Rule: flow.Rule, Step: flow.Step.Name, Index: i, Gate: gated,
			Trigger: ev.MID, Once: !flow.Step.Resend && !gated, Disclose: i == 0 && conv.Disclose(now, acct.Lapse()),
			Username: conv.Username, Lane: m.Lane(), Deadline: conv.WindowEnd}
		fj := reply.Job{V: reply.JobVersion, AccountID: acct.ID, FollowUp: &f, DeliveredAt: job.DeliveredAt}
		rec, err := reply.NewRecord(fj, now).Claim(fj, l.Owner, now, l.Until)
		if err != nil {
			return Result{}, fmt.Errorf("claim follow-up %s: %w", fj.Key(), err)
		}
		recs[i] = rec
	}
	if err := s.claim(ctx, recs, gated, reply.StepClaim{AccountID: acct.ID, PersonID: ev.PersonID, Rule: flow.Rule, Step: flow.Step, At: now}); err != nil {
		if errors.Is(err, reply.ErrForgotten) {
			// The person asked for deletion and this event was already on its way: the touch
			// above must not leave their conversation behind.
			if derr := s.store.DeleteConversation(ctx, acct.ID, ev.PersonID); derr != nil {
				return Result{}, fmt.Errorf("delete a forgotten person's conversation: %w", derr)
			}
		}
		return s.claimLost(err)
	}
	if tokenErr != nil {
		for _, rec := range recs {
			if _, _, err := s.park(ctx, rec, now.Add(tokenWait), ParkToken, false); err != nil {
				return Result{}, err
			}
		}
		return Result{Action: "parked", Reason: ParkToken}, nil
	}
	return s.sendAll(ctx, acct, token, recs, msgs)
}

// claim writes the records with the step's send time in the conversation. A gate's message is
// claimed as a step of its own that every tap may send again, so the step itself stays due for
// the tap after the person followed.
func (s *Service) claim(ctx context.Context, recs []reply.Record, gated bool, c reply.StepClaim) error {
	if gated {
		c.Step = reply.Step{Name: c.Step.Name + "#gate", Resend: true}
	}
	_, err := s.store.ClaimStep(ctx, recs, c)
	return err
}

// claimLost says what a refused claim means: a duplicate of the same trigger, a step another
// trigger sent, a forgotten person.
func (s *Service) claimLost(err error) (Result, error) {
	switch {
	case errors.Is(err, reply.ErrExists):
		// The records are there: a duplicate delivery. Whoever holds them finishes them, and the
		// sweeper re-drives them if that holder died.
		return Result{Action: "done", Reason: "duplicate"}, nil
	case errors.Is(err, reply.ErrConflict):
		return s.ignore(ReasonAlreadySent), nil
	case errors.Is(err, reply.ErrForgotten):
		return s.ignore(ReasonForgotten), nil
	}
	return Result{}, fmt.Errorf("claim step: %w", err)
}

func (s *Service) ignore(reason string) Result {
	s.m.Count(MetricNoStep, 1, "Reason", reason)
	return Result{Action: "ignored", Reason: reason}
}

// sendAll sends a step's messages in order. When one must wait, the ones after it wait with it.
func (s *Service) sendAll(ctx context.Context, acct reply.Account, token string, recs []reply.Record, msgs []reply.Message) (Result, error) {
	var res Result
	for i, rec := range recs {
		r, n, err := s.send(ctx, acct, token, rec, msgs[i])
		res.Sent += r.Sent
		if err != nil {
			return res, err
		}
		res.Action, res.Reason = r.Action, r.Reason
		if r.Action == "parked" {
			for _, later := range recs[i+1:] {
				if _, _, err := s.park(ctx, later, n.DueAt, r.Reason, false); err != nil {
					return res, err
				}
			}
			break
		}
	}
	return res, nil
}

// followUp is a parked or orphaned follow-up the sweeper put back on the queue.
func (s *Service) followUp(ctx context.Context, job reply.Job, l Lease) (Result, error) {
	f, now := *job.FollowUp, s.clock.Now()
	rec, err := s.store.Get(ctx, job.Key())
	switch {
	case errors.Is(err, reply.ErrNotFound):
		return Result{Action: "done", Reason: "no_record"}, nil // deleted on request, or expired
	case err != nil:
		return Result{}, err
	}
	claimed, err := rec.Claim(job, l.Owner, now, l.Until)
	switch {
	case errors.Is(err, reply.ErrDone):
		return Result{Action: "done"}, nil
	case err != nil:
		return Result{Action: "busy"}, nil
	}
	if claimed, err = s.store.Update(ctx, claimed); err != nil {
		if errors.Is(err, reply.ErrConflict) {
			return Result{Action: "busy"}, nil
		}
		return Result{}, err
	}
	if claimed.Uncertain {
		// An earlier holder's lease ran out without an outcome: it may have died after Meta
		// accepted the message. The Send API has no one-message rule to stop a second copy.
		r, _, err := s.finish(ctx, claimed, reply.Outcome{State: reply.StateAmbiguous, Reason: ReasonUncertainSend,
			Detail: "an earlier holder's lease ran out without an outcome"}, false)
		return r, err
	}
	acct, err := s.accounts(ctx, job.AccountID)
	if errors.Is(err, reply.ErrNotFound) {
		r, _, err := s.finish(ctx, claimed, reply.Skipped(ReasonNoAccount), false)
		return r, err
	}
	if err != nil {
		return Result{}, err
	}
	m, ok := acct.StepMessage(f)
	if !ok {
		r, _, err := s.finish(ctx, claimed, reply.Skipped(ReasonFlowChanged), false)
		return r, err
	}
	conv, err := s.store.Conversation(ctx, acct.ID, f.PersonID)
	if err != nil && !errors.Is(err, reply.ErrNotFound) {
		return Result{}, err
	}
	if conv.Paused(now) {
		r, _, err := s.finish(ctx, claimed, reply.Skipped(ReasonPaused), false)
		return r, err
	}
	token, err := s.tokens.Token(ctx, acct)
	if err != nil {
		r, _, err := s.park(ctx, claimed, now.Add(tokenWait), ParkToken, false)
		return r, err
	}
	r, _, err := s.send(ctx, acct, token, claimed, m)
	return r, err
}

// send sends one claimed follow-up and records Meta's answer.
func (s *Service) send(ctx context.Context, acct reply.Account, token string, rec reply.Record, m reply.Message) (Result, reply.Record, error) {
	f, now := *rec.Job.FollowUp, s.clock.Now()
	if !now.Before(rec.Deadline) {
		return s.finish(ctx, rec, reply.Outcome{State: reply.StateExpired, Reason: ReasonWindowClosed}, false)
	}
	ok, retryAt, err := s.pacer.Take(ctx, acct, rec.Lane)
	if err != nil {
		return Result{}, rec, err // the lease runs out and the sweeper re-drives the record
	}
	if !ok {
		return s.park(ctx, rec, retryAt, ParkRateLimited, false)
	}
	out, err := m.Render(f.Username, acct.Disclosure, f.Disclose)
	if err != nil {
		return s.finish(ctx, rec, reply.Outcome{State: reply.StateFailed, Reason: ReasonInvalid, Detail: err.Error()}, false)
	}
	sendCtx, cancel := context.WithTimeout(ctx, rec.LeaseUntil.Sub(s.clock.Now()))
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
		return s.finish(ctx, rec, reply.Sent(res.MessageID, res.RecipientID), true)
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
