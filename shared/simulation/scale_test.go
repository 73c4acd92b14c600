package simulation

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestScale is issue 14's third goal on SmallScale (make test); make scale runs FullScale
// through TestScaleFull.
func TestScale(t *testing.T) {
	cfg := SmallScale()
	if testing.Short() {
		cfg = TinyScale()
	}
	checkScale(t, cfg)
}

func checkScale(t *testing.T, cfg ScaleConfig) ScaleResult {
	t.Helper()
	res, err := RunScale(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	est, err := res.Cost()
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Line(est.PerHundredThousand()))
	t.Logf("usage %+v, mean item %.0f bytes", res.Usage, res.MeanItemBytes)
	var b strings.Builder
	res.Breakdown(&b)
	t.Log("\n" + b.String())
	t.Logf("states %v, reasons %v, refused %v; worst drain %s; max sweep %s; busiest key %s; %d sweeps; drained in %s; %s real time",
		res.States, res.Reasons, res.Refused, res.WorstDrainAccount, res.MaxSweep.Round(time.Millisecond), res.MaxKey, res.SweeperRuns,
		res.Drained.Round(time.Minute), res.Wall.Round(time.Second))
	if res.Unrecorded != 0 {
		t.Errorf("%d comments did not end SENT or with a recorded reason", res.Unrecorded)
	}
	if res.Duplicates != 0 || res.Delivered != res.States[reply.StateSent] {
		t.Errorf("ledger: %d comments got a DM, %d of them more than one; %d records SENT", res.Delivered, res.Duplicates, res.States[reply.StateSent])
	}
	if res.SmallMedian > 2*time.Minute || res.SmallCount == 0 {
		t.Errorf("small accounts' median comment to DM %s over %d comments made while viral backlogs drained, want at most 2m", res.SmallMedian, res.SmallCount)
	}
	if res.MaxSweepFraction > 0.5 {
		t.Errorf("a sweep took %s, %.2f of its period, want at most half", res.MaxSweep, res.MaxSweepFraction)
	}
	if res.MaxKeyWrites > 1000 {
		t.Errorf("key %s took %d writes in a second, want at most 1000", res.MaxKey, res.MaxKeyWrites)
	}
	if res.WorstDrain > drainGoal {
		t.Errorf("account %s drained in %.3f x its ideal, want at most %.2f", res.WorstDrainAccount, res.WorstDrain, drainGoal)
	}
	return res
}

// drainGoal is issue 14's bound on every account's drain over its ideal.
const drainGoal = 1.05
