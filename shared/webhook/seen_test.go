package webhook

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
)

// countingWebhooks counts the store calls a delivery makes.
type countingWebhooks struct {
	*memory.Store
	calls int
}

func (c *countingWebhooks) SawWebhooks(ctx context.Context, account string, fields []string, at time.Time) error {
	c.calls++
	return c.Store.SawWebhooks(ctx, account, fields, at)
}

func TestRecordSeen(t *testing.T) {
	tests := []struct {
		name   string
		files  []string
		after  time.Duration // between the deliveries
		calls  int
		fields []string // recorded for the account of the first job
	}{
		{name: "a comment", files: []string{"comment.json"}, calls: 1, fields: []string{reply.FieldComments}},
		{name: "the same minute twice: one write", files: []string{"comment.json", "comment.json"}, calls: 1, fields: []string{reply.FieldComments}},
		{name: "a minute apart: two writes", files: []string{"comment.json", "comment.json"}, after: time.Minute, calls: 2, fields: []string{reply.FieldComments}},
		{name: "live", files: []string{"live.json"}, calls: 1, fields: []string{reply.FieldLiveComments}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hs := newHarness(t, slog.LevelInfo)
			store := &countingWebhooks{Store: memory.NewStore()}
			hs.h.SetWebhooks(store)
			at := now
			for _, f := range tt.files {
				hs.h.now = func() time.Time { return at }
				if resp, _ := hs.h.Handle(context.Background(), signed(t, f)); resp.StatusCode != 200 {
					t.Fatalf("%s: status %d", f, resp.StatusCode)
				}
				at = at.Add(tt.after)
			}
			if store.calls != tt.calls {
				t.Errorf("%d store writes, want %d", store.calls, tt.calls)
			}
			acct := hs.queue.jobs[0].AccountID
			seen, _ := store.LastWebhooks(context.Background(), acct)
			for _, f := range tt.fields {
				if seen[f].IsZero() {
					t.Errorf("%s not recorded for %s: %v", f, acct, seen)
				}
			}
			if len(seen) != len(tt.fields) {
				t.Errorf("recorded %v, want only %v", seen, tt.fields)
			}
		})
	}
}
