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
