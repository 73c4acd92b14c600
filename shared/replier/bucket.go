package replier

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// bucketSlot is this instance's copy of one account lane's rate bucket. The copy is never read
// back from the store: it is written blind (version-conditioned), and a lost write hands back the
// stored bucket. A stale copy is only ever optimistic, because tokens are only taken (TAT only
// grows), so "no token" from the copy is true of the store too.
type bucketSlot struct {
	mu sync.Mutex // held across the conditional write, so this instance never races itself
	b  reply.Bucket
	// held is the end of the last hold this instance put on the lane (Meta's usage or throttle):
	// a token the sweeper granted before it is not spent while it lasts.
	held time.Time
}

func (r *Replier) slot(account string, lane reply.Lane) *bucketSlot {
	k := reply.BucketKey(account, lane)
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.buckets[k]
	if !ok {
		s = &bucketSlot{b: reply.Bucket{AccountID: account, Lane: lane}}
		r.buckets[k] = s
	}
	return s
}

// peek reports whether the lane would grant a send now, without taking it, and else when.
func (r *Replier) peek(a reply.Account, lane reply.Lane, now time.Time) (bool, time.Time) {
	s := r.slot(a.ID, lane)
	s.mu.Lock()
	defer s.mu.Unlock()
	g, _, retryAt := a.Limit(lane).Take(s.b, now, 1)
	return g > 0, retryAt
}

// heldAt reports whether this instance holds the account's lane at now.
func (r *Replier) heldAt(account string, lane reply.Lane, now time.Time) bool {
	s := r.slot(account, lane)
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held.After(now)
}

// tokenWait is the longest the replier waits for the lane's next token instead of parking the
// job, in a lane whose tokens come faster than that (Live: one each 10 ms): a short wait in the
// invocation costs less than a park, a sweep and a second delivery, and only it reaches 100/s.
// Slower lanes (posts: one each 4.9 s) never wait; their backlog waits in the lane's line.
const tokenWait = time.Second

// waits reports whether a job of a lane limited by lim waits for the token at retryAt (from
// now), rather than being parked.
func waits(lim reply.Limit, now, retryAt time.Time) bool {
	return lim.Spacing() < tokenWait && retryAt.Sub(now) <= tokenWait
}

// take takes one send from the account's lane with a conditional write, waiting for it in a fast
// lane (waits). When none is left it reports the earliest time one will be.
func (r *Replier) take(ctx context.Context, a reply.Account, lane reply.Lane) (bool, time.Time, error) {
	s := r.slot(a.ID, lane)
	s.mu.Lock() // held while waiting too: this instance's takers line up for the tokens
	defer s.mu.Unlock()
	lim := a.Limit(lane)
	began := r.clock.Now()
	for conflicts := 0; conflicts < maxRounds; {
		now := r.clock.Now()
		g, next, retryAt := lim.Take(s.b, now, 1)
		if g == 0 {
			if !waits(lim, began, retryAt) {
				return false, retryAt, nil
			}
			if err := r.sleep(ctx, retryAt.Sub(now)); err != nil {
				return false, retryAt, nil // the invocation is ending: park instead
			}
			continue
		}
		stored, err := r.store.SaveBucket(ctx, next)
		if errors.Is(err, reply.ErrConflict) {
			s.b = stored
			conflicts++
			continue
		}
		if err != nil {
			return false, time.Time{}, fmt.Errorf("take from bucket %s: %w", reply.BucketKey(a.ID, lane), err)
		}
		s.b = next
		return true, time.Time{}, nil
	}
	return false, time.Time{}, fmt.Errorf("take from bucket %s: %w %d times", reply.BucketKey(a.ID, lane), reply.ErrConflict, maxRounds)
}

// sleep waits d on the replier's clock: a simulated clock that can sleep moves itself forward.
func (r *Replier) sleep(ctx context.Context, d time.Duration) error {
	if c, ok := r.clock.(interface {
		Sleep(context.Context, time.Duration) error
	}); ok {
		return c.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("wait for a token: %w", ctx.Err())
	}
}

// hold makes the account's lane grant nothing before until, for every instance.
func (r *Replier) hold(ctx context.Context, a reply.Account, lane reply.Lane, until time.Time) error {
	s := r.slot(a.ID, lane)
	s.mu.Lock()
	defer s.mu.Unlock()
	lim := a.Limit(lane)
	if until.After(s.held) {
		s.held = until
	}
	for range maxRounds {
		next, moved := lim.Hold(s.b, until)
		if !moved {
			return nil
		}
		stored, err := r.store.SaveBucket(ctx, next)
		if errors.Is(err, reply.ErrConflict) {
			s.b = stored
			continue
		}
		if err != nil {
			return fmt.Errorf("hold bucket %s: %w", reply.BucketKey(a.ID, lane), err)
		}
		s.b = next
		return nil
	}
	return fmt.Errorf("hold bucket %s: %w %d times", reply.BucketKey(a.ID, lane), reply.ErrConflict, maxRounds)
}

// brake reads Meta's usage header (percent of the account's allowance used in the rolling
// period, by every app) after one of our sends. Our own bucket alone keeps our sends within the
// limit, so while the header shows no more than the bucket granted in the period (every
// instance's and the sweeper's grants, counted in the bucket), nothing holds the lane. When it
// shows other apps too and leaves less room than our sends already on their way can take (a
// sweep's grant or a burst sent at once: headroom), the lane waits until enough of our grants
// have left the window to make that room, the least it can be sure of.
func (r *Replier) brake(ctx context.Context, account string, lane reply.Lane, lim reply.Limit, usage int, now time.Time) (time.Duration, bool) {
	// Meta floors the percentage: usage% covers used in [lo, hi].
	lo := (usage*lim.Count + 99) / 100
	hi := min(((usage+1)*lim.Count-1)/100, lim.Count)
	need := headroom(lim) - (lim.Count - hi)
	if need <= 0 {
		return 0, false
	}
	s := r.slot(account, lane)
	s.mu.Lock()
	defer s.mu.Unlock()
	if lo > lim.Granted(s.b, now) {
		// Other instances and the sweeper may have granted since this copy was written: only
		// the stored bucket can tell their sends from other apps'.
		b, err := r.store.Bucket(ctx, account, lane)
		if err != nil {
			r.log.Warn("read bucket for the usage brake", "bucket", reply.BucketKey(account, lane), "err", err)
		} else if b.Version > s.b.Version {
			s.b = b
		}
	}
	if lo <= lim.Granted(s.b, now) {
		return 0, false // ours alone, as far as the header can tell
	}
	if at, ok := lim.GrantsLeft(s.b, now, need); ok {
		return at.Sub(now), true
	}
	// Our own grants cannot make the room: wait as long as that many calls take to age out of a
	// full window on average.
	return time.Duration(need) * lim.Period / time.Duration(lim.Count), true
}

// headroom is how many calls of the window the other apps must leave us: twice what our bucket
// grants at one instant (the sweeper's release of a run, sent at once), so one burst can go out
// before the answers say more, and the other apps may still send meanwhile.
func headroom(lim reply.Limit) int { return 2 * lim.BurstSize() }

// throttleWait is how long a lane waits after Meta throttled it without saying how long.
func throttleWait(lane reply.Lane, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return retryAfter
	}
	if lane == reply.LaneLive {
		return time.Second
	}
	return 5 * time.Minute
}

// uncertainWait spaces the bounded retries of a send that may have happened: Meta refuses a
// second reply, so retrying is safe, but each retry spends a rate token. After the n-th attempt
// of at most limit, a post waits period/2^(limit-n): doubling, so the attempts span about the whole
// period and outlive a Meta outage shorter than half of it. Live retries are seconds apart
// because the broadcast may end.
func uncertainWait(lane reply.Lane, n, limit int, period time.Duration) time.Duration {
	if lane == reply.LaneLive {
		return min(time.Second<<min(max(n-1, 0), 5), 30*time.Second)
	}
	return max(period>>min(max(limit-n, 0), 30), 30*time.Second)
}
