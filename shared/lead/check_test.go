package lead

import (
	"errors"
	"strings"
	"sync"
	"testing"
)

func TestCheckEmail(t *testing.T) {
	for _, tc := range []struct {
		answer, want string // want "" means refused
	}{
		{"ana@example.com", "ana@example.com"},
		{"  Ana.Lopez+book@Example.CO.uk \n", "Ana.Lopez+book@example.co.uk"},
		{"x_y-z@sub.domain-1.io", "x_y-z@sub.domain-1.io"},
		{"a@xn--bcher-kva.de", "a@xn--bcher-kva.de"},
		{"", ""},
		{"ana", ""},
		{"ana@", ""},
		{"@example.com", ""},
		{"ana@example", ""},           // no dot
		{"ana@localhost", ""},         // no dot
		{"ana@example.c", ""},         // one-letter top-level domain
		{"ana@example.123", ""},       // digits for a top-level domain
		{"ana@-example.com", ""},      // label starts with -
		{"ana@exa_mple.com", ""},      // _ in a host name
		{"ana@[127.0.0.1]", ""},       // a literal address
		{"ana@example..com", ""},      // empty label
		{"Ana <ana@example.com>", ""}, // a display name
		{"ana@example.com (me)", ""},  // a comment
		{"ana@example.com, bo@example.com", ""},
		{"my email is ana@example.com", ""},
		{"\"ana lopez\"@example.com", ""}, // quoted local part
		{"ana@exam\u200bple.com", ""},     // zero-width space
		{"ana@example.com\x00", ""},       // control character
		{"ana\t@example.com", ""},
		{"анна@пример.рф", ""}, // another script
		{"ana@例え.jp", ""},
		{strings.Repeat("a", 65) + "@example.com", ""},
		{"a@" + strings.Repeat("b", 250) + ".com", ""},
		{strings.Repeat("x", 10<<10), ""}, // 10 KB
		{"\xff@example.com", ""},          // not UTF-8
	} {
		got, err := CheckEmail(tc.answer)
		if tc.want == "" {
			if err == nil || !errors.Is(err, ErrInvalid) {
				t.Errorf("CheckEmail(%.40q) = %q, %v; want ErrInvalid", tc.answer, got, err)
			}
			if err != nil && len(tc.answer) > 3 && strings.Contains(err.Error(), strings.TrimSpace(tc.answer)) {
				t.Errorf("CheckEmail(%.40q): the error repeats the answer: %v", tc.answer, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CheckEmail(%q) = %q, %v; want %q", tc.answer, got, err, tc.want)
		}
	}
}

func TestCheckPhone(t *testing.T) {
	for _, tc := range []struct {
		answer, region, want string
	}{
		{"+49 151 23456789", "US", "+4915123456789"}, // a country code wins over the region
		{"0151 23456789", "DE", "+4915123456789"},
		{"(415) 555-2671", "US", "+14155552671"},
		{"415.555.2671", "US", "+14155552671"},
		{"07400 123456", "GB", "+447400123456"},
		{"+44 7400 123456", "", "+447400123456"},
		{"0044 7400 123456", "DE", "+447400123456"}, // the region's international prefix
		{"06 12 34 56 78", "FR", "+33612345678"},
		{"+91 98765 43210", "DE", "+919876543210"},
		{"11 91234-5678", "BR", "+5511912345678"},
		{"090-1234-5678", "JP", "+819012345678"},
		{"0151 23456789", "", ""},   // no country code, no region
		{"0151 23456789", "ZZ", ""}, // unknown region
		{"555-2671", "US", ""},      // no area code
		{"12345", "US", ""},         // too short to be valid
		{"+1 555", "", ""},
		{"call me", "US", ""},
		{"1-800-FLOWERS", "US", ""}, // letters
		{"ana@example.com", "US", ""},
		{"+49 151 2345\u200b6789", "DE", ""},           // zero-width space
		{"+49 151 23456789\n", "DE", "+4915123456789"}, // a trailing newline is trimmed
		{"+49 151\n23456789", "DE", ""},                // one inside is not
		{"٠١٥١٢٣٤٥٦٧٨٩", "DE", ""},                     // Arabic-Indic digits
		{"+٤٩١٥١٢٣٤٥٦٧٨٩", "DE", ""},
		{"49+151 23456789", "DE", ""},
		{strings.Repeat("1", 10<<10), "US", ""}, // 10 KB
	} {
		got, err := CheckPhone(tc.answer, tc.region)
		if tc.want == "" {
			if !errors.Is(err, ErrInvalid) && !(err != nil && tc.region == "ZZ") {
				t.Errorf("CheckPhone(%.40q, %q) = %q, %v; want refused", tc.answer, tc.region, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("CheckPhone(%q, %q) = %q, %v; want %q", tc.answer, tc.region, got, err, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	if v, err := Check(KindEmail, "a@b.io", ""); err != nil || v != "a@b.io" {
		t.Errorf("Check(email) = %q, %v", v, err)
	}
	if v, err := Check(KindPhone, "+14155552671", ""); err != nil || v != "+14155552671" {
		t.Errorf("Check(phone) = %q, %v", v, err)
	}
	if _, err := Check("address", "x", ""); err == nil {
		t.Error("Check of an unknown kind passed")
	}
}

func TestCheckRegion(t *testing.T) {
	for region, ok := range map[string]bool{"US": true, "DE": true, "de": true, "ZZ": false, "USA": false, "": false} {
		if err := CheckRegion(region); (err == nil) != ok {
			t.Errorf("CheckRegion(%q) = %v, want ok %v", region, err, ok)
		}
	}
}

// TestCheckPhoneConcurrent: the phone plan is read and each region's patterns compiled on first
// use, by whichever of several goroutines gets there first (go test -race).
func TestCheckPhoneConcurrent(t *testing.T) {
	answers := []struct{ answer, region, want string }{
		{"021 123 4567", "NZ", "+64211234567"},
		{"071 123 4567", "ZA", "+27711234567"},
		{"+61 412 345 678", "", "+61412345678"},
		{"0412 345 678", "AU", "+61412345678"},
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := answers[i%len(answers)]
			if got, err := CheckPhone(a.answer, a.region); err != nil || got != a.want {
				t.Errorf("CheckPhone(%q, %q) = %q, %v; want %q", a.answer, a.region, got, err, a.want)
			}
		}()
	}
	wg.Wait()
}
