package ssm

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/replywindow/replywindow/shared/reply"
)

// answer is one canned HTTP answer of a fake SSM.
type answer struct {
	status int
	header map[string]string
	body   string
}

// fakeSSM answers requests in turn with answers (the last one repeated) and keeps them.
type fakeSSM struct {
	mu      sync.Mutex
	answers []answer
	reqs    []*http.Request
	bodies  []map[string]any
}

func (f *fakeSSM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs, f.bodies = append(f.reqs, r), append(f.bodies, body)
	a := f.answers[min(n, len(f.answers)-1)]
	f.mu.Unlock()
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	_, _ = io.WriteString(w, a.body)
}

func testClient(t *testing.T, answers ...answer) (*Client, *fakeSSM) {
	t.Helper()
	f := &fakeSSM{answers: answers}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c := newClient(aws.Config{
		Region:       "eu-west-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "session-token"),
		BaseEndpoint: aws.String(srv.URL),
	}, func(string) string { return "" })
	c.json.Backoff = time.Millisecond
	return c, f
}

var (
	notFound  = answer{400, nil, `{"__type":"ParameterNotFound","message":""}`}
	throttled = answer{400, nil, `{"__type":"ThrottlingException","message":"Rate exceeded"}`}
	denied    = answer{400, map[string]string{"X-Amzn-ErrorType": "AccessDeniedException:http://internal.amazon.com/"}, `{"message":"not authorized to perform ssm:GetParameter"}`}
	down      = answer{503, nil, `not json`}
	value     = answer{200, nil, `{"Parameter":{"Name":"/p","Type":"SecureString","Value":"s3cr3t","Version":3}}`}
)

func TestClientGetParameter(t *testing.T) {
	tests := []struct {
		name     string
		answers  []answer
		want     string
		wantErr  []string // substrings of the error
		notFound bool
		calls    int
	}{
		{name: "a value", answers: []answer{value}, want: "s3cr3t", calls: 1},
		{name: "not found is reply.ErrNotFound, not retried", answers: []answer{notFound}, notFound: true, calls: 1},
		{name: "not found with a namespaced type", answers: []answer{{400, nil, `{"__type":"com.amazonaws.ssm#ParameterNotFound"}`}}, notFound: true, calls: 1},
		{name: "throttling is retried", answers: []answer{throttled, throttled, value}, want: "s3cr3t", calls: 3},
		{name: "a 5xx is retried", answers: []answer{down, value}, want: "s3cr3t", calls: 2},
		{name: "throttling past the attempts is an error", answers: []answer{throttled}, wantErr: []string{"GetParameter after 3 attempts", "ThrottlingException", "Rate exceeded"}, calls: 3},
		{name: "access denied is not retried; the code comes from the header", answers: []answer{denied}, wantErr: []string{"ssm GetParameter: AccessDeniedException (HTTP 400)", "not authorized"}, calls: 1},
		{name: "an answer without a value", answers: []answer{{200, nil, `{"Parameter":{"Name":"/p"}}`}}, wantErr: []string{"no value"}, calls: 1},
		{name: "an answer that is not JSON", answers: []answer{{200, nil, `<html>`}}, wantErr: []string{"decode the answer"}, calls: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := testClient(t, tt.answers...)
			got, err := c.GetParameter(context.Background(), "/replywindow/secret")
			switch {
			case tt.notFound:
				if !errors.Is(err, reply.ErrNotFound) {
					t.Errorf("error = %v, want reply.ErrNotFound", err)
				}
			case tt.wantErr != nil:
				if err == nil {
					t.Fatalf("GetParameter = %q, want an error", got)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q lacks %q", err, s)
					}
				}
				if errors.Is(err, reply.ErrNotFound) {
					t.Errorf("error %q matches ErrNotFound", err)
				}
			case err != nil || got != tt.want:
				t.Errorf("GetParameter = %q, %v; want %q", got, err, tt.want)
			}
			if len(f.reqs) != tt.calls {
				t.Errorf("%d requests, want %d", len(f.reqs), tt.calls)
			}
		})
	}
}

// TestClientRequests checks the wire format of each operation: SSM's JSON protocol, its target
// header and a SigV4 signature over them for the client's region and the service "ssm".
func TestClientRequests(t *testing.T) {
	tests := []struct {
		name   string
		call   func(*Client) error
		target string
		body   map[string]any
	}{
		{"get decrypts", func(c *Client) error { _, err := c.GetParameter(context.Background(), "/a"); return err },
			"AmazonSSM.GetParameter", map[string]any{"Name": "/a", "WithDecryption": true}},
		{"put overwrites a SecureString", func(c *Client) error { return c.PutParameter(context.Background(), "/a", "v", "") },
			"AmazonSSM.PutParameter", map[string]any{"Name": "/a", "Value": "v", "Type": "SecureString", "Overwrite": true}},
		{"put names the key when given", func(c *Client) error { return c.PutParameter(context.Background(), "/a", "v", "alias/rw") },
			"AmazonSSM.PutParameter", map[string]any{"Name": "/a", "Value": "v", "Type": "SecureString", "Overwrite": true, "KeyId": "alias/rw"}},
		{"delete", func(c *Client) error { return c.DeleteParameter(context.Background(), "/a") },
			"AmazonSSM.DeleteParameter", map[string]any{"Name": "/a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f := testClient(t, value)
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			r := f.reqs[0]
			if r.Method != http.MethodPost || r.URL.Path != "/" {
				t.Errorf("%s %s, want POST /", r.Method, r.URL.Path)
			}
			for h, want := range map[string]string{
				"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": tt.target, "X-Amz-Security-Token": "session-token",
			} {
				if got := r.Header.Get(h); got != want {
					t.Errorf("%s = %q, want %q", h, got, want)
				}
			}
			auth := r.Header.Get("Authorization")
			if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/ssm/aws4_request") ||
				!strings.Contains(auth, "x-amz-target") {
				t.Errorf("Authorization = %q, want SigV4 for eu-west-1/ssm over X-Amz-Target", auth)
			}
			got, _ := json.Marshal(f.bodies[0])
			want, _ := json.Marshal(tt.body)
			if string(got) != string(want) {
				t.Errorf("body %s, want %s", got, want)
			}
		})
	}
}

func TestClientDeleteNotFound(t *testing.T) {
	c, _ := testClient(t, notFound)
	if err := c.DeleteParameter(context.Background(), "/gone"); !errors.Is(err, reply.ErrNotFound) {
		t.Errorf("DeleteParameter = %v, want reply.ErrNotFound", err)
	}
}
