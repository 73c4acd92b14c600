package memory

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/replywindow/replywindow/shared/reply"
)

var _ reply.Cursors = (*Cursors)(nil)

// Cursors is reply.Cursors in memory, with the DynamoDB store's versioned writes. Values never
// alias: cursors are copied in and out. The zero value is ready to use.
type Cursors struct {
	mu sync.Mutex
	m  map[string][]byte // account -> the cursor's JSON
}

// Cursor is the account's stored cursor, or a zero cursor (Version 0).
func (c *Cursors) Cursor(_ context.Context, account string) (reply.Cursor, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.get(account)
}

func (c *Cursors) get(account string) (reply.Cursor, error) {
	cur := reply.Cursor{AccountID: account}
	if b, ok := c.m[account]; ok {
		if err := json.Unmarshal(b, &cur); err != nil {
			return reply.Cursor{}, fmt.Errorf("cursor %s: %w", reply.CursorKey(account), err)
		}
	}
	return cur, nil
}

// DeleteCursor removes the account's cursor; removing none is not an error.
func (c *Cursors) DeleteCursor(_ context.Context, account string) error {
	c.mu.Lock()
	delete(c.m, account)
	c.mu.Unlock()
	return nil
}

// SaveCursor stores cur if the stored version is cur.Version-1.
func (c *Cursors) SaveCursor(_ context.Context, cur reply.Cursor) (reply.Cursor, error) {
	key := reply.CursorKey(cur.AccountID)
	if cur.AccountID == "" {
		return reply.Cursor{}, fmt.Errorf("save cursor: account is required")
	}
	b, err := json.Marshal(cur)
	if err != nil {
		return reply.Cursor{}, fmt.Errorf("encode cursor %s: %w", key, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old, err := c.get(cur.AccountID)
	if err != nil {
		return reply.Cursor{}, err
	}
	if old.Version != cur.Version-1 {
		return old, fmt.Errorf("save cursor %s version %d: %w", key, cur.Version, reply.ErrConflict)
	}
	if c.m == nil {
		c.m = map[string][]byte{}
	}
	c.m[cur.AccountID] = b
	return cur, nil
}
