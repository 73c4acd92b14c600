package dynamo

import (
	"context"
	"fmt"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

var _ reply.Cursors = (*Store)(nil)

// CursorRetention is how long a reconcile cursor outlives its last write (TTL). The reconciler
// rewrites it on every pass, so only the cursor of an account it no longer reads expires.
const CursorRetention = 30 * 24 * time.Hour

// Cursor is the account's stored reconcile cursor, or a zero cursor (Version 0).
func (s *Store) Cursor(ctx context.Context, account string) (reply.Cursor, error) {
	c := reply.Cursor{AccountID: account}
	if _, err := s.load(ctx, reply.CursorKey(account), &c); err != nil {
		return reply.Cursor{}, fmt.Errorf("cursor %s: %w", reply.CursorKey(account), err)
	}
	return c, nil
}

// DeleteCursor removes the account's cursor (its data deletion); removing none is not an error.
func (s *Store) DeleteCursor(ctx context.Context, account string) error {
	if err := s.delete(ctx, reply.CursorKey(account)); err != nil {
		return fmt.Errorf("delete cursor %s: %w", reply.CursorKey(account), err)
	}
	return nil
}

// SaveCursor stores c if the stored version is c.Version-1.
func (s *Store) SaveCursor(ctx context.Context, c reply.Cursor) (reply.Cursor, error) {
	key := reply.CursorKey(c.AccountID)
	if c.AccountID == "" {
		return reply.Cursor{}, fmt.Errorf("save cursor: account is required")
	}
	item, err := marshal(c)
	if err != nil {
		return reply.Cursor{}, fmt.Errorf("encode cursor %s: %w", key, err)
	}
	item[AttrPK] = str(key)
	item[AttrExpiresAt] = num(s.clock.Now().Add(CursorRetention).Unix())
	old := reply.Cursor{AccountID: c.AccountID}
	if err := s.save(ctx, item, c.Version, &old, "cursor", key); err != nil {
		return old, err
	}
	return c, nil
}
