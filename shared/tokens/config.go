package tokens

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// EnvWithin names how close to expiry tokens are refreshed ("10d", "240h"); unset means
// DefaultWithin.
const EnvWithin = "TOKEN_REFRESH_WITHIN"

// EnvAlarmWithin names how close to its expiry a token that cannot be refreshed is counted
// (TokenExpiring, the stack's token alarm); unset means DefaultAlarmWithin.
const EnvAlarmWithin = "TOKEN_ALARM_WITHIN"

// DefaultAlarmWithin is the template's TokenExpiryAlarmDays default.
const DefaultAlarmWithin = 7 * 24 * time.Hour

// Env lists the environment variables LoadConfig reads.
var Env = []string{EnvWithin, EnvAlarmWithin}

// Config is the refresher's configuration.
type Config struct {
	Within      time.Duration
	AlarmWithin time.Duration
}

// LoadConfig reads the configuration from getenv (os.Getenv in a function).
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{Within: DefaultWithin, AlarmWithin: DefaultAlarmWithin}
	// In Env's order, so the first bad variable is the one named.
	for _, v := range []struct {
		name string
		dst  *time.Duration
	}{{EnvWithin, &c.Within}, {EnvAlarmWithin, &c.AlarmWithin}} {
		if s := getenv(v.name); s != "" {
			d, err := ParseDuration(s)
			if err != nil {
				return Config{}, fmt.Errorf("%s: %w", v.name, err)
			}
			*v.dst = d
		}
	}
	return c, nil
}

// ParseDuration is time.ParseDuration that also takes whole days ("10d"), the unit token
// lifetimes are thought in. It refuses durations that are not positive.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil {
			return 0, fmt.Errorf("duration %q: want e.g. 10d or 240h", s)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("duration %q: want e.g. 10d or 240h", s)
		}
	}
	if d <= 0 {
		return 0, fmt.Errorf("duration %q: must be positive", s)
	}
	return d, nil
}
