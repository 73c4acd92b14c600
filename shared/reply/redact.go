package reply

import (
	"regexp"
	"strings"
)

// Redacted stands where a secret was.
const Redacted = "[redacted]"

// secretParams are the query and form parameters of Meta's API that carry a secret. An error page
// that echoes the request line (a proxy's, or Meta's own) brings them back in its body.
var secretParams = regexp.MustCompile(`(?i)(access_token|input_token|fb_exchange_token|client_secret|appsecret_proof)(=|%3D|\\?"\s*:\s*\\?")([^&\s"'<>\\]+)`)

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
	return secretParams.ReplaceAllString(s, "${1}${2}"+Redacted)
}
