package reply

import "fmt"

// maxIDDigits bounds a Meta id. Graph ids are decimal numbers (17 or 18 digits today); the bound
// only keeps absurd values out of keys and URL paths.
const maxIDDigits = 32

// ValidID reports whether s is a Meta id: 1 to 32 ASCII digits. Accounts, pages, media, comments
// and people (IGSIDs) all have ids of this form, and they end up in Graph URL paths and in table
// keys, where anything else (a slash, a dot, a #) must never reach.
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > maxIDDigits {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// CheckID is nil when s is a Meta id, else an error that names what the id is for:
// `comment id "abc": not a Meta id (1 to 32 digits)`.
func CheckID(what, s string) error {
	if ValidID(s) {
		return nil
	}
	return fmt.Errorf("%s id %q: not a Meta id (1 to %d digits)", what, s, maxIDDigits)
}
