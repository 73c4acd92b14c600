package deletion

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

type signedCase struct {
	Name          string `json:"name"`
	SignedRequest string `json:"signed_request"`
	UserID        string `json:"user_id"`
	Error         string `json:"error"`
}

type signedFile struct {
	Now           int64        `json:"now"`
	Secrets       []string     `json:"secrets"`
	MaxAgeSeconds int64        `json:"max_age_seconds"`
	Cases         []signedCase `json:"cases"`
}

func loadSigned(t *testing.T) signedFile {
	t.Helper()
	b, err := os.ReadFile("testdata/signed_requests.json")
	if err != nil {
		t.Fatal(err)
	}
	var f signedFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Cases) == 0 {
		t.Fatal("no cases in testdata/signed_requests.json")
	}
	return f
}

var reasonErr = map[string]error{
	"unsigned":      ErrUnsigned,
	"malformed":     ErrMalformed,
	"bad_signature": ErrBadSignature,
	"expired":       ErrExpired,
}

func TestVerify(t *testing.T) {
	f := loadSigned(t)
	now := time.Unix(f.Now, 0)
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			p, err := Verify(c.SignedRequest, f.Secrets, now, time.Duration(f.MaxAgeSeconds)*time.Second)
			if c.Error != "" {
				want, ok := reasonErr[c.Error]
				if !ok {
					t.Fatalf("testdata names unknown error %q", c.Error)
				}
				if !errors.Is(err, want) {
					t.Fatalf("Verify: err %v, want %v", err, want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if p.UserID != c.UserID {
				t.Errorf("user_id %q, want %q", p.UserID, c.UserID)
			}
		})
	}
}

// A request signed with no secret configured is never accepted.
func TestVerifyNoSecrets(t *testing.T) {
	f := loadSigned(t)
	for _, secrets := range [][]string{nil, {""}} {
		_, err := Verify(f.Cases[0].SignedRequest, secrets, time.Unix(f.Now, 0), time.Hour)
		if !errors.Is(err, ErrBadSignature) {
			t.Errorf("secrets %q: err %v, want ErrBadSignature", secrets, err)
		}
	}
}

// Sign agrees byte for byte with the independent implementation that made testdata.
func TestSignMatchesMeta(t *testing.T) {
	f := loadSigned(t)
	c := f.Cases[0]
	p, err := Verify(c.SignedRequest, f.Secrets, time.Unix(f.Now, 0), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Sign(f.Secrets[0], p)
	if err != nil {
		t.Fatal(err)
	}
	if got != c.SignedRequest {
		t.Errorf("Sign:\n got %s\nwant %s", got, c.SignedRequest)
	}
}

func TestCode(t *testing.T) {
	f := loadSigned(t)
	a, b := Code(f.Cases[0].SignedRequest), Code(f.Cases[1].SignedRequest)
	if a == b {
		t.Errorf("two requests share code %s", a)
	}
	if Code(" "+f.Cases[0].SignedRequest+"\n") != a {
		t.Error("code depends on surrounding space")
	}
	for _, c := range []string{a, b} {
		if !validCode(c) {
			t.Errorf("Code made %q, which validCode refuses", c)
		}
	}
	for _, bad := range []string{"", "../../etc", strings.ToUpper(a), a + "0", a[:19] + "g"} {
		if validCode(bad) {
			t.Errorf("validCode(%q) = true", bad)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	raw, err := os.ReadFile("testdata/signed_requests.json")
	if err != nil {
		b.Fatal(err)
	}
	var f signedFile
	if err := json.Unmarshal(raw, &f); err != nil {
		b.Fatal(err)
	}
	now := time.Unix(f.Now, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Verify(f.Cases[0].SignedRequest, f.Secrets, now, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
