package memory

import (
	"encoding/base64"
	"slices"
	"strings"
)

// keyPage is the page of m's keys under prefix that follows cursor, in key order, at most limit,
// and the cursor of the next page ("" when none): the last key handed out, so that entries
// written or removed between pages never shift the next one. A cursor that is not a key under
// prefix is ErrCursor. The caller holds the store's lock.
func keyPage[V any](m map[string]V, prefix, cursor string, limit int) ([]string, string, error) {
	after := ""
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || !strings.HasPrefix(string(b), prefix) {
			return nil, "", ErrCursor
		}
		after = string(b)
	}
	var keys []string
	for k := range m {
		if strings.HasPrefix(k, prefix) && k > after {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	next := ""
	if len(keys) > limit {
		keys = keys[:limit]
		next = base64.RawURLEncoding.EncodeToString([]byte(keys[limit-1]))
	}
	return keys, next, nil
}
