package events

import (
	"fmt"
	"regexp"
	"time"
)

// Env lists the variables LoadConfig reads (the functions that publish: replier and sweeper).
var Env = []string{"EVENT_BUS_NAME", "EVENT_PUT_TIMEOUT"}

// Config says where events go.
type Config struct {
	// BusName is the stack's event bus; empty turns events off (the template's EventsEnabled):
	// no record is marked and nothing is put.
	BusName string
	// PutTimeout bounds the put right after a write (EVENT_PUT_TIMEOUT, default PutTimeout):
	// past it the event is the sweeper's, and may arrive twice if the put did land.
	PutTimeout time.Duration
}

// On reports whether events are published.
func (c Config) On() bool { return c.BusName != "" }

// DrainGrace is how long the sweeper leaves a fresh mark to the function that wrote it: its put
// takes at most PutTimeout, and clocks of two functions differ a little.
const DrainGrace = time.Minute

// DrainLimit is how many records' events one sweep publishes at most.
const DrainLimit = 500

// busName: an EventBridge bus name (the template's is the stack's name and "-events") or ARN;
// the name's 256 characters at most are checked apart (validBusName), since a {1,256} in the
// pattern compiles 256 copies of the class, 2 ms and 180 KB at every cold start.
var busName = regexp.MustCompile(`^(arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus/)?([A-Za-z0-9._/-]+)$`)

// validBusName reports whether s is a bus name or ARN.
func validBusName(s string) bool {
	m := busName.FindStringSubmatch(s)
	return m != nil && len(m[2]) <= 256
}

// LoadConfig reads Env through getenv.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{BusName: getenv("EVENT_BUS_NAME"), PutTimeout: PutTimeout}
	if c.BusName != "" && !validBusName(c.BusName) {
		return Config{}, fmt.Errorf("EVENT_BUS_NAME %q is not an event bus name or ARN", c.BusName)
	}
	if v := getenv("EVENT_PUT_TIMEOUT"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 100*time.Millisecond || d > 20*time.Second {
			return Config{}, fmt.Errorf("EVENT_PUT_TIMEOUT %q: want a duration from 100ms to 20s", v)
		}
		c.PutTimeout = d
	}
	return c, nil
}
