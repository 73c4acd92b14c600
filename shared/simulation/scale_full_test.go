//go:build scale

package simulation

import "testing"

// TestScaleFull is make scale: FullScale, 1,000 accounts and 1,000,000 comments.
func TestScaleFull(t *testing.T) {
	cfg := FullScale()
	cfg.Progress = t.Logf
	checkScale(t, cfg)
}
