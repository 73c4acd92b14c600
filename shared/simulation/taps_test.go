package simulation

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestViralPostWithTaps: the viral post, and 30% of the people tap the button of their private
// reply five minutes after it arrived. Every tap is answered with the link inside its 24-hour
// window, once; the Send API lane never refuses (613); the private replies keep every promise
// of TestViralPost.
func TestViralPostWithTaps(t *testing.T) {
	cases := []struct {
		name     string
		comments int
		arrival  time.Duration
		limit    reply.Limit
	}{
		{"issue 11: 20,000 in 10 minutes at 750/hour, 30% tap", 20_000, 10 * time.Minute, reply.DefaultPostsLimit},
		{"3,000 in 1 minute at 100/hour, 30% tap", 3_000, time.Minute, reply.Limit{Count: 100, Period: time.Hour}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if (testing.Short() || raceEnabled) && c.comments > 5_000 {
				// TestViralPost runs the 20,000 under make test already; with taps it is run
				// as the note's figure: go test -run TestViralPostWithTaps ./shared/simulation/
				t.Skip("-short or -race: the 20,000-comment run with taps takes minutes there")
			}
			began := time.Now()
			res, err := Run(context.Background(), Config{Comments: c.comments, Arrival: c.arrival, Limit: c.limit,
				Taps: &Taps{Share: 0.3, Delay: 5 * time.Minute}})
			if err != nil {
				t.Fatal(err)
			}
			tp := res.Taps
			fmt.Printf("taps: comments=%d sent=%d taps=%d answered=%d unanswered=%d late=%d duplicates=%d refused_613=%d max_tap_to_link_s=%.0f max_follow_ups_per_s=%d busiest_hour=%d drain_hours=%.2f real_s=%.1f\n",
				res.Comments, res.States[reply.StateSent], tp.Taps, tp.Answered, tp.Unanswered, tp.Late, tp.Duplicates, tp.Refused["613"],
				tp.MaxWait.Seconds(), tp.MaxPerSec, res.MaxRollingHour, res.Drained.Hours(), time.Since(began).Seconds())
			if res.States[reply.StateSent] != c.comments || res.Delivered != c.comments || res.Duplicates != 0 || res.Late != 0 {
				t.Errorf("private replies: %v, %d delivered, %d duplicates, %d late; want all %d SENT once, in time", res.States, res.Delivered, res.Duplicates, res.Late, c.comments)
			}
			if res.MaxRollingHour > c.limit.Count || res.Refused["613"] > 0 {
				t.Errorf("private replies: busiest hour %d (limit %d), %d refused with 613", res.MaxRollingHour, c.limit.Count, res.Refused["613"])
			}
			want := c.comments * 3 / 10
			if tp.Taps != want || tp.Answered != tp.Taps || tp.Unanswered != 0 || tp.Late != 0 || tp.Duplicates != 0 || tp.Refused["613"] != 0 {
				t.Errorf("taps: %+v; want about %d taps, each answered once inside its window, no 613", tp, want)
			}
		})
	}
}
