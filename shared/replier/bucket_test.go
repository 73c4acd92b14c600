package replier

import (
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestBrake: Meta's usage header holds the lane only when it shows other apps' calls beside
// ours (our own sent and in-flight calls explain the rest) and leaves less than the headroom;
// the wait lasts until enough of our own sends have left the window.
func TestBrake(t *testing.T) {
	lim := reply.DefaultPostsLimit // headroom 30 calls; 1% is 7.5
	now := start
	tests := []struct {
		name   string
		own    int // our accepted sends, spread over the 50 minutes before now-10min
		flying int
		usage  int
		hold   bool
	}{
		{name: "ours alone near the limit", own: 745, usage: 99},
		{name: "ours alone with calls in flight", own: 730, flying: 15, usage: 99},
		{name: "others, room left", own: 600, usage: 95},
		{name: "others, little room: wait for our oldest sends to leave", own: 600, usage: 98, hold: true},
		{name: "others hold nearly all: our sends cannot make the room", own: 10, usage: 100, hold: true},
		{name: "no header", own: 100, usage: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Replier{buckets: map[string]*bucketSlot{}}
			for i := range tt.own {
				// Our sends spread evenly over the 50 minutes before now-10min, oldest first.
				at := now.Add(-time.Hour + 10*time.Minute + time.Duration(i)*50*time.Minute/time.Duration(tt.own))
				r.flying("A", reply.LanePosts)
				r.answered("A", reply.LanePosts, lim, true, at)
			}
			for range tt.flying {
				r.flying("A", reply.LanePosts)
			}
			wait, hold := r.brake("A", reply.LanePosts, lim, tt.usage, now)
			if hold != tt.hold {
				t.Fatalf("hold %v (wait %s), want %v", hold, wait, tt.hold)
			}
			if !hold {
				return
			}
			// need = headroom - free calls; the need-th oldest of ours leaves the window then.
			free := lim.Count - min(((tt.usage+1)*lim.Count-1)/100, lim.Count)
			need := headroom(lim) - free
			want := 30 * lim.Period / time.Duration(lim.Count)
			if need <= tt.own {
				want = 10*time.Minute + time.Duration(need-1)*50*time.Minute/time.Duration(tt.own)
			}
			if wait != want {
				t.Errorf("wait %s, want %s", wait, want)
			}
		})
	}
}
