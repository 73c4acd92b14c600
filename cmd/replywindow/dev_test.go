package main

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/devstack"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/webhook"
)

// lockedBuffer lets the test read what the running command writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDevCommand runs `replywindow dev` until interrupted, posts a signed comment to it and
// checks that it was answered and that progress and status were shown.
func TestDevCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan *devstack.Stack, 1)
	devReady = func(s *devstack.Stack) { ready <- s }
	defer func() { devReady = nil }()
	var stdout, stderr lockedBuffer
	done := make(chan int)
	go func() {
		done <- run(ctx, []string{"dev", "-addr", "127.0.0.1:0", "-status-every", "50ms"}, &stdout, &stderr)
	}()
	var s *devstack.Stack
	select {
	case s = <-ready:
	case code := <-done:
		t.Fatalf("dev exited %d before it was ready:\n%s", code, stderr.String())
	}
	c := devstack.DemoCases()[0]
	body := c.Body(time.Now())
	req, _ := http.NewRequest(http.MethodPost, s.WebhookURL, bytes.NewReader(body))
	req.Header.Set(webhook.SignatureHeader, webhook.Sign(body, devstack.DefaultAppSecret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	recs, err := s.WaitTerminal(wctx, c.CommentID)
	wcancel()
	if err != nil || resp.StatusCode != 200 || recs[c.CommentID].State != reply.StateSent {
		t.Fatalf("delivery answered %d; record %+v, %v", resp.StatusCode, recs[c.CommentID], err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(stdout.String(), "sent 1 ·") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	if code := <-done; code != exitOK {
		t.Errorf("dev exit %d, want 0; stderr:\n%s", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"replywindow dev", s.WebhookURL, "→ sent", "DM delivered", "sent 1 ·", "DMs in sandbox ledger 1", "stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestDevUsage(t *testing.T) {
	for _, args := range [][]string{{"dev", "extra"}, {"dev", "-nope"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code != exitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, exitUsage)
		}
	}
}
