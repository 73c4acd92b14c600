package reply

import (
	"context"
	"time"
)

// Replies stores reply records. Every write is conditional on the record's version, so two workers
// can never both move the same record: the loser gets ErrConflict and the record as it now is.
type Replies interface {
	// Create stores rec (rec.Version must be 1) if nothing is stored under rec.Key. Otherwise it
	// returns the stored record and an error wrapping ErrExists.
	Create(ctx context.Context, rec Record) (Record, error)
	// Update stores rec if the stored record's version is rec.Version-1. Otherwise it returns the
	// stored record and an error wrapping ErrConflict (ErrNotFound when nothing is stored).
	Update(ctx context.Context, rec Record) (Record, error)
	// Get is the record under key, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) (Record, error)
	// ByComment is the record that holds the comment's outcome, or an error wrapping ErrNotFound.
	ByComment(ctx context.Context, commentID string) (Record, error)
	// Due pages through non-terminal records with DueAt at or before `before`, oldest DueAt first.
	// An empty returned cursor means there is nothing more.
	Due(ctx context.Context, before time.Time, cursor string, limit int) ([]Record, string, error)
	// Scan pages through every reply record in no particular order (data deletion, audits).
	Scan(ctx context.Context, cursor string, limit int) ([]Record, string, error)
	// Delete removes the record under key, whatever its state.
	Delete(ctx context.Context, key string) error
}

// Buckets stores rate buckets with the same versioned conditional writes as Replies.
type Buckets interface {
	// Bucket is the stored bucket, or a zero bucket (Version 0) for the account and lane.
	Bucket(ctx context.Context, account string, lane Lane) (Bucket, error)
	// SaveBucket stores b if the stored version is b.Version-1 (nothing stored for Version 1);
	// otherwise it returns the stored bucket and an error wrapping ErrConflict.
	SaveBucket(ctx context.Context, b Bucket) (Bucket, error)
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

// Deletion is a data-deletion request from Meta's callback, worked off in pages by the sweeper.
type Deletion struct {
	Code        string    `json:"code"`    // the confirmation code Meta shows the person
	UserID      string    `json:"user_id"` // the app-scoped id from the signed request
	State       string    `json:"state"`   // DeletionPending or DeletionDone
	Cursor      string    `json:"cursor,omitempty"`
	Removed     int       `json:"removed"`
	RequestedAt time.Time `json:"requested_at"`
	DoneAt      time.Time `json:"done_at,omitzero"`
	Version     int64     `json:"version"`
}

// Deletion states.
const (
	DeletionPending = "pending"
	DeletionDone    = "done"
)

// Deletions stores data-deletion requests with versioned conditional writes.
type Deletions interface {
	// PutDeletion stores d if the stored version is d.Version-1 (nothing stored for Version 1).
	PutDeletion(ctx context.Context, d Deletion) (Deletion, error)
	// Deletion is the request with the code, or an error wrapping ErrNotFound.
	Deletion(ctx context.Context, code string) (Deletion, error)
	// PendingDeletions lists requests not yet done.
	PendingDeletions(ctx context.Context) ([]Deletion, error)
}

// Store is everything replywindow keeps in its table.
type Store interface {
	Replies
	Buckets
	Accounts
	Deletions
}

// Queue carries jobs from the webhook (and the sweeper's releases) to the replier.
type Queue interface {
	// Enqueue returns nil only when every job was accepted durably.
	Enqueue(ctx context.Context, jobs []Job) error
}

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
	// PrivateReply sends the comment's one private reply.
	PrivateReply(ctx context.Context, a Account, token, commentID, text string) (SendResult, error)
	// PublicReply answers the comment publicly (POST /{comment-id}/replies).
	PublicReply(ctx context.Context, a Account, token, commentID, text string) error
	// LiveMedia is the ids of the account's broadcasts that are live now.
	LiveMedia(ctx context.Context, a Account, token string) ([]string, error)
}

// Clock tells the time; simulations replace it.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }
