//go:build soak

package chaos

import (
	"flag"
	"fmt"
	"sync"
	"testing"
	"time"
)

var soakSeeds = flag.Int("soakseeds", 0, "run this many seeds (from 1000, -comments each, in parallel) instead of until the deadline")

// TestChaosSoak runs fresh seeds of 5,000 comments each, in turn with and without Meta's
// one-reply rule, until a minute before the test's deadline (make soak SOAKTIME=2h sets it with
// -timeout), checking every promise on each. -soakseeds=N runs N seeds of -comments comments
// instead, as many at once as GOMAXPROCS allows.
func TestChaosSoak(t *testing.T) {
	until := time.Now().Add(10 * time.Minute)
	if d, ok := t.Deadline(); ok {
		until = d.Add(-time.Minute)
	}
	start := time.Now()
	config := func(seed uint64, comments int) Config {
		// Seeds take turns: Meta's wall, Meta answering second replies with code 2, no wall.
		cfg := Config{Seed: seed, Comments: comments, Accounts: 6, Rates: DefaultRates}
		switch seed % 3 {
		case 1:
			cfg.SecondReplyCode = 2
		case 2:
			cfg.WithoutOneReplyRule = true
		}
		return cfg
	}
	var all []Result
	if *soakSeeds > 0 {
		var mu sync.Mutex
		t.Run("seeds", func(t *testing.T) {
			for seed := uint64(1000); seed < 1000+uint64(*soakSeeds); seed++ {
				t.Run(fmt.Sprint(seed), func(t *testing.T) {
					t.Parallel()
					res := runSeed(t, "TestChaosSoak", config(seed, *commentsFlag))
					mu.Lock()
					all = append(all, res)
					mu.Unlock()
				})
			}
		})
		t.Log(summary(all, time.Since(start)))
		return
	}
	first, comments := uint64(1000), 5000
	if *seedFlag != 0 { // a replay
		first, comments, until = *seedFlag, *commentsFlag, time.Time{}
	}
	for seed := first; seed == first || time.Now().Before(until); seed++ {
		res := runSeed(t, "TestChaosSoak", config(seed, comments))
		all = append(all, res)
		if t.Failed() {
			break
		}
	}
	t.Log(summary(all, time.Since(start)))
}
