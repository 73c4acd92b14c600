package main

// The operator commands' test harness: a fresh DynamoDB table on moto server (shared/awstest),
// SSM and SQS on the same server, and the Graph sandbox over real HTTP, all reached the way the
// CLI reaches them in production: through the environment (AWS_ENDPOINT_URL, TABLE_NAME,
// GRAPH_API_URL). Every command's output is kept, so the token-leak test can scan all of it.

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/sandbox"
)

type opHarness struct {
	t       *testing.T
	ctx     context.Context
	table   string
	store   *dynamo.Store
	ddb     *awsdynamodb.Client
	ssm     *awsssm.Client
	sb      *sandbox.Sandbox
	cfg     aws.Config
	outputs *bytes.Buffer // every stdout and stderr of every run, for leak scans
}

// opSetup points the CLI at moto and a sandbox through the environment.
func opSetup(t *testing.T) *opHarness {
	t.Helper()
	cfg := awstest.Config(t)
	t.Setenv("AWS_ENDPOINT_URL", awstest.Endpoint(t))
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "testing")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "testing")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", os.DevNull)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", os.DevNull)
	h := &opHarness{t: t, ctx: awstest.Context(t), cfg: cfg, outputs: &bytes.Buffer{}}
	h.table = awstest.Name(t, "rw")
	h.ddb = awsdynamodb.NewFromConfig(cfg)
	if err := dynamo.CreateTable(h.ctx, h.ddb, h.table); err != nil {
		t.Fatalf("create table: %v", err)
	}
	h.store = dynamo.New(h.ddb, h.table)
	h.ssm = awsssm.NewFromConfig(cfg)
	t.Setenv("TABLE_NAME", h.table)
	h.sb = sandbox.New()
	srv := httptest.NewServer(h.sb)
	t.Cleanup(func() { h.sb.Close(); srv.Close() })
	t.Setenv("GRAPH_API_URL", srv.URL)
	for _, v := range []string{"QUEUE_URL", "DLQ_URL", "LOG_LEVEL", "GRAPH_API_VERSION", "TOKEN_REFRESH_WITHIN"} {
		t.Setenv(v, "")
	}
	return h
}

// run runs the CLI as main does and returns its exit code and outputs.
func (h *opHarness) run(args ...string) (int, string, string) {
	h.t.Helper()
	var out, errb bytes.Buffer
	code := run(h.ctx, args, &out, &errb)
	fmt.Fprintf(h.outputs, "$ %s\n%s%s", strings.Join(args, " "), out.String(), errb.String())
	return code, out.String(), errb.String()
}

// runStdin runs the CLI with stdin.
func (h *opHarness) runStdin(stdin string, args ...string) (int, string, string) {
	h.t.Helper()
	old := opStdin
	opStdin = strings.NewReader(stdin)
	defer func() { opStdin = old }()
	return h.run(args...)
}

// must runs the CLI and fails the test unless it exits 0.
func (h *opHarness) must(args ...string) string {
	h.t.Helper()
	code, out, errs := h.run(args...)
	if code != exitOK {
		h.t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

// accountFile writes testdata/accounts/name with {{id}} replaced and returns its path.
func (h *opHarness) accountFile(name, id string) string {
	h.t.Helper()
	b, err := os.ReadFile("testdata/accounts/" + name)
	if err != nil {
		h.t.Fatal(err)
	}
	p := h.t.TempDir() + "/" + name
	if err := os.WriteFile(p, bytes.ReplaceAll(b, []byte("{{id}}"), []byte(id)), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return p
}

// opID is an account id unique to this run, so SSM parameters of tests sharing moto never meet.
func opID(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("1784%011d", time.Now().UnixNano()%1e11)
}

// param is the decrypted value of an SSM parameter.
func (h *opHarness) param(name string) (string, error) {
	out, err := h.ssm.GetParameter(h.ctx, &awsssm.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Parameter.Value), nil
}
