package memory

import (
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/storetest"
)

func TestWebhooksContract(t *testing.T) {
	storetest.Webhooks(t, func(*testing.T) reply.Webhooks { return NewStore() })
}
