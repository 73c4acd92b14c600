package reply

import (
	"strings"
	"testing"
	"time"
)

func TestRuleActive(t *testing.T) {
	from := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	until := from.Add(24 * 24 * time.Hour)
	campaign := Rule{Name: "advent", Match: MatchAny, Message: "hi", From: from, Until: until}
	tests := []struct {
		name string
		rule Rule
		at   time.Time
		want bool
	}{
		{"no bounds", Rule{Match: MatchAny, Message: "hi"}, from, true},
		{"disabled", Rule{Match: MatchAny, Message: "hi", Disabled: true}, from, false},
		{"before from", campaign, from.Add(-time.Second), false},
		{"at from", campaign, from, true},
		{"inside", campaign, from.Add(48 * time.Hour), true},
		{"at until: over", campaign, until, false},
		{"only until, before", Rule{Match: MatchAny, Message: "hi", Until: until}, from, true},
	}
	for _, tt := range tests {
		if got := tt.rule.Active(tt.at); got != tt.want {
			t.Errorf("%s: Active(%s) = %v, want %v", tt.name, tt.at, got, tt.want)
		}
		a := Account{Rules: []Rule{tt.rule}}
		if _, ok := a.Match(Job{Text: "anything", Kind: KindPost, CommentedAt: tt.at}); ok != tt.want {
			t.Errorf("%s: Match = %v, want %v", tt.name, ok, tt.want)
		}
	}
	// The first active rule answers: a disabled rule above a catch-all lets it through.
	a := Account{Rules: []Rule{{Name: "off", Match: MatchAny, Message: "a", Disabled: true}, {Name: "on", Match: MatchAny, Message: "b"}}}
	if r, ok := a.Match(Job{Text: "x", Kind: KindPost, CommentedAt: from}); !ok || r.Name != "on" {
		t.Errorf("match past a disabled rule: %q %v", r.Name, ok)
	}
	bad := Rule{Name: "x", Match: MatchAny, Message: "hi", From: until, Until: from}
	if err := bad.validate(""); err == nil || !strings.Contains(err.Error(), "until: 2026-12-01T00:00:00Z is not after from 2026-12-25T00:00:00Z") {
		t.Errorf("until before from: %v", err)
	}
}
