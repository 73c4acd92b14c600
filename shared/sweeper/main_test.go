package sweeper

import (
	"io"
	"os"
	"testing"

	"github.com/replywindow/replywindow/shared/telemetry"
)

// TestMain keeps the EMF lines of hundreds of runs out of the test output; the handler test
// reads them from a buffer of its own.
func TestMain(m *testing.M) {
	telemetry.Stdout = io.Discard
	os.Exit(m.Run())
}
