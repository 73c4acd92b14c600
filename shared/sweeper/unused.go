package sweeper

import (
	"slices"
	"sync"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// unusedLanes remembers the lanes this instance found unused, so that their buckets are not read
// every run: half of what a run of a thousand accounts reads is the text and media lanes of
// accounts that never converse. A lane is unused when the account's configuration cannot put a
// job in it (text and media carry conversations' follow-ups: an account that subscribes to no
// messaging field has none) and its bucket was never written. Such a lane has no line of waiting
// jobs: a job waits only after its bucket refused it, and a bucket refuses only once takes or
// holds wrote it (reply.Limit.RefusedSince). Its bucket is read again once lineRecheck passed
// (what the quiet lines allow a job parked against the evidence), and every run once the
// configuration can use the lane or the bucket was written.
type unusedLanes struct {
	mu   sync.Mutex
	seen map[group]time.Time // when the lane's bucket was last read never written, while unusable
}

// skip reports whether the run may leave g's bucket unread: a is g's account as the run read it.
func (u *unusedLanes) skip(a reply.Account, g group, now time.Time) bool {
	if usable(a, g.lane) {
		return false
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	at, ok := u.seen[g]
	return ok && now.Sub(at) < lineRecheck
}

// read records what a run read of g's bucket.
func (u *unusedLanes) read(a reply.Account, g group, b reply.Bucket, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if usable(a, g.lane) || b.Version > 0 {
		delete(u.seen, g)
		return
	}
	if u.seen == nil {
		u.seen = map[group]time.Time{}
	}
	u.seen[g] = now
}

// usable reports whether a's configuration can put a job in lane l: comments (posts, Live) come
// to every account; follow-ups only to one that subscribes to a messaging field, since every
// conversation starts with a message, a tap or a referral.
func usable(a reply.Account, l reply.Lane) bool {
	if l != reply.LaneText && l != reply.LaneMedia {
		return true
	}
	return slices.ContainsFunc(a.NeededFields(), func(f string) bool {
		return f != reply.FieldComments && f != reply.FieldLiveComments
	})
}
