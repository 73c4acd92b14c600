// Package reply holds replywindow's domain: the jobs the webhook enqueues, the reply record and
// its states, reply windows, keyword rules, rate buckets, Meta's verdicts and the interfaces the
// adapters implement. It imports nothing outside the standard library and golang.org/x/text.
package reply

import (
	"errors"
	"fmt"
	"time"
)

// JobVersion is the version of the queued job format; consumers refuse versions they do not know.
const JobVersion = 1

// Window is how long after a comment its one private reply may be sent (Meta: 7 days).
const Window = 7 * 24 * time.Hour

// LiveWindow bounds a Live comment's deadline: Instagram Live broadcasts last at most 4 hours, and
// the broadcast's end (learned from the Graph API) closes the window earlier.
const LiveWindow = 4 * time.Hour

// Kind is what the comment was made on.
type Kind string

const (
	KindPost Kind = "post"
	KindReel Kind = "reel"
	KindAd   Kind = "ad"
	KindLive Kind = "live"
)

// Valid reports whether k is one of the known kinds.
func (k Kind) Valid() bool {
	switch k {
	case KindPost, KindReel, KindAd, KindLive:
		return true
	}
	return false
}

// Lane is a rate-limit lane: Meta limits private replies per account separately for posts (and
// reels and ads) and for Live.
type Lane string

const (
	LanePosts Lane = "posts"
	LaneLive  Lane = "live"
)

// Lanes lists every sending lane, in a stable order.
var Lanes = []Lane{LanePosts, LaneLive, LaneText, LaneMedia}

// Lane is the rate-limit lane replies to comments of this kind use.
func (k Kind) Lane() Lane {
	if k == KindLive {
		return LaneLive
	}
	return LanePosts
}

// Job is one comment to answer, as the webhook enqueues it. It is small (well under SQS's 256 KiB)
// and versioned by V.
type Job struct {
	V           int    `json:"v"`
	AccountID   string `json:"account"`
	CommentID   string `json:"comment"`
	MediaID     string `json:"media,omitempty"`
	ProductType string `json:"product_type,omitempty"` // Meta's media_product_type: FEED, REELS, AD, ...
	AdID        string `json:"ad,omitempty"`
	// OriginalMediaID is the organic post an ad was made from: Meta may deliver an ad's comment
	// once per shape (ad media, original media), so the funnel counts the original.
	OriginalMediaID string    `json:"original_media,omitempty"`
	FromID          string    `json:"from_id,omitempty"`
	FromUsername    string    `json:"from_username,omitempty"`
	Text            string    `json:"text,omitempty"`
	ParentID        string    `json:"parent,omitempty"`
	Kind            Kind      `json:"kind"`
	CommentedAt     time.Time `json:"commented_at"` // the earliest time we know the comment existed
	DeliveredAt     time.Time `json:"delivered_at"` // entry.time of the webhook delivery
	// Requeued marks a job the sweeper put back on the queue: its record exists, so the replier
	// reads it first instead of a create that must fail (a read costs a fraction of a write).
	Requeued bool `json:"requeued,omitempty"`
	// Event is set on a messaging event's job (a DM, a tap, an echo): no comment is involved.
	Event *Event `json:"event,omitempty"`
	// FollowUp is set on the job of one automated message of a conversation (parked and
	// released by the sweeper like a private reply).
	FollowUp *FollowUp `json:"follow_up,omitempty"`
}

// Person is the person the job is about: the commenter, or the conversation's person.
func (j Job) Person() string {
	switch {
	case j.FollowUp != nil:
		return j.FollowUp.PersonID
	case j.Event != nil:
		return j.Event.PersonID
	}
	return j.FromID
}

// Lane is the rate lane the job's send uses.
func (j Job) Lane() Lane {
	if j.FollowUp != nil {
		return j.FollowUp.Lane
	}
	return j.Kind.Lane()
}

// ErrInvalidJob marks a job that can never be processed; it is not retried.
var ErrInvalidJob = errors.New("invalid job")

// Validate reports what makes j unusable, wrapping ErrInvalidJob.
func (j Job) Validate() error {
	switch {
	case j.V != JobVersion:
		return fmt.Errorf("%w: version %d, want %d", ErrInvalidJob, j.V, JobVersion)
	case j.AccountID == "":
		return fmt.Errorf("%w: no account id", ErrInvalidJob)
	case j.Event != nil && j.FollowUp != nil:
		return fmt.Errorf("%w: an event and a follow-up in one job", ErrInvalidJob)
	case j.Event != nil:
		return j.Event.validate()
	case j.FollowUp != nil:
		return j.FollowUp.validate()
	case j.CommentID == "":
		return fmt.Errorf("%w: no comment id", ErrInvalidJob)
	case !j.Kind.Valid():
		return fmt.Errorf("%w: kind %q", ErrInvalidJob, j.Kind)
	case j.CommentedAt.IsZero():
		return fmt.Errorf("%w: no comment time", ErrInvalidJob)
	}
	return nil
}

// TopLevel reports whether the comment is not itself a reply to a comment.
func (j Job) TopLevel() bool { return j.ParentID == "" }

// Own reports whether the account commented on its own media; replying would start a loop.
func (j Job) Own() bool { return j.FromID != "" && j.FromID == j.AccountID }

// Deadline is the last moment a private reply may be sent. The webhook carries no creation time,
// so CommentedAt is the earliest time we know of; Meta's 10/2534022 is the final word.
func (j Job) Deadline() time.Time {
	if j.FollowUp != nil {
		return j.FollowUp.Deadline
	}
	if j.Kind == KindLive {
		return j.CommentedAt.Add(LiveWindow)
	}
	return j.CommentedAt.Add(Window)
}

// Key is the key of the comment's one reply record. It depends on the comment id alone, so every
// shape a delivery may take (with or without media or person, an ad's other media id, comment_id
// for id) and every change of the account's settings meet the same record.
func (j Job) Key() string {
	if j.FollowUp != nil {
		return FollowUpKey(j.AccountID, *j.FollowUp)
	}
	return CommentKey(j.CommentID)
}

// FunnelMedia is the media the one-DM-per-person rule counts: an ad's original post when known.
func (j Job) FunnelMedia() string {
	if j.OriginalMediaID != "" {
		return j.OriginalMediaID
	}
	return j.MediaID
}

// Funnel is the key of the person's funnel guard on this media, or "" when the media or the
// person is unknown (the replier then asks Meta before replying).
func (j Job) Funnel() string {
	if j.FunnelMedia() == "" || j.FromID == "" {
		return ""
	}
	return FunnelKey(j.AccountID, j.FunnelMedia(), j.FromID)
}

// CommentKey is the key of a comment's reply record.
func CommentKey(commentID string) string { return "C#" + commentID }

// FunnelKey is the key of the guard that gives one person one DM per media: a separate item,
// claimed in the same conditional write as the reply record that takes it.
func FunnelKey(account, media, person string) string {
	return "F#" + account + "#" + media + "#" + person
}
