package awsenv

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func TestConfig(t *testing.T) {
	lambda := map[string]string{
		"AWS_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_SESSION_TOKEN": "token",
	}
	with := func(extra map[string]string, drop ...string) map[string]string {
		m := map[string]string{}
		for k, v := range lambda {
			m[k] = v
		}
		for _, k := range drop {
			delete(m, k)
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name      string
		env       map[string]string
		region    string
		base      string // "" for none
		creds     aws.Credentials
		wantErr   string
		dynamoURL string // the endpoint the DynamoDB client resolves its base endpoint to ("" for AWS's)
	}{
		{name: "what Lambda sets", env: lambda, region: "eu-central-1",
			creds: aws.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "token", Source: "EnvConfigCredentials"}},
		{name: "the default region when AWS_REGION is not set", env: with(map[string]string{"AWS_DEFAULT_REGION": "us-west-2"}, "AWS_REGION"),
			region: "us-west-2", creds: aws.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "token", Source: "EnvConfigCredentials"}},
		{name: "moto: one endpoint for everything", env: with(map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"}), region: "eu-central-1",
			base: "http://127.0.0.1:5000", dynamoURL: "http://127.0.0.1:5000",
			creds: aws.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "token", Source: "EnvConfigCredentials"}},
		{name: "a service's own endpoint wins", env: with(map[string]string{"AWS_ENDPOINT_URL": "http://all:1", "AWS_ENDPOINT_URL_DYNAMODB": "http://ddb:2"}),
			region: "eu-central-1", base: "http://all:1", dynamoURL: "http://ddb:2",
			creds: aws.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "token", Source: "EnvConfigCredentials"}},
		{name: "configured endpoints ignored when told",
			env:    with(map[string]string{"AWS_ENDPOINT_URL": "http://all:1", "AWS_ENDPOINT_URL_DYNAMODB": "http://ddb:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}),
			region: "eu-central-1", creds: aws.Credentials{AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "secret", SessionToken: "token", Source: "EnvConfigCredentials"}},
		{name: "no region", env: with(nil, "AWS_REGION"), wantErr: "no region"},
		{name: "no credentials", env: with(nil, "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"), wantErr: "no credentials"},
		{name: "half the credentials", env: with(nil, "AWS_SECRET_ACCESS_KEY"), wantErr: "must be set together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Config(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Config error = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Region != tt.region {
				t.Errorf("region %q, want %q", cfg.Region, tt.region)
			}
			if got := aws.ToString(cfg.BaseEndpoint); got != tt.base {
				t.Errorf("base endpoint %q, want %q", got, tt.base)
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil || creds != tt.creds {
				t.Errorf("credentials %+v, %v; want %+v", creds, err, tt.creds)
			}
			// The service client reads AWS_ENDPOINT_URL* itself too (os.LookupEnv), so the process
			// environment must say the same as getenv.
			for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"} {
				if v, ok := tt.env[k]; ok {
					t.Setenv(k, v)
				} else {
					t.Setenv(k, "")
					os.Unsetenv(k)
				}
			}
			if got := aws.ToString(dynamodb.NewFromConfig(cfg).Options().BaseEndpoint); got != tt.dynamoURL {
				t.Errorf("DynamoDB base endpoint %q, want %q", got, tt.dynamoURL)
			}
		})
	}
}

// TestContainerCredentials covers the credentials endpoint (Lambda SnapStart's and ECS's way),
// with the authorization token read from its file at each fetch.
func TestContainerCredentials(t *testing.T) {
	var gotAuth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"AccessKeyId":"AKIDC","SecretAccessKey":"s","Token":"t","Expiration":%q}`,
			time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	}))
	defer srv.Close()
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("file-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		env      map[string]string
		wantAuth string
	}{
		{"a token in the environment", map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN": "env-token"}, "env-token"},
		{"a token in a file", map[string]string{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": tokenFile}, "file-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotAuth = nil
			env := map[string]string{"AWS_REGION": "us-east-1", "AWS_CONTAINER_CREDENTIALS_FULL_URI": srv.URL + "/creds"}
			for k, v := range tt.env {
				env[k] = v
			}
			cfg, err := Config(func(k string) string { return env[k] })
			if err != nil {
				t.Fatal(err)
			}
			creds, err := cfg.Credentials.Retrieve(context.Background())
			if err != nil || creds.AccessKeyID != "AKIDC" || creds.SessionToken != "t" {
				t.Fatalf("credentials %+v, %v", creds, err)
			}
			if len(gotAuth) != 1 || gotAuth[0] != tt.wantAuth {
				t.Errorf("Authorization headers %q, want [%q]", gotAuth, tt.wantAuth)
			}
		})
	}
}
