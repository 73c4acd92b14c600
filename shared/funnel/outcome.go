package funnel

import (
	"context"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// NoRule is the rule part of the counter item of comments no rule answered (skipped no_rule,
// own comments, unknown accounts): they are counted too, so a report shows what was missed.
const NoRule = "-"

// Outcome is what a record's write adds to the funnel counts, when that write is the record's
// one move into a terminal state (the domain never moves a terminal record again, and stores
// write only on the version they were given, so it is written once however many workers,
// retries and duplicates try). ok is false for any other write.
//
// A private reply's record counts the comment as matched (when a rule answered it) and its end
// by state and reason; a follow-up's counts a follow-up sent, the person's tap that started the
// turn, and the follow gate met (the gate's message went out) or passed (the gated step's did).
func Outcome(rec reply.Record) (Tally, bool) {
	if !rec.State.Terminal() {
		return Tally{}, false
	}
	at := rec.UpdatedAt
	if f := rec.Job.FollowUp; f != nil {
		t := NewTally(rec.AccountID, f.Rule, f.Variant, "", at)
		if f.Tap && f.Index == 0 {
			t = t.With(Taps)
		}
		if rec.State == reply.StateSent && !f.Notice {
			t = t.With(FollowUps)
			switch {
			case f.Gate && f.Index == 0:
				t = t.With(GatesMet)
			case f.Gated && !f.Gate && firstOfStep(f):
				t = t.With(GatesPassed)
			}
		}
		return t, len(t.Add) > 0
	}
	rule := rec.Rule
	if rule == "" {
		rule = NoRule
	}
	t := NewTally(rec.AccountID, rule, rec.Variant, rec.Job.FunnelMedia(), at)
	if rec.Rule != "" {
		t = t.With(Matched)
	}
	switch rec.State {
	case reply.StateSent:
		t = t.With(Sent)
	case reply.StateSkipped:
		t = t.With(Skipped, WithReason(Skipped, rec.Reason))
	case reply.StateExpired:
		t = t.With(Expired, WithReason(Expired, rec.Reason))
	case reply.StateFailed:
		t = t.With(Failed, WithReason(Failed, rec.Reason))
	case reply.StateAmbiguous:
		t = t.With(Ambiguous, WithReason(Ambiguous, rec.Reason))
	}
	return t, true
}

// firstOfStep: the step's first message (after the disclosure notice, when one went first).
func firstOfStep(f *reply.FollowUp) bool {
	return f.Index == 0 || f.Index == 1 && f.NoticeFirst
}

// Row is one counter item as read: the counts of (account, day, rule, variant, media).
type Row struct {
	Account string           `json:"account"`
	Day     string           `json:"day"`
	Rule    string           `json:"rule"`
	Variant string           `json:"variant,omitempty"`
	Media   string           `json:"media,omitempty"`
	Counts  map[string]int64 `json:"counts"` // by count attribute name, CountPrefix removed
}

// Reader reads counter items.
type Reader interface {
	// Counts is every counter item of the account for the UTC days from `from` to `to`
	// (inclusive), ordered by day, rule, variant and media. It reads those items only: a month
	// of a busy account is a few pages of one query, never its records.
	Counts(ctx context.Context, account string, from, to time.Time) ([]Row, error)
}
