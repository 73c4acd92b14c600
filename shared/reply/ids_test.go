package reply

import (
	"strings"
	"testing"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"17841400000000001", true},
		{"1", true},
		{strings.Repeat("9", 32), true},
		{strings.Repeat("9", 33), false},
		{"", false},
		{"-1", false},
		{"1e5", false},
		{"12.5", false},
		{" 123", false},
		{"123\n", false},
		{"../123", false},
		{"123/messages", false},
		{"A#1", false},
		{"١٢٣", false}, // Arabic-Indic digits are digits to unicode, not to Meta
		{"0x1F", false},
	}
	for _, tt := range tests {
		if got := ValidID(tt.id); got != tt.ok {
			t.Errorf("ValidID(%q) = %v, want %v", tt.id, got, tt.ok)
		}
		err := CheckID("media", tt.id)
		if (err == nil) != tt.ok {
			t.Errorf("CheckID(%q) = %v", tt.id, err)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "media id ") {
			t.Errorf("CheckID(%q): %q does not say which id", tt.id, err)
		}
	}
}
