package lead

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// ErrInvalid is an answer that is not a valid address or number of the kind asked for. Its
// message names what is wrong, never the answer itself: answers are personal data.
var ErrInvalid = errors.New("not a valid answer")

// Limits on an answer, checked before any parsing: a person may paste anything.
const (
	MaxEmailBytes = 254 // RFC 5321's limit on a forward path
	MaxLocalBytes = 64  // and on its local part
	MaxPhoneBytes = 40  // a formatted international number with spaces and an extension fits
)

// Check is the stored form of answer for kind: an email address with its domain lower-cased, or
// a phone number in E.164, parsed with region (ISO 3166 alpha-2, e.g. "DE") when it has no
// country code. An answer that is not one, an error wrapping ErrInvalid.
func Check(kind Kind, answer, region string) (string, error) {
	switch kind {
	case KindEmail:
		return CheckEmail(answer)
	case KindPhone:
		return CheckPhone(answer, region)
	}
	return "", fmt.Errorf("kind %q: want %q or %q", kind, KindEmail, KindPhone)
}

// CheckEmail is the address in answer (spaces around it trimmed, domain lower-cased). The whole
// answer must be the address: a sentence around it, a display name, a second address or a
// comment are refused, so what is stored is exactly what the person typed as their address.
// Addresses are ASCII: most mailing tools and CRMs refuse internationalized ones (SMTPUTF8).
func CheckEmail(answer string) (string, error) {
	s, err := plain(answer, MaxEmailBytes)
	if err != nil {
		return "", err
	}
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return "", fmt.Errorf("%w: email: only ASCII letters, digits and punctuation", ErrInvalid)
		}
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s {
		// net/mail also accepts "Name <a@b>" and "a@b (comment)": not an answer we store.
		return "", fmt.Errorf("%w: email: not a single address", ErrInvalid)
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || len(local) > MaxLocalBytes || strings.HasPrefix(local, `"`) {
		return "", fmt.Errorf("%w: email: the part before @ is empty, quoted or longer than %d", ErrInvalid, MaxLocalBytes)
	}
	if err := checkDomain(domain); err != nil {
		return "", err
	}
	return local + "@" + strings.ToLower(domain), nil
}

// checkDomain wants a host name with a dot and a top-level domain of letters: net/mail accepts
// "a@b", "a@[127.0.0.1]" and "a@-x-", none of which a person's mailbox has.
func checkDomain(d string) error {
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return fmt.Errorf("%w: email: the domain has no dot", ErrInvalid)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return fmt.Errorf("%w: email: a part of the domain is empty, too long or starts or ends with -", ErrInvalid)
		}
		for i := 0; i < len(l); i++ {
			c := l[i] | 0x20
			if !(c >= 'a' && c <= 'z') && !(l[i] >= '0' && l[i] <= '9') && l[i] != '-' {
				return fmt.Errorf("%w: email: the domain holds a character other than letters, digits, dots and hyphens", ErrInvalid)
			}
		}
	}
	tld := labels[len(labels)-1]
	for i := 0; i < len(tld); i++ {
		if c := tld[i] | 0x20; c < 'a' || c > 'z' {
			if !strings.HasPrefix(strings.ToLower(tld), "xn--") {
				return fmt.Errorf("%w: email: the top-level domain is not letters", ErrInvalid)
			}
		}
	}
	if len(tld) < 2 {
		return fmt.Errorf("%w: email: the top-level domain is one letter", ErrInvalid)
	}
	return nil
}

// plain is answer without the spaces around it, if it is short valid UTF-8 without control
// characters (a pasted message, a line break, a zero-width character are no address).
func plain(answer string, max int) (string, error) {
	s := strings.TrimSpace(answer)
	switch {
	case s == "":
		return "", fmt.Errorf("%w: empty", ErrInvalid)
	case len(s) > max:
		return "", fmt.Errorf("%w: %d bytes, at most %d", ErrInvalid, len(s), max)
	case !utf8.ValidString(s):
		return "", fmt.Errorf("%w: not valid UTF-8", ErrInvalid)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x200b || r == 0x200d || r == 0xfeff {
			return "", fmt.Errorf("%w: control or invisible characters", ErrInvalid)
		}
	}
	return s, nil
}
