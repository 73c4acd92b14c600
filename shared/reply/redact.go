package reply

import (
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// Redacted stands where a secret was.
const Redacted = "[redacted]"

// secretParams are the query and form parameters of Meta's API that carry a secret. An error page
// that echoes the request line (a proxy's, or Meta's own) brings them back in its body. Compiled
// on first use, not at init: compiling it was half a millisecond of every function's cold start.
var secretParams = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)(access_token|input_token|fb_exchange_token|client_secret|appsecret_proof)(=|%3D|\\?"\s*:\s*\\?")([^&\s"'<>\\]+)`)
})

// RedactSecrets is s with the value of every secret-bearing parameter (access_token=...) and
// every one of secrets (the tokens a call used) replaced by Redacted. Everything that can be
// logged, printed or stored and may hold text from Meta passes through it.
//
// A secret may also come back encoded: percent-escaped (%49%47...), as HTML character references
// (&#73;...) or as JSON \u escapes that a decoder left as text. When a decoding of s shows a
// secret that s itself hides, the decoded form, redacted, is returned instead of s: the text
// changes a little, the secret does not get through.
func RedactSecrets(s string, secrets ...string) string {
	s = redactPlain(s, secrets)
	// Each round reveals (and redacts) one hidden secret; a string rarely holds more than two.
	for range 4 {
		r, ok := reveal(s, secrets, 3)
		if !ok {
			return s
		}
		s = r
	}
	return s
}

// reveal is the first decoding of s, up to depth layers deep (an escape of an escape), that
// shows a secret, redacted; false when none does.
func reveal(s string, secrets []string, depth int) (string, bool) {
	if depth == 0 || !strings.ContainsAny(s, `%&\`) {
		return "", false
	}
	for _, decode := range decoders {
		d := decode(s)
		if d == s {
			continue
		}
		if r := redactPlain(d, secrets); r != d {
			return r, true
		}
		if r, ok := reveal(d, secrets, depth-1); ok {
			return r, true
		}
	}
	return "", false
}

// redactPlain redacts what s spells out as it is.
func redactPlain(s string, secrets []string) string {
	for _, t := range secrets {
		// Short strings would blank out ordinary words; real tokens are long.
		if len(t) >= 8 {
			s = strings.ReplaceAll(s, t, Redacted)
		}
	}
	// Every parameter name holds an underscore, which no case folding makes or unmakes: a string
	// without one (most log attributes) needs no regexp, and its compilation can wait.
	if !strings.Contains(s, "_") {
		return s
	}
	return secretParams().ReplaceAllString(s, "${1}${2}"+Redacted)
}

// decoders are the encodings a secret may come back in.
var decoders = []func(string) string{percentDecode, html.UnescapeString, jsonUnescape}

// percentDecode undoes %XX escapes (query or path escaping; '+' stays, a token has no space).
// An invalid escape is left as it is, so one stray '%' does not hide the rest.
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// jsonUnescape undoes the \uXXXX (and \/, \", \\) escapes of JSON text that reached a string
// still escaped (an escape of an escape).
func jsonUnescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch c := s[i+1]; c {
		case 'u':
			if i+6 <= len(s) {
				if n, err := strconv.ParseUint(s[i+2:i+6], 16, 16); err == nil {
					b.WriteRune(rune(n))
					i += 5
					continue
				}
			}
			b.WriteByte(s[i])
		case '/', '"', '\\':
			b.WriteByte(c)
			i++
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
