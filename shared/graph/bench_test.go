package graph_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// benchEnv is the sandbox behind a loopback HTTP server with a limit no benchmark reaches.
func benchEnv(b *testing.B) (*graph.Client, *sandbox.Sandbox) {
	sb := sandbox.New(sandbox.WithLimit(reply.LanePosts, reply.Limit{Count: 1 << 30, Period: time.Hour}))
	sb.AddAccount(igID, igToken, reply.LoginInstagram, "")
	srv := httptest.NewServer(sb)
	b.Cleanup(func() { sb.Close(); srv.Close() })
	return graph.New(graph.WithBaseURL(srv.URL)), sb
}

// BenchmarkPrivateReply is one private reply, client to sandbox and back over loopback HTTP.
func BenchmarkPrivateReply(b *testing.B) {
	c, sb := benchEnv(b)
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		if _, err := c.PrivateReply(ctx, igAccount, igToken, strconv.Itoa(i), reply.Message{Text: "Here is the recipe: https://example.com/r"}); err != nil {
			b.Fatal(err)
		}
	}
	if got := len(sb.Deliveries()); got != i {
		b.Fatalf("%d deliveries, want %d", got, i)
	}
}

// BenchmarkPrivateReplyParallel is concurrent private replies, as a replier sends a batch.
func BenchmarkPrivateReplyParallel(b *testing.B) {
	c, _ := benchEnv(b)
	ctx := context.Background()
	var n atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.PrivateReply(ctx, igAccount, igToken, strconv.FormatInt(n.Add(1), 10), reply.Message{Text: "hi"}); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRefused is a refused reply (already replied): the error path, parsing Meta's error.
func BenchmarkRefused(b *testing.B) {
	c, _ := benchEnv(b)
	ctx := context.Background()
	if _, err := c.PrivateReply(ctx, igAccount, igToken, "C", reply.Message{Text: "hi"}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.PrivateReply(ctx, igAccount, igToken, "C", reply.Message{Text: "hi"}); reply.Classify(err) != reply.VerdictAlreadyReplied {
			b.Fatal(err)
		}
	}
}

func BenchmarkUsage(b *testing.B) {
	h := http.Header{}
	h.Set("X-Business-Use-Case-Usage", `{"17841400000000001":[{"type":"instagram","call_count":28,"total_cputime":25,"total_time":25,"estimated_time_to_regain_access":0}]}`)
	h.Set("X-App-Usage", `{"call_count":12,"total_cputime":67,"total_time":40}`)
	b.ReportAllocs()
	for b.Loop() {
		if p, _ := graph.Usage(h); p != 67 {
			b.Fatal(p)
		}
	}
}
