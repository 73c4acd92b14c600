package reply

import "time"

// Hold pushes the bucket forward so that no send conforms before until: when Meta throttles an
// account or reports its usage near the limit, every job of the lane must wait, not only the one
// that heard it. It reports false (and returns b unchanged) when the bucket already holds that long.
func (l Limit) Hold(b Bucket, until time.Time) (Bucket, bool) {
	// Take grants while TAT-now <= tolerance, so TAT = until+tolerance first conforms at until.
	tat := until.Add(l.tolerance())
	if !tat.After(b.TAT) {
		return b, false
	}
	b.TAT = tat
	b.Version++
	return b, true
}
