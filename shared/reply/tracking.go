package reply

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Tracking says whether the links an account or a rule sends go out through the stack's click
// route (GET /l/{code}), which counts the click and redirects to the link. A rule's setting wins
// over the account's, a link's (Links, by its URL) over both: tracking is on per account, per
// rule or per link.
type Tracking struct {
	Enabled *bool           `json:"enabled,omitempty"` // nil: as the account (off when unset there)
	Links   map[string]bool `json:"links,omitempty"`   // per link (its URL as written): on or off
	// UTM (rules only) is added to the query of every link the rule's messages send, tracked or
	// not: utm_source, utm_medium, utm_campaign, utm_term, utm_content.
	UTM map[string]string `json:"utm,omitempty"`
}

// utmKeys are the parameters Tracking.UTM may set (Google Analytics' five).
var utmKeys = map[string]bool{"utm_source": true, "utm_medium": true, "utm_campaign": true, "utm_term": true, "utm_content": true}

// Origin is what a tracked link remembers of the message that carried it: the click is counted
// under it.
type Origin struct {
	Account string
	Rule    string // the comment rule or DM rule
	Variant string // "" until the rule has variants
	Media   string // the funnel's media ("" for a conversation's messages)
	Person  string // the recipient (IGSID or commenter id)
}

// Linker turns the links of a message about to be sent into tracked ones (and adds the rule's
// UTM parameters). It never fails the send: a link it cannot track goes out as written, and the
// Linker says so in its own logs and metrics.
type Linker interface {
	Track(ctx context.Context, a Account, o Origin, m Message) Message
}

// Tracks reports whether a link to target sent by rule (a comment or DM rule's name) is tracked.
func (a Account) Tracks(rule, target string) bool {
	on := false
	var rt *Tracking
	for _, r := range a.Rules {
		if r.Name == rule {
			rt = r.Tracking
			break
		}
	}
	if t := a.Tracking; t != nil {
		if t.Enabled != nil {
			on = *t.Enabled
		}
	}
	if rt != nil && rt.Enabled != nil {
		on = *rt.Enabled
	}
	if t := a.Tracking; t != nil {
		if v, ok := t.Links[target]; ok {
			on = v
		}
	}
	if rt != nil {
		if v, ok := rt.Links[target]; ok {
			on = v
		}
	}
	return on
}

// UTM is the UTM parameters rule adds to its links (nil when none).
func (a Account) UTM(rule string) map[string]string {
	for _, r := range a.Rules {
		if r.Name == rule && r.Tracking != nil {
			return r.Tracking.UTM
		}
	}
	return nil
}

// WithUTM is target with the parameters added to its query (an existing one of the same name is
// replaced), in a fixed order so that the same link always reads the same.
func WithUTM(target string, utm map[string]string) (string, error) {
	if len(utm) == 0 {
		return target, nil
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", fmt.Errorf("link %q: %w", target, err)
	}
	q := u.Query()
	keys := make([]string, 0, len(utm))
	for k := range utm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		q.Set(k, utm[k])
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// HTTPLink reports whether s is an absolute http(s) URL with a host: the only links the click
// route redirects to.
func HTTPLink(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// validateTracking checks the account's and every rule's tracking: links that are http(s), UTM
// names Google knows, and every button link that would be tracked an http(s) URL. Errors name
// the field.
func (a Account) validateTracking() error {
	if err := a.Tracking.validate(false); err != nil {
		return fmt.Errorf("tracking.%w", err)
	}
	for i, r := range a.Rules {
		if err := r.Tracking.validate(true); err != nil {
			return fmt.Errorf("rules[%d] %q: tracking.%w", i, r.Name, err)
		}
		check := func(field string, b Button) error {
			if b.Type == ButtonURL && a.Tracks(r.Name, b.URL) && !HTTPLink(b.URL) {
				return fmt.Errorf("rules[%d] %q: %s.url: tracked link %q is not an http(s) URL", i, r.Name, field, b.URL)
			}
			return nil
		}
		for j, b := range r.Buttons {
			if err := check(fmt.Sprintf("buttons[%d]", j), b); err != nil {
				return err
			}
		}
		for s, step := range r.Flow {
			for k, m := range step.Messages {
				for j, b := range m.Buttons {
					if err := check(fmt.Sprintf("flow[%d].messages[%d].buttons[%d]", s, k, j), b); err != nil {
						return err
					}
				}
			}
		}
	}
	for i, r := range a.DMRules {
		for k, m := range r.Messages {
			for j, b := range m.Buttons {
				if b.Type == ButtonURL && a.Tracks(r.Name, b.URL) && !HTTPLink(b.URL) {
					return fmt.Errorf("dm_rules[%d] %q: messages[%d].buttons[%d].url: tracked link %q is not an http(s) URL", i, r.Name, k, j, b.URL)
				}
			}
		}
	}
	return nil
}

func (t *Tracking) validate(rule bool) error {
	if t == nil {
		return nil
	}
	for link, on := range t.Links {
		if on && !HTTPLink(link) {
			return fmt.Errorf("links: tracked link %q is not an http(s) URL", link)
		}
	}
	if len(t.UTM) > 0 && !rule {
		return fmt.Errorf("utm: set it on a rule, not the account")
	}
	for k, v := range t.UTM {
		if !utmKeys[k] {
			return fmt.Errorf("utm: %q is not one of utm_source, utm_medium, utm_campaign, utm_term, utm_content", k)
		}
		if strings.TrimSpace(v) == "" {
			return fmt.Errorf("utm.%s: empty", k)
		}
	}
	return nil
}

// Click is one person's click on a tracked link, as the click route counts it.
type Click struct {
	Origin Origin
	Link   string    // the link's id in counters (a hash of Target)
	Target string    // the URL, kept on the counter for reports
	At     time.Time // when; its UTC day is the counter's
	Issued time.Time // when the link was sent: a tombstone at or after it forbids the guard
	Until  time.Time // the guard is kept until then (the link's last day): stores may drop it after
	// Events: a first click's guard is written with the outbox mark of its LinkClicked event
	// (shared/events) and what the event names (MarkedClick), kept only until the event is out.
	Events bool
}

// MarkedClick is a first click whose LinkClicked event may not be on the bus yet: what its
// guard (Key, ClickGuardKey) keeps for the event until the outbox's drain cleared it. Stores
// read it with an error wrapping ErrForgotten when a tombstone covers its person or account
// since: the drain then clears it unpublished.
type MarkedClick struct {
	Key      string
	Origin   Origin // the person included
	Link     string
	At       time.Time
	EventsAt time.Time // the mark: zero once the event is out
}

// ClickCounts is one counter: clicks on a link, per account, rule, variant, media and day.
type ClickCounts struct {
	Origin Origin // Person is empty
	Link   string
	Target string
	Day    string // 2006-01-02, UTC
	All    int64  // every click by a person
	Unique int64  // first clicks of each person on the link (counted on its first day)
}

// Clicks is the store of click counts. RecordClick counts c in All, and in Unique when c is the
// person's first click on the link: once, however many clicks race (a conditional write), and
// never for a person or account with a tombstone (first reports whether it was counted unique).
// The first click is also the person's click record of the link (ClickGuardKey, read as
// Clicked), written behind the same tombstone checks.
type Clicks interface {
	RecordClick(ctx context.Context, c Click) (first bool, err error)
	// ClickCounts is the counters of an account's link on a day (tests, reports).
	ClickCounts(ctx context.Context, o Origin, link string, day time.Time) (ClickCounts, error)
}

// ClickDay is the counter day of t.
func ClickDay(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// ClickGuardKey is the person's click record of a link on the account: their first click on it
// (so the link's unique-click guard for them), and personal data that both deletions remove.
// The person and the link lead, so that a person's records are one key prefix.
func ClickGuardKey(account, person, link string) string {
	return ClickPersonPrefix(account, person) + link
}

// ClickPersonPrefix starts the keys of the person's click records on the account ("" person:
// every record of the account).
func ClickPersonPrefix(account, person string) string {
	if person == "" {
		return "KV#" + account + "#"
	}
	return "KV#" + account + "#" + person + "#"
}
