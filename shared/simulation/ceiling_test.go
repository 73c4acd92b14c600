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
// Meta's usage header shows: we make room for them, and Meta never has to refuse either app,
// with one replier instance or five (each hearing only its own calls' headers).
func TestViralOtherApp(t *testing.T) {
	lim := reply.DefaultPostsLimit
	for _, c := range []struct {
		line     string
		repliers int
	}{{"viral_other_app", 1}, {"viral_other_app_5_repliers", 5}} {
		t.Run(c.line, func(t *testing.T) {
			res := run(t, c.line, Config{Comments: 5_000, Arrival: 10 * time.Minute, Limit: lim, OtherAppPerHour: 150, Repliers: c.repliers})
			if res.OtherApp == 0 || res.MaxRollingHour > lim.Count-150*9/10 {
				t.Errorf("with another app's %d accepted replies our busiest hour held %d: we did not make room", res.OtherApp, res.MaxRollingHour)
			}
			if n := res.Refused613(); n != 0 {
				t.Errorf("Meta refused %d calls with 613", n)
			}
		})
	}
}

// TestLive: 30,000 comments in one minute on a Live broadcast, Meta's 100 private replies a
// second: the busiest rolling second holds 98 to 100, the backlog drains within 1.03 times the
// ideal (the replier waits the few milliseconds to each next token instead of parking), Meta
// never refuses; and with the jobs late on the queue and no usage headers, our bucket alone
// keeps every rolling second within the limit.
func TestLive(t *testing.T) {
	lim := reply.DefaultLiveLimit
	cases := []struct {
		name    string
		line    string
		cfg     Config
		ceiling bool
	}{
		{name: "30,000 in a minute at 100/s", line: "live", ceiling: true,
			cfg: Config{Comments: 30_000, Arrival: time.Minute, Limit: lim, Live: true}},
		{name: "queue delays up to the visibility timeout, no usage headers", line: "live_queue_delays",
			cfg: Config{Comments: 10_000, Arrival: time.Minute, Limit: lim, Live: true, QueueDelay: 3 * time.Minute, NoUsageHeaders: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := run(t, c.line, c.cfg)
			if c.ceiling {
				atTheCeiling(t, res, lim, 980, 1.03)
			}
		})
	}
}
