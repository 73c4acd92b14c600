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

	"github.com/replywindow/replywindow/shared/lead"
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
	// MetricUsernameUnknown: a message asks for {username} and the profile API did not say it.
	MetricUsernameUnknown = "UsernameUnknown"
)

// Reasons recorded on follow-up records and in the NoStep metric.
const (
	ReasonNoAccount     = "no_account"
	ReasonOwnEcho       = "own_echo"     // the echo of a message replywindow sent
	ReasonReaction      = "reaction"     // reactions open no window and trigger nothing
	ReasonNoTrigger     = "no_trigger"   // an answer no step or DM rule takes
	ReasonUnknownTap    = "unknown_tap"  // a payload no step has (an old button, an edited flow)
	ReasonPaused        = "human_paused" // a human is answering the person
	ReasonAlreadySent   = "already_sent" // the step went out already (or is inside its cooldown)
	ReasonWindowClosed  = "window_closed"
	ReasonFlowChanged   = "flow_changed" // the step or message is gone from the account's flows
	ReasonTurnEnded     = "turn_ended"   // the message before it was refused for the person, or its window closed
	ReasonForgotten     = "forgotten"
	ReasonInvalid       = "invalid_message"
	ReasonUncertainSend = "uncertain_follow_up"   // Meta may have delivered it; no second try
	ParkRateLimited     = reply.ReasonRateLimited // waits in its account lane's line for the sweeper
	ParkThrottled       = "throttled"
	ParkNotSent         = "not_sent"
	ParkToken           = "token_unavailable"
	// ParkHeld is a turn's message waiting for the one before it to have its answer: a step's
	// messages reach the person in the order written, whatever their lanes.
	ParkHeld = reply.ReasonHeld
	// ParkBucket is a message whose lane's bucket could not be written: no call was made.
	ParkBucket = "bucket_unavailable"
)

// Waits before a parked follow-up is released again.
const (
	notSentWait  = 30 * time.Second // also how often a held message looks at the one before it
	throttleWait = time.Second      // the Send API lanes are per second
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
	links    reply.Linker // nil: links go as written
	leads    lead.Store   // the store's leads (both stores keep them): answers to steps that ask
}

// TrackLinks has the links of every message the service sends go through l (nil: none).
func (s *Service) TrackLinks(l reply.Linker) { s.links = l }

// New is a Service. appIDs are the Meta app ids replywindow sends as (optional): an echo from one
// of them, or of a message id one of our records holds, is ours; any other is a person on the
// account answering.
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
	leads, _ := reply.StoreAs[lead.Store](store)
	return &Service{store: store, msgr: msgr, tokens: tokens, pacer: pacer, accounts: accounts,
		clock: clock, m: m, log: log, appIDs: ids, leads: leads}
}

// echoGrace is how long after one of our automated messages was claimed an echo naming no app
// may still be ours with Meta's id not yet on its record (or not yet in the index): such an echo
// is looked at again later instead of pausing the conversation.
const echoGrace = 30 * time.Second

// ErrEchoUnsettled is an echo that may be ours or a human's: the queue hands it back later.
var ErrEchoUnsettled = errors.New("echo not known yet: one of our messages to the person is in flight")

// ownEcho reports whether an echo is one of our own sends: by the app Meta names on it, else by
// the message id Meta answered our send with (Instagram echoes are not documented to carry
// app_id; Messenger's do).
func (s *Service) ownEcho(ctx context.Context, account string, ev reply.Event) (bool, error) {
	if s.appIDs[ev.AppID] {
		return true, nil
	}
	ours, err := s.store.SentMessage(ctx, ev.MID)
	if err != nil || ours || ev.AppID != "" {
		return ours, err
	}
	c, err := s.store.Conversation(ctx, account, ev.PersonID)
	if err != nil && !errors.Is(err, reply.ErrNotFound) {
		return false, err
	}
	if !c.LastAutomated.IsZero() && ev.At.Sub(c.LastAutomated) < echoGrace && s.clock.Now().Sub(ev.At) < echoGrace {
		return false, fmt.Errorf("echo %s: %w", ev.MID, ErrEchoUnsettled)
	}
	return false, nil
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
		switch own, err := s.ownEcho(ctx, acct.ID, ev); {
		case err != nil:
			return Result{}, err
		case own:
			return Result{Action: "ignored", Reason: ReasonOwnEcho}, nil
		}
		touch.Pause, touch.Echo = acct.Pause(), ev.MID
		switch _, err := s.store.Touch(ctx, touch); {
		case errors.Is(err, reply.ErrForgotten):
			return s.ignore(ReasonForgotten), nil
		case err != nil:
			return Result{}, fmt.Errorf("pause conversation: %w", err)
		}
		s.m.Count(MetricHumanPaused, 1)
		return Result{Action: "paused", Reason: ReasonPaused}, nil
	case reply.EventReaction:
		return s.ignore(ReasonReaction), nil
	}
	before, err := s.store.Touch(ctx, touch)
	switch {
	case errors.Is(err, reply.ErrForgotten):
		return s.ignore(ReasonForgotten), nil
	case err != nil:
		return Result{}, fmt.Errorf("touch conversation: %w", err)
	}
	conv := before.Touched(touch)
	if !before.Open(ev.At) {
		s.m.Count(MetricOpened, 1)
	}
	if q, ok := pending(acct, conv, ev); ok {
		return s.answer(ctx, job, acct, ev, conv, q, l)
	}
	flow, ok := acct.Route(conv, ev)
	s.refUnmapped(acct, ev, before.Moves(touch))
	claim := reply.StepClaim{AccountID: acct.ID, PersonID: ev.PersonID, Rule: flow.Rule, Step: flow.Step, At: now}
	switch {
	case !ok && ev.Kind == reply.EventReferral:
		return s.ignore(ReasonUnknownRef), nil
	case !ok && ev.Payload != "" && ev.Kind == reply.EventPostback:
		return s.ignore(ReasonUnknownTap), nil
	case !ok:
		return s.ignore(ReasonNoTrigger), nil
	case conv.Paused(now):
		return s.ignore(ReasonPaused), nil
	case !conv.Due(claim):
		return s.ignore(ReasonAlreadySent), nil
	case !conv.Open(now):
		s.m.Count(MetricExpired, 1)
		return Result{Action: "expired", Reason: ReasonWindowClosed}, nil
	}
	// Without a token (SSM failing) the event is still claimed and its messages parked: retried
	// by the queue instead, a tap would be lost to the dead-letter queue in a long outage.
	token, tokenErr := s.tokens.Token(ctx, acct)
	if tokenErr != nil {
		s.log.Warn("token unavailable: follow-up parked", "account", acct.ID, "step", flow.Step.Key(), "err", tokenErr)
	}
	msgs := s.askProfile(ctx, acct, token, tokenErr, ev.PersonID, flow.Step, &conv, &claim)
	claim.Disclose = acct.Disclosure != "" && conv.Disclose(now, acct.Lapse())
	recs, msgs, err := turn(job, acct, ev, conv, claim, msgs, l, now)
	if err != nil {
		return Result{}, err
	}
	first, err := s.store.ClaimStep(ctx, recs, claim)
	if err != nil {
		return s.claimLost(err)
	}
	recs[0] = first // as stored: the events outbox may have marked it, and cleared the mark
	s.entryAnswered(acct, ev, flow.Rule)
	if tokenErr != nil {
		r, _, err := s.park(ctx, recs[0], now.Add(tokenWait), ParkToken, false)
		if err != nil {
			return r, err
		}
		return r, s.hold(ctx, recs[1:], now.Add(tokenWait))
	}
	return s.sendTurn(ctx, acct, token, recs, msgs, claim.Disclose)
}

// askProfile asks the profile API, at most once, what the step needs: whether the person follows
// the account (a gated step: the gate's message instead of the step's when not), and their
// username when a message asks for it and the conversation has none (a person who started the
// conversation has none from a comment; their message gave the consent the API needs). It
// returns the messages to send; what it learned goes into conv and claim.
func (s *Service) askProfile(ctx context.Context, acct reply.Account, token string, tokenErr error, person string,
	step reply.Step, conv *reply.Conversation, claim *reply.StepClaim) []reply.Message {
	_, msgs := step.Variant(acct.ID, claim.Rule, person)
	g := step.Gate
	switch {
	case g == nil && (conv.Username != "" || !usesUsername(msgs)):
		// nothing to ask
	case tokenErr != nil:
		if g != nil {
			s.m.Count(MetricGateNoAnswer, 1)
			claim.Gate = g.Unavailable == reply.GateAsk
		}
	default:
		p, err := s.msgr.Profile(ctx, acct, token, person)
		switch {
		case err != nil && g != nil:
			s.m.Count(MetricGateNoAnswer, 1)
			s.log.Warn("follow gate: profile unavailable", "account", acct.ID, "step", step.Key(), "fallback", g.Unavailable, "err", err)
			claim.Gate = g.Unavailable == reply.GateAsk
		case err != nil:
			s.m.Count(MetricUsernameUnknown, 1)
			s.log.Warn("username unavailable: {username} renders empty", "account", acct.ID, "step", step.Key(), "err", err)
		case g != nil && !p.Following:
			claim.Gate = true
		case g != nil:
			claim.Followed = true
		}
		if err == nil && conv.Username == "" {
			conv.Username, claim.Username = p.Username, p.Username
		}
	}
	if claim.Gate {
		s.m.Count(MetricGateBlocked, 1)
		msgs = []reply.Message{g.Message}
	}
	return msgs
}

func usesUsername(msgs []reply.Message) bool {
	for _, m := range msgs {
		if m.UsesUsername() {
			return true
		}
	}
	return false
}

// turn is the claimed records of a step's messages, in the order they go out, and their
// messages: the disclosure line alone first when it is due and the first message cannot carry it.
func turn(job reply.Job, acct reply.Account, ev reply.Event, conv reply.Conversation, claim reply.StepClaim,
	msgs []reply.Message, l Lease, now time.Time) ([]reply.Record, []reply.Message, error) {
	notice := claim.Disclose && !msgs[0].CarriesText()
	if notice {
		msgs = append([]reply.Message{{Text: acct.Disclosure}}, msgs...)
	}
	recs := make([]reply.Record, len(msgs))
	for i, m := range msgs {
		f := reply.FollowUp{PersonID: ev.PersonID, Rule: claim.Rule, Step: claim.Step.Key(), Index: i, Of: len(msgs),
			Gate: claim.Gate, Answer: claim.Answer, Trigger: ev.MID,
			Once:     !claim.Step.Resend && !claim.Gate && claim.Answer == "", // answers: one per trigger
			Disclose: i == 0 && claim.Disclose, Username: conv.Username, Lane: m.Lane(), Deadline: conv.WindowEnd}
		// A question carries the consent line on its first message (text, as Validate wants).
		if i == 0 && claim.Answer == "" && claim.Step.Ask != nil && claim.Step.Ask.Consent {
			f.Consent = acct.Leads.Consent
		}
		if notice && i == 0 {
			f.Notice = true
		} else {
			f.Digest = m.Digest()
		}
		f.Variant = acct.PersonVariant(claim.Rule, ev.PersonID, claim.Step)
		f.Tap = ev.Kind == reply.EventPostback || ev.Kind == reply.EventQuickReply
		if f.Tap {
			f.Payload = ev.Payload
		}
		f.Gated, f.NoticeFirst, f.Followed = claim.Step.Gate != nil, notice, claim.Followed
		fj := reply.Job{V: reply.JobVersion, AccountID: acct.ID, FollowUp: &f, DeliveredAt: job.DeliveredAt}
		rec, err := reply.NewRecord(fj, now).Claim(fj, l.Owner, now, l.Until)
		if err != nil {
			return nil, nil, fmt.Errorf("claim follow-up %s: %w", fj.Key(), err)
		}
		recs[i] = rec
	}
	return recs, msgs, nil
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
