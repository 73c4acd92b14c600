package reply

import (
	"context"
	"fmt"
	"time"
)

// Replies stores reply records. Every write is conditional on the record's version, so two workers
// can never both move the same record: the loser gets ErrConflict and the record as it now is.
type Replies interface {
	// Create stores rec (rec.Version must be 1), in one atomic write, if nothing is stored under
	// rec.Key, no tombstone covers the comment (ErrForgotten, nothing stored) and, when rec.Funnel
	// is set, the funnel guard is free or already held by rec's comment: it is taken with the
	// record (ErrOtherOwner otherwise, nothing stored). A record already there is returned with an
	// error wrapping ErrExists.
	Create(ctx context.Context, rec Record) (Record, error)
	// HoldFunnel takes the funnel guard rec.Funnel for rec's comment (a record created before its
	// person or media was known). Taking a guard the comment already holds succeeds; one another
	// comment holds is refused with an error wrapping ErrOtherOwner, and a tombstone covering
	// rec.Job (the person, now known, was forgotten) with ErrForgotten.
	HoldFunnel(ctx context.Context, rec Record) error
	// Update stores rec if the stored record's version is rec.Version-1. Otherwise it returns the
	// stored record and an error wrapping ErrConflict (ErrNotFound when nothing is stored).
	Update(ctx context.Context, rec Record) (Record, error)
	// Get is the record under key, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) (Record, error)
	// SentMessage reports whether a record holds messageID, the id Meta answered a send with:
	// an echo of it is the account's own automated message, not a person answering.
	SentMessage(ctx context.Context, messageID string) (bool, error)
	// ByComment is the record that holds the comment's outcome, or an error wrapping ErrNotFound.
	ByComment(ctx context.Context, commentID string) (Record, error)
	// Due pages through non-terminal records with SweepAt at or before `before`, oldest first
	// (a record waiting in its lane comes only at its deadline). An empty returned cursor means
	// there is nothing more.
	Due(ctx context.Context, before time.Time, cursor string, limit int) ([]Record, string, error)
	// Waiting is the head of an account lane's line: the records that wait there for a rate
	// token (Record.Waiting), earliest deadline first (then key), at most limit. The sweeper reads
	// only as many as it may release, however long the line.
	Waiting(ctx context.Context, account string, lane Lane, limit int) ([]Record, error)
	// Scan pages through every reply record in no particular order (data deletion, audits).
	Scan(ctx context.Context, cursor string, limit int) ([]Record, string, error)
	// Delete removes the record or funnel guard under key, whatever its state.
	Delete(ctx context.Context, key string) error
}

// Tombstone says that a person's or an account's data was deleted on request: no record may be
// created for their comments made before At, so a job still queued, requeued or redriven from
// the dead-letter queue cannot bring the data back. A webhook carries no creation time, and Meta
// redelivers for up to DeliveryHorizon, so a comment known only by a delivery that late may have
// been made before the deletion: the tombstone covers it too. Comments made later are new.
type Tombstone struct {
	AccountID string    `json:"account,omitempty"` // an account that was deleted
	PersonID  string    `json:"person,omitempty"`  // or a person (IGSID) who was forgotten
	At        time.Time `json:"at"`
}

// Key is the tombstone's item key.
func (t Tombstone) Key() string {
	if t.AccountID != "" {
		return AccountTombstoneKey(t.AccountID)
	}
	return PersonTombstoneKey(t.PersonID)
}

// AccountTombstoneKey and PersonTombstoneKey are the keys of the two kinds of tombstone.
func AccountTombstoneKey(account string) string { return "T#A#" + account }
func PersonTombstoneKey(person string) string   { return "T#P#" + person }

// DeliveryHorizon is how long Meta keeps retrying a failed webhook delivery (36 hours).
const DeliveryHorizon = 36 * time.Hour

// TombstoneRetention is how long a tombstone outlives its deletion: longer than any job can
// wait (the window, the queue's and the dead-letter queue's retention).
const TombstoneRetention = 30 * 24 * time.Hour

// Covers reports whether the tombstone forbids a record for job.
func (t Tombstone) Covers(job Job) bool {
	at := job.CommentedAt
	if job.FollowUp != nil {
		at = job.FollowUp.Deadline.Add(-ConversationWindow) // the trigger's time, at the latest
	}
	return t.CoversAt(job.AccountID, job.Person(), at)
}

// CoversAt reports whether the tombstone forbids writing what names the account and the person
// (the person may be empty) for something that happened at at.
func (t Tombstone) CoversAt(account, person string, at time.Time) bool {
	if t.AccountID != "" {
		if t.AccountID != account {
			return false
		}
	} else if t.PersonID == "" || t.PersonID != person {
		return false
	}
	return !at.After(t.At.Add(DeliveryHorizon))
}

// TouchTime is the time a touch's tombstone check compares: Meta's time of the event, or the
// write's for a touch without one (a private reply's).
func (t Touch) TouchTime() time.Time {
	if t.At.IsZero() {
		return t.Now
	}
	return t.At
}

// Tombstones stores tombstones.
type Tombstones interface {
	// PutTombstone stores t, replacing an earlier tombstone of the same account or person.
	PutTombstone(ctx context.Context, t Tombstone) error
}

// Buckets stores rate buckets with the same versioned conditional writes as Replies.
type Buckets interface {
	// Bucket is the stored bucket, or a zero bucket (Version 0) for the account and lane.
	Bucket(ctx context.Context, account string, lane Lane) (Bucket, error)
	// BucketsOf is the stored buckets of many lanes at once, in their order (zero buckets for
	// those never saved), possibly a moment behind the latest save: the sweeper reads every
	// lane's each run, to size its releases and to tell idle lanes, and takes from a fresh one.
	BucketsOf(ctx context.Context, lanes []AccountLane) ([]Bucket, error)
	// SaveBucket stores b if the stored version is b.Version-1 (nothing stored for Version 1);
	// otherwise it returns the stored bucket and an error wrapping ErrConflict.
	SaveBucket(ctx context.Context, b Bucket) (Bucket, error)
	// DeleteBucket removes the account's bucket for lane; removing none is not an error.
	DeleteBucket(ctx context.Context, account string, lane Lane) error
}

// Accounts stores account configuration.
type Accounts interface {
	// Account is the account, or an error wrapping ErrNotFound.
	Account(ctx context.Context, id string) (Account, error)
	// PutAccount stores a if the stored version is a.Version-1 (nothing stored for Version 1);
	// otherwise ErrConflict with the stored account.
	PutAccount(ctx context.Context, a Account) (Account, error)
	// ListAccounts is every account, ordered by id.
	ListAccounts(ctx context.Context) ([]Account, error)
	// DeleteAccount removes the account's configuration.
	DeleteAccount(ctx context.Context, id string) error
}

// Deletion is a data-deletion request, worked off in pages by the sweeper: Meta's callback for
// a person who used the app (the accounts they connected go), or the operator's for a commenter
// (`replywindow forget --person`: what the account holds of them goes). Once done it keeps only
// what its status page shows, and expires DeletionRetention later.
type Deletion struct {
	Code string `json:"code"` // the confirmation code shown to the person
	Kind string `json:"kind"` // DeletionUser or DeletionPerson
	// UserID is whom the request is for: the app-scoped id of Meta's signed request
	// (DeletionUser), or a commenter's IGSID (DeletionPerson). Blank once done.
	UserID string `json:"user_id,omitempty"`
	// Accounts are the accounts UserID connected (Account.AppUserIDs), found when the work
	// starts and kept while it lasts: their configuration is gone by the time the records are.
	Accounts    []string  `json:"accounts,omitempty"`
	State       string    `json:"state"` // DeletionPending or DeletionDone
	Cursor      string    `json:"cursor,omitempty"`
	Removed     int       `json:"removed"`
	RequestedAt time.Time `json:"requested_at"`
	DoneAt      time.Time `json:"done_at,omitzero"`
	Version     int64     `json:"version"`
}

// Deletion states and kinds.
const (
	DeletionPending = "pending"
	DeletionDone    = "done"

	DeletionUser   = "user"   // Meta's callback: a person who connected accounts to the app
	DeletionPerson = "person" // the operator's: a commenter, by IGSID
)

// DeletionRetention is how long a done request stays to answer its status page.
const DeletionRetention = 90 * 24 * time.Hour

// Closed is d as a done request is kept: what its status page shows, nothing of whom it was for.
func (d Deletion) Closed() Deletion {
	d.UserID, d.Accounts, d.Cursor = "", nil, ""
	return d
}

// Subject is whom the request is for, kind and id: a subject has one pending request at most.
func (d Deletion) Subject() string {
	kind := d.Kind
	if kind == "" {
		kind = DeletionUser // requests stored before kinds were
	}
	return kind + ":" + d.UserID
}

// Deletions stores data-deletion requests with versioned conditional writes.
type Deletions interface {
	// OpenDeletion stores d, a new pending request (Version 1), unless a request with its code is
	// stored, or its user (Kind and UserID) has one pending: then it stores nothing and returns
	// that request with an error wrapping ErrExists. So every encoding of one request, and every
	// request while one is pending, comes to one deletion.
	OpenDeletion(ctx context.Context, d Deletion) (Deletion, error)
	// PutDeletion stores d if the stored version is d.Version-1. A done request is stored as
	// d.Closed() and returned so; it ends its subject's pending request and expires
	// DeletionRetention after DoneAt.
	PutDeletion(ctx context.Context, d Deletion) (Deletion, error)
	// Deletion is the request with the code, or an error wrapping ErrNotFound.
	Deletion(ctx context.Context, code string) (Deletion, error)
	// PendingDeletions lists requests not yet done.
	PendingDeletions(ctx context.Context) ([]Deletion, error)
}

// StoreAs finds what else a store keeps (leads, clicks, counts: ports of their own packages)
// through the stores wrapped around it, such as the events outbox, which unwrap with
// Unwrap() Store. A plain type assertion on the outer store would silently find nothing.
func StoreAs[T any](s Store) (T, bool) {
	for s != nil {
		if t, ok := s.(T); ok {
			return t, true
		}
		u, ok := s.(interface{ Unwrap() Store })
		if !ok {
			break
		}
		s = u.Unwrap()
	}
	var zero T
	return zero, false
}

// Store is everything replywindow keeps in its table.
type Store interface {
	Replies
	Buckets
	Accounts
	Deletions
	Tombstones
	Conversations
}

// Queue carries jobs from the webhook (and the sweeper's releases) to the replier.
type Queue interface {
	// Enqueue returns nil only when every job was accepted durably. Jobs the queue can never
	// take (they do not encode, or it refuses their content) are left out; when they are all
	// that failed, the error is a *RefusedJobsError: sending the same jobs again cannot help.
	Enqueue(ctx context.Context, jobs []Job) error
}

// RefusedJobsError reports jobs a queue refused for good; every other job was accepted. It wraps
// ErrInvalidJob.
type RefusedJobsError struct {
	Jobs []Job
	Err  error // why the last of them was refused
}

func (e *RefusedJobsError) Error() string {
	if len(e.Jobs) == 0 {
		return fmt.Sprintf("jobs refused for good: %v", e.Err)
	}
	return fmt.Sprintf("%d jobs refused for good (first: comment %s): %v", len(e.Jobs), e.Jobs[0].CommentID, e.Err)
}

func (e *RefusedJobsError) Unwrap() []error { return []error{ErrInvalidJob, e.Err} }

// Tokens hands out account access tokens (from SSM in AWS). Tokens are never logged.
type Tokens interface {
	Token(ctx context.Context, a Account) (string, error)
}

// SendResult is Meta's answer to an accepted private reply.
type SendResult struct {
	MessageID   string
	RecipientID string
	// Usage is the highest percentage reported by Meta's X-Business-Use-Case-Usage or
	// X-App-Usage headers (0 when absent); RegainAfter is Meta's estimated_time_to_regain_access.
	Usage       int
	RegainAfter time.Duration
}

// Graph is what replywindow asks of Meta's Graph API. Errors are *GraphError where Meta answered.
type Graph interface {
	// PrivateReply sends the comment's one private reply: text, with buttons or quick replies.
	PrivateReply(ctx context.Context, a Account, token, commentID string, m Message) (SendResult, error)
	// PublicReply answers the comment publicly (POST /{comment-id}/replies).
	PublicReply(ctx context.Context, a Account, token, commentID, text string) error
	// LiveMedia is the ids of the account's broadcasts that are live now.
	LiveMedia(ctx context.Context, a Account, token string) ([]string, error)
	// Comment is what Meta knows of a comment (GET /{comment-id}?fields=media,from,timestamp):
	// the funnel's media and person when a webhook left them out, and the true creation time.
	Comment(ctx context.Context, a Account, token, commentID string) (CommentInfo, error)
}

// Messenger is what a conversation asks of Meta: the Send API inside the person's 24-hour
// window, and the user profile API for the follow gate. Errors are *GraphError where Meta
// answered.
type Messenger interface {
	// SendMessage sends m to the person (recipient {"id": IGSID}). replyTo is the person's message
	// a reaction is for.
	SendMessage(ctx context.Context, a Account, token, personID string, m Message, replyTo string) (SendResult, error)
	// Profile is GET /{IGSID}?fields=name,username,is_user_follow_business. Meta answers it only
	// once the person has messaged the account or tapped one of its buttons (consent).
	Profile(ctx context.Context, a Account, token, personID string) (Profile, error)
}

// Profile is what the user profile API says of a person.
type Profile struct {
	Name      string
	Username  string
	Following bool // is_user_follow_business: the person follows the account
}

// CommentInfo is Meta's view of one comment.
type CommentInfo struct {
	MediaID      string
	FromID       string
	FromUsername string
	CreatedAt    time.Time
}

// Clock tells the time; simulations replace it.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }
