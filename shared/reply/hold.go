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

// RefusedSince reports whether the bucket may have refused a send after since: it refuses only
// while its TAT is more than the tolerance ahead, and TAT only grows (takes and holds move it on).
// A lane whose bucket refused nothing has put no job in its line of waiting jobs.
func (l Limit) RefusedSince(b Bucket, since time.Time) bool {
	return b.TAT.After(since.Add(l.tolerance()))
}
