package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestBackfillGoesOnAndStops: a media that cannot be read is marked and the backfill goes on with
// the next one, ending with ErrMediaFailed naming it; what is the whole account's (a refused
// token, our queue, a read budget that would keep it waiting past MaxWait) stops it and names the
// media left. Each media's progress is told as it ends.
func TestBackfillGoesOnAndStops(t *testing.T) {
	tests := []struct {
		name    string
		fault   sandbox.Fault // on the comments of BAD
		queue   error         // the queue refuses
		limit   reply.Limit   // the read budget; zero: the default
		maxWait time.Duration
		err     error  // errors.Is; nil: none
		ids     string // enqueued, sorted
		failed  []string
		left    []string
		told    []string // the progress per media: id read/missing/enqueued, +error
	}{
		{name: "every media reads", ids: "b1,n1,o1",
			told: []string{"NEW 1/1/1", "BAD 1/1/1", "OLD 1/1/1"}},
		{name: "a 500 on one media", fault: sandbox.ServerError(500), err: ErrMediaFailed, ids: "n1,o1", failed: []string{"BAD"},
			told: []string{"NEW 1/1/1", "BAD 0/0/0 failed", "OLD 1/1/1"}},
		{name: "a bare 502 from a proxy", fault: sandbox.HTTPStatus(502), err: ErrMediaFailed, ids: "n1,o1", failed: []string{"BAD"},
			told: []string{"NEW 1/1/1", "BAD 0/0/0 failed", "OLD 1/1/1"}},
		{name: "Meta refuses that media (100)", fault: sandbox.MetaError(400, 100, 33), err: ErrMediaFailed, ids: "n1,o1", failed: []string{"BAD"},
			told: []string{"NEW 1/1/1", "BAD 0/0/0 failed", "OLD 1/1/1"}},
		{name: "a refused token stops it", fault: sandbox.MetaError(400, 190, 460), ids: "n1", left: []string{"BAD", "OLD"},
			told: []string{"NEW 1/1/1", "BAD 0/0/0 failed"}},
		{name: "the queue refuses: stops at once", queue: errors.New("queue down"), left: []string{"NEW", "BAD", "OLD"},
			told: []string{"NEW 0/0/0 failed"}},
		// One read each 2 minutes after a burst of two (live_media, media): NEW's comments wait
		// 2m, BAD's would bring the wait to 4m.
		{name: "the budget would wait past MaxWait", limit: reply.Limit{Count: 30, Period: time.Hour, Burst: 2}, maxWait: 3 * time.Minute,
			err: ErrWaitTooLong, ids: "n1", left: []string{"BAD", "OLD"}, told: []string{"NEW 1/1/1", "BAD 0/0/0 failed"}},
		{name: "the budget's waits fit in MaxWait", limit: reply.Limit{Count: 30, Period: time.Hour, Burst: 2}, maxWait: 10 * time.Minute,
			ids: "b1,n1,o1", told: []string{"NEW 1/1/1", "BAD 1/1/1", "OLD 1/1/1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{ReadLimit: tt.limit})
			h.newBadOld()
			h.sb.SetFault(func(c sandbox.Call) sandbox.Fault {
				if c.Op == sandbox.OpComments && c.ObjectID == "BAD" {
					return tt.fault
				}
				return sandbox.Fault{}
			})
			h.queue.fail = tt.queue
			var told []string
			res, err := h.rec.Backfill(context.Background(), igID, BackfillOptions{MaxWait: tt.maxWait, Progress: func(p Progress) {
				if m := p.Media; m != nil {
					s := fmt.Sprintf("%s %d/%d/%d", m.ID, m.Read, m.Missing, m.Enqueued())
					if m.Error != "" {
						s += " failed"
					}
					told = append(told, s)
				}
			}})
			if tt.err == nil && tt.left == nil && err != nil || tt.err != nil && !errors.Is(err, tt.err) || tt.left != nil && err == nil {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if got := h.ids(); got != tt.ids || !slices.Equal(res.Failed, tt.failed) || !slices.Equal(res.Left, tt.left) || !slices.Equal(told, tt.told) {
				t.Errorf("enqueued %q, failed %v, left %v, told %q\nwant %q, %v, %v, %q", got, res.Failed, res.Left, told, tt.ids, tt.failed, tt.left, tt.told)
			}
			for _, id := range tt.failed {
				if i := slices.IndexFunc(res.Media, func(m MediaSummary) bool { return m.ID == id }); i < 0 || !strings.Contains(err.Error(), id) {
					t.Errorf("failed media %s: not in the summaries or the error %v", id, err)
				}
			}
			if errors.Is(tt.err, ErrWaitTooLong) && (res.ResumeAt.IsZero() || !strings.Contains(err.Error(), "stopped at media BAD, 2 media left")) {
				t.Errorf("stopped by the budget: resume at %s, error %v", res.ResumeAt, err)
			}
		})
	}
}

// newBadOld is three media of the account, newest first, a comment each (n1, b1, o1): the tests
// break the middle one, BAD.
func (h *harness) newBadOld() {
	h.media("NEW", at(-time.Hour))
	h.comment("n1", "NEW", at(-30*time.Minute))
	h.media("BAD", at(-2*time.Hour))
	h.comment("b1", "BAD", at(-90*time.Minute))
	h.media("OLD", at(-3*time.Hour))
	h.comment("o1", "OLD", at(-150*time.Minute))
}
