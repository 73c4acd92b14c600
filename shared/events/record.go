package events

import (
	"strings"

	"github.com/replywindow/replywindow/shared/reply"
)

// OfRecord is the event a reply record in its state stands for, if any: a private reply or
// follow-up SENT, or one that ended FAILED or AMBIGUOUS. A record reaches a terminal state once,
// so the event's id is derived from its kind and the record's key. The disclosure line sent
// alone ahead of a turn (a Notice) is no step of the funnel and has no event.
func OfRecord(r reply.Record) (Event, bool) {
	var kind Kind
	switch {
	case r.State == reply.StateSent && strings.HasPrefix(r.Key, "C#"):
		kind = PrivateReplySent
	case r.State == reply.StateSent && r.Job.FollowUp != nil:
		kind = FollowUpSent
	case r.State == reply.StateFailed:
		kind = ReplyFailed
	case r.State == reply.StateAmbiguous:
		kind = ReplyAmbiguous
	default:
		return Event{}, false
	}
	f := r.Job.FollowUp
	if f != nil && f.Notice {
		return Event{}, false
	}
	person := r.Job.Person()
	if person == "" {
		person = r.RecipientID // a comment whose webhook did not name its author: Meta's answer does
	}
	e := newEvent(kind, r.UpdatedAt, r.AccountID, person, r.Key)
	d := &e.Detail
	if f != nil {
		i := f.Index
		d.Rule, d.Step, d.Index, d.Gate, d.Trigger = f.Rule, f.Step, &i, f.Gate, f.Trigger
	} else {
		d.Comment, d.Media = r.CommentID, r.Job.FunnelMedia()
	}
	switch kind {
	case PrivateReplySent, FollowUpSent:
		d.MessageID = r.MessageID
	default:
		d.Reason = r.Reason
	}
	return e, true
}

// Due reports whether writing next over prev is a change OfRecord has an event for: a record
// entering SENT, FAILED or AMBIGUOUS (prev is the zero record for a create).
func Due(prev, next reply.Record) bool {
	if prev.State.Terminal() || !next.State.Terminal() {
		return false
	}
	_, ok := OfRecord(next)
	return ok
}

// Started is the events of a turn's start a follow-up record stands for: ButtonTapped when a
// tap ran the turn, FollowGatePassed when the step's gate found the person following. Only a
// turn's first record (Index 0) carries them, and only a claim creates it, so each tap or pass
// that ran a step has them once.
func Started(r reply.Record) []Event {
	f := r.Job.FollowUp
	if f == nil || f.Index != 0 || f.Answer != "" {
		return nil
	}
	person := f.PersonID
	var evs []Event
	if f.Tap {
		evs = append(evs, Tapped(Tap{Account: r.AccountID, Person: person, Rule: f.Rule, Step: f.Step, Variant: f.Variant,
			Payload: f.Payload, Trigger: f.Trigger, At: r.CreatedAt}))
	}
	if f.Gated && f.Followed && !f.Gate {
		e := GatePassed(r.AccountID, person, f.Rule, f.Step, f.Trigger, r.CreatedAt)
		e.Detail.Variant = f.Variant
		evs = append(evs, e)
	}
	return evs
}

// EventsOf is every event a marked record stands for: its turn's start while StartEvents says
// those are not out yet, then its end (OfRecord) once it has one.
func EventsOf(r reply.Record) []Event {
	var evs []Event
	if r.StartEvents {
		evs = Started(r)
	}
	if ev, ok := OfRecord(r); ok {
		evs = append(evs, ev)
	}
	return evs
}
