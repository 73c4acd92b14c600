package links

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// slowClicks is a store whose every write takes a fixed time, like a DynamoDB round trip.
type slowClicks struct {
	reply.Clicks
	delay time.Duration
}

func (s slowClicks) RecordClick(ctx context.Context, c reply.Click) (bool, error) {
	time.Sleep(s.delay)
	return s.Clicks.RecordClick(ctx, c)
}

// BenchmarkRoute is a click through the real handler with a store that takes 10 ms a write
// (a DynamoDB round trip: the click's two requests go at once), and with an instant one: the
// answer time is the write plus the route's own work (open the code, build the answer).
func BenchmarkRoute(b *testing.B) {
	for _, delay := range []time.Duration{10 * time.Millisecond, 0} {
		b.Run(fmt.Sprintf("store=%s", delay), func(b *testing.B) {
			keys := &SecretKeys{Secret: testSecret, MaxAge: 30 * 24 * time.Hour}
			sealer, _ := keys.Sealer(context.Background())
			var clicks reply.Clicks = memory.NewStore()
			if delay > 0 {
				clicks = slowClicks{clicks, delay}
			}
			route := &Route{Keys: keys, Clicks: clicks, Clock: fixedClock{clickAt},
				MaxAge: 30 * 24 * time.Hour, Metrics: telemetry.NewMetrics("links")}
			codes := make([]string, 1000)
			for i := range codes {
				o := origin
				o.Person = fmt.Sprint(9000000000000000 + i)
				codes[i] = sealer.Seal(Link{Origin: o, Target: target, Issued: sentAt})
			}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				res, err := route.Handle(context.Background(), request("GET", codes[i%len(codes)], browserUA))
				if err != nil || res.StatusCode != http.StatusFound {
					b.Fatalf("status %d, %v", res.StatusCode, err)
				}
			}
			b.ReportMetric(float64(len(codes[0])), "code-bytes")
		})
	}
}

// TestClickWriteRequests counts DynamoDB requests per click on moto: a first click and a repeat
// each make two write requests, sent at once (one round trip), and no read. It prints the write
// units the Counter measured (moto reports none for a transaction: two units an item there).
func TestClickWriteRequests(t *testing.T) {
	api := dynamodb.NewFromConfig(awstest.Config(t))
	name := awstest.Name(t, "links")
	if err := dynamo.CreateTable(awstest.Context(t), api, name); err != nil {
		t.Fatal(err)
	}
	counted := dynamo.Count(api)
	route, sealer := newRoute(t, dynamo.New(counted, name))
	code := sealer.Seal(Link{Origin: origin, Target: target, Issued: sentAt})
	for _, click := range []string{"first click", "repeat click"} {
		w0, r0, u0 := counted.Writes(), counted.Reads(), counted.WriteUnits()
		if res, err := route.Handle(context.Background(), request("GET", code, browserUA)); err != nil || res.StatusCode != http.StatusFound {
			t.Fatalf("%s: %d %v", click, res.StatusCode, err)
		}
		w, r := counted.Writes()-w0, counted.Reads()-r0
		t.Logf("%s: %d write requests, %.1f write units, %d reads", click, w, counted.WriteUnits()-u0, r)
		if w != 2 || r != 0 {
			t.Errorf("%s: %d write requests and %d reads, want 2 (one round trip) and 0", click, w, r)
		}
	}
	w0 := counted.Writes()
	for _, req := range []struct{ method, code, ua string }{{"GET", code, previewUA}, {"HEAD", code, browserUA}, {"GET", "forged", browserUA}} {
		if _, err := route.Handle(context.Background(), request(req.method, req.code, req.ua)); err != nil {
			t.Fatal(err)
		}
	}
	if w := counted.Writes() - w0; w != 0 {
		t.Errorf("a preview, a HEAD and a forged code wrote %d requests, want 0", w)
	}
}
