package memory

import (
	"context"
	"fmt"
	"strings"

	"github.com/replywindow/replywindow/shared/reply"
)

// Tokens is reply.Tokens from a fixed map: the ACCOUNT_TOKENS stand-in for SSM in local runs
// (sam local invoke, the local stack) and in tests.
type Tokens map[string]string

// Token is the account's token from the map.
func (s Tokens) Token(_ context.Context, a reply.Account) (string, error) {
	if t, ok := s[a.ID]; ok {
		return t, nil
	}
	return "", fmt.Errorf("token of account %s: %w (not in ACCOUNT_TOKENS)", a.ID, reply.ErrNotFound)
}

// ParseTokens reads "id=token,id2=token2". Errors name the entry's position, never its token.
func ParseTokens(s string) (Tokens, error) {
	toks := Tokens{}
	for i, pair := range strings.Split(s, ",") {
		id, tok, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || id == "" || tok == "" {
			return nil, fmt.Errorf("entry %d: want id=token", i+1)
		}
		toks[id] = tok
	}
	return toks, nil
}
