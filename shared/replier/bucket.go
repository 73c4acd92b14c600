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

// take takes one send from the account's lane with a conditional write. When none is left it
// reports the earliest time one will be.
func (r *Replier) take(ctx context.Context, a reply.Account, lane reply.Lane) (bool, time.Time, error) {
	s := r.slot(a.ID, lane)
	s.mu.Lock()
	defer s.mu.Unlock()
	lim := a.Limit(lane)
	for range maxRounds {
		g, next, retryAt := lim.Take(s.b, r.clock.Now(), 1)
		if g == 0 {
			return false, retryAt, nil
		}
		stored, err := r.store.SaveBucket(ctx, next)
		if errors.Is(err, reply.ErrConflict) {
			s.b = stored
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

// hold makes the account's lane grant nothing before until, for every instance.
func (r *Replier) hold(ctx context.Context, a reply.Account, lane reply.Lane, until time.Time) error {
	s := r.slot(a.ID, lane)
	s.mu.Lock()
	defer s.mu.Unlock()
	lim := a.Limit(lane)
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

// usageHigh is the share of Meta's budget (from the usage headers) at which we slow down
// ourselves rather than wait for Meta to refuse.
const usageHigh = 90

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
