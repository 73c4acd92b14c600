// Package deletion is Meta's data-deletion callback: the route that accepts a signed request
// and answers with a confirmation code, the route that reports on a code, and the worker that
// removes the person's data in pages.
package deletion

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// Reasons a signed request is refused; the handler answers 400 for each of them.
var (
	ErrUnsigned     = errors.New("signed request missing or not signed")
	ErrMalformed    = errors.New("signed request malformed")
	ErrBadSignature = errors.New("signed request signature does not match")
	ErrExpired      = errors.New("signed request expired")
)

// Algorithm is the only signing algorithm Meta uses for signed requests.
const Algorithm = "HMAC-SHA256"

// Payload is the part of Meta's signed request the callback relies on.
type Payload struct {
	Algorithm string `json:"algorithm"`
	IssuedAt  int64  `json:"issued_at"`
	Expires   int64  `json:"expires,omitempty"`
	UserID    string `json:"user_id"`
}

// UnmarshalJSON accepts user_id as a string or as a number: Meta documents a string, but ids
// have appeared as numbers in older SDK samples.
func (p *Payload) UnmarshalJSON(b []byte) error {
	var raw struct {
		Algorithm string          `json:"algorithm"`
		IssuedAt  json.Number     `json:"issued_at"`
		Expires   json.Number     `json:"expires"`
		UserID    json.RawMessage `json:"user_id"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&raw); err != nil {
		return err
	}
	p.Algorithm = raw.Algorithm
	var err error
	if p.IssuedAt, err = epoch(raw.IssuedAt); err != nil {
		return fmt.Errorf("issued_at: %w", err)
	}
	if p.Expires, err = epoch(raw.Expires); err != nil {
		return fmt.Errorf("expires: %w", err)
	}
	p.UserID = ""
	if len(raw.UserID) > 0 && raw.UserID[0] == '"' {
		if err := json.Unmarshal(raw.UserID, &p.UserID); err != nil {
			return fmt.Errorf("user_id: %w", err)
		}
	} else if len(raw.UserID) > 0 && string(raw.UserID) != "null" {
		var n json.Number
		if err := json.Unmarshal(raw.UserID, &n); err != nil {
			return fmt.Errorf("user_id: %w", err)
		}
		p.UserID = n.String()
	}
	return nil
}

func epoch(n json.Number) (int64, error) {
	if n == "" {
		return 0, nil
	}
	if v, err := n.Int64(); err == nil {
		return v, nil
	}
	f, err := n.Float64()
	return int64(f), err
}

// b64 is the only encoding a signed request may use: base64url without padding, and strict
// (the unused bits of the last character are zero), so one request has one encoding.
var b64 = base64.RawURLEncoding.Strict()

// canonical decodes s if it is in b64 and nothing else: the decoder itself would skip line
// breaks, and a padded or re-encoded string is another string with the same bytes.
func canonical(s string) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return nil, false
		}
	}
	b, err := b64.DecodeString(s)
	return b, err == nil
}

// Sign makes a signed request the way Meta does: base64url(HMAC-SHA256(secret, encoded payload))
// "." encoded payload, with encoded payload = base64url(JSON). Tests, sample events and the
// local stack use it; production only verifies.
func Sign(secret string, p Payload) (string, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("sign: %w", err)
	}
	enc := b64.EncodeToString(body)
	return b64.EncodeToString(mac(secret, enc)) + "." + enc, nil
}

func mac(secret, encodedPayload string) []byte {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(encodedPayload))
	return h.Sum(nil)
}

// Skew is how far in the future issued_at may lie (clocks differ).
const Skew = 5 * time.Minute

// Verify checks a signed request against every secret (an Instagram-Login and a Facebook-Login
// app, or a rotation) in constant time, then its algorithm and age, and returns its payload.
// The signature is checked before the payload is trusted for anything.
func Verify(signed string, secrets []string, now time.Time, maxAge time.Duration) (Payload, error) {
	p, _, err := verify(signed, secrets, now, maxAge)
	return p, err
}

// verify is Verify that also returns the secret the request was signed with: the key of its
// confirmation code.
func verify(signed string, secrets []string, now time.Time, maxAge time.Duration) (Payload, string, error) {
	encSig, encPayload, ok := strings.Cut(signed, ".")
	if !ok || encSig == "" || encPayload == "" {
		return Payload{}, "", ErrUnsigned
	}
	sig, ok := canonical(encSig)
	if !ok || len(sig) != sha256.Size {
		return Payload{}, "", fmt.Errorf("%w: signature is not an HMAC-SHA256 in canonical base64url", ErrMalformed)
	}
	matched := ""
	for _, s := range secrets {
		// Every secret is tried, so timing does not tell which one matched.
		if s != "" && hmac.Equal(sig, mac(s, encPayload)) && matched == "" {
			matched = s
		}
	}
	if matched == "" {
		return Payload{}, "", ErrBadSignature
	}
	raw, ok := canonical(encPayload)
	if !ok {
		return Payload{}, "", fmt.Errorf("%w: payload is not canonical base64url (no padding, white space or stray bits)", ErrMalformed)
	}
	var p Payload
	if err := json.Unmarshal(raw, &p); err != nil {
		return Payload{}, "", fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if p, err := checkPayload(p, now, maxAge); err != nil {
		return p, "", err
	}
	return p, matched, nil
}

// checkPayload checks what a verified payload says: its algorithm, user, and age.
func checkPayload(p Payload, now time.Time, maxAge time.Duration) (Payload, error) {
	switch {
	case !strings.EqualFold(p.Algorithm, Algorithm):
		return Payload{}, fmt.Errorf("%w: algorithm %q, want %s", ErrMalformed, p.Algorithm, Algorithm)
	case p.UserID == "":
		return Payload{}, fmt.Errorf("%w: no user_id", ErrMalformed)
	case !reply.ValidID(p.UserID):
		return Payload{}, fmt.Errorf("%w: user_id %.40q is not a Meta id", ErrMalformed, p.UserID)
	case p.IssuedAt == 0:
		return Payload{}, fmt.Errorf("%w: no issued_at", ErrMalformed)
	}
	issued := time.Unix(p.IssuedAt, 0)
	if now.Sub(issued) > maxAge {
		return Payload{}, fmt.Errorf("%w: issued %s ago", ErrExpired, now.Sub(issued).Truncate(time.Second))
	}
	if issued.Sub(now) > Skew {
		return Payload{}, fmt.Errorf("%w: issued_at lies %s in the future", ErrMalformed, issued.Sub(now).Truncate(time.Second))
	}
	if p.Expires != 0 && !time.Unix(p.Expires, 0).After(now) {
		return Payload{}, fmt.Errorf("%w: expires passed", ErrExpired)
	}
	return p, nil
}

// Code is the confirmation code of the request of user (its kind, reply.DeletionUser or
// reply.DeletionPerson) made at issued, keyed with key (the app secret that signed the request):
// derived from these alone, so that every delivery and every encoding of one request comes to
// one code, and unguessable without the key. (Codes were once an unkeyed hash of the same
// fields, so anyone who knew a person's id could find their request by trying the seconds of
// an hour: issue 24, finding 2.) It names the request, not the person: the status page it opens
// shows nothing of whom it was for. The format, 20 lower-case hex digits, is the old one, so
// the codes of requests stored before stay readable.
func Code(key, kind, user string, issued time.Time) string {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte("replywindow deletion code\x00" + kind + "\x00" + user + "\x00" + strconv.FormatInt(issued.Unix(), 10)))
	return hex.EncodeToString(h.Sum(nil)[:10])
}

// NewCode is a random confirmation code, for a request that is made once and never resent
// (the operator's `forget`).
func NewCode() string {
	b := make([]byte, 10)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b)
}

// validCode reports whether s looks like a code Code made, so junk never reaches the store.
func validCode(s string) bool {
	if len(s) != 20 {
		return false
	}
	_, err := strconv.ParseUint(s[:10], 16, 64)
	_, err2 := strconv.ParseUint(s[10:], 16, 64)
	return err == nil && err2 == nil && strings.ToLower(s) == s
}
