package awsjson

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/replywindow/replywindow/shared/reply"
)

var testService = Service{Target: "AmazonSSM", Signing: "ssm", EnvID: "SSM", NotFound: []string{"ParameterNotFound"}}

// serve is a service that answers every request with status and body, counting them.
func serve(t *testing.T, status int, body string) (*Client, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c := NewWith(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")}, testService, func(string) string { return "" })
	c.Backoff = time.Millisecond
	return c, &n
}

// TestCallErrors: a service's not-found code matches reply.ErrNotFound and is not retried, nor
// is a refusal; throttling is retried up to the attempts; every error names the call.
func TestCallErrors(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		notFound bool
		calls    int32
		want     string
	}{
		{"not found", 400, `{"__type":"com.amazonaws.ssm#ParameterNotFound"}`, true, 1, "ssm Get: ParameterNotFound (HTTP 400)"},
		{"refused", 400, `{"__type":"AccessDeniedException","message":"no"}`, false, 1, "ssm Get: AccessDeniedException (HTTP 400): no"},
		{"throttled", 400, `{"__type":"ThrottlingException","message":"Rate exceeded"}`, false, 3, "ssm Get after 3 attempts: ThrottlingException"},
		{"down", 503, `not json`, false, 3, "ssm Get after 3 attempts: Service Unavailable (HTTP 503)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, n := serve(t, tt.status, tt.body)
			err := c.Call(context.Background(), "Get", map[string]string{}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.want) || errors.Is(err, reply.ErrNotFound) != tt.notFound || n.Load() != tt.calls {
				t.Errorf("Call = %v (not found %v) after %d requests; want %q, not found %v, %d requests", err, errors.Is(err, reply.ErrNotFound), n.Load(), tt.want, tt.notFound, tt.calls)
			}
		})
	}
}

// TestCallStopsWithItsContext: a retry waits no longer than the caller's context, and the error
// says both.
func TestCallStopsWithItsContext(t *testing.T) {
	c, n := serve(t, 400, `{"__type":"ThrottlingException","message":"Rate exceeded"}`)
	c.Backoff = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := c.Call(ctx, "Get", map[string]string{}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "ThrottlingException") {
		t.Errorf("error = %v, want the deadline and the last answer", err)
	}
	if n.Load() != 1 {
		t.Errorf("%d requests, want 1", n.Load())
	}
}

func TestEndpoint(t *testing.T) {
	tests := []struct {
		name string
		base string
		env  map[string]string
		reg  string
		want string
	}{
		{name: "regional", reg: "us-east-1", want: "https://ssm.us-east-1.amazonaws.com"},
		{name: "china", reg: "cn-north-1", want: "https://ssm.cn-north-1.amazonaws.com.cn"},
		{name: "the global variable", reg: "us-east-1", env: map[string]string{"AWS_ENDPOINT_URL": "http://moto:5000"}, want: "http://moto:5000"},
		{name: "the service's variable first", reg: "us-east-1",
			env: map[string]string{"AWS_ENDPOINT_URL": "http://all:1", "AWS_ENDPOINT_URL_SSM": "http://ssm:2"}, want: "http://ssm:2"},
		{name: "the config's base endpoint over the global variable", base: "http://cfg:3", reg: "us-east-1",
			env: map[string]string{"AWS_ENDPOINT_URL": "http://all:1"}, want: "http://cfg:3"},
		{name: "variables ignored when told", reg: "us-east-1",
			env: map[string]string{"AWS_ENDPOINT_URL_SSM": "http://ssm:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, want: "https://ssm.us-east-1.amazonaws.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := aws.Config{Region: tt.reg}
			if tt.base != "" {
				cfg.BaseEndpoint = aws.String(tt.base)
			}
			if got := Endpoint(cfg, testService, func(k string) string { return tt.env[k] }); got != tt.want {
				t.Errorf("endpoint = %q, want %q", got, tt.want)
			}
		})
	}
}
