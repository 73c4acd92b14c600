package functions

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/links"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// TestLinksSampleEvents runs events/links-*.json (sam local invoke's samples) through the click
// route's real handler, configured from events/env.json as sam local invoke would: a person's
// click is redirected and counted, Meta's preview fetch redirected and not counted, an altered
// code answered 404.
func TestLinksSampleEvents(t *testing.T) {
	raw, err := os.ReadFile("../events/env.json")
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatal(err)
	}
	cfg, err := links.LoadConfig(func(k string) string { return env["LinksFunction"][k] })
	if err != nil {
		t.Fatal(err)
	}
	route := &links.Route{Keys: &links.SecretKeys{Secret: cfg.Secret, MaxAge: cfg.MaxAge}, Clicks: memory.NewStore(),
		Budget: cfg.Budget, MaxAge: cfg.MaxAge, Metrics: telemetry.NewMetrics("links")}
	for _, c := range []struct {
		file       string
		wantStatus int
		wantClicks float64 // LinkClicks after the event
	}{
		{"links-click.json", http.StatusFound, 1},
		{"links-preview.json", http.StatusFound, 1},
		{"links-forged.json", http.StatusNotFound, 1},
	} {
		b, err := os.ReadFile("../events/" + c.file)
		if err != nil {
			t.Fatal(err)
		}
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(b, &req); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		res, err := route.Handle(ctx, req)
		cancel()
		if err != nil || res.StatusCode != c.wantStatus {
			t.Errorf("%s: %d (%v), want %d", c.file, res.StatusCode, err, c.wantStatus)
		}
		if c.wantStatus == http.StatusFound && res.Headers["Location"] != "https://shop.example/recipe-book?utm_source=instagram" {
			t.Errorf("%s: Location %q", c.file, res.Headers["Location"])
		}
		if got := route.Metrics.Get(links.MetricClicks); got != c.wantClicks {
			t.Errorf("%s: %s = %v, want %v", c.file, links.MetricClicks, got, c.wantClicks)
		}
	}
}
