package deletion

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

// FuzzVerify holds the signed-request check to its promises on any input: only a request this
// secret signed is accepted, an accepted one names a user and an algorithm Meta uses, and a
// refusal is one of the four reasons the handler answers 400 for, never a panic.
func FuzzVerify(f *testing.F) {
	const secret = "replywindow-local-app-secret"
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	good, err := Sign(secret, Payload{Algorithm: Algorithm, IssuedAt: now.Unix(), UserID: "1234567890"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, secret)
	f.Add("", secret)
	f.Add("."+strings.SplitN(good, ".", 2)[1], secret)
	f.Add(good+"=", secret)
	f.Add(strings.SplitN(good, ".", 2)[0]+"."+base64.RawURLEncoding.EncodeToString([]byte(`{"algorithm":"HMAC-SHA256","issued_at":1,"user_id":1e400}`)), secret)
	f.Fuzz(func(t *testing.T, signed, key string) {
		p, err := Verify(signed, []string{"another-secret", key}, now, time.Hour)
		if err != nil {
			if !errors.Is(err, ErrUnsigned) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrExpired) {
				t.Fatalf("refused with an unknown reason: %v", err)
			}
			return
		}
		sig, payload, _ := strings.Cut(signed, ".")
		if want := base64.RawURLEncoding.EncodeToString(mac(key, payload)); sig != want && sig != base64.RawURLEncoding.EncodeToString(mac("another-secret", payload)) {
			t.Fatalf("accepted a request no given secret signed: %q", signed)
		}
		if p.UserID == "" || !strings.EqualFold(p.Algorithm, Algorithm) {
			t.Fatalf("accepted payload %+v: want a user and %s", p, Algorithm)
		}
	})
}
