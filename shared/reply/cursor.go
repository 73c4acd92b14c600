package reply

import (
	"context"
	"time"
)

// Cursor is where reconciliation stands for one account: which media it looked at, up to when,
// and when it must look again. The reconciler reads it at the start of a pass and writes it once
// at the end, conditional on Version like every other item.
type Cursor struct {
	AccountID string `json:"account"`
	// From is where the reconciler's watch begins, set on its first pass: comments made before
	// it predate the reconciler (an account connected today) and are `replywindow backfill`'s.
	From time.Time `json:"from"`
	// NextPass is when the account's media must be listed again; NextLive when the broadcasts
	// being polled must be (sooner, so Live comments are answered during the broadcast).
	NextPass time.Time `json:"next_pass,omitzero"`
	NextLive time.Time `json:"next_live,omitzero"`
	// Live is the broadcasts being polled. One that is no longer on air is read once more, for
	// the comments made just before its end, and dropped.
	Live []string `json:"live,omitempty"`
	// SubscriptionCheckedAt is the last look at GET /{ig-id}/subscribed_apps.
	SubscriptionCheckedAt time.Time              `json:"subscription_checked_at,omitzero"`
	Media                 map[string]MediaCursor `json:"media,omitempty"`
	Version               int64                  `json:"version"`
	UpdatedAt             time.Time              `json:"updated_at,omitzero"`
}

// MediaCursor is where reconciliation stands for one media of the account.
type MediaCursor struct {
	CreatedAt time.Time `json:"created_at"` // the media's; its cursor is dropped once past the window
	Live      bool      `json:"live,omitempty"`
	// Count is Meta's comments_count when the last complete look began: a look is needed only
	// when it moved.
	Count int `json:"count"`
	// Seen is the floor of the next look: every comment created at or before it was checked.
	Seen time.Time `json:"seen"`
	// Swept is where the last whole read of the media ended: the replies made since (under older
	// comments, which a count net of deletions can hide) are checked by the next one.
	Swept    time.Time `json:"swept,omitzero"`
	LookedAt time.Time `json:"looked_at,omitzero"`
	// Again says the last look left comments too young to check (their webhook may still be on
	// its way): look again on the next pass even if the count did not move.
	Again bool `json:"again,omitempty"`
	// An unfinished look (the read budget ran out part way): Meta's cursor of the next page,
	// the look's upper bound and count, how many comments above the floor it already met, and
	// whether it is a whole read.
	After      string    `json:"after,omitempty"`
	Upper      time.Time `json:"upper,omitzero"`
	StartCount int       `json:"start_count,omitempty"`
	Found      int       `json:"found,omitempty"`
	Sweeping   bool      `json:"sweeping,omitempty"`
}

// CursorKey is the stored key of an account's reconcile cursor.
func CursorKey(account string) string { return "P#" + account }

// Resuming reports whether a look at the media stopped part way and goes on from After.
func (m MediaCursor) Resuming() bool { return m.After != "" }

// NeedsLook reports whether the media, now counting count comments, must be read at now: a
// broadcast always (while polled), otherwise when its count moved since the last complete look,
// a look is unfinished or left young comments, or its last whole read is older than revisit (a
// comment made and another deleted leave the count where it was).
func (m MediaCursor) NeedsLook(count int, now time.Time, revisit time.Duration) bool {
	switch {
	case m.Live, m.Resuming(), m.Again:
		return true
	case m.LookedAt.IsZero():
		return count > 0
	case count != m.Count:
		return true
	}
	return count > 0 && revisit > 0 && !m.Swept.IsZero() && !now.Before(m.Swept.Add(revisit))
}

// Cursors stores reconcile cursors with versioned conditional writes.
type Cursors interface {
	// Cursor is the account's stored cursor, or a zero cursor (Version 0) when there is none.
	Cursor(ctx context.Context, account string) (Cursor, error)
	// SaveCursor stores c if the stored version is c.Version-1 (nothing stored for Version 1);
	// otherwise it returns the stored cursor and an error wrapping ErrConflict.
	SaveCursor(ctx context.Context, c Cursor) (Cursor, error)
	// DeleteCursor removes the account's cursor; removing none is not an error.
	DeleteCursor(ctx context.Context, account string) error
}
