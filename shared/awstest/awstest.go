// Package awstest gives tests a real AWS API to talk to: moto server (python3 -m moto.server),
// reached by aws-sdk-go-v2 through AWS_ENDPOINT_URL. `make test` starts one server for the whole
// run and exports AWS_ENDPOINT_URL; a plain `go test` starts one per test binary.
package awstest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
)

var (
	once     sync.Once
	endpoint string
	startErr error
)

// Endpoint is the URL of a running moto server, started on first use when AWS_ENDPOINT_URL is not
// set. The test fails when none can be had: a skipped integration test proves nothing.
func Endpoint(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if e := os.Getenv("AWS_ENDPOINT_URL"); e != "" {
			endpoint = e
			return
		}
		endpoint, startErr = Start()
	})
	if startErr != nil {
		t.Fatalf("moto server: %v", startErr)
	}
	return endpoint
}

// MotoServer is a Python program that serves moto on 127.0.0.1 at the port in argv[1], one request
// at a time. `python3 -m moto.server` is multi-threaded, and then moto's conditional writes are not
// atomic (two conditional puts on one item can both succeed) and responses occasionally lose their
// bodies; the tests of exactly-once behaviour need the real thing to be strict. .ci/with-moto.sh
// runs the same program.
const MotoServer = `import sys
from werkzeug.serving import run_simple
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
run_simple("127.0.0.1", int(sys.argv[1]), DomainDispatcherApplication(create_backend_app), threaded=False)`

// Start runs moto server on a free loopback port and waits until it answers. The server dies
// with the calling process.
func Start() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command("python3", "-c", MotoServer, fmt.Sprint(port))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start python3 -m moto.server: %w", err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return "http://" + addr, nil
		}
	}
	_ = cmd.Process.Kill()
	return "", fmt.Errorf("moto server did not listen on %s within 30s", addr)
}

// Config is an aws.Config for the moto server: fixed region, dummy credentials, its endpoint.
func Config(t testing.TB) aws.Config {
	t.Helper()
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		BaseEndpoint: aws.String(Endpoint(t)),
		HTTPClient:   &http.Client{Transport: cutOffTransport{next: http.DefaultTransport.(*http.Transport).Clone()}},
		// A read whose answer was cut off is retried by the SDK, as it would be against AWS.
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.MaxBackoff = 100 * time.Millisecond
				o.RateLimiter = ratelimit.None
			})
		},
	}
}

// Name is a resource name unique to this test, so tests sharing one server never meet.
func Name(t testing.TB, prefix string) string {
	t.Helper()
	n := strings.NewReplacer("/", "-", "_", "-", " ", "-", "#", "-").Replace(t.Name())
	if len(n) > 40 {
		n = n[len(n)-40:]
	}
	return fmt.Sprintf("%s-%s-%d", prefix, strings.Trim(n, "-"), time.Now().UnixNano()%1e9)
}

// Context is a context that ends with the test.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// Queue creates an SQS queue on moto named for the test and returns its URL.
func Queue(t testing.TB, c *awssqs.Client, prefix string) string {
	t.Helper()
	out, err := c.CreateQueue(Context(t), &awssqs.CreateQueueInput{QueueName: aws.String(Name(t, prefix))})
	if err != nil {
		t.Fatalf("create queue: %v", err)
	}
	return aws.ToString(out.QueueUrl)
}
