package chaos

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// eventSeeds is how many of the seeds TestChaosEvents runs: the promise is the outbox's, the
// other faults are TestChaos's, and the package already takes minutes.
const eventSeeds = 4

// TestChaosEvents runs seeds with the funnel's events on and a fifth of the bus's puts refused,
// and the first account's flow asking for an email (Asks): every state change with an event (a
// record's end, a tapped turn, a gate passed, a lead, a human pause) has it on the bus after the
// run settles (checkEvents), under every other fault; duplicates are counted; the leads hold to
// what people answered (checkLeads).
func TestChaosEvents(t *testing.T) {
	var (
		mu  sync.Mutex
		all []Result
	)
	start := time.Now()
	t.Run("seeds", func(t *testing.T) {
		ss := seeds()
		for _, seed := range ss[:min(eventSeeds, len(ss))] {
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				rates := DefaultRates
				rates.EventPut = 0.2
				res := runSeed(t, "TestChaosEvents", Config{Seed: seed, Comments: *commentsFlag, Accounts: 4, Rates: rates, Events: true, Asks: true})
				if res.Events == 0 || res.Faults[FaultEventPut] == 0 {
					t.Errorf("seed %d: %d events, %d refused puts: the outbox went untried", seed, res.Events, res.Faults[FaultEventPut])
				}
				mu.Lock()
				all = append(all, res)
				mu.Unlock()
			})
		}
	})
	t.Log(summary(all, time.Since(start)))
}
