// Package links is the tracked-link capability: it seals a message's links into codes for the
// stack's click route (GET /l/{code}), and serves that route: it opens the code, counts the click
// when a person made it, and redirects to the link.
//
// A code is sealed, not stored: the link's target and origin (account, rule, variant, media,
// person) are encrypted into the code itself with a key derived from a secret in SSM, so sending
// a tracked link costs no write and a click no read; the route's one write is the click.
package links

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// codeVersion is the first byte of every code; a change of layout or keys takes another.
const codeVersion = 1

// tagBytes is the MAC's length in a code: 128 bits, so a forged code is accepted with odds of
// 2^-128 per try.
const tagBytes = 16

// epoch is day 0 of a code's issue day.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Typed errors of Open: the route answers each with the same plain 404 and counts it by kind.
var (
	ErrMalformed = errors.New("link code: malformed")           // not base64url, too short, unknown version
	ErrForged    = errors.New("link code: altered or not ours") // the MAC does not match
	ErrStale     = errors.New("link code: older than the links' lifetime, or issued in the future")
)

// Link is what a code holds.
type Link struct {
	reply.Origin
	Target string    // the URL the route redirects to (UTM parameters included)
	Issued time.Time // the day the code was made (UTC midnight)
}

// Sealer seals links into codes and opens them, with keys derived from one secret.
//
// The construction is a synthetic-IV one (like AES-SIV, with HMAC-SHA256 as the PRF): the tag
// is HMAC(macKey, version‖plaintext) cut to 128 bits, and the plaintext is encrypted with
// AES-256-CTR under encKey with the tag as its IV. It is deterministic (the same link for the same
// person on the same day is the same code, so a resent message carries the same link), names
// nothing in clear, and a code changed in any bit fails the MAC.
type Sealer struct {
	enc    cipher.Block
	mac    []byte
	maxAge time.Duration
}

// NewSealer derives the keys from secret (at least 32 bytes, the SSM parameter's value). Codes
// older than maxAge open as ErrStale.
func NewSealer(secret string, maxAge time.Duration) (*Sealer, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("links secret: %d bytes, want at least 32", len(secret))
	}
	derive := func(label string) []byte {
		h := hmac.New(sha256.New, []byte(secret))
		h.Write([]byte("replywindow/links/" + label))
		return h.Sum(nil)
	}
	block, err := aes.NewCipher(derive("enc"))
	if err != nil {
		return nil, fmt.Errorf("links cipher: %w", err)
	}
	return &Sealer{enc: block, mac: derive("mac"), maxAge: maxAge}, nil
}

// Seal is the code of l. Issued is cut to its day.
func (s *Sealer) Seal(l Link) string {
	day := uint16(max(0, l.Issued.UTC().Sub(epoch).Hours()/24))
	plain := make([]byte, 0, 2+len(l.Account)+len(l.Rule)+len(l.Variant)+len(l.Media)+len(l.Person)+len(l.Target)+12)
	plain = binary.BigEndian.AppendUint16(plain, day)
	for _, f := range []string{l.Account, l.Rule, l.Variant, l.Media, l.Person, l.Target} {
		plain = binary.AppendUvarint(plain, uint64(len(f)))
		plain = append(plain, f...)
	}
	out := make([]byte, 1+tagBytes+len(plain))
	out[0] = codeVersion
	tag := s.tag(plain)
	copy(out[1:], tag)
	cipher.NewCTR(s.enc, tag).XORKeyStream(out[1+tagBytes:], plain)
	return base64.RawURLEncoding.EncodeToString(out)
}

// Open is the link code holds, at now. Errors are ErrMalformed, ErrForged or ErrStale.
func (s *Sealer) Open(code string, now time.Time) (Link, error) {
	if len(code) > 4*MaxCodeBytes/3+4 {
		return Link{}, ErrMalformed
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(code) // one spelling per code
	if err != nil || len(raw) < 1+tagBytes+2 || raw[0] != codeVersion {
		return Link{}, ErrMalformed
	}
	tag := raw[1 : 1+tagBytes]
	plain := make([]byte, len(raw)-1-tagBytes)
	cipher.NewCTR(s.enc, tag).XORKeyStream(plain, raw[1+tagBytes:])
	if !hmac.Equal(tag, s.tag(plain)) {
		return Link{}, ErrForged
	}
	l := Link{Issued: epoch.AddDate(0, 0, int(binary.BigEndian.Uint16(plain)))}
	rest := plain[2:]
	for _, f := range []*string{&l.Account, &l.Rule, &l.Variant, &l.Media, &l.Person, &l.Target} {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return Link{}, ErrMalformed // only a bug of ours seals this: the MAC matched
		}
		*f, rest = string(rest[k:k+int(n)]), rest[k+int(n):]
	}
	if len(rest) != 0 || !reply.HTTPLink(l.Target) {
		return Link{}, ErrMalformed
	}
	if age := now.Sub(l.Issued); age < -24*time.Hour || (s.maxAge > 0 && age > s.maxAge+24*time.Hour) {
		return Link{}, ErrStale
	}
	return l, nil
}

func (s *Sealer) tag(plain []byte) []byte {
	h := hmac.New(sha256.New, s.mac)
	h.Write([]byte{codeVersion})
	h.Write(plain)
	return h.Sum(nil)[:tagBytes]
}

// LinkID names a target in counters: a hash, short and free of the URL's characters.
func LinkID(target string) string {
	sum := sha256.Sum256([]byte(target))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// MaxCodeBytes bounds a code's decoded size: the route refuses longer ones unread.
const MaxCodeBytes = 1500
