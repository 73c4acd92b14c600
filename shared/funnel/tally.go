// Package funnel counts what each rule earned: per account, rule, variant, media and day, the
// comments matched, the private replies sent, skipped and expired (by reason), the taps, follow
// gates and follow-ups, and the clicks on tracked links. A count is written with the transition
// that causes it (a record's one move to a terminal state, a click's item), so a duplicate
// delivery, a retry or a second instance never counts twice; a report reads the counter items of
// an account's days, never its records.
package funnel

import (
	"strings"
	"time"
)

// DayLayout is how a counter item names its day (UTC).
const DayLayout = "2006-01-02"

// Attributes every counter item carries besides its counts.
const (
	AttrDay     = "n_day"
	AttrRule    = "n_rule"
	AttrVariant = "n_variant"
	AttrMedia   = "n_media"
	// CountPrefix starts the name of every count attribute, so a reader tells counts from the
	// item's other attributes without a list of metrics (new metrics need no schema change).
	CountPrefix = "c_"
)

// Count attribute names (with CountPrefix): a metric, or a metric with its reason or link after
// a colon (c_skipped:no_rule, c_clicks:<link>).
const (
	Matched       = CountPrefix + "matched"
	Sent          = CountPrefix + "sent"
	Skipped       = CountPrefix + "skipped"
	Expired       = CountPrefix + "expired"
	Failed        = CountPrefix + "failed"
	Ambiguous     = CountPrefix + "ambiguous"
	Taps          = CountPrefix + "taps"
	GatesMet      = CountPrefix + "gates_met"
	GatesPassed   = CountPrefix + "gates_passed"
	FollowUps     = CountPrefix + "followups_sent"
	Clicks        = CountPrefix + "clicks"
	UniqueClicks  = CountPrefix + "unique_clicks"
	reasonDivider = ":"
)

// Tally is one counter item and the counts one event adds to it, one each.
type Tally struct {
	Key     string // the item's key: N#<account>#<day>#<rule>#<variant>#<media>, parts escaped
	Account string
	Day     string // DayLayout
	Rule    string
	Variant string
	Media   string
	Add     []string // count attribute names, each incremented by one
}

// NewTally is the counter item of (account, rule, variant, media) on the UTC day of at, with
// nothing to add yet.
func NewTally(account, rule, variant, media string, at time.Time) Tally {
	day := at.UTC().Format(DayLayout)
	t := Tally{Account: account, Day: day, Rule: rule, Variant: variant, Media: media}
	t.Key = KeyPrefix(account) + t.Sort()
	return t
}

// KeyPrefix starts the key of every counter item of account; the day follows it, so the keys
// of a range of days are a range of keys.
func KeyPrefix(account string) string { return "N#" + keyPart(account) + "#" }

// Sort is the item's key after KeyPrefix: days sort first, so a report reads a range of days
// with one Query.
func (t Tally) Sort() string {
	return t.Day + "#" + keyPart(t.Rule) + "#" + keyPart(t.Variant) + "#" + keyPart(t.Media)
}

// With is t adding one to each of names as well.
func (t Tally) With(names ...string) Tally {
	t.Add = append(append([]string(nil), t.Add...), names...)
	return t
}

// WithReason names a count split by reason: c_skipped:no_rule.
func WithReason(metric, reason string) string {
	if reason == "" {
		return metric
	}
	return metric + reasonDivider + reason
}

// Click is one of the two counter items a click on a tracked link adds to (link is the link's
// code or name, never its target): every click adds c_clicks and c_clicks:<link> to the all-clicks
// item; the person's first click on the link (unique) adds c_unique_clicks and
// c_unique_clicks:<link> to the unique-clicks item. Both are counter items of (account, rule,
// variant, media, day) under KeyPrefix, listed and read with the rest, each its own item per
// link and kind so that a click's two writes, sent at once, never contend for one item.
func Click(account, rule, variant, media, link string, day time.Time, unique bool) Tally {
	t := NewTally(account, rule, variant, media, day)
	kind, metric := "k", Clicks
	if unique {
		kind, metric = "ku", UniqueClicks
	}
	t.Key += "#" + kind + "#" + keyPart(link)
	return t.With(metric, WithReason(metric, link))
}

// keyPart keeps a name from forging key structure (as reply's step keys do).
var keyEscaper = strings.NewReplacer("%", "%25", "#", "%23")

func keyPart(s string) string {
	if !strings.ContainsAny(s, "%#") {
		return s
	}
	return keyEscaper.Replace(s)
}
