package links

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Env lists every environment variable the links function reads.
var Env = []string{"TABLE_NAME", "LINKS_SECRET_PARAM", "LINKS_SECRET", "SECRETS_TTL", "CLICK_BUDGET", "LINK_MAX_AGE", "LOG_LEVEL",
	"EVENT_BUS_NAME"}

// TrackerEnv lists the variables a sending function (the replier) reads to track links.
// LINK_BASE_URL empty turns tracking off in that function, whatever the accounts say.
var TrackerEnv = []string{"LINK_BASE_URL", "LINKS_SECRET_PARAM", "LINKS_SECRET", "LINK_MAX_AGE"}

// Defaults of the optional variables.
const (
	// DefaultBudget bounds the click's write before the redirect: a DynamoDB write takes a few
	// milliseconds; a table that does not answer in this long is down for the person.
	DefaultBudget     = 300 * time.Millisecond
	DefaultMaxAge     = 365 * 24 * time.Hour
	DefaultSecretsTTL = 5 * time.Minute
)

// Config is the links function's configuration.
type Config struct {
	TableName   string
	SecretParam string // SSM SecureString holding the links secret (32 bytes or more)
	Secret      string // local stand-in, used only when SecretParam is empty
	SecretsTTL  time.Duration
	Budget      time.Duration
	MaxAge      time.Duration
	LogLevel    string
	// Events: the stack publishes funnel events (EVENT_BUS_NAME set, the template's
	// EventsEnabled), so a first click's guard is marked for its LinkClicked event. The route
	// itself never calls the bus: the sweeper's drain publishes the event.
	Events bool
}

// LoadConfig reads the links function's configuration; errors name the variable, never a secret.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		TableName:   strings.TrimSpace(getenv("TABLE_NAME")),
		SecretParam: strings.TrimSpace(getenv("LINKS_SECRET_PARAM")),
		SecretsTTL:  DefaultSecretsTTL,
		Budget:      DefaultBudget,
		MaxAge:      DefaultMaxAge,
		LogLevel:    "info",
		Events:      strings.TrimSpace(getenv("EVENT_BUS_NAME")) != "",
	}
	var errs []error
	if c.TableName == "" {
		errs = append(errs, errors.New("TABLE_NAME: required"))
	}
	if c.SecretParam == "" {
		c.Secret = getenv("LINKS_SECRET")
		if c.Secret == "" {
			errs = append(errs, errors.New("LINKS_SECRET_PARAM: required (or LINKS_SECRET for local runs)"))
		} else if len(c.Secret) < 32 {
			errs = append(errs, fmt.Errorf("LINKS_SECRET: %d bytes, want at least 32 (openssl rand -hex 32)", len(c.Secret)))
		}
	}
	errs = append(errs, duration(getenv, "SECRETS_TTL", &c.SecretsTTL), duration(getenv, "CLICK_BUDGET", &c.Budget),
		duration(getenv, "LINK_MAX_AGE", &c.MaxAge))
	if s := strings.TrimSpace(getenv("LOG_LEVEL")); s != "" {
		c.LogLevel = s
	}
	return c, errors.Join(errs...)
}

// TrackerConfig is what a sending function needs to track links.
type TrackerConfig struct {
	BaseURL     string // the stack's API endpoint, e.g. https://abc.execute-api.eu-west-1.amazonaws.com
	SecretParam string
	Secret      string
	MaxAge      time.Duration
}

// Enabled reports whether links are tracked at all.
func (c TrackerConfig) Enabled() bool { return c.BaseURL != "" }

// LoadTrackerConfig reads TrackerEnv.
func LoadTrackerConfig(getenv func(string) string) (TrackerConfig, error) {
	c := TrackerConfig{
		BaseURL:     strings.TrimRight(strings.TrimSpace(getenv("LINK_BASE_URL")), "/"),
		SecretParam: strings.TrimSpace(getenv("LINKS_SECRET_PARAM")),
		MaxAge:      DefaultMaxAge,
	}
	err := duration(getenv, "LINK_MAX_AGE", &c.MaxAge)
	if c.BaseURL == "" {
		return c, err
	}
	if u, perr := url.Parse(c.BaseURL); perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" {
		err = errors.Join(err, fmt.Errorf("LINK_BASE_URL: %q is not an http(s) URL without a query", c.BaseURL))
	}
	if c.SecretParam == "" {
		c.Secret = getenv("LINKS_SECRET")
		if len(c.Secret) < 32 {
			err = errors.Join(err, errors.New("LINKS_SECRET_PARAM: required with LINK_BASE_URL (or LINKS_SECRET of 32 bytes or more for local runs)"))
		}
	}
	return c, err
}

func duration(getenv func(string) string, name string, into *time.Duration) error {
	s := strings.TrimSpace(getenv(name))
	if s == "" {
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("%s: %q is not a positive duration", name, s)
	}
	*into = d
	return nil
}

// ParamGetter reads an SSM parameter (shared/ssm's Params, cached with a TTL).
type ParamGetter interface {
	Get(ctx context.Context, name string) (string, error)
}

// SecretKeys is Keys from a secret: fixed (local runs) or an SSM parameter read through a
// cache; the Sealer is derived again only when the secret's value changes (a rotation).
type SecretKeys struct {
	Params ParamGetter // nil: Secret is used
	Param  string
	Secret string
	MaxAge time.Duration

	mu     sync.Mutex
	secret string
	sealer *Sealer
}

// Sealer is the Sealer of the current secret.
func (k *SecretKeys) Sealer(ctx context.Context) (*Sealer, error) {
	secret := k.Secret
	if k.Params != nil && k.Param != "" {
		v, err := k.Params.Get(ctx, k.Param)
		if err != nil {
			return nil, fmt.Errorf("links secret %s: %w", k.Param, err)
		}
		secret = v
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.sealer != nil && secret == k.secret {
		return k.sealer, nil
	}
	s, err := NewSealer(secret, k.MaxAge)
	if err != nil {
		return nil, err
	}
	k.secret, k.sealer = secret, s
	return s, nil
}

// LogValue is the configuration as logged: never the secret, only whether one is set.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(slog.String("table", c.TableName), slog.String("secret_param", c.SecretParam),
		slog.Bool("local_secret", c.Secret != ""), slog.Duration("secrets_ttl", c.SecretsTTL),
		slog.Duration("budget", c.Budget), slog.Duration("max_age", c.MaxAge), slog.String("log_level", c.LogLevel))
}
