package memory

import (
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/storetest"
)

func TestStoreContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) reply.Store { return NewStore() })
}

func TestZeroStoreContract(t *testing.T) {
	storetest.Run(t, func(*testing.T) reply.Store { return new(Store) })
}
