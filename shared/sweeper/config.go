package sweeper

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Env lists every environment variable the sweeper reads; the template must define each.
var Env = []string{
	"TABLE_NAME",
	"QUEUE_URL",
	"SWEEP_INTERVAL",
	"RETENTION_DAYS",
	"GRAPH_API_URL",
	"GRAPH_API_VERSION",
	"ACCOUNT_TOKENS",
	"TOKEN_KMS_KEY_ID",
	"LOG_LEVEL",
}

// Config is the sweeper's configuration. LoadConfig fills the environment's part; the tuning
// fields keep their defaults in AWS and exist so tests and simulations can tighten them.
type Config struct {
	TableName string
	QueueURL  string
	// Interval is the schedule's period. Releases are sized by it, so it must equal the
	// EventBridge schedule's rate.
	Interval time.Duration
	// RetentionDays is how long terminal records are kept after their deadline; main hands it
	// to the store, which writes the TTL attribute on every terminal write.
	RetentionDays   int
	GraphAPIURL     string // replaces scheme and host of every Graph call when set (sandbox)
	GraphAPIVersion string
	// AccountTokens, when set, stands in for SSM (sam local invoke, the local stack) in the
	// replier's "id=token,..." form; main parses it with memory.ParseTokens, so the two
	// functions read it alike. Never logged.
	AccountTokens string
	// TokenKeyID is the KMS key refreshed tokens are stored with (empty: the aws/ssm key).
	TokenKeyID string
	LogLevel   string

	Margin   time.Duration // the run stops this long before the Lambda deadline
	PageSize int           // records per store.Due page
	Workers  int           // records of a page worked on at once (each is one conditional write)
}

// Defaults.
const (
	DefaultInterval        = time.Minute
	DefaultRetentionDays   = 30
	DefaultGraphAPIVersion = "v24.0"
	DefaultMargin          = 5 * time.Second
	DefaultPageSize        = 500
	DefaultWorkers         = 8
)

// LoadConfig reads the configuration from getenv (os.Getenv in Lambda).
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		TableName:       getenv("TABLE_NAME"),
		QueueURL:        getenv("QUEUE_URL"),
		GraphAPIURL:     strings.TrimRight(getenv("GRAPH_API_URL"), "/"),
		GraphAPIVersion: getenv("GRAPH_API_VERSION"),
		LogLevel:        getenv("LOG_LEVEL"),
		AccountTokens:   getenv("ACCOUNT_TOKENS"),
		TokenKeyID:      getenv("TOKEN_KMS_KEY_ID"),
		Interval:        DefaultInterval,
		RetentionDays:   DefaultRetentionDays,
	}
	if c.TableName == "" {
		return c, fmt.Errorf("TABLE_NAME: required")
	}
	if c.QueueURL == "" {
		return c, fmt.Errorf("QUEUE_URL: required")
	}
	if c.GraphAPIVersion == "" {
		c.GraphAPIVersion = DefaultGraphAPIVersion
	}
	if s := getenv("SWEEP_INTERVAL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Minute {
			// EventBridge schedules run at most once a minute.
			return c, fmt.Errorf("SWEEP_INTERVAL: %q is not a duration of at least 1m", s)
		}
		c.Interval = d
	}
	if s := getenv("RETENTION_DAYS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return c, fmt.Errorf("RETENTION_DAYS: %q is not a positive number of days", s)
		}
		c.RetentionDays = n
	}
	return c.withDefaults(), nil
}

// Retention is RetentionDays as a duration.
func (c Config) Retention() time.Duration { return time.Duration(c.RetentionDays) * 24 * time.Hour }

// withDefaults fills the fields a caller left zero.
func (c Config) withDefaults() Config {
	if c.Interval <= 0 {
		c.Interval = DefaultInterval
	}
	if c.RetentionDays <= 0 {
		c.RetentionDays = DefaultRetentionDays
	}
	if c.GraphAPIVersion == "" {
		c.GraphAPIVersion = DefaultGraphAPIVersion
	}
	if c.Margin <= 0 {
		c.Margin = DefaultMargin
	}
	if c.PageSize <= 0 {
		c.PageSize = DefaultPageSize
	}
	if c.Workers <= 0 {
		c.Workers = DefaultWorkers
	}
	return c
}
