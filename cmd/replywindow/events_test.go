package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/webhook"
)

// TestEventsAreRegenerated: the committed samples are exactly what `replywindow events` makes of
// them, so their signatures match their bodies and env.json's secret.
func TestEventsAreRegenerated(t *testing.T) {
	files, err := regenerateEvents("../../events")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		old, err := os.ReadFile(filepath.Join("../../events", s.file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(old, files[s.file]) {
			t.Errorf("events/%s drifted: run `make events` (replywindow events)", s.file)
		}
	}
}

func TestEventsCommand(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"env.json", "webhook-comment.json", "webhook-live-comment.json", "webhook-bad-signature.json", "webhook-postback.json"} {
		b, err := os.ReadFile(filepath.Join("../../events", name))
		if err != nil {
			t.Fatal(err)
		}
		if name == "env.json" {
			b = bytes.Replace(b, []byte("replywindow-local-app-secret"), []byte("rotated-secret,replywindow-local-app-secret"), 1)
			b = bytes.Replace(b, []byte("replywindow-local-verify-token"), []byte("rotated-token"), 1)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{name: "check finds the drift", args: []string{"events", "--dir", dir, "--check"}, code: exitFail, out: "webhook-comment.json: out of date"},
		{name: "regenerate", args: []string{"events", "--dir", dir}, code: exitOK, out: "webhook-handshake.json: written"},
		{name: "check passes after", args: []string{"events", "--dir", dir, "--check"}, code: exitOK, out: "webhook-comment.json: up to date"},
		{name: "stray argument", args: []string{"events", "now"}, code: exitUsage},
		{name: "missing directory", args: []string{"events", "--dir", filepath.Join(dir, "nope")}, code: exitFail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(ctx, tt.args, &stdout, &stderr); code != tt.code {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, tt.code, stdout.String(), stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.out) {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.out)
			}
		})
	}
	// The regenerated samples carry the rotated values.
	for _, tt := range []struct {
		file    string
		secret  string
		wantErr error
	}{
		{"webhook-comment.json", "rotated-secret", nil},
		{"webhook-live-comment.json", "rotated-secret", nil},
		{"webhook-bad-signature.json", "rotated-secret", webhook.ErrBadSignature},
		{"webhook-comment.json", "replywindow-local-app-secret", webhook.ErrBadSignature},
	} {
		ev := readEvent(t, filepath.Join(dir, tt.file))
		if err := webhook.Verify([]byte(ev.Body), ev.Headers["x-hub-signature-256"], []string{tt.secret}); err != tt.wantErr {
			t.Errorf("%s under %s: Verify = %v, want %v", tt.file, tt.secret, err, tt.wantErr)
		}
	}
	if hs := readEvent(t, filepath.Join(dir, "webhook-handshake.json")); hs.QueryStringParameters["hub.verify_token"] != "rotated-token" ||
		!strings.Contains(hs.RawQueryString, "hub.verify_token=rotated-token") {
		t.Errorf("handshake not re-tokened: %q %v", hs.RawQueryString, hs.QueryStringParameters)
	}

	// A sample without a body cannot be signed.
	if err := os.WriteFile(filepath.Join(dir, "webhook-comment.json"), []byte(`{"body":""}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"events", "--dir", dir}, &stdout, &stderr); code != exitFail || !strings.Contains(stderr.String(), "no body") {
		t.Errorf("empty body: exit %d, stderr %q", code, stderr.String())
	}
}

// readEvent decodes a sample the way the Lambda runtime does; unknown fields would be a typo.
func readEvent(t *testing.T, path string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return ev
}

// TestEventsNow: `replywindow events --now` (make events) dates the SQS and scheduled samples
// now and leaves their layout; a directory without them is an error naming the file.
func TestEventsNow(t *testing.T) {
	dir := t.TempDir()
	for _, name := range append([]string{"env.json", "webhook-comment.json", "webhook-live-comment.json", "webhook-bad-signature.json", "webhook-postback.json"}, datedSamples...) {
		b, err := os.ReadFile(filepath.Join("../../events", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	var stdout, stderr bytes.Buffer
	if code := run(ctx, []string{"events", "--dir", dir, "--now", "--check"}, &stdout, &stderr); code != exitUsage {
		t.Errorf("--now --check: exit %d, want %d", code, exitUsage)
	}
	before := time.Now().UTC().Truncate(time.Second)
	stdout.Reset()
	if code := run(ctx, []string{"events", "--dir", dir, "--now"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d; stderr %q", code, stderr.String())
	}
	if !strings.Contains(stdout.String(), "replier-sqs.json: dated") || !strings.Contains(stdout.String(), "sweeper-scheduled.json: dated") {
		t.Errorf("stdout %q, want both samples dated", stdout.String())
	}
	b, err := os.ReadFile(filepath.Join(dir, "replier-sqs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	var job struct {
		DeliveredAt time.Time `json:"delivered_at"`
	}
	if err := json.Unmarshal([]byte(ev.Records[0].Body), &job); err != nil {
		t.Fatal(err)
	}
	if job.DeliveredAt.Before(before) || job.DeliveredAt.After(time.Now()) {
		t.Errorf("job delivered_at %v, want now (after %v)", job.DeliveredAt, before)
	}
	if err := os.Remove(filepath.Join(dir, "sweeper-scheduled.json")); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	if code := run(ctx, []string{"events", "--dir", dir, "--now"}, &stdout, &stderr); code != exitFail || !strings.Contains(stderr.String(), "sweeper-scheduled.json") {
		t.Errorf("missing sample: exit %d, stderr %q; want %d naming the file", code, stderr.String(), exitFail)
	}
}
