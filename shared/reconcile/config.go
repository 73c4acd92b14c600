package reconcile

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// Environment variables LoadConfig reads (the sweeper function's, in the template).
const (
	EnvEvery        = "RECONCILE_EVERY"          // how often each account's media are listed ("5m")
	EnvReadsPerHour = "RECONCILE_READS_PER_HOUR" // the read budget per account
	// EnvAppIDs is the Meta app ids replywindow runs as (comma-separated, the replier's too): the
	// subscription check counts only their entries in Meta's list of the account's apps.
	EnvAppIDs = "META_APP_IDS"
)

// Env lists the environment variables LoadConfig reads.
var Env = []string{EnvEvery, EnvReadsPerHour, EnvAppIDs}

// Defaults.
const (
	// DefaultEvery lists each account's media every five minutes: a comment without a webhook is
	// found minutes after it was made, for about 12 reads an hour when nothing moves.
	DefaultEvery = 5 * time.Minute
	// DefaultLiveEvery reads a broadcast's comments every minute (the sweeper's period): a Live
	// comment's window is the broadcast, and its rate lane sends 100 a second.
	DefaultLiveEvery = time.Minute
	// DefaultGrace leaves comments younger than this for their webhook, which Meta sends within
	// seconds: reading them would count as "found without a webhook" what is still on its way.
	DefaultGrace = 2 * time.Minute
	// DefaultRevisit reads each media whole this often: a count net of deletions can hide a reply
	// under an older comment, and Meta may list a comment late. Six hours keeps a comment so found
	// well inside its 7-day window for a page of reads per 50 comments a quarter of a day.
	DefaultRevisit = 6 * time.Hour
	// DefaultSubscriptionEvery checks the app's subscription daily; DefaultSubscriptionSoon at
	// most hourly once comments turned up without a webhook (the first sign of an unsubscription).
	DefaultSubscriptionEvery = 24 * time.Hour
	DefaultSubscriptionSoon  = time.Hour
	// DefaultUsageHigh is the share of Meta's allowance (usage headers) at which reads hold back:
	// below the replier's 90%, because the same allowance carries the account's replies.
	DefaultUsageHigh = 75
	// DefaultThrottleWait is how long reads wait after Meta throttled them without saying.
	DefaultThrottleWait = 15 * time.Minute
	// DefaultMinLeft stops a pass this long before the invocation's deadline.
	DefaultMinLeft = 3 * time.Second
)

// DefaultReadLimit bounds each account's Graph reads: 200 an hour is a twenty-fourth of the
// sandbox's model of Meta's smallest allowance (4800 an hour), and four times what a quiet account
// needs (media every 5 minutes, live_media, a page per moved media), leaving room for a viral post.
var DefaultReadLimit = reply.Limit{Count: 200, Period: time.Hour, Burst: 200 / 15}

// Config tunes reconciliation. LoadConfig fills Every and ReadLimit; the rest keep their defaults
// in AWS and exist so tests and simulations can tighten them.
type Config struct {
	Every             time.Duration
	LiveEvery         time.Duration
	Grace             time.Duration
	Revisit           time.Duration
	SubscriptionEvery time.Duration
	SubscriptionSoon  time.Duration
	ReadLimit         reply.Limit
	UsageHigh         int
	ThrottleWait      time.Duration
	MinLeft           time.Duration
	// AppIDs are our Meta app ids (META_APP_IDS): the subscription check reads only their
	// entries of GET subscribed_apps, since Meta lists every app on the account. Without them
	// each entry is judged alone, and another app's complete subscription could pass for ours.
	AppIDs []string
}

// LoadConfig reads the configuration from getenv (os.Getenv in Lambda).
func LoadConfig(getenv func(string) string) (Config, error) {
	var c Config
	if s := getenv(EnvEvery); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < time.Minute {
			return c, fmt.Errorf("%s: %q is not a duration of at least 1m", EnvEvery, s)
		}
		c.Every = d
	}
	if s := getenv(EnvReadsPerHour); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return c, fmt.Errorf("%s: %q is not a positive number", EnvReadsPerHour, s)
		}
		c.ReadLimit = reply.Limit{Count: n, Period: time.Hour, Burst: max(1, n/15)}
	}
	if s := getenv(EnvAppIDs); s != "" {
		for _, id := range strings.Split(s, ",") {
			id = strings.TrimSpace(id)
			if !reply.ValidID(id) {
				return c, fmt.Errorf("%s: %q is not a comma-separated list of app ids (digits)", EnvAppIDs, s)
			}
			c.AppIDs = append(c.AppIDs, id)
		}
	}
	return c.withDefaults(), nil
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.Every, DefaultEvery)
	def(&c.LiveEvery, DefaultLiveEvery)
	def(&c.Grace, DefaultGrace)
	def(&c.Revisit, DefaultRevisit)
	def(&c.SubscriptionEvery, DefaultSubscriptionEvery)
	def(&c.SubscriptionSoon, DefaultSubscriptionSoon)
	def(&c.ThrottleWait, DefaultThrottleWait)
	def(&c.MinLeft, DefaultMinLeft)
	if c.ReadLimit.Validate() != nil {
		c.ReadLimit = DefaultReadLimit
	}
	if c.UsageHigh <= 0 {
		c.UsageHigh = DefaultUsageHigh
	}
	return c
}
