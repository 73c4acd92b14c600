package devstack

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// HTTPHandler is a Lambda handler for API Gateway HTTP API (payload format 2.0) events.
type HTTPHandler func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// MaxBody is API Gateway's payload limit (10 MB): larger requests never reach the function.
const MaxBody = 10 << 20

// Gateway serves a Lambda HTTP API handler over net/http, translating each request into the event
// API Gateway would build. The body reaches the handler byte for byte (base64-encoded when it is
// not UTF-8, as API Gateway does), because Meta's signature covers the exact bytes it sent.
type Gateway struct {
	Handler HTTPHandler
	// Timeout is the integration timeout (API Gateway's is 30 s); the handler's context ends then.
	Timeout time.Duration
	Stage   string // "$default" when empty
	seq     atomic.Int64
}

// ServeHTTP answers one request through the handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ev, err := g.Event(r)
	if err != nil {
		status := http.StatusBadRequest
		if strings.Contains(err.Error(), "too large") {
			status = http.StatusRequestEntityTooLarge
		}
		http.Error(w, err.Error(), status)
		return
	}
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()
	resp, err := g.Handler(ctx, ev)
	if err != nil {
		// API Gateway hides a function error behind a bare 500.
		http.Error(w, `{"message":"Internal Server Error"}`, http.StatusInternalServerError)
		return
	}
	if err := WriteResponse(w, resp); err != nil {
		http.Error(w, `{"message":"Internal Server Error"}`, http.StatusInternalServerError)
	}
}

// Event is the API Gateway v2 event for r; it reads r's body.
func (g *Gateway) Event(r *http.Request) (events.APIGatewayV2HTTPRequest, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return events.APIGatewayV2HTTPRequest{}, fmt.Errorf("read body: %w", err)
	}
	if len(body) > MaxBody {
		return events.APIGatewayV2HTTPRequest{}, fmt.Errorf("body too large: over %d bytes", MaxBody)
	}
	stage := g.Stage
	if stage == "" {
		stage = "$default"
	}
	now := time.Now()
	ev := events.APIGatewayV2HTTPRequest{
		Version:        "2.0",
		RouteKey:       "$default",
		RawPath:        r.URL.EscapedPath(),
		RawQueryString: r.URL.RawQuery,
		Headers:        map[string]string{},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:   "$default",
			AccountID:  "000000000000",
			Stage:      stage,
			RequestID:  "local-" + strconv.FormatInt(g.seq.Add(1), 10),
			APIID:      "local",
			DomainName: r.Host,
			Time:       now.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:  now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP(r.RemoteAddr),
				UserAgent: r.UserAgent(),
			},
		},
	}
	if i := strings.IndexByte(r.Host, '.'); i > 0 {
		ev.RequestContext.DomainPrefix = r.Host[:i]
	} else {
		ev.RequestContext.DomainPrefix = r.Host
	}
	// Payload 2.0 joins repeated headers and query parameters with commas, lower-cases header
	// names and moves cookies to their own field.
	for name, vals := range r.Header {
		if strings.EqualFold(name, "Cookie") {
			for _, v := range vals {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						ev.Cookies = append(ev.Cookies, c)
					}
				}
			}
			continue
		}
		ev.Headers[strings.ToLower(name)] = strings.Join(vals, ",")
	}
	if r.Host != "" {
		ev.Headers["host"] = r.Host
	}
	if q := r.URL.Query(); len(q) > 0 {
		ev.QueryStringParameters = make(map[string]string, len(q))
		for k, vs := range q {
			ev.QueryStringParameters[k] = strings.Join(vs, ",")
		}
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			ev.Body = string(body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
		}
	}
	return ev, nil
}

func sourceIP(remote string) string {
	if h, _, err := net.SplitHostPort(remote); err == nil {
		return h
	}
	return remote
}

// WriteResponse writes a handler's response as API Gateway would.
func WriteResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) error {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("response body: %w", err)
		}
		body = b
	}
	h := w.Header()
	keys := make([]string, 0, len(resp.Headers))
	for k := range resp.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		h.Set(k, resp.Headers[k])
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" && len(body) > 0 {
		// Payload 2.0 defaults to JSON when the function names no type.
		h.Set("Content-Type", "application/json")
	}
	status := resp.StatusCode
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, err := w.Write(body)
	return err
}
