package simulation

import (
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestViralQueueDelays: with every job late on the queue by up to the visibility timeout and
// Meta's usage headers gone (our brake is off), our bucket alone keeps every rolling hour within
// the limit: a token granted by the sweeper that is not spent within its life is void.
func TestViralQueueDelays(t *testing.T) {
	run(t, "viral_queue_delays", Config{Comments: 5_000, Arrival: 10 * time.Minute, Limit: reply.DefaultPostsLimit,
		QueueDelay: 3 * time.Minute, NoUsageHeaders: true})
}

// TestViralOtherApp: another app sends 150 private replies an hour for the account, which only
// Meta's usage header shows: we make room for them, and Meta never has to refuse either app.
func TestViralOtherApp(t *testing.T) {
	lim := reply.DefaultPostsLimit
	res := run(t, "viral_other_app", Config{Comments: 5_000, Arrival: 10 * time.Minute, Limit: lim, OtherAppPerHour: 150})
	if res.OtherApp == 0 || res.MaxRollingHour > lim.Count-150*9/10 {
		t.Errorf("with another app's %d accepted replies our busiest hour held %d: we did not make room", res.OtherApp, res.MaxRollingHour)
	}
	if n := res.Refused613(); n != 0 {
		t.Errorf("Meta refused %d calls with 613", n)
	}
}
