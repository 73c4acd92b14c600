package webhook

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// seenMemo remembers, per account and field, the reply.SeenEvery slot this instance last
// recorded, so a busy account costs the table one write a minute per instance at most (the
// store's condition takes the other instances' writes into account).
type seenMemo struct {
	mu   sync.Mutex
	last map[string]time.Time // account + "/" + field → slot
}

// SetWebhooks makes the handler record when each account's webhooks arrive, by field, for
// `replywindow doctor` (nil: not recorded).
func (h *Handler) SetWebhooks(w reply.Webhooks) { h.webhooks = w }

// recordSeen records the fields of the delivery's jobs per account, when this instance has not
// in the current slot. A failure is logged, never answered: the jobs are what matter.
func (h *Handler) recordSeen(ctx context.Context, log *slog.Logger, jobs []reply.Job, now time.Time) {
	if h.webhooks == nil || len(jobs) == 0 {
		return
	}
	slot := now.Truncate(reply.SeenEvery)
	due := map[string][]string{}
	h.seen.mu.Lock()
	if h.seen.last == nil {
		h.seen.last = map[string]time.Time{}
	}
	for _, j := range jobs {
		f := reply.JobField(j)
		if f == "" || j.AccountID == "" {
			continue
		}
		k := j.AccountID + "/" + f
		if h.seen.last[k].Equal(slot) || slices.Contains(due[j.AccountID], f) {
			continue
		}
		h.seen.last[k] = slot
		due[j.AccountID] = append(due[j.AccountID], f)
	}
	h.seen.mu.Unlock()
	for acct, fields := range due {
		if err := h.webhooks.SawWebhooks(ctx, acct, fields, now); err != nil {
			log.WarnContext(ctx, "record last webhooks", "account", acct, "err", err)
		}
	}
}
