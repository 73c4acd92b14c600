package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

func TestLoadConfig(t *testing.T) {
	base := map[string]string{"QUEUE_URL": "http://localhost/q", "APP_SECRETS_PARAMS": "/rw/ig-secret, /rw/fb-secret,", "VERIFY_TOKEN_PARAM": "/rw/verify"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr string // substring naming the variable
	}{
		{name: "defaults", env: base, want: Config{
			QueueURL: "http://localhost/q", AppSecretsParams: []string{"/rw/ig-secret", "/rw/fb-secret"}, VerifyTokenParam: "/rw/verify",
			SecretsTTL: 5 * time.Minute, MaxBodyBytes: 1 << 20, EnqueueConcurrency: 16, AnswerBudget: 4 * time.Second, MaxEventAge: StaleAfter, LogLevel: "info",
		}},
		{name: "everything set", env: with("SECRETS_TTL", "30s", "MAX_BODY_BYTES", "2048", "ENQUEUE_CONCURRENCY", "32", "ANSWER_BUDGET", "2500ms", "MAX_EVENT_AGE", "72h", "LOG_LEVEL", "debug", "TABLE_NAME", "rw"), want: Config{
			QueueURL: "http://localhost/q", AppSecretsParams: []string{"/rw/ig-secret", "/rw/fb-secret"}, VerifyTokenParam: "/rw/verify",
			SecretsTTL: 30 * time.Second, MaxBodyBytes: 2048, EnqueueConcurrency: 32, AnswerBudget: 2500 * time.Millisecond, MaxEventAge: 72 * time.Hour, LogLevel: "debug", TableName: "rw",
		}},
		{name: "plain values stand in for empty parameter names", env: map[string]string{"QUEUE_URL": "q", "APP_SECRETS": "a,b", "VERIFY_TOKEN": "t", "APP_SECRETS_PARAMS": "", "VERIFY_TOKEN_PARAM": ""}, want: Config{
			QueueURL: "q", AppSecrets: []string{"a", "b"}, VerifyToken: "t",
			SecretsTTL: 5 * time.Minute, MaxBodyBytes: 1 << 20, EnqueueConcurrency: 16, AnswerBudget: 4 * time.Second, MaxEventAge: StaleAfter, LogLevel: "info",
		}},
		{name: "parameter names win over plain values", env: with("APP_SECRETS", "plain", "VERIFY_TOKEN", "plain"), want: Config{
			QueueURL: "http://localhost/q", AppSecretsParams: []string{"/rw/ig-secret", "/rw/fb-secret"}, VerifyTokenParam: "/rw/verify",
			SecretsTTL: 5 * time.Minute, MaxBodyBytes: 1 << 20, EnqueueConcurrency: 16, AnswerBudget: 4 * time.Second, MaxEventAge: StaleAfter, LogLevel: "info",
		}},
		{name: "no queue", env: with("QUEUE_URL", ""), wantErr: "QUEUE_URL"},
		{name: "no app secrets", env: with("APP_SECRETS_PARAMS", " , "), wantErr: "APP_SECRETS_PARAMS"},
		{name: "no verify token", env: with("VERIFY_TOKEN_PARAM", ""), wantErr: "VERIFY_TOKEN_PARAM"},
		{name: "verify token of white space", env: with("VERIFY_TOKEN_PARAM", "", "VERIFY_TOKEN", " \t\n"), wantErr: "VERIFY_TOKEN: only white space"},
		{name: "verify token of one space", env: with("VERIFY_TOKEN_PARAM", "", "VERIFY_TOKEN", " "), wantErr: "VERIFY_TOKEN: only white space"},
		{name: "bad ttl", env: with("SECRETS_TTL", "5"), wantErr: "SECRETS_TTL"},
		{name: "negative ttl", env: with("SECRETS_TTL", "-1m"), wantErr: "SECRETS_TTL"},
		{name: "tiny body cap", env: with("MAX_BODY_BYTES", "10"), wantErr: "MAX_BODY_BYTES"},
		{name: "body cap not a number", env: with("MAX_BODY_BYTES", "1MiB"), wantErr: "MAX_BODY_BYTES"},
		{name: "zero concurrency", env: with("ENQUEUE_CONCURRENCY", "0"), wantErr: "ENQUEUE_CONCURRENCY"},
		{name: "answer budget without a unit", env: with("ANSWER_BUDGET", "4"), wantErr: "ANSWER_BUDGET"},
		{name: "answer budget past Meta's 5 s", env: with("ANSWER_BUDGET", "6s"), wantErr: "ANSWER_BUDGET"},
		{name: "event age shorter than Meta retries", env: with("MAX_EVENT_AGE", "36h"), wantErr: "MAX_EVENT_AGE"},
		{name: "event age not a duration", env: with("MAX_EVENT_AGE", "2d"), wantErr: "MAX_EVENT_AGE"},
		{name: "bad log level", env: with("LOG_LEVEL", "verbose"), wantErr: "LOG_LEVEL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadConfig(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("LoadConfig error = %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("LoadConfig:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestEnvListsEveryVariable: every variable LoadConfig reads is in Env (the template test relies
// on Env), and Env holds nothing it does not read.
func TestEnvListsEveryVariable(t *testing.T) {
	read := map[string]bool{}
	_, _ = LoadConfig(func(k string) string { read[k] = true; return "" })
	for _, k := range Env {
		if !read[k] {
			t.Errorf("Env lists %s, which LoadConfig never reads", k)
		}
		delete(read, k)
	}
	for k := range read {
		t.Errorf("LoadConfig reads %s, which Env does not list", k)
	}
}

func TestConfigLogValueHidesSecrets(t *testing.T) {
	var buf bytes.Buffer
	cfg := Config{QueueURL: "q", AppSecrets: []string{"plain-app-secret"}, VerifyToken: "plain-verify-token"}
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", cfg)
	if s := buf.String(); strings.Contains(s, "plain-app-secret") || strings.Contains(s, "plain-verify-token") || !strings.Contains(s, `"plain_app_secrets":1`) {
		t.Errorf("logged config: %s", s)
	}
}

// params is a ParamGetter over a map (the SSM-backed one is tested in shared/ssm and end to end
// in the moto test).
type params map[string]string

func (p params) Get(_ context.Context, name string) (string, error) {
	v, ok := p[name]
	if !ok {
		return "", fmt.Errorf("parameter %s: %w", name, reply.ErrNotFound)
	}
	return v, nil
}

func TestNewSecrets(t *testing.T) {
	store := params{"/ig": "ig-secret", "/fb": "fb-secret", "/token": "tok", "/empty": ""}
	tests := []struct {
		name      string
		cfg       Config
		store     ParamGetter
		apps      []string
		token     string
		appsErr   bool
		tokenErr  bool
		createErr bool
	}{
		{name: "plain", cfg: Config{AppSecrets: []string{"a"}, VerifyToken: "t"}, apps: []string{"a"}, token: "t"},
		{name: "parameters", cfg: Config{AppSecretsParams: []string{"/ig", "/fb"}, VerifyTokenParam: "/token"}, store: store, apps: []string{"ig-secret", "fb-secret"}, token: "tok"},
		{name: "parameter secrets, plain token", cfg: Config{AppSecretsParams: []string{"/ig"}, VerifyToken: "t"}, store: store, apps: []string{"ig-secret"}, token: "t"},
		{name: "a missing secret fails the list", cfg: Config{AppSecretsParams: []string{"/ig", "/gone"}, VerifyTokenParam: "/token"}, store: store, appsErr: true, token: "tok"},
		{name: "an empty secret fails the list", cfg: Config{AppSecretsParams: []string{"/empty"}, VerifyTokenParam: "/gone"}, store: store, appsErr: true, tokenErr: true},
		{name: "parameters without a store", cfg: Config{AppSecretsParams: []string{"/ig"}}, createErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewSecrets(tt.cfg, tt.store)
			if tt.createErr {
				if err == nil {
					t.Fatal("NewSecrets succeeded, want an error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			apps, err := s.AppSecrets(context.Background())
			if (err != nil) != tt.appsErr || (!tt.appsErr && !reflect.DeepEqual(apps, tt.apps)) {
				t.Errorf("AppSecrets = %v, %v; want %v (error %v)", apps, err, tt.apps, tt.appsErr)
			}
			if tt.appsErr && !errors.Is(err, reply.ErrNotFound) && !strings.Contains(fmt.Sprint(err), "empty") {
				t.Errorf("AppSecrets error %v does not say why", err)
			}
			tok, err := s.VerifyToken(context.Background())
			if (err != nil) != tt.tokenErr || tok != tt.token {
				t.Errorf("VerifyToken = %q, %v; want %q (error %v)", tok, err, tt.token, tt.tokenErr)
			}
		})
	}
}
