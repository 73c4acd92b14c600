package replier

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// handlerTransport hands requests straight to an http.Handler: the real Graph client and the
// real sandbox, without a socket, so the benchmark measures the replier and not loopback TCP.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// BenchmarkDecide is the per-job decision path with warm caches and the in-memory store:
// sent (claim, token, one Graph call, finish), parked (our bucket is empty: one write, no call)
// and skipped (no rule matches).
func BenchmarkDecide(b *testing.B) {
	big := reply.Limit{Count: 1 << 30, Period: time.Hour}
	for _, tc := range []struct {
		name   string
		limit  reply.Limit
		text   string
		action Action
	}{
		{"sent", big, "", ActionSent},
		{"parked", reply.Limit{Count: 1, Period: time.Hour}, "", ActionParked},
		{"skipped", big, "nothing to see", ActionSkipped},
	} {
		b.Run(tc.name, func(b *testing.B) {
			clock := memory.NewClock(start)
			sb := sandbox.New(sandbox.WithClock(clock.Now), sandbox.WithLimit(reply.LanePosts, big))
			g := graph.New(graph.WithBaseURL("http://sandbox.invalid"), graph.WithHTTPClient(&http.Client{Transport: handlerTransport{sb}}))
			acct := loadAccount(b)
			acct.Rules[0].PublicReplies = nil
			acct.Limits = map[reply.Lane]reply.Limit{reply.LanePosts: tc.limit}
			sb.AddAccount(acct.ID, token, reply.LoginInstagram, "")
			store := memory.NewStore()
			if _, err := store.PutAccount(context.Background(), acct); err != nil {
				b.Fatal(err)
			}
			r := New(Config{TableName: "bench"}, store, g, memory.Tokens{acct.ID: token}, clock, telemetry.NewMetrics("replier"), nil)
			jobs := make([]reply.Job, b.N+1)
			for i := range jobs {
				jobs[i] = sampleJob(b, i)
				if tc.text != "" {
					jobs[i].Text = tc.text
				}
			}
			ctx := context.Background()
			if _, err := r.Process(ctx, jobs[b.N]); err != nil { // warm the caches (and empty a 1/hour bucket)
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				d, err := r.Process(ctx, jobs[i])
				if err != nil || d.Action != tc.action {
					b.Fatalf("job %d: %s, %v", i, d.Action, err)
				}
			}
		})
	}
}
