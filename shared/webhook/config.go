package webhook

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Env lists every environment variable the webhook function reads.
var Env = []string{
	"QUEUE_URL",
	"APP_SECRETS_PARAMS",
	"VERIFY_TOKEN_PARAM",
	"APP_SECRETS",
	"VERIFY_TOKEN",
	"SECRETS_TTL",
	"MAX_BODY_BYTES",
	"ENQUEUE_CONCURRENCY",
	"ANSWER_BUDGET",
	"MAX_EVENT_AGE",
	"LOG_LEVEL",
	// TABLE_NAME is read only for the data-deletion routes mounted in the same function
	// (shared/deletion); empty leaves them unmounted.
	"TABLE_NAME",
}

// Defaults of the optional variables.
const (
	DefaultSecretsTTL   = 5 * time.Minute
	DefaultMaxBodyBytes = 1 << 20
	// DefaultEnqueueConcurrency is SendMessageBatch calls in flight per delivery: 1000 changes are
	// 100 batches, seven rounds of 20 ms at 16.
	DefaultEnqueueConcurrency = 16
	// DefaultAnswerBudget is how long a delivery may take before it is answered 500: inside
	// Meta's 5 s, and far inside the function's timeout.
	DefaultAnswerBudget = 4 * time.Second
	// MaxAnswerBudget bounds ANSWER_BUDGET: past 5 s Meta may count the delivery as failed anyway.
	MaxAnswerBudget = 5 * time.Second
	DefaultLogLevel = "info"
)

// Config is the webhook's configuration. Secrets come from SSM (the *Params names) in AWS; the
// plain AppSecrets and VerifyToken stand in for them in local runs and tests.
type Config struct {
	QueueURL           string
	AppSecretsParams   []string // SSM SecureString names, one app secret each
	VerifyTokenParam   string   // SSM SecureString name of the verify token
	AppSecrets         []string // used only when AppSecretsParams is empty
	VerifyToken        string   // used only when VerifyTokenParam is empty
	SecretsTTL         time.Duration
	MaxBodyBytes       int
	EnqueueConcurrency int
	AnswerBudget       time.Duration // a delivery not enqueued by then is answered 500
	// MaxEventAge is how old an event may be and still be enqueued (Delivery.DropStale): at
	// least StaleAfter, which New also uses for zero. Only a local run of the fixed, signed
	// sample events in events/ needs it longer.
	MaxEventAge time.Duration
	LogLevel    string
	TableName   string // the data-deletion routes' table; "" leaves them out
}

// LoadConfig reads the configuration from getenv (os.Getenv in the function). Errors name the
// variable and what is wrong with it, never a secret's value.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		QueueURL:           strings.TrimSpace(getenv("QUEUE_URL")),
		AppSecretsParams:   list(getenv("APP_SECRETS_PARAMS")),
		VerifyTokenParam:   strings.TrimSpace(getenv("VERIFY_TOKEN_PARAM")),
		SecretsTTL:         DefaultSecretsTTL,
		MaxBodyBytes:       DefaultMaxBodyBytes,
		EnqueueConcurrency: DefaultEnqueueConcurrency,
		AnswerBudget:       DefaultAnswerBudget,
		MaxEventAge:        StaleAfter,
		LogLevel:           DefaultLogLevel,
		TableName:          strings.TrimSpace(getenv("TABLE_NAME")),
	}
	var errs []error
	if c.QueueURL == "" {
		errs = append(errs, errors.New("QUEUE_URL: required"))
	}
	if len(c.AppSecretsParams) == 0 {
		c.AppSecrets = list(getenv("APP_SECRETS"))
		if len(c.AppSecrets) == 0 {
			errs = append(errs, errors.New("APP_SECRETS_PARAMS: required (or APP_SECRETS for local runs)"))
		}
	}
	if c.VerifyTokenParam == "" {
		c.VerifyToken = getenv("VERIFY_TOKEN")
		switch {
		case c.VerifyToken == "":
			errs = append(errs, errors.New("VERIFY_TOKEN_PARAM: required (or VERIFY_TOKEN for local runs)"))
		case strings.TrimSpace(c.VerifyToken) == "":
			// Meta's dashboard would take it, and anyone could guess it.
			errs = append(errs, errors.New("VERIFY_TOKEN: only white space; use a random token (openssl rand -hex 24)"))
		}
	}
	if s := getenv("SECRETS_TTL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("SECRETS_TTL: %q is not a positive duration (e.g. 5m)", s))
		}
		c.SecretsTTL = d
	}
	if s := getenv("MAX_BODY_BYTES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1024 {
			errs = append(errs, fmt.Errorf("MAX_BODY_BYTES: %q is not a number of bytes of at least 1024", s))
		}
		c.MaxBodyBytes = n
	}
	if s := getenv("ENQUEUE_CONCURRENCY"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			errs = append(errs, fmt.Errorf("ENQUEUE_CONCURRENCY: %q is not a number from 1 to 100", s))
		}
		c.EnqueueConcurrency = n
	}
	if s := getenv("ANSWER_BUDGET"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 || d > MaxAnswerBudget {
			errs = append(errs, fmt.Errorf("ANSWER_BUDGET: %q is not a duration above 0 and at most %s (e.g. 4s)", s, MaxAnswerBudget))
		}
		c.AnswerBudget = d
	}
	if s := getenv("MAX_EVENT_AGE"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < StaleAfter {
			// Shorter would drop Meta's own retries of a delivery that failed.
			errs = append(errs, fmt.Errorf("MAX_EVENT_AGE: %q is not a duration of at least %s (Meta retries for 36 h)", s, StaleAfter))
		}
		c.MaxEventAge = d
	}
	if s := getenv("LOG_LEVEL"); s != "" {
		var l slog.Level
		if err := l.UnmarshalText([]byte(s)); err != nil {
			errs = append(errs, fmt.Errorf("LOG_LEVEL: %q, want debug, info, warn or error", s))
		}
		c.LogLevel = s
	}
	if err := errors.Join(errs...); err != nil {
		return Config{}, fmt.Errorf("webhook config: %w", err)
	}
	return c, nil
}

// LogValue shows the configuration without the plain secret values.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("queue_url", c.QueueURL),
		slog.Any("app_secrets_params", c.AppSecretsParams),
		slog.String("verify_token_param", c.VerifyTokenParam),
		slog.Int("plain_app_secrets", len(c.AppSecrets)),
		slog.Bool("plain_verify_token", c.VerifyToken != ""),
		slog.Duration("secrets_ttl", c.SecretsTTL),
		slog.Int("max_body_bytes", c.MaxBodyBytes),
		slog.Int("enqueue_concurrency", c.EnqueueConcurrency),
		slog.Duration("answer_budget", c.AnswerBudget),
		slog.Duration("max_event_age", c.MaxEventAge),
		slog.String("log_level", c.LogLevel),
		slog.String("table_name", c.TableName),
	)
}

// list splits a comma-separated value, dropping blanks.
func list(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
