package reply

import (
	"errors"
	"fmt"
	"time"
)

// State is where a reply record stands. SENT, SKIPPED, EXPIRED, FAILED and AMBIGUOUS are terminal.
type State string

const (
	StateQueued  State = "QUEUED"  // on the jobs queue after a release or re-drive, not yet claimed
	StateLeased  State = "LEASED"  // a replier holds the lease and may be sending
	StateParked  State = "PARKED"  // waiting in DynamoDB (rate limit, uncertain retry, unhealthy account) until DueAt
	StateSent    State = "SENT"    // Meta accepted the private reply
	StateSkipped State = "SKIPPED" // we chose not to reply (Reason says why)
	StateExpired State = "EXPIRED" // the window closed before a reply went out
	StateFailed  State = "FAILED"  // Meta refused for good (Reason holds code/subcode)
	// StateAmbiguous: a send may have been delivered and Meta's answers cannot tell (uncertain
	// attempts, then the window closed or the bounded retries ran out). Counted apart, so neither
	// Sent nor Expired nor Failed hides a DM that may have gone out.
	StateAmbiguous State = "AMBIGUOUS"
)

// Terminal reports whether nothing will ever change a record in state s.
func (s State) Terminal() bool {
	switch s {
	case StateSent, StateSkipped, StateExpired, StateFailed, StateAmbiguous:
		return true
	}
	return false
}

// TerminalStates lists the terminal states, in a stable order.
var TerminalStates = []State{StateSent, StateSkipped, StateExpired, StateFailed, StateAmbiguous}

// Skip reasons.
const (
	SkipNoRule          = "no_rule"
	SkipDuplicatePerson = "duplicate_person"
	SkipOwnComment      = "own_comment"
	SkipNoAccount       = "no_account"
	SkipForgotten       = "forgotten"    // the person or account asked for deletion; nothing is written
	SkipCommentGone     = "comment_gone" // Meta no longer knows the comment (deleted before we looked)
)

// Reasons of AMBIGUOUS records.
const (
	AmbiguousWindow    = "window_after_uncertain_send"
	AmbiguousBroadcast = "broadcast_ended_after_uncertain_send"
	AmbiguousRetries   = "uncertain_retries_exhausted"
	AmbiguousSkip      = "skipped_after_uncertain_send" // the rule or the funnel changed after a send that may have arrived
	AmbiguousRefused   = "refused_after_uncertain_send" // Meta refused a retry for good; the first attempt may have arrived
)

// OrphanGrace is how long a QUEUED record may wait for a replier before the sweeper assumes its
// queue message was lost and sends it again. It exceeds the queue's batching window and a couple
// of Lambda retries; a spare copy is harmless because the lease turns it away.
const OrphanGrace = 10 * time.Minute

// Record is the reply record: the single item every worker, retry and duplicate meets with a
// conditional write. Version increases by one on every write; stores write a record only when the
// stored version is the one it was derived from.
type Record struct {
	Key        string    `json:"key"`
	Funnel     string    `json:"funnel,omitempty"` // the funnel guard this record holds (FunnelKey)
	CommentID  string    `json:"comment"`
	AccountID  string    `json:"account"`
	Lane       Lane      `json:"lane"`
	State      State     `json:"state"`
	Reason     string    `json:"reason,omitempty"` // skip reason, or Meta's code/subcode for FAILED and EXPIRED
	Detail     string    `json:"detail,omitempty"` // Meta's last answer, for people
	Deadline   time.Time `json:"deadline"`
	DueAt      time.Time `json:"due_at,omitzero"` // next time the sweeper must look; zero once terminal
	Owner      string    `json:"owner,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
	Attempts   int       `json:"attempts"`            // sends that may have reached Meta
	Uncertain  bool      `json:"uncertain,omitempty"` // an earlier send may have been delivered
	// UncertainSince is when the first send that may have been delivered was made: the bounded
	// retries count from it.
	UncertainSince time.Time `json:"uncertain_since,omitzero"`
	// GrantedAt is when the sweeper's release took a rate token for this record; the token is
	// spent by the replier within Limit.TokenLife of it, or void (Granted).
	GrantedAt   time.Time `json:"granted_at,omitzero"`
	MessageID   string    `json:"message_id,omitempty"` // Meta's answer to a SENT reply
	RecipientID string    `json:"recipient_id,omitempty"`
	Job         Job       `json:"job"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// EventsAt marks a record whose funnel event (shared/events) may not be on the event bus
	// yet: set in the same conditional write as the change, cleared once the bus took it.
	EventsAt time.Time `json:"events_at,omitzero"`
	// StartEvents: the mark also stands for the events of the turn's start this record was
	// created with (a tap, a follow gate passed): set on a turn's first record in the claim's
	// write, cleared with the mark, and kept through the record's later writes until then.
	StartEvents bool `json:"start_events,omitempty"`

	// Attribution of a private reply: the rule and variant that answered, and the text as it
	// was rendered for the person (personal data where it holds {username}: it goes with the
	// record, by retention or deletion). A follow-up's are in Job.FollowUp (rule, step, variant,
	// and the Digest of what it sent).
	Rule    string `json:"rule,omitempty"`
	Variant string `json:"variant,omitempty"`
	Sent    string `json:"sent,omitempty"`
}

// ReasonRateLimited is the park reason of a record waiting for a token of its account's own
// bucket: such a record waits in its lane (Waiting).
const ReasonRateLimited = "rate_limited"

// ReasonHeld is the park reason of a follow-up waiting for the message before it in its turn to
// have its answer: a step's messages go out in the order written, whatever their lanes.
const ReasonHeld = "after_previous"

// Waiting reports whether r waits in its account lane's line for a rate token. The sweeper
// releases a lane from its head (earliest deadline first) as the bucket grants, so a waiting
// record is not in the due index before its deadline (SweepAt): a long backlog is not read by
// every run.
func (r Record) Waiting() bool { return r.State == StateParked && r.Reason == ReasonRateLimited }

// SweepAt is when the due index must hand r to the sweeper: its deadline while it waits in its
// lane (the lane's head is read instead), else DueAt.
func (r Record) SweepAt() time.Time {
	if r.Waiting() {
		return r.Deadline
	}
	return r.DueAt
}

// Errors of the record's transitions; callers decide on them with errors.Is.
var (
	ErrNotFound   = errors.New("not found")
	ErrExists     = errors.New("already exists")
	ErrConflict   = errors.New("changed by someone else") // a conditional write lost
	ErrDone       = errors.New("already in a terminal state")
	ErrBusy       = errors.New("held by another worker or waiting")
	ErrOtherOwner = errors.New("held by another comment of the same person on the same media")
	ErrForgotten  = errors.New("the person or account asked for their data to be deleted")
	ErrNotDue     = errors.New("not due")
)

// NewRecord is the first, unsaved state of the comment's record.
func NewRecord(job Job, now time.Time) Record {
	return Record{
		Key:       job.Key(),
		CommentID: job.CommentID,
		AccountID: job.AccountID,
		Lane:      job.Lane(),
		Deadline:  job.Deadline(),
		Job:       job,
		CreatedAt: now,
	}
}

// next is r after one more write at now.
func (r Record) next(now time.Time) Record {
	r.Version++
	r.UpdatedAt = now
	return r
}

// dueAt keeps the sweeper's index honest: a record is due at its next action or its deadline,
// whichever comes first, so expiry never waits on anything else.
func (r Record) dueAt(t time.Time) time.Time {
	if r.Deadline.Before(t) {
		return r.Deadline
	}
	return t
}

// Claim takes the lease for job so that owner may send its one reply. It fails with ErrDone when
// the record is terminal, ErrOtherOwner when the record belongs to another comment (funnel dedup),
// and ErrBusy when another worker holds a live lease or the record is parked until later.
// The claimed record is Uncertain when an earlier holder may already have sent.
func (r Record) Claim(job Job, owner string, now, leaseUntil time.Time) (Record, error) {
	if r.Version == 0 {
		r = NewRecord(job, now)
	}
	switch {
	case r.CommentID != job.CommentID:
		return r, fmt.Errorf("claim comment %s: %w (comment %s)", job.CommentID, ErrOtherOwner, r.CommentID)
	case r.State.Terminal():
		return r, fmt.Errorf("claim comment %s: %w (%s)", job.CommentID, ErrDone, r.State)
	case r.State == StateLeased && r.LeaseUntil.After(now):
		return r, fmt.Errorf("claim comment %s: %w (lease until %s)", job.CommentID, ErrBusy, r.LeaseUntil.Format(time.RFC3339))
	case r.State == StateParked && r.DueAt.After(now):
		return r, fmt.Errorf("claim comment %s: %w (parked until %s)", job.CommentID, ErrBusy, r.DueAt.Format(time.RFC3339))
	}
	n := r.next(now)
	n.Uncertain = r.Attempts > 0
	n.Attempts++
	n.State = StateLeased
	n.Owner = owner
	n.LeaseUntil = leaseUntil
	n.DueAt = n.dueAt(leaseUntil)
	return n, nil
}

// Outcome is how a leased attempt ended for good.
type Outcome struct {
	State       State
	Reason      string
	Detail      string
	MessageID   string
	RecipientID string
}

// Sent is the outcome of a reply Meta accepted.
func Sent(messageID, recipientID string) Outcome {
	return Outcome{State: StateSent, MessageID: messageID, RecipientID: recipientID}
}

// Skipped is the outcome of a comment we chose not to answer.
func Skipped(reason string) Outcome { return Outcome{State: StateSkipped, Reason: reason} }

// Finish records a terminal outcome. Only the lease holder may finish; attempted says whether this
// holder's send reached Meta (false when the outcome was decided without a call).
func (r Record) Finish(o Outcome, attempted bool, now time.Time) (Record, error) {
	if !o.State.Terminal() {
		return r, fmt.Errorf("finish comment %s: %s is not a terminal state", r.CommentID, o.State)
	}
	if r.State != StateLeased {
		return r, fmt.Errorf("finish comment %s: %w (state %s)", r.CommentID, ErrConflict, r.State)
	}
	n := r.next(now)
	if !attempted {
		n.Attempts--
	}
	n.State, n.Reason, n.Detail = o.State, o.Reason, o.Detail
	n.MessageID, n.RecipientID = o.MessageID, o.RecipientID
	n.Owner, n.LeaseUntil, n.DueAt, n.GrantedAt = "", time.Time{}, time.Time{}, time.Time{}
	return n, nil
}

// Park puts a leased record aside until until. attempted says whether this holder's send may
// have reached Meta (an uncertain answer); a throttled or unsent attempt does not count.
func (r Record) Park(until time.Time, reason string, attempted bool, now time.Time) (Record, error) {
	if r.State != StateLeased {
		return r, fmt.Errorf("park comment %s: %w (state %s)", r.CommentID, ErrConflict, r.State)
	}
	n := r.next(now)
	if !attempted {
		n.Attempts--
	}
	n.Uncertain = n.Uncertain || attempted
	if attempted && n.UncertainSince.IsZero() {
		n.UncertainSince = now
	}
	n.State, n.Reason = StateParked, reason
	n.Owner, n.LeaseUntil, n.GrantedAt = "", time.Time{}, time.Time{}
	n.DueAt = n.dueAt(until)
	return n, nil
}

// NewParked is the first state of a record for a job that must wait before it is ever sent,
// written in one conditional create (no claim, no release of a lease).
func NewParked(job Job, until time.Time, reason string, now time.Time) Record {
	n := NewRecord(job, now).next(now)
	n.State, n.Reason = StateParked, reason
	n.DueAt = n.dueAt(until)
	return n
}

// NewSkipped is the terminal record of a comment we decided not to answer before claiming.
func NewSkipped(job Job, reason string, now time.Time) Record {
	n := NewRecord(job, now).next(now)
	n.State, n.Reason = StateSkipped, reason
	return n
}

// Release sends a parked record back to the queue; granted says the sweeper reserved its rate
// token now, so the replier must not take another while the token lives. A record waiting in its
// lane may go whenever the sweeper reaches it; any other must be due.
func (r Record) Release(granted bool, now time.Time) (Record, error) {
	if r.State != StateParked {
		return r, fmt.Errorf("release comment %s: %w (state %s)", r.CommentID, ErrConflict, r.State)
	}
	if r.DueAt.After(now) && !r.Waiting() {
		return r, fmt.Errorf("release comment %s: %w", r.CommentID, ErrNotDue)
	}
	n := r.next(now)
	n.State, n.GrantedAt = StateQueued, time.Time{}
	if granted {
		n.GrantedAt = now
	}
	n.DueAt = n.dueAt(now.Add(OrphanGrace))
	return n, nil
}

// Granted reports whether the record holds a rate token of lim that is still valid at now: taken
// by the sweeper's release no more than lim.TokenLife ago. A token older than that is void, so a
// job that waited on the queue cannot spend a send the bucket booked minutes before.
func (r Record) Granted(lim Limit, now time.Time) bool {
	return !r.GrantedAt.IsZero() && !now.Before(r.GrantedAt) && now.Sub(r.GrantedAt) < lim.TokenLife()
}

// Learn takes a comment's earlier creation time, learned from Meta after the record was written,
// into the record: its deadline only ever moves earlier, and the sweeper looks by then.
func (r Record) Learn(job Job) Record {
	if d := job.Deadline(); r.Version > 0 && job.CommentID == r.CommentID && d.Before(r.Deadline) {
		r.Deadline, r.Job.CommentedAt = d, job.CommentedAt
		if r.DueAt.After(d) {
			r.DueAt = d
		}
	}
	return r
}

// Orphaned reports whether r waits for a worker that will not come: a lease that ran out, or a
// queued record whose message should long have been picked up.
func (r Record) Orphaned(now time.Time) bool {
	switch r.State {
	case StateLeased:
		return !r.LeaseUntil.After(now)
	case StateQueued:
		return !r.DueAt.After(now)
	}
	return false
}

// Redrive puts an orphaned record back on the queue.
func (r Record) Redrive(now time.Time) (Record, error) {
	if !r.Orphaned(now) {
		return r, fmt.Errorf("redrive comment %s: %w (state %s)", r.CommentID, ErrNotDue, r.State)
	}
	n := r.next(now)
	if r.State == StateLeased {
		n.Uncertain = n.Uncertain || n.Attempts > 0
	}
	n.State, n.Owner, n.LeaseUntil = StateQueued, "", time.Time{}
	n.DueAt = n.dueAt(now.Add(OrphanGrace))
	return n, nil
}

// Expire closes a record whose window passed. It fails with ErrDone when another worker finished
// first, ErrNotDue while the window is open and ErrBusy while a lease is live.
func (r Record) Expire(now time.Time) (Record, error) {
	if r.State.Terminal() {
		return r, fmt.Errorf("expire comment %s: %w (%s)", r.CommentID, ErrDone, r.State)
	}
	if r.Deadline.After(now) {
		return r, fmt.Errorf("expire comment %s: %w (deadline %s)", r.CommentID, ErrNotDue, r.Deadline.Format(time.RFC3339))
	}
	// A live lease may be mid-send (the replier checked the deadline before calling Meta): let
	// it finish, so a delivered reply is never recorded as expired.
	if r.State == StateLeased && r.LeaseUntil.After(now) {
		return r, fmt.Errorf("expire comment %s: %w", r.CommentID, ErrBusy)
	}
	if r.Attempts > 0 {
		// A send may have reached Meta before the window closed (an answer lost, a crash after
		// the call): Expired must not silently hide a delivered DM.
		return r.close(StateAmbiguous, AmbiguousWindow, now), nil
	}
	return r.close(StateExpired, "window", now), nil
}

// EndBroadcast expires a Live comment's record because its broadcast ended.
func (r Record) EndBroadcast(now time.Time) (Record, error) {
	if r.State.Terminal() {
		return r, fmt.Errorf("expire comment %s: %w (%s)", r.CommentID, ErrDone, r.State)
	}
	if r.Lane != LaneLive {
		return r, fmt.Errorf("expire comment %s: not a Live comment", r.CommentID)
	}
	if r.State == StateLeased && r.LeaseUntil.After(now) {
		return r, fmt.Errorf("expire comment %s: %w", r.CommentID, ErrBusy)
	}
	if r.Attempts > 0 {
		return r.close(StateAmbiguous, AmbiguousBroadcast, now), nil
	}
	return r.close(StateExpired, "broadcast_ended", now), nil
}

func (r Record) close(s State, reason string, now time.Time) Record {
	n := r.next(now)
	n.State, n.Reason = s, reason
	n.Owner, n.LeaseUntil, n.DueAt, n.GrantedAt = "", time.Time{}, time.Time{}, time.Time{}
	return n
}
