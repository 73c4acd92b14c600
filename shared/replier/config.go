package replier

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
)

// Env lists every environment variable the replier reads; the template must define each.
var Env = []string{
	"TABLE_NAME",
	"GRAPH_API_URL",
	"GRAPH_API_VERSION",
	"ACCOUNT_CACHE_TTL",
	"LOG_LEVEL",
	"ACCOUNT_TOKENS",
	"RETENTION_DAYS",
	"UNCERTAIN_ATTEMPTS",
	"UNCERTAIN_PERIOD",
	"META_APP_IDS",
}

// Config is the replier's configuration. LoadConfig fills the environment's part; the tuning
// fields keep their defaults in AWS and exist so tests and simulations can tighten them.
type Config struct {
	TableName       string
	GraphAPIURL     string // replaces scheme and host of every Graph call when set (sandbox)
	GraphAPIVersion string
	AccountCacheTTL time.Duration // zero: DefaultAccountCacheTTL; negative: no caching
	LogLevel        string
	// AccountTokens, when set, stands in for SSM (sam local invoke, the local stack): account id
	// to access token. Never logged.
	AccountTokens map[string]string
	// RetentionDays is how long terminal records are kept after their deadline. The replier
	// writes most terminal records, so it must hand the store the same TTL as the sweeper.
	RetentionDays int
	// UncertainAttempts and UncertainPeriod bound the retries of a send that may have been
	// delivered: Meta may answer a second private reply with code 1 or 2 rather than 2534025, so
	// unbounded retries could spend a week of the account's rate on one answered comment. The
	// attempts are spread over the period; past either bound the record ends AMBIGUOUS.
	UncertainAttempts int
	UncertainPeriod   time.Duration
	// AppIDs are the Meta app ids replywindow sends as (META_APP_IDS, comma-separated): an
	// echo from another app, or from none, is a person on the account answering, and pauses
	// automation in that conversation.
	AppIDs []string

	LeaseMargin      time.Duration // lease ends this long before the Lambda deadline
	DefaultLease     time.Duration // lease length when the context has no deadline
	LiveCacheTTL     time.Duration // how long an account's live broadcasts are believed
	UnhealthyRecheck time.Duration // how long a job of an unhealthy account is parked
	Concurrency      int           // jobs of one batch processed at once
}

// Defaults of the tuning fields.
const (
	DefaultGraphAPIVersion   = "v24.0"
	DefaultAccountCacheTTL   = time.Minute
	DefaultLeaseMargin       = 3 * time.Second
	DefaultLease             = time.Minute
	DefaultLiveCacheTTL      = 3 * time.Second
	DefaultUnhealthyRecheck  = 5 * time.Minute
	DefaultConcurrency       = 4
	DefaultRetentionDays     = 30
	DefaultUncertainAttempts = 5
	DefaultUncertainPeriod   = time.Hour
)

// LoadConfig reads the configuration from getenv (os.Getenv in Lambda).
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		TableName:       getenv("TABLE_NAME"),
		GraphAPIURL:     strings.TrimRight(getenv("GRAPH_API_URL"), "/"),
		GraphAPIVersion: getenv("GRAPH_API_VERSION"),
		LogLevel:        getenv("LOG_LEVEL"),
		AccountCacheTTL: DefaultAccountCacheTTL,
		RetentionDays:   DefaultRetentionDays,
	}
	if c.TableName == "" {
		return c, fmt.Errorf("TABLE_NAME: required")
	}
	if c.GraphAPIVersion == "" {
		c.GraphAPIVersion = DefaultGraphAPIVersion
	}
	if s := getenv("ACCOUNT_CACHE_TTL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 {
			return c, fmt.Errorf("ACCOUNT_CACHE_TTL: %q is not a non-negative duration", s)
		}
		if d == 0 {
			d = -1 // "0" asks for no caching (local runs editing accounts); the zero field means default
		}
		c.AccountCacheTTL = d
	}
	if s := getenv("RETENTION_DAYS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return c, fmt.Errorf("RETENTION_DAYS: %q is not a positive number of days", s)
		}
		c.RetentionDays = n
	}
	if s := getenv("META_APP_IDS"); s != "" {
		for _, id := range strings.Split(s, ",") {
			id = strings.TrimSpace(id)
			if !reply.ValidID(id) {
				return c, fmt.Errorf("META_APP_IDS: %q is not a comma-separated list of app ids (digits)", s)
			}
			c.AppIDs = append(c.AppIDs, id)
		}
	}
	if s := getenv("UNCERTAIN_ATTEMPTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 20 {
			return c, fmt.Errorf("UNCERTAIN_ATTEMPTS: %q is not a number of attempts from 1 to 20", s)
		}
		c.UncertainAttempts = n
	}
	if s := getenv("UNCERTAIN_PERIOD"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Minute || d > reply.Window {
			return c, fmt.Errorf("UNCERTAIN_PERIOD: %q is not a duration from 1m to 168h", s)
		}
		c.UncertainPeriod = d
	}
	if s := getenv("ACCOUNT_TOKENS"); s != "" {
		toks, err := memory.ParseTokens(s)
		if err != nil {
			return c, fmt.Errorf("ACCOUNT_TOKENS: %w", err)
		}
		c.AccountTokens = toks
	}
	return c, nil
}

// Retention is RetentionDays as a duration (DefaultRetentionDays when unset).
func (c Config) Retention() time.Duration {
	if c.RetentionDays <= 0 {
		return DefaultRetentionDays * 24 * time.Hour
	}
	return time.Duration(c.RetentionDays) * 24 * time.Hour
}

// withDefaults fills the tuning fields a caller left zero.
func (c Config) withDefaults() Config {
	if c.GraphAPIVersion == "" {
		c.GraphAPIVersion = DefaultGraphAPIVersion
	}
	if c.AccountCacheTTL == 0 {
		c.AccountCacheTTL = DefaultAccountCacheTTL
	}
	if c.LeaseMargin <= 0 {
		c.LeaseMargin = DefaultLeaseMargin
	}
	if c.DefaultLease <= 0 {
		c.DefaultLease = DefaultLease
	}
	if c.LiveCacheTTL <= 0 {
		c.LiveCacheTTL = DefaultLiveCacheTTL
	}
	if c.UnhealthyRecheck <= 0 {
		c.UnhealthyRecheck = DefaultUnhealthyRecheck
	}
	if c.UncertainAttempts <= 0 {
		c.UncertainAttempts = DefaultUncertainAttempts
	}
	if c.UncertainPeriod <= 0 {
		c.UncertainPeriod = DefaultUncertainPeriod
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	return c
}
