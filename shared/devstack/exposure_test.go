package devstack

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// endpointEnv are the variables that move an AWS client's endpoint.
var endpointEnv = []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_SSM",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_PROFILE", "AWS_DEFAULT_PROFILE"}

// awsConfigFor is the aws.Config `replywindow dev` would load (config.LoadDefaultConfig) with
// env set and every other endpoint variable unset, and sharedConfig as ~/.aws/config.
func awsConfigFor(t *testing.T, env map[string]string, sharedConfig string) *aws.Config {
	t.Helper()
	for _, k := range endpointEnv {
		t.Setenv(k, "") // restored after the test
		if err := os.Unsetenv(k); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config")
	if err := os.WriteFile(cfgFile, []byte(sharedConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfgFile)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_REGION", "eu-west-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	for k, v := range env {
		t.Setenv(k, v)
	}
	c, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return &c
}

// Issue 24, finding 1: `replywindow dev -addr 0.0.0.0` refused only when the DynamoDB endpoint
// was AWS's, so a local DynamoDB with the stack's real queue, moto with a real SQS endpoint, or
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true passed the check, and anyone on the network could
// sign forged deliveries with the committed app secret for real repliers to act on. Every
// client is now judged by the endpoint the SDK will really use, a listen address other than
// loopback needs all of them local, and an AWS queue URL is refused on any address.
func TestDevStackRefusesProduction(t *testing.T) {
	const (
		moto      = "http://127.0.0.1:5000"
		motoQueue = moto + "/000000000000/replywindow-dev-jobs"
		realQueue = "https://sqs.eu-west-1.amazonaws.com/123456789012/replywindow-prod-Jobs-1ABC"
		all       = "0.0.0.0:8080"
		loop      = "127.0.0.1:0"
	)
	tests := []struct {
		name   string
		env    map[string]string
		shared string // ~/.aws/config
		cfg    Config
		want   string // part of the error; "" = allowed
	}{
		// The bypasses the issue lists.
		{"DynamoDB Local with the stack's real queue URL", map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:8000"}, "",
			Config{Addr: all, TableName: "t", QueueURL: realQueue}, "is an AWS queue"},
		{"the real queue URL on loopback too", map[string]string{"AWS_ENDPOINT_URL": moto}, "",
			Config{Addr: loop, QueueURL: realQueue}, "is an AWS queue"},
		{"the real queue URL, spelled otherwise", map[string]string{"AWS_ENDPOINT_URL": moto}, "",
			Config{Addr: loop, QueueURL: "https://SQS.cn-north-1.AmazonAWS.com.cn./1/q"}, "is an AWS queue"},
		{"AWS_ENDPOINT_URL_DYNAMODB local, the queue on AWS's SQS endpoint", map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:8000"}, "",
			Config{Addr: all, TableName: "t", QueueURL: motoQueue}, "SQS on AWS"},
		{"moto with a real SQS endpoint", map[string]string{"AWS_ENDPOINT_URL": moto, "AWS_ENDPOINT_URL_SQS": "https://sqs.eu-west-1.amazonaws.com"}, "",
			Config{Addr: all, TableName: "t", QueueURL: motoQueue}, "SQS at https://sqs.eu-west-1.amazonaws.com"},
		{"moto with a real DynamoDB endpoint", map[string]string{"AWS_ENDPOINT_URL": moto, "AWS_ENDPOINT_URL_DYNAMODB": "https://dynamodb.eu-west-1.amazonaws.com"}, "",
			Config{Addr: all, TableName: "t", QueueURL: motoQueue}, "DynamoDB at https://dynamodb.eu-west-1.amazonaws.com"},
		{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true drops moto's endpoints", map[string]string{"AWS_ENDPOINT_URL": moto, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "",
			Config{Addr: all, TableName: "t", QueueURL: motoQueue}, "DynamoDB on AWS and SQS on AWS"},
		{"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true drops a service's endpoint", map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:8000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "",
			Config{Addr: all, TableName: "t"}, "DynamoDB on AWS"},
		{"a shared config's services section sends DynamoDB to AWS", nil,
			"[default]\nendpoint_url = " + moto + "\nservices = prod\n[services prod]\ndynamodb =\n  endpoint_url = https://dynamodb.eu-west-1.amazonaws.com\n",
			Config{Addr: all, TableName: "t", QueueURL: motoQueue}, "DynamoDB at https://dynamodb.eu-west-1.amazonaws.com"},
		{"no endpoint at all: AWS", nil, "", Config{Addr: all, TableName: "t"}, "DynamoDB on AWS"},
		{"every interface by port alone", nil, "", Config{Addr: ":8080", TableName: "t"}, "loopback address only"},
		{"IPv6 any", nil, "", Config{Addr: "[::]:8080", TableName: "t"}, "loopback address only"},
		{"a LAN address", nil, "", Config{Addr: "192.168.1.20:8080", TableName: "t"}, "loopback address only"},
		{"a real Graph API", nil, "", Config{Addr: all, GraphAPIURL: "https://graph.instagram.com"}, "Graph API at https://graph.instagram.com"},
		// What stays allowed.
		{"embedded, any address", nil, "", Config{Addr: all}, ""},
		{"moto for both, any address", map[string]string{"AWS_ENDPOINT_URL": moto}, "", Config{Addr: all, TableName: "t", QueueURL: motoQueue}, ""},
		{"the shared config's endpoint_url on moto", nil, "[default]\nendpoint_url = " + moto + "\n", Config{Addr: all, TableName: "t", QueueURL: motoQueue}, ""},
		{"DynamoDB Local, memory queue, any address", map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": "http://localhost:8000"}, "", Config{Addr: all, TableName: "t"}, ""},
		{"real table on loopback", nil, "", Config{Addr: loop, TableName: "t"}, ""},
		{"real table on localhost", nil, "", Config{Addr: "localhost:8080", TableName: "t"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			if cfg.TableName != "" || cfg.QueueURL != "" {
				cfg.AWS = awsConfigFor(t, tt.env, tt.shared)
			}
			err := CheckExposure(cfg)
			if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrExposed)) {
				t.Fatalf("CheckExposure: %v, want %q", err, tt.want)
			}
			if tt.want == "" {
				return
			}
			// Start refuses too, before it builds, creates or listens on anything.
			cfg.Create = true
			if s, err := Start(context.Background(), cfg); !errors.Is(err, ErrExposed) {
				if s != nil {
					_ = s.Close()
				}
				t.Fatalf("Start: %v, want %v", err, ErrExposed)
			}
		})
	}
}
