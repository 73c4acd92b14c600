package devstack

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestGateway(t *testing.T) {
	escaped, err := os.ReadFile("testdata/delivery_escaped.json")
	if err != nil {
		t.Fatal(err)
	}
	binary := []byte{0xff, 0xfe, 0x00, 'x'}
	tests := []struct {
		name    string
		method  string
		target  string
		header  http.Header
		body    []byte
		answer  events.APIGatewayV2HTTPResponse
		fail    error
		check   func(t *testing.T, ev events.APIGatewayV2HTTPRequest)
		status  int
		resBody string
		resType string
	}{
		{
			name: "signed delivery keeps Meta's bytes", method: "POST", target: "/webhook",
			header: http.Header{"X-Hub-Signature-256": {"sha256=abc"}, "Content-Type": {"application/json"}},
			body:   escaped,
			answer: events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "EVENT_RECEIVED", Headers: map[string]string{"Content-Type": "text/plain"}},
			check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
				if ev.IsBase64Encoded || ev.Body != string(escaped) {
					t.Errorf("body changed: %q (base64 %v)", ev.Body, ev.IsBase64Encoded)
				}
				if ev.Headers["x-hub-signature-256"] != "sha256=abc" || ev.RequestContext.HTTP.Method != "POST" || ev.RawPath != "/webhook" {
					t.Errorf("event %+v", ev)
				}
				if ev.Version != "2.0" || ev.RouteKey != "$default" || ev.RequestContext.HTTP.SourceIP != "127.0.0.1" {
					t.Errorf("request context %+v", ev.RequestContext)
				}
			},
			status: 200, resBody: "EVENT_RECEIVED", resType: "text/plain",
		},
		{
			name: "bytes that are not UTF-8 arrive base64-encoded", method: "POST", target: "/webhook",
			body:   binary,
			answer: events.APIGatewayV2HTTPResponse{StatusCode: 403},
			check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
				got, err := base64.StdEncoding.DecodeString(ev.Body)
				if !ev.IsBase64Encoded || err != nil || !bytes.Equal(got, binary) {
					t.Errorf("body %q base64 %v", ev.Body, ev.IsBase64Encoded)
				}
			},
			status: 403,
		},
		{
			name: "handshake query and repeated headers", method: "GET",
			target: "/webhook?hub.mode=subscribe&hub.verify_token=tok&hub.challenge=1158201444&a=1&a=2",
			header: http.Header{"Accept": {"text/plain", "application/json"}, "Cookie": {"a=1; b=2"}},
			answer: events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: "1158201444", Headers: map[string]string{"Content-Type": "text/plain"}},
			check: func(t *testing.T, ev events.APIGatewayV2HTTPRequest) {
				q := ev.QueryStringParameters
				if q["hub.mode"] != "subscribe" || q["hub.challenge"] != "1158201444" || q["a"] != "1,2" {
					t.Errorf("query %v", q)
				}
				if ev.RawQueryString != "hub.mode=subscribe&hub.verify_token=tok&hub.challenge=1158201444&a=1&a=2" {
					t.Errorf("raw query %q", ev.RawQueryString)
				}
				if ev.Headers["accept"] != "text/plain,application/json" || len(ev.Cookies) != 2 || ev.Body != "" {
					t.Errorf("headers %v cookies %v body %q", ev.Headers, ev.Cookies, ev.Body)
				}
			},
			status: 200, resBody: "1158201444", resType: "text/plain",
		},
		{
			name: "base64 response is decoded; no status means 200 JSON", method: "GET", target: "/",
			answer: events.APIGatewayV2HTTPResponse{Body: base64.StdEncoding.EncodeToString([]byte(`{"ok":true}`)), IsBase64Encoded: true},
			status: 200, resBody: `{"ok":true}`, resType: "application/json",
		},
		{
			name: "function error is a bare 500", method: "POST", target: "/webhook", body: []byte("{}"),
			fail: errors.New("boom"), status: 500, resBody: "{\"message\":\"Internal Server Error\"}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got events.APIGatewayV2HTTPRequest
			gw := &Gateway{Handler: func(_ context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				got = ev
				return tt.answer, tt.fail
			}}
			srv := httptest.NewServer(gw)
			defer srv.Close()
			req, err := http.NewRequest(tt.method, srv.URL+tt.target, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range tt.header {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != tt.status || (tt.resBody != "" && string(body) != tt.resBody) {
				t.Errorf("answer %d %q, want %d %q", res.StatusCode, body, tt.status, tt.resBody)
			}
			if tt.resType != "" && res.Header.Get("Content-Type") != tt.resType {
				t.Errorf("content type %q, want %q", res.Header.Get("Content-Type"), tt.resType)
			}
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}
