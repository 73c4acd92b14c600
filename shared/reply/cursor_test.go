package reply

import (
	"testing"
	"time"
)

func TestMediaCursorNeedsLook(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	looked := MediaCursor{Count: 5, Seen: now.Add(-time.Hour), Swept: now.Add(-2 * time.Hour), LookedAt: now.Add(-time.Hour)}
	tests := []struct {
		name  string
		mc    MediaCursor
		count int
		want  bool
	}{
		{"never read, no comments", MediaCursor{}, 0, false},
		{"never read, comments", MediaCursor{}, 3, true},
		{"count unchanged", looked, 5, false},
		{"count moved up", looked, 6, true},
		{"count moved down (a deletion hides nothing new, but the look is cheap)", looked, 4, true},
		{"young comments left", func() MediaCursor { m := looked; m.Again = true; return m }(), 5, true},
		{"unfinished look", func() MediaCursor { m := looked; m.After = "QVFI"; return m }(), 5, true},
		{"a broadcast is always read", func() MediaCursor { m := looked; m.Live = true; return m }(), 0, true},
		{"whole read due", func() MediaCursor { m := looked; m.Swept = now.Add(-7 * time.Hour); return m }(), 5, true},
		{"whole read due, no comments", func() MediaCursor { m := looked; m.Count, m.Swept = 0, now.Add(-7*time.Hour); return m }(), 0, false},
	}
	for _, tt := range tests {
		if got := tt.mc.NeedsLook(tt.count, now, 6*time.Hour); got != tt.want {
			t.Errorf("%s: NeedsLook = %v, want %v", tt.name, got, tt.want)
		}
	}
}
