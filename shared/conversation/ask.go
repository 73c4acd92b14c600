package conversation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

// Metric names of steps that ask (EMF, namespace ReplyWindow, dimension Function=replier).
const (
	MetricLeadCaptured  = "LeadsCaptured"       // dimension Kind: a valid answer became a lead
	MetricLeadInvalid   = "LeadAnswersInvalid"  // dimension Kind: an answer that was not one
	MetricLeadFallback  = "LeadQuestionsFailed" // dimension Kind: the retries ran out
	ReasonAnswerPending = "answer_taken"        // a concurrent answer to the question was handled
)

// question is the question a conversation waits on: the asking step of the person's flow that
// went out last (at Since), with no confirmation or fallback since and no other step after it.
type question struct {
	Flow  reply.Flow
	Since time.Time
}

// pending is the question the person's text answer goes to, if any. Only typed messages answer
// it: a tap is the person choosing something else, and goes by its payload.
func pending(acct reply.Account, c reply.Conversation, ev reply.Event) (question, bool) {
	if ev.Kind != reply.EventMessage || c.Rule == "" {
		return question{}, false
	}
	var q question
	found := false
	for _, r := range acct.Rules {
		if r.Name == c.Rule {
			q, found = asked(c, r.Name, r.Flow)
		}
	}
	for _, d := range acct.DMRules {
		if d.Name == c.Rule {
			q, found = asked(c, d.Name, d.Flow)
		}
	}
	return q, found
}

// asked finds the open question of flow in c.
func asked(c reply.Conversation, rule string, flow []reply.Step) (question, bool) {
	var q question
	for _, s := range flow {
		if s.Ask == nil {
			continue
		}
		at, ok := c.Steps[reply.StepKey(rule, s.Key())]
		if ok && at.After(q.Since) {
			q = question{Flow: reply.Flow{Rule: rule, Steps: flow, Step: s}, Since: at}
		}
	}
	if q.Since.IsZero() {
		return question{}, false
	}
	own := reply.AnswerKey(rule, q.Flow.Step.Key(), "")
	for k, at := range c.Steps {
		switch {
		case at.Before(q.Since) || k == reply.StepKey(rule, q.Flow.Step.Key()):
		case k == own+reply.AnswerConfirm || k == own+reply.AnswerFallback:
			return question{}, false // answered, or given up
		case !strings.HasPrefix(k, own):
			if at.After(q.Since) {
				return question{}, false // another step went out since: the person moved on
			}
		}
	}
	return q, true
}

// retries is how many retry messages went out for q.
func retries(c reply.Conversation, q question) int {
	own := reply.AnswerKey(q.Flow.Rule, q.Flow.Step.Key(), "")
	n := 0
	for i := 1; i <= reply.MaxAskRetries; i++ {
		if at, ok := c.Steps[own+reply.AnswerRetry(i)]; ok && !at.Before(q.Since) {
			n = i
		}
	}
	return n
}

// answer handles the person's answer to q: a valid one is kept as a lead and confirmed (the
// flow goes on with the step after), an invalid one gets the retry message or, once the retries
// ran out, the fallback. The answer itself is never logged, nor kept when invalid.
func (s *Service) answer(ctx context.Context, job reply.Job, acct reply.Account, ev reply.Event, conv reply.Conversation,
	q question, l Lease) (Result, error) {
	now, ask := s.clock.Now(), q.Flow.Step.Ask
	switch {
	case conv.Paused(now):
		return s.ignore(ReasonPaused), nil
	case !conv.Open(now):
		s.m.Count(MetricExpired, 1)
		return Result{Action: "expired", Reason: ReasonWindowClosed}, nil
	}
	claim := reply.StepClaim{AccountID: acct.ID, PersonID: ev.PersonID, Rule: q.Flow.Rule, Step: q.Flow.Step,
		Since: q.Since, At: now}
	n := retries(conv, q)
	if n > 0 {
		// The part sent last may be this very answer's (a duplicate delivery): its record is
		// keyed by the answer's message id.
		dup := reply.FollowUp{PersonID: ev.PersonID, Rule: q.Flow.Rule, Step: q.Flow.Step.Key(), Answer: reply.AnswerRetry(n), Trigger: ev.MID}
		switch _, err := s.store.Get(ctx, reply.FollowUpKey(acct.ID, dup)); {
		case err == nil:
			return Result{Action: "done", Reason: "duplicate"}, nil
		case !errors.Is(err, reply.ErrNotFound):
			return Result{}, fmt.Errorf("answer: read the last retry: %w", err)
		}
	}
	value, err := lead.Check(ask.Kind, ev.Text, acct.Leads.PhoneRegion)
	switch {
	case err == nil:
		claim.Answer = reply.AnswerConfirm
	case n < ask.Limit():
		s.m.Count(MetricLeadInvalid, 1, "Kind", ask.Kind)
		claim.Answer = reply.AnswerRetry(n + 1)
	default:
		s.m.Count(MetricLeadInvalid, 1, "Kind", ask.Kind)
		s.m.Count(MetricLeadFallback, 1, "Kind", ask.Kind)
		claim.Answer = reply.AnswerFallback
	}
	if err == nil {
		if s.leads == nil {
			return Result{}, fmt.Errorf("lead of %s: this service keeps no leads (its store is no lead.Store)", acct.ID)
		}
		ld := lead.Lead{AccountID: acct.ID, PersonID: ev.PersonID, Kind: ask.Kind, Value: value,
			Rule: q.Flow.Rule, Step: q.Flow.Step.Key(), CapturedAt: ev.At, ExpiresAt: ev.At.Add(retention(acct))}
		if ask.Consent {
			if ld.Consent, err = s.consentSeen(ctx, acct, ev.PersonID, q); err != nil {
				return Result{}, err
			}
		}
		switch _, err := s.leads.CreateLead(ctx, ld); {
		case errors.Is(err, reply.ErrForgotten):
			return s.ignore(ReasonForgotten), nil
		case errors.Is(err, reply.ErrExists):
			// A duplicate delivery, a retry after a crash, or a second answer at the same time:
			// the first lead stays, and the confirmation's claim below sends it once.
		case err != nil:
			return Result{}, fmt.Errorf("keep lead: %w", err)
		default:
			s.captured(ctx, acct, ld)
		}
	}
	msgs, ok := reply.AnswerMessages(q.Flow.Steps, q.Flow.Step, claim.Answer)
	if !ok {
		return s.ignore(ReasonFlowChanged), nil
	}
	if next := claim.NextKey(); next != "" {
		if _, sent := conv.Steps[next]; sent {
			msgs = ask.Confirm // the step after it went out before: the confirmation alone
		}
	}
	claim.Disclose = acct.Disclosure != "" && conv.Disclose(now, acct.Lapse())
	recs, msgs, err := turn(job, acct, ev, conv, claim, msgs, l, now)
	if err != nil {
		return Result{}, err
	}
	first, err := s.store.ClaimStep(ctx, recs, claim)
	if err != nil {
		if errors.Is(err, reply.ErrConflict) {
			return s.ignore(ReasonAnswerPending), nil
		}
		return s.claimLost(err)
	}
	recs[0] = first
	token, err := s.tokens.Token(ctx, acct)
	if err != nil {
		s.log.Warn("token unavailable: answer parked", "account", acct.ID, "step", q.Flow.Step.Key(), "err", err)
		r, _, err := s.park(ctx, recs[0], now.Add(tokenWait), ParkToken, false)
		if err != nil {
			return r, err
		}
		return r, s.hold(ctx, recs[1:], now.Add(tokenWait))
	}
	return s.sendTurn(ctx, acct, token, recs, msgs, claim.Disclose)
}

// captured is the one place a new lead is announced: it runs once per lead, after the lead was
// stored and before its confirmation is claimed. Only ids go to the log; the lead's value never.
// Its LeadCaptured event is already out by then, or marked for the sweeper: the store the
// service was given is the events outbox when events are on (events.OutboxStore.CreateLead).
func (s *Service) captured(_ context.Context, acct reply.Account, l lead.Lead) {
	s.m.Count(MetricLeadCaptured, 1, "Kind", l.Kind)
	s.log.Info("lead captured", "account", acct.ID, "person", l.PersonID, "rule", l.Rule, "step", l.Step, "kind", l.Kind)
}

// consentSeen is the consent line the question carried: fixed on its record when it was claimed
// (the account's line may have changed since). A record gone (retention) leaves the account's.
func (s *Service) consentSeen(ctx context.Context, acct reply.Account, person string, q question) (string, error) {
	f := reply.FollowUp{PersonID: person, Rule: q.Flow.Rule, Step: q.Flow.Step.Key(), Index: 0, Once: true}
	rec, err := s.store.Get(ctx, reply.FollowUpKey(acct.ID, f))
	switch {
	case errors.Is(err, reply.ErrNotFound):
		return acct.Leads.Consent, nil
	case err != nil:
		return "", fmt.Errorf("the question's consent line: %w", err)
	case rec.Job.FollowUp == nil:
		return acct.Leads.Consent, nil
	}
	return rec.Job.FollowUp.Consent, nil
}

func retention(acct reply.Account) time.Duration {
	if acct.Leads.Retention > 0 {
		return acct.Leads.Retention
	}
	return lead.DefaultRetention
}
