package reply

import "time"

// Active reports whether the rule answers a comment made at t: it is not disabled, and t is
// within [From, Until) where they are set.
func (r Rule) Active(t time.Time) bool {
	switch {
	case r.Disabled:
		return false
	case !r.From.IsZero() && t.Before(r.From):
		return false
	case !r.Until.IsZero() && !t.Before(r.Until):
		return false
	}
	return true
}
