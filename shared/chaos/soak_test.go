//go:build soak

package chaos

import (
	"testing"
	"time"
)

// TestChaosSoak runs fresh seeds of 5,000 comments each, in turn with and without Meta's
// one-reply rule, until a minute before the test's deadline (make soak SOAKTIME=2h sets it with -timeout), checking every promise on each.
func TestChaosSoak(t *testing.T) {
	until := time.Now().Add(10 * time.Minute)
	if d, ok := t.Deadline(); ok {
		until = d.Add(-time.Minute)
	}
	start := time.Now()
	var all []Result
	first, comments := uint64(1000), 5000
	if *seedFlag != 0 { // a replay
		first, comments, until = *seedFlag, *commentsFlag, time.Time{}
	}
	for seed := first; seed == first || time.Now().Before(until); seed++ {
		// Seeds take turns: Meta's wall, Meta answering second replies with code 2, no wall.
		cfg := Config{Seed: seed, Comments: comments, Accounts: 6, Rates: DefaultRates}
		switch seed % 3 {
		case 1:
			cfg.SecondReplyCode = 2
		case 2:
			cfg.WithoutOneReplyRule = true
		}
		res := runSeed(t, "TestChaosSoak", cfg)
		all = append(all, res)
		if t.Failed() {
			break
		}
	}
	t.Log(summary(all, time.Since(start)))
}
