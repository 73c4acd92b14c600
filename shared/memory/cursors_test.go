package memory

import (
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/storetest"
)

func TestCursorsContract(t *testing.T) {
	storetest.Cursors(t, func(*testing.T) reply.Cursors { return new(Cursors) })
}
