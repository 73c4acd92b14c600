package replier

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/sweeper"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// released is a reply.Queue that keeps what the sweeper releases, for the test to process.
type released struct {
	mu   sync.Mutex
	jobs []reply.Job
}

func (q *released) Enqueue(_ context.Context, js []reply.Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, js...)
	return nil
}

func (q *released) take() []reply.Job {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.jobs
	q.jobs = nil
	return out
}

// TestCommentWhoseLookupFindsNoMediaIsNotSentUnguarded is issue 19's case 11: the webhook left
// the media out and Meta's GET /{comment-id} names none either. Where the account wants its
// one-DM-per-person guard (repeat_per_person off, the default) the reply is never sent without
// it: the record is PARKED media_unknown, the sweeper releases it and the lookup is asked again,
// until Meta names the media (then the guard decides) or the comment's deadline ends it EXPIRED
// with the reason in its Detail.
func TestCommentWhoseLookupFindsNoMediaIsNotSentUnguarded(t *testing.T) {
	tests := []struct {
		name string
		edit func(*reply.Account)
		// earlier: the person's first comment on the post, with its media, answered before.
		earlier bool
		// foundAfter: Meta names the media after this many lookups (0: never).
		foundAfter int
		want       reply.State
		wantReason string
	}{
		{name: "the person's second comment on the post", earlier: true, foundAfter: 3,
			want: reply.StateSkipped, wantReason: reply.SkipDuplicatePerson},
		{name: "Meta names the media later", foundAfter: 2, want: reply.StateSent},
		{name: "Meta never names the media", want: reply.StateExpired, wantReason: "window"},
		{name: "repeat_per_person on: no guard to take", edit: func(a *reply.Account) { a.RepeatPerPerson = true },
			want: reply.StateSent},
		{name: "no rule matches: nothing to guard", edit: func(a *reply.Account) { a.Rules[0].Keywords = []string{"nothing-matches"} },
			want: reply.StateSkipped, wantReason: reply.SkipNoRule},
	}
	for _, kind := range bothStores {
		for _, tt := range tests {
			t.Run(kind.name+"/"+tt.name, func(t *testing.T) {
				e := newEnv(t, kind)
				e.put(tt.edit)
				q := &released{}
				sw := sweeper.New(sweeper.Config{}, e.store, q, e.graph, e.tokens, e.clock, telemetry.NewMetrics("sweeper"), nil)
				ctx := context.Background()
				first := sampleJob(t, 1)
				job := first
				job.CommentID = first.CommentID + "2"
				known(e, first)
				known(e, job)
				e.sb.SetCommentLookupWithoutMedia(job.CommentID, true)
				if tt.earlier {
					if d := e.process(first); d.Action != ActionSent {
						t.Fatalf("the person's first comment: %s(%s)", d.Action, d.Reason)
					}
				}
				job.MediaID, job.ProductType = "", ""

				d := e.process(job)
				lookups := func() int { return e.sb.Stats().Calls[sandbox.OpComment] }
				for round := 1; d.Action == ActionParked; round++ {
					if d.Reason != ParkMediaUnknown {
						t.Fatalf("round %d: parked(%s), want parked(%s)", round, d.Reason, ParkMediaUnknown)
					}
					rec := e.record(job)
					if rec.State != reply.StateParked || rec.Funnel != "" || !strings.Contains(rec.Detail, "no media") {
						t.Fatalf("round %d: record %s funnel %q detail %q", round, rec.State, rec.Funnel, rec.Detail)
					}
					if n := e.sb.Attempts(job.CommentID); n != 0 {
						t.Fatalf("round %d: %d private replies sent without the guard", round, n)
					}
					if lookups() != round {
						t.Fatalf("round %d: %d lookups; want one a round", round, lookups())
					}
					if tt.foundAfter > 0 && round == tt.foundAfter {
						e.sb.SetCommentLookupWithoutMedia(job.CommentID, false)
					}
					if tt.foundAfter == 0 && round == 3 {
						// Meta never says: the sweeper expires the comment at its deadline.
						e.clock.Set(rec.Deadline.Add(time.Second))
					} else {
						e.clock.Set(rec.DueAt)
					}
					if _, err := sw.Run(ctx); err != nil {
						t.Fatalf("sweep: %v", err)
					}
					js := q.take()
					if len(js) == 0 {
						break
					}
					if len(js) != 1 || js[0].CommentID != job.CommentID || !js[0].Requeued {
						t.Fatalf("round %d: the sweeper released %+v", round, js)
					}
					d = e.process(js[0])
				}
				rec := e.record(job)
				if rec.State != tt.want || tt.wantReason != "" && rec.Reason != tt.wantReason {
					t.Fatalf("record %s(%s) detail %q, want %s(%s)", rec.State, rec.Reason, rec.Detail, tt.want, tt.wantReason)
				}
				if tt.want == reply.StateExpired && !strings.Contains(rec.Detail, "no media") {
					t.Errorf("expired without saying why: detail %q", rec.Detail)
				}
				if tt.want == reply.StateSent && !tt.earlier && tt.edit == nil && rec.Funnel == "" {
					t.Errorf("sent without holding the funnel guard")
				}
				if n := len(e.sb.Deliveries()); n > 1 || n != btoi(tt.earlier || tt.want == reply.StateSent) {
					t.Fatalf("%d DMs to the person on the post", n)
				}
			})
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestLookupIDsAreCheckedLikeTheWebhooks (issue 24, finding 8, on the replier's side): Meta's
// answer to GET /{comment-id} names a media or a person whose id is not digits. It is taken as not
// named (the comment waits for a lookup that names one, without the guard no DM), and counted.
func TestLookupIDsAreCheckedLikeTheWebhooks(t *testing.T) {
	for _, kind := range bothStores {
		for _, tt := range []struct {
			name   string
			edit   func(*sandbox.Comment)
			strip  func(*reply.Job)
			reason string
		}{
			{"media", func(c *sandbox.Comment) { c.MediaID = "18000000000000042/../x" }, func(j *reply.Job) { j.MediaID, j.ProductType = "", "" }, ParkMediaUnknown},
			{"person", func(c *sandbox.Comment) { c.FromID = "p-17841400000000999" }, func(j *reply.Job) { j.FromID, j.FromUsername = "", "" }, ParkPersonUnknown},
		} {
			t.Run(kind.name+"/"+tt.name, func(t *testing.T) {
				e := newEnv(t, kind)
				e.put(nil)
				job := sampleJob(t, 1)
				c := sandbox.Comment{ID: job.CommentID, AccountID: job.AccountID, MediaID: job.FunnelMedia(),
					FromID: job.FromID, FromName: job.FromUsername, CreatedAt: job.CommentedAt}
				tt.edit(&c)
				e.sb.AddComment(c)
				tt.strip(&job)
				if d := e.process(job); d.Action != ActionParked || d.Reason != tt.reason {
					t.Fatalf("decision %s(%s), want parked(%s)", d.Action, d.Reason, tt.reason)
				}
				if got := e.m.Get(MetricLookupIDRefused); got != 1 {
					t.Errorf("metric %s = %v, want 1", MetricLookupIDRefused, got)
				}
				rec := e.record(job)
				if !reply.ValidID(rec.Job.MediaID) && rec.Job.MediaID != "" || !reply.ValidID(rec.Job.FromID) && rec.Job.FromID != "" {
					t.Errorf("record keeps Meta's bad id: media %q person %q", rec.Job.MediaID, rec.Job.FromID)
				}
				if n := e.sb.Attempts(job.CommentID); n != 0 {
					t.Errorf("%d private replies", n)
				}
			})
		}
	}
}
