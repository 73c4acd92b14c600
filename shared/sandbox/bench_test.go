package sandbox_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// BenchmarkServe is the sandbox's own cost for an accepted private reply, without the network:
// what a simulation of thousands of comments pays per send.
func BenchmarkServe(b *testing.B) {
	sb := sandbox.New(sandbox.WithLimit(reply.LanePosts, reply.Limit{Count: 1 << 30, Period: time.Hour}))
	sb.AddAccount(igID, igToken, reply.LoginInstagram, "")
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		body := `{"recipient":{"comment_id":"` + strconv.Itoa(i) + `"},"message":{"text":"hello"}}`
		req := httptest.NewRequest(http.MethodPost, "/v24.0/"+igID+"/messages", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+igToken)
		w := httptest.NewRecorder()
		sb.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("HTTP %d: %s", w.Code, w.Body)
		}
	}
}
