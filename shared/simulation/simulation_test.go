package simulation

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// TestMain keeps the EMF lines of thousands of invocations out of the test output.
func TestMain(m *testing.M) {
	telemetry.Stdout = io.Discard
	os.Exit(m.Run())
}

// TestViralPost is issue 4's proof: 20,000 comments on one account within 10 minutes, Meta's
// 750 private replies an hour. Every comment is answered within its window, exactly once; no
// rolling hour holds more than 750 replies (read from the sandbox's ledger); Meta never has to
// refuse with 613; and the replier sees each comment at most twice (once from the webhook, once
// from the sweeper's release).
func TestViralPost(t *testing.T) {
	cases := []struct {
		name     string
		comments int
		arrival  time.Duration
		limit    reply.Limit
	}{
		{"issue 4: 20,000 in 10 minutes at 750/hour", 20_000, 10 * time.Minute, reply.DefaultPostsLimit},
		{"a tighter limit: 3,000 in 1 minute at 100/hour", 3_000, time.Minute, reply.Limit{Count: 100, Period: time.Hour}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if testing.Short() && c.comments > 5_000 {
				t.Skip("-short: the 20,000-comment run takes about a minute of CPU")
			}
			began := time.Now()
			res, err := Run(context.Background(), Config{Comments: c.comments, Arrival: c.arrival, Limit: c.limit})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d comments: %d SENT, %v; ledger %d replies, max rolling hour %d, refused %v, duplicates %d, late %d",
				res.Comments, res.States[reply.StateSent], res.States, res.Delivered, res.MaxRollingHour, res.Refused, res.Duplicates, res.Late)
			t.Logf("replier: %d deliveries (%.4f per comment) in %d invocations; sweeper: %d runs, %d released, %d re-driven, %d expired, %d records read (%.1f per comment), %d deferred; dead letters %d",
				res.Deliveries, res.DeliveriesPerComment(), res.Invocations, res.SweeperRuns, res.Released, res.Redriven, res.Expired,
				res.Scanned, float64(res.Scanned)/float64(res.Comments), res.Deferred, res.DeadLetters)
			t.Logf("drained in %s of simulated time (longest wait %s, window %s); %s of real time",
				res.Drained.Round(time.Minute), res.MaxWait.Round(time.Minute), reply.Window, time.Since(began).Round(time.Millisecond))

			if res.States[reply.StateSent] != c.comments || len(res.States) != 1 {
				t.Errorf("final states %v, want all %d SENT", res.States, c.comments)
			}
			if res.Delivered != c.comments || res.Duplicates != 0 || res.Late != 0 {
				t.Errorf("ledger: %d replies, %d duplicates, %d late; want %d, 0, 0", res.Delivered, res.Duplicates, res.Late, c.comments)
			}
			if res.MaxRollingHour > c.limit.Count {
				t.Errorf("a rolling hour held %d replies, the limit is %d", res.MaxRollingHour, c.limit.Count)
			}
			for code, n := range res.Refused {
				if strings.HasPrefix(code, "613") {
					t.Errorf("Meta refused %d calls with %s", n, code)
				}
			}
			if len(res.Refused) != 0 {
				t.Errorf("Meta refused calls: %v", res.Refused)
			}
			if res.DeliveriesPerComment() > 2.0 {
				t.Errorf("%.4f replier deliveries per comment, want at most 2.0", res.DeliveriesPerComment())
			}
			// The sweeper's cost: without deferral it read every waiting record on every run
			// (about 900 reads per comment here); deferral bounds that near its 120-run horizon.
			if per := float64(res.Scanned) / float64(res.Comments); per > 150 || res.Deferred > res.Comments*3/2 {
				t.Errorf("sweeper read %.1f records and deferred %.2f per comment; want at most 150 and 1.5", per, float64(res.Deferred)/float64(res.Comments))
			}
			if res.MaxWait > reply.Window || res.DeadLetters != 0 {
				t.Errorf("longest wait %s, dead letters %d", res.MaxWait, res.DeadLetters)
			}
			// The drain runs at the limit: the budget of the hours it took was used.
			hours := res.Drained.Hours()
			if min := float64(c.comments) / float64(c.limit.Count); hours < min-1 || hours > min*1.25+1 {
				t.Errorf("drained in %.1f h; at %d an hour it takes about %.1f h", hours, c.limit.Count, min)
			}
		})
	}
}
