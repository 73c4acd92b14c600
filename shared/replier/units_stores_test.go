package replier

import (
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestMemoryUnitsAsDynamo: the write units the memory store's runs report per SENT private reply
// (countingStore's estimate) are those DynamoDB reports for the same replies, so that figures
// taken on the memory store (simulations, benchmarks) price what the table would.
func TestMemoryUnitsAsDynamo(t *testing.T) {
	units := map[string]float64{}
	for _, kind := range bothStores {
		e := newEnv(t, kind)
		e.put(func(a *reply.Account) { a.Rules[0].PublicReplies = nil })
		e.process(sampleJob(t, 0)) // warms the account and bucket caches
		const n = 10
		u0 := e.ops()["WriteUnits"]
		for i := 1; i <= n; i++ {
			if d := e.process(sampleJob(t, i)); d.Action != ActionSent {
				t.Fatalf("%s: job %d: %s(%s)", kind.name, i, d.Action, d.Reason)
			}
		}
		units[kind.name] = float64(e.ops()["WriteUnits"]-u0) / n
	}
	t.Logf("write units per SENT private reply: memory %.2f, DynamoDB %.2f", units["memory"], units["dynamodb"])
	if units["memory"] != units["dynamodb"] {
		t.Errorf("memory store counts %.2f write units per SENT reply, DynamoDB %.2f", units["memory"], units["dynamodb"])
	}
}
