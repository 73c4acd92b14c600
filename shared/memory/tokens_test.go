package memory

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
)

func TestTokens(t *testing.T) {
	s, err := ParseTokens("1=tok, 2=other")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Token(context.Background(), reply.Account{ID: "1"}); err != nil || got != "tok" {
		t.Fatalf("%q, %v", got, err)
	}
	if _, err := s.Token(context.Background(), reply.Account{ID: "3"}); !errors.Is(err, reply.ErrNotFound) {
		t.Fatalf("missing account: %v", err)
	}
	// Bad entries are named by position; the error never carries a token.
	for _, bad := range []string{"1", "=s3cr3t", "1=", "1=s3cr3t,,2=s3cr3t"} {
		_, err := ParseTokens(bad)
		if err == nil || strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("ParseTokens(%q) = %v", bad, err)
		}
	}
}
