package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// SignatureHeader is the header Meta signs deliveries in (API Gateway lower-cases header names).
const SignatureHeader = "X-Hub-Signature-256"

// Signature errors; Verify wraps neither with the signature itself.
var (
	ErrNoSignature  = errors.New("no X-Hub-Signature-256 header")
	ErrBadSignature = errors.New("signature does not match the body")
	ErrNoSecrets    = errors.New("no app secret to verify against")
)

const sigPrefix = "sha256="

// Sign is the X-Hub-Signature-256 value Meta sends for body: "sha256=" and the lowercase hex
// HMAC-SHA256 of the raw bytes under the app secret.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return sigPrefix + hex.EncodeToString(m.Sum(nil))
}

// Verify checks header against the raw body under each secret in constant time. The body must be
// the bytes Meta sent (its \u00e4 and \/ escapes intact), never re-marshalled JSON.
func Verify(body []byte, header string, secrets []string) error {
	header = strings.TrimSpace(header)
	if header == "" {
		return ErrNoSignature
	}
	if len(secrets) == 0 {
		return ErrNoSecrets
	}
	hexSig, ok := cutPrefixFold(header, sigPrefix)
	if !ok || len(hexSig) != 2*sha256.Size {
		return ErrBadSignature
	}
	var want [sha256.Size]byte
	if _, err := hex.Decode(want[:], []byte(hexSig)); err != nil {
		return ErrBadSignature
	}
	var sum [sha256.Size]byte
	match := false
	for _, s := range secrets {
		if s == "" {
			continue
		}
		m := hmac.New(sha256.New, []byte(s))
		m.Write(body)
		// Every secret is tried, so timing does not tell which one matched.
		if hmac.Equal(m.Sum(sum[:0]), want[:]) {
			match = true
		}
	}
	if !match {
		return ErrBadSignature
	}
	return nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}
