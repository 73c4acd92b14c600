package links

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

func TestSealOpen(t *testing.T) {
	s, err := NewSealer(testSecret, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	l := Link{Origin: reply.Origin{Account: "17841400000000001", Rule: "recipe", Variant: "b", Media: "18000000000000001", Person: "9000000000000001"},
		Target: "https://shop.example/book?a=1", Issued: sentAt}
	code := s.Seal(l)
	got, err := s.Open(code, clickAt)
	l.Issued = sentAt.Truncate(24 * time.Hour)
	if err != nil || got != l {
		t.Fatalf("Open(Seal(l)) = %+v, %v; want %+v", got, err, l)
	}
	if s.Seal(l) != code {
		t.Error("the same link for the same person on the same day gave two codes")
	}
	for _, clear := range []string{"shop", "9000000000000001", "17841400000000001", "recipe"} {
		raw, _ := base64.RawURLEncoding.DecodeString(code)
		if strings.Contains(code, clear) || strings.Contains(string(raw), clear) {
			t.Errorf("the code names %q in clear", clear)
		}
	}
	other := l
	other.Person = "9000000000000002"
	if s.Seal(other) == code {
		t.Error("two people got the same code")
	}

	raw, _ := base64.RawURLEncoding.DecodeString(code)
	for _, c := range []struct {
		name string
		code string
		at   time.Time
		want error
	}{
		{"not base64", "%%%", clickAt, ErrMalformed},
		{"too short", base64.RawURLEncoding.EncodeToString(raw[:10]), clickAt, ErrMalformed},
		{"unknown version", base64.RawURLEncoding.EncodeToString(append([]byte{9}, raw[1:]...)), clickAt, ErrMalformed},
		{"tag altered", base64.RawURLEncoding.EncodeToString(flip(raw, 3)), clickAt, ErrForged},
		{"ciphertext altered", base64.RawURLEncoding.EncodeToString(flip(raw, len(raw)-1)), clickAt, ErrForged},
		{"cut short", base64.RawURLEncoding.EncodeToString(raw[:len(raw)-1]), clickAt, ErrForged},
		{"too long to read", strings.Repeat("A", 4*MaxCodeBytes), clickAt, ErrMalformed},
		{"past its lifetime", code, sentAt.Add(32 * 24 * time.Hour), ErrStale},
		{"from the future", code, sentAt.Add(-48 * time.Hour), ErrStale},
	} {
		if _, err := s.Open(c.code, c.at); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := NewSealer("short", time.Hour); err == nil {
		t.Error("a 5-byte secret was taken")
	}
}

func flip(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i] ^= 1
	return out
}

func TestCounts(t *testing.T) {
	for _, c := range []struct {
		method  string
		headers map[string]string
		want    string
	}{
		{"GET", map[string]string{"user-agent": browserUA}, ""},
		{"HEAD", map[string]string{"user-agent": browserUA}, NotClickHead},
		{"GET", map[string]string{"user-agent": previewUA}, NotClickCrawler},
		{"GET", map[string]string{"user-agent": "Mozilla/5.0 (compatible; Facebot)"}, NotClickCrawler},
		{"GET", map[string]string{"user-agent": "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)"}, NotClickCrawler},
		{"GET", map[string]string{"user-agent": "WhatsApp/2.23.20.0"}, NotClickCrawler},
		{"GET", map[string]string{}, NotClickNoAgent},
		{"GET", map[string]string{"user-agent": browserUA, "sec-purpose": "prefetch;prerender"}, NotClickPrefetch},
	} {
		ok, why := Counts(c.method, c.headers)
		if why != c.want || ok != (c.want == "") {
			t.Errorf("%s %v: %v %q, want %q", c.method, c.headers, ok, why, c.want)
		}
	}
}

// FuzzOpen: whatever the path holds, Open answers without panicking, and only a code this
// sealer made opens.
func FuzzOpen(f *testing.F) {
	s, err := NewSealer(testSecret, 0)
	if err != nil {
		f.Fatal(err)
	}
	good := s.Seal(Link{Origin: origin, Target: target, Issued: sentAt})
	for _, seed := range []string{good, good[:len(good)-1], "", "AQ", "%%", strings.Repeat("A", 300)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, code string) {
		l, err := s.Open(code, clickAt)
		if err == nil && s.Seal(l) != code {
			t.Fatalf("%q opened to %+v, which seals to another code", code, l)
		}
	})
}
