package deletion

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

type signedCase struct {
	Name          string `json:"name"`
	SignedRequest string `json:"signed_request"`
	UserID        string `json:"user_id"`
	Error         string `json:"error"`
	SameAs        string `json:"same_as"` // the name of a case that is the same request
}

// code is the confirmation code of a valid case, from what Verify reads of it.
func (f signedFile) code(t *testing.T, c signedCase) string {
	t.Helper()
	p, key, err := verify(c.SignedRequest, f.Secrets, time.Unix(f.Now, 0), time.Hour)
	if err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	return Code(key, reply.DeletionUser, p.UserID, time.Unix(p.IssuedAt, 0))
}

// byName is the case called name.
func (f signedFile) byName(t *testing.T, name string) signedCase {
	t.Helper()
	for _, c := range f.Cases {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("testdata has no case %q", name)
	return signedCase{}
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

// TestCode: one request (user and issue time) has one code however it is encoded or signed;
// another request, another user or another kind has another.
func TestCode(t *testing.T) {
	f := loadSigned(t)
	checked := 0
	for _, c := range f.Cases {
		if c.SameAs == "" {
			continue
		}
		if got, want := f.code(t, c), f.code(t, f.byName(t, c.SameAs)); got != want {
			t.Errorf("%s: code %s, want %s (%s)", c.Name, got, want, c.SameAs)
		}
		checked++
	}
	if checked == 0 {
		t.Error("testdata has no re-encoded request")
	}
	a := f.code(t, f.byName(t, "valid"))
	if b := f.code(t, f.byName(t, "valid, the same user asking again later")); a == b {
		t.Errorf("two requests of one user share code %s", a)
	}
	at := time.Unix(1767225540, 0)
	b := Code(f.Secrets[0], reply.DeletionUser, "17841400000000002", at)
	for _, other := range []string{b, Code(f.Secrets[0], reply.DeletionPerson, "17841400000000001", at)} {
		if other == a {
			t.Errorf("code %s for another subject", a)
		}
	}
	for _, c := range []string{a, b, NewCode()} {
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
