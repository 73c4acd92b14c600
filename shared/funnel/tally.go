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

// Attributes every counter item carries besides its counts, and the index a report queries
// (one partition per account, sorted by day, rule, variant, media).
const (
	AttrAccount = "n_account" // S: hash key of the counts index
	AttrSort    = "n_sort"    // S: range key of the counts index (Tally.Sort)
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
	t.Key = "N#" + keyPart(account) + "#" + t.Sort()
	return t
}

// Sort is the item's range key in the counts index: days sort first, so a report reads a
// range of days with one Query.
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

// Click is the counter item and counts of one click on a tracked link (link is the link's code
// or name, never its target): every click adds to c_clicks and c_clicks:<link>, the person's
// first click on that link (unique) to c_unique_clicks and c_unique_clicks:<link> as well.
// The writer adds them in the same write that records the click, so a replayed click that
// writes nothing counts nothing.
func Click(account, rule, variant, media, link string, day time.Time, unique bool) Tally {
	t := NewTally(account, rule, variant, media, day).With(Clicks, WithReason(Clicks, link))
	if unique {
		t = t.With(UniqueClicks, WithReason(UniqueClicks, link))
	}
	return t
}

// keyPart keeps a name from forging key structure (as reply's step keys do).
var keyEscaper = strings.NewReplacer("%", "%25", "#", "%23")

func keyPart(s string) string {
	if !strings.ContainsAny(s, "%#") {
		return s
	}
	return keyEscaper.Replace(s)
}
