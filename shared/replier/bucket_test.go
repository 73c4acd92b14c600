package replier

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
)

// TestBrake: Meta's usage header holds the lane only when it shows other apps' calls beside
// ours (the lane's grants, by any instance or the sweeper, explain the rest) and leaves less than
// the headroom; the wait lasts until enough of our grants have left Meta's window.
func TestBrake(t *testing.T) {
	lim := reply.DefaultPostsLimit // headroom 30 calls; 1% is 7.5
	now := start
	tests := []struct {
		name   string
		own    int  // grants, spread over the 50 one-minute slices from an hour before now
		stored bool // granted by other instances: in the stored bucket, not this one's copy
		broken bool // the stored bucket cannot be read
		usage  int
		hold   bool
	}{
		{name: "ours alone near the limit", own: 745, usage: 99},
		{name: "ours alone, granted by other instances", own: 745, stored: true, usage: 99},
		{name: "others, room left", own: 600, usage: 95},
		{name: "others, little room: wait for our oldest grants to leave", own: 600, usage: 98, hold: true},
		{name: "others, granted elsewhere too: still others", own: 600, stored: true, usage: 98, hold: true},
		{name: "others hold nearly all: our grants cannot make the room", own: 10, usage: 100, hold: true},
		{name: "the stored bucket unreadable: others, to be safe", own: 745, stored: true, broken: true, usage: 99, hold: true},
		{name: "no header", own: 100, usage: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := memory.NewStore()
			b := reply.Bucket{AccountID: "A", Lane: reply.LanePosts, Version: 1,
				Grants: spread(tt.own, 50), GrantsFrom: now.Add(-11 * time.Minute)}
			if _, err := store.SaveBucket(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			var buckets reply.Store = store
			if tt.broken {
				buckets = unreadable{store}
			}
			r := New(Config{}, buckets, nil, nil, nil, nil, nil)
			if !tt.stored {
				r.slot("A", reply.LanePosts).b = b
			}
			wait, hold := r.brake(context.Background(), "A", reply.LanePosts, lim, tt.usage, now)
			if hold != tt.hold {
				t.Fatalf("hold %v (wait %s), want %v", hold, wait, tt.hold)
			}
			if !hold {
				return
			}
			// need = headroom - free calls; they have left once the slice that completes them
			// ended a period and a token's life ago.
			free := lim.Count - min(((tt.usage+1)*lim.Count-1)/100, lim.Count)
			need := headroom(lim) - free
			want := time.Duration(need) * lim.Period / time.Duration(lim.Count)
			if !tt.broken && need <= tt.own {
				sum, k := 0, 0
				for k = range 50 {
					if sum += spread(tt.own, 50)[k]; sum >= need {
						break
					}
				}
				want = time.Duration(k+1)*time.Minute + lim.TokenLife()
			}
			if wait != want {
				t.Errorf("wait %s, want %s", wait, want)
			}
		})
	}
}

// spread is n grants over k slices, as evenly as they go, the earlier ones taking the rest.
func spread(n, k int) []int {
	s := make([]int, k)
	for i := range s {
		s[i] = n / k
		if i < n%k {
			s[i]++
		}
	}
	return s
}

// unreadable is a store whose buckets cannot be read.
type unreadable struct{ reply.Store }

func (unreadable) Bucket(context.Context, string, reply.Lane) (reply.Bucket, error) {
	return reply.Bucket{}, errors.New("throttled")
}
