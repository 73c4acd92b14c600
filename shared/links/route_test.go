package links

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

const (
	testSecret = "0123456789abcdef0123456789abcdef-test"
	browserUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Instagram 309.0"
	previewUA  = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"
	target     = "https://shop.example/book?utm_source=instagram"
)

var (
	sentAt  = time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)
	clickAt = sentAt.Add(5 * time.Hour)
	origin  = reply.Origin{Account: "17841400000000001", Rule: "recipe", Media: "18000000000000001", Person: "9000000000000001"}
)

type fixedClock struct{ t time.Time }

func (c fixedClock) Now() time.Time { return c.t }

// request is an HTTP API (payload 2.0) request for the click route.
func request(method, code, ua string) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{
		RouteKey: method + " /l/{code}", RawPath: "/l/" + code,
		PathParameters: map[string]string{"code": code},
		Headers:        map[string]string{},
	}
	req.RequestContext.HTTP.Method = method
	if ua != "" {
		req.Headers["user-agent"] = ua
	}
	return req
}

// stores are the Clicks the route is tested on: the in-memory store and DynamoDB on moto.
func stores(t *testing.T) map[string]func(t *testing.T) reply.Clicks {
	return map[string]func(t *testing.T) reply.Clicks{
		"memory": func(*testing.T) reply.Clicks { return memory.NewStore() },
		"dynamo": func(t *testing.T) reply.Clicks {
			api := dynamodb.NewFromConfig(awstest.Config(t))
			name := awstest.Name(t, "links")
			if err := dynamo.CreateTable(awstest.Context(t), api, name); err != nil {
				t.Fatal(err)
			}
			return dynamo.New(api, name)
		},
	}
}

func newRoute(t *testing.T, clicks reply.Clicks) (*Route, *Sealer) {
	t.Helper()
	keys := &SecretKeys{Secret: testSecret, MaxAge: 30 * 24 * time.Hour}
	s, err := keys.Sealer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &Route{Keys: keys, Clicks: clicks, Clock: fixedClock{clickAt}, Budget: time.Second,
		MaxAge: 30 * 24 * time.Hour, Metrics: telemetry.NewMetrics("links")}, s
}

// TestRoute runs each table of requests through the real handler, in order, on each store,
// and checks the answer and the counters after each.
func TestRoute(t *testing.T) {
	type step struct {
		name                string
		method, code, ua    string
		wantStatus          int
		wantAll, wantUnique int64 // counters after the step
	}
	seal := func(s *Sealer, person string) string {
		o := origin
		o.Person = person
		return s.Seal(Link{Origin: o, Target: target, Issued: sentAt})
	}
	alter := func(code string) string { // one bit of the ciphertext flipped
		b := []byte(code)
		i := len(b) - 3
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	for name, newStore := range stores(t) {
		t.Run(name, func(t *testing.T) {
			route, sealer := newRoute(t, newStore(t))
			other, err := NewSealer(strings.Repeat("x", 40), time.Hour*24*30) // another stack's secret
			if err != nil {
				t.Fatal(err)
			}
			old := sealer.Seal(Link{Origin: origin, Target: target, Issued: sentAt.AddDate(0, -3, 0)})
			steps := []step{
				{"preview fetch by Meta's crawler", "GET", seal(sealer, "1"), previewUA, http.StatusFound, 0, 0},
				{"meta-externalagent", "GET", seal(sealer, "1"), "meta-externalagent/1.1", http.StatusFound, 0, 0},
				{"HEAD from a browser", "HEAD", seal(sealer, "1"), browserUA, http.StatusFound, 0, 0},
				{"no user agent", "GET", seal(sealer, "1"), "", http.StatusFound, 0, 0},
				{"unknown code", "GET", "not-a-code", browserUA, http.StatusNotFound, 0, 0},
				{"empty code", "GET", "", browserUA, http.StatusNotFound, 0, 0},
				{"altered code", "GET", alter(seal(sealer, "1")), browserUA, http.StatusNotFound, 0, 0},
				{"another stack's code", "GET", other.Seal(Link{Origin: origin, Target: target, Issued: sentAt}), browserUA, http.StatusNotFound, 0, 0},
				{"code past the links' lifetime", "GET", old, browserUA, http.StatusNotFound, 0, 0},
				{"first click", "GET", seal(sealer, "1"), browserUA, http.StatusFound, 1, 1},
				{"replayed code: the same person again", "GET", seal(sealer, "1"), browserUA, http.StatusFound, 2, 1},
				{"another person", "GET", seal(sealer, "2"), browserUA, http.StatusFound, 3, 2},
				{"POST", "POST", seal(sealer, "2"), browserUA, http.StatusMethodNotAllowed, 3, 2},
			}
			for _, st := range steps {
				res, err := route.Handle(context.Background(), request(st.method, st.code, st.ua))
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				if res.StatusCode != st.wantStatus {
					t.Errorf("%s: status %d, want %d", st.name, res.StatusCode, st.wantStatus)
				}
				switch res.StatusCode {
				case http.StatusFound:
					if res.Headers["Location"] != target || !strings.Contains(res.Headers["Cache-Control"], "no-store") {
						t.Errorf("%s: headers %v, want Location %s and no-store", st.name, res.Headers, target)
					}
				case http.StatusNotFound:
					if res.Body != "404 page not found\n" || res.Headers["Location"] != "" {
						t.Errorf("%s: 404 tells more than nothing: %q %v", st.name, res.Body, res.Headers)
					}
				}
				n, err := route.Clicks.ClickCounts(context.Background(), origin, LinkID(target), clickAt)
				if errors.Is(err, reply.ErrNotFound) {
					err = nil // nothing written yet
				}
				if err != nil || n.All != st.wantAll || n.Unique != st.wantUnique {
					t.Errorf("%s: counts %d all %d unique (err %v), want %d and %d", st.name, n.All, n.Unique, err, st.wantAll, st.wantUnique)
				}
			}
			m := route.Metrics
			for metric, want := range map[string]float64{
				MetricRejected + "|Reason=malformed": 2, MetricRejected + "|Reason=forged": 2, MetricRejected + "|Reason=stale": 1,
				MetricNotClicks + "|Reason=crawler": 2, MetricNotClicks + "|Reason=head": 1, MetricNotClicks + "|Reason=no_agent": 1,
				MetricClicks: 3, MetricUniqueClicks: 2,
			} {
				if got := m.Get(metric); got != want {
					t.Errorf("metric %s = %v, want %v", metric, got, want)
				}
			}
		})
	}
}

// hangingClicks is a table that does not answer: each write waits until its context ends.
type hangingClicks struct{ calls atomic.Int32 }

func (h *hangingClicks) RecordClick(ctx context.Context, _ reply.Click) (bool, error) {
	h.calls.Add(1)
	<-ctx.Done()
	return false, ctx.Err()
}

func (h *hangingClicks) ClickCounts(context.Context, reply.Origin, string, time.Time) (reply.ClickCounts, error) {
	return reply.ClickCounts{}, reply.ErrNotFound
}

// TestRouteTableDown: a table that hangs or refuses still lets the person through, within the
// budget, and the click is counted as not recorded.
func TestRouteTableDown(t *testing.T) {
	missing := func(t *testing.T) reply.Clicks { // DynamoDB answering ResourceNotFound
		return dynamo.New(dynamodb.NewFromConfig(awstest.Config(t)), awstest.Name(t, "gone"))
	}
	for name, clicks := range map[string]func(t *testing.T) reply.Clicks{
		"hanging":       func(*testing.T) reply.Clicks { return &hangingClicks{} },
		"missing table": missing,
	} {
		t.Run(name, func(t *testing.T) {
			route, sealer := newRoute(t, clicks(t))
			route.Budget = 50 * time.Millisecond
			start := time.Now()
			res, err := route.Handle(context.Background(), request("GET", sealer.Seal(Link{Origin: origin, Target: target, Issued: sentAt}), browserUA))
			took := time.Since(start)
			if err != nil || res.StatusCode != http.StatusFound || res.Headers["Location"] != target {
				t.Fatalf("answer %d %v (err %v), want a redirect to %s", res.StatusCode, res.Headers, err, target)
			}
			if took > time.Second {
				t.Errorf("redirect took %s with a 50ms budget", took)
			}
			if got := route.Metrics.Get(MetricNotRecorded); got != 1 {
				t.Errorf("%s = %v, want 1", MetricNotRecorded, got)
			}
		})
	}
}

// TestRouteKeyUnavailable: without its secret the route cannot tell a code from a forgery: 503,
// not a 404 that would tell the person the link is dead, and nothing written.
func TestRouteKeyUnavailable(t *testing.T) {
	store := memory.NewStore()
	route := &Route{Keys: &SecretKeys{Params: failingParams{}, Param: "/rw/links"}, Clicks: store, Metrics: telemetry.NewMetrics("links")}
	res, err := route.Handle(context.Background(), request("GET", "whatever", browserUA))
	if err != nil || res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status %d err %v, want 503", res.StatusCode, err)
	}
	if strings.Contains(res.Body, "rw/links") {
		t.Errorf("the answer names the parameter: %q", res.Body)
	}
}

type failingParams struct{}

func (failingParams) Get(context.Context, string) (string, error) {
	return "", errors.New("ssm: AccessDenied")
}
