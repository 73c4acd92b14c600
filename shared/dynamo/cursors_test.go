package dynamo

import (
	"testing"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/storetest"
)

// TestCursorItem: a cursor is stored under P#<account>, outside every index, and expires
// CursorRetention after its last write.
func TestCursorItem(t *testing.T) {
	api, table := newTable(t)
	clock := memory.NewClock(storetest.T0)
	s := New(api, table, WithClock(clock))
	cur := storetest.FullCursor()
	if _, err := s.SaveCursor(awstest.Context(t), cur); err != nil {
		t.Fatal(err)
	}
	item := rawItem(t, api, table, reply.CursorKey(cur.AccountID))
	ttl, ok := numAttr(t, item, AttrExpiresAt)
	if want := storetest.T0.Add(CursorRetention).Unix(); !ok || ttl != want {
		t.Errorf("%s = %d (present %v), want %d", AttrExpiresAt, ttl, ok, want)
	}
	for _, a := range []string{AttrDue, AttrDueShard, AttrCommentID, AttrList} {
		if _, in := item[a]; in {
			t.Errorf("cursor carries index attribute %s", a)
		}
	}
}
