package reply

import (
	"regexp"
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
func RedactSecrets(s string, secrets ...string) string {
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
