package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/links"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// DemoLinksSecret keys the local stack's tracked links (LINKS_SECRET; SSM in AWS). It is
// events/env.json's, so sam local invoke's samples open here too.
const DemoLinksSecret = "replywindow-local-links-secret-0123456789"

// demoTracked is the demo's "live-link" tracking: enabled.
var demoTracked = true

// DemoBrowser is the user agent the demo clicks with: a person in Instagram's in-app browser.
const DemoBrowser = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 309.0.0.0"

// linkStack is the click route as LinksFunction wires it, on the stack's own server.
type linkStack struct {
	keys    *links.SecretKeys
	route   *links.Route
	metrics *telemetry.Metrics
}

// mountLinks serves GET and HEAD /l/{code} on mux, as API Gateway routes them to LinksFunction.
func (s *Stack) mountLinks(mux *http.ServeMux, log *slog.Logger) {
	clicks, ok := reply.StoreAs[reply.Clicks](s.Store)
	if !ok {
		return
	}
	s.links.keys = &links.SecretKeys{Secret: DemoLinksSecret, MaxAge: links.DefaultMaxAge}
	s.links.metrics = telemetry.NewMetrics("links")
	s.links.route = &links.Route{Keys: s.links.keys, Clicks: clicks, Budget: links.DefaultBudget,
		MaxAge: links.DefaultMaxAge, Events: s.Events != nil, Metrics: s.links.metrics, Log: log.With("fn", "links")}
	gw := &Gateway{Timeout: 5 * time.Second, Handler: func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		ev.RouteKey = ev.RequestContext.HTTP.Method + " /l/{code}"
		ev.PathParameters = map[string]string{"code": strings.TrimPrefix(ev.RawPath, links.RoutePrefix)}
		return s.links.route.Handle(ctx, ev)
	}}
	mux.Handle("GET "+links.RoutePrefix+"{code}", gw) // GET also matches HEAD
}

// tracker is the replier's link tracker, with the stack's URL as LINK_BASE_URL.
func (s *Stack) tracker(log *slog.Logger) reply.Linker {
	if s.links.keys == nil {
		return nil
	}
	return &links.Tracker{Base: s.URL, Keys: s.links.keys, Metrics: s.metrics.replier, Log: log.With("fn", "replier")}
}

// untracked is ds with each tracked link of the stack put back as its target, so a private
// reply compares with its rule's text.
func (s *Stack) untracked(ds []sandbox.Delivery) []sandbox.Delivery {
	if s.links.keys == nil {
		return ds
	}
	sealer, err := s.links.keys.Sealer(context.Background())
	if err != nil {
		return ds
	}
	base := s.URL + links.RoutePrefix
	out := make([]sandbox.Delivery, len(ds))
	for i, d := range ds {
		fields := strings.Fields(d.Text)
		for _, f := range fields {
			if code, ok := strings.CutPrefix(strings.TrimRight(f, ".,;:!?)"), base); ok {
				if l, err := sealer.Open(code, time.Now()); err == nil {
					d.Text = strings.Replace(d.Text, base+code, l.Target, 1)
				}
			}
		}
		out[i] = d
	}
	return out
}

// LinkClicks is what the demo's clicks on a tracked link showed.
type LinkClicks struct {
	Link, Target     string
	Rule             string
	Previews         int   // fetches by Meta's crawler (the sandbox): redirected, not counted
	Clicks           int   // the demo's clicks as a person: the same person twice
	All, Unique      int64 // the click counters after them
	Problems         []string
	Status, Location string // the answer to the first click
}

// DemoClicks plays a person opening the first tracked link the sandbox delivered, twice, after
// Meta's crawler fetched it for the preview, and reads the counters: two clicks, one unique, the
// preview not counted.
func (s *Stack) DemoClicks(ctx context.Context) (LinkClicks, error) {
	var out LinkClicks
	if s.Sandbox == nil || s.links.keys == nil {
		return out, errors.New("demo clicks: needs the embedded sandbox and store")
	}
	previews := s.Sandbox.Previews() // waits for the crawler
	base := s.URL + links.RoutePrefix
	for _, d := range s.Sandbox.Deliveries() {
		for _, f := range strings.Fields(d.Text) {
			if strings.HasPrefix(f, base) {
				out.Link = strings.TrimRight(f, ".,;:!?)")
				break
			}
		}
		if out.Link != "" {
			break
		}
	}
	if out.Link == "" {
		out.Problems = append(out.Problems, "no private reply carried a tracked link")
		return out, nil
	}
	sealer, err := s.links.keys.Sealer(ctx)
	if err != nil {
		return out, err
	}
	l, err := sealer.Open(strings.TrimPrefix(out.Link, base), time.Now())
	if err != nil {
		return out, fmt.Errorf("demo clicks: the delivered link does not open: %w", err)
	}
	out.Target, out.Rule = l.Target, l.Rule
	for _, p := range previews {
		if p.URL == out.Link && p.Status == http.StatusFound {
			out.Previews++
		}
	}
	if out.Previews == 0 {
		out.Problems = append(out.Problems, "Meta's crawler did not fetch the link for its preview")
	}
	client := &http.Client{Timeout: 5 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for range 2 {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, out.Link, nil)
		if err != nil {
			return out, err
		}
		req.Header.Set("User-Agent", DemoBrowser)
		res, err := client.Do(req)
		if err != nil {
			return out, fmt.Errorf("demo clicks: %w", err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		out.Clicks++
		if out.Status == "" {
			out.Status, out.Location = res.Status, res.Header.Get("Location")
		}
		if res.StatusCode != http.StatusFound || res.Header.Get("Location") != l.Target {
			out.Problems = append(out.Problems, fmt.Sprintf("click answered %s to %q, want 302 to %q", res.Status, res.Header.Get("Location"), l.Target))
		}
	}
	n, err := s.links.route.Clicks.ClickCounts(ctx, l.Origin, links.LinkID(l.Target), time.Now())
	if err != nil {
		return out, fmt.Errorf("demo clicks: counters: %w", err)
	}
	out.All, out.Unique = n.All, n.Unique
	if n.All != 2 || n.Unique != 1 {
		out.Problems = append(out.Problems, fmt.Sprintf("counters %d clicks, %d unique; want 2 and 1 (the preview not counted)", n.All, n.Unique))
	}
	return out, nil
}

// PrintClicks writes what DemoClicks saw.
func PrintClicks(w io.Writer, c LinkClicks) {
	if c.Link == "" {
		fmt.Fprintf(w, "tracked link: none delivered (%s)\n", strings.Join(c.Problems, "; "))
		return
	}
	fmt.Fprintf(w, "tracked link of rule %q: %s\n", c.Rule, c.Link)
	fmt.Fprintf(w, "  Meta's preview fetch (facebookexternalhit): %d, redirected, not counted\n", c.Previews)
	fmt.Fprintf(w, "  a person's clicks: %d, answered %s to %s\n", c.Clicks, c.Status, c.Location)
	fmt.Fprintf(w, "  counters: %d click(s), %d unique\n", c.All, c.Unique)
	for _, p := range c.Problems {
		fmt.Fprintf(w, "  MISSED: %s\n", p)
	}
}
