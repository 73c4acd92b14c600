package chaos

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// maxViolations bounds the violations a result lists; the counts still cover all of them.
const maxViolations = 20

// settleGrace is how long after its deadline a record may still turn terminal: the next sweep,
// plus a live lease the sweeper lets finish.
const settleGrace = 2*sweepEvery + lease

func (s *sim) violate(format string, args ...any) {
	if len(s.res.Violations) < maxViolations {
		s.res.Violations = append(s.res.Violations, fmt.Sprintf(format, args...))
	}
}

// check compares what the sandbox delivered with what the store recorded, for every comment:
//   - at most one DM per comment, and per person and media (funnel dedup);
//   - every accepted comment has exactly one record, terminal, and it turned terminal by its
//     deadline;
//   - SENT if and only if the sandbox delivered the DM (but see Result.Ambiguous);
//   - no DM after the comment's real window (7 days, or the broadcast's end);
//   - no DM for the account's own comments or comments no rule matches;
//   - a comment whose DM was delivered is sent again only after an answer that was lost or a
//     fault in between (Meta's one-reply rule then refuses it, as designed);
//   - the counts reconcile: accepted = sent + skipped + expired + failed.
func (s *sim) check(ctx context.Context) error {
	records := map[string][]reply.Record{}
	cursor := ""
	for {
		page, next, err := s.store.Scan(ctx, cursor, 500)
		if err != nil {
			return fmt.Errorf("scan records: %w", err)
		}
		for _, r := range page {
			records[r.CommentID] = append(records[r.CommentID], r)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	dms := map[string][]sandbox.Delivery{}
	funnel := map[string]int{}
	for _, d := range s.sandbox.Deliveries() {
		dms[d.CommentID] = append(dms[d.CommentID], d)
		if c := s.byID[d.CommentID]; c != nil {
			funnel[c.account+"#"+c.media+"#"+c.person]++
		}
	}
	s.res.Comments = len(s.comments)
	s.res.Deliveries = len(s.sandbox.Deliveries())
	s.res.DeadLetter = len(s.queue.DeadLetters())
	for k, n := range funnel {
		if n > 1 {
			s.violate("%d DMs to one person on one media (%s)", n, k)
		}
	}
	terminal := 0
	for _, c := range s.comments {
		got := dms[c.id]
		if len(got) > 1 {
			s.res.Duplicates++
			s.violate("comment %s got %d DMs", c.id, len(got))
		}
		if len(got) > 0 {
			d := got[0]
			window := c.created.Add(reply.Window)
			if c.kind == reply.KindLive {
				window = c.broadcastEnd
			}
			if d.At.After(window) {
				s.res.Late++
				s.violate("comment %s: DM at %s, window closed %s", c.id, d.At.Format(time.RFC3339), window.Format(time.RFC3339))
			}
			if c.own || !c.matches {
				s.violate("comment %s (own %v, matches %v) got a DM", c.id, c.own, c.matches)
			}
			if s.repeats[c.id] > 0 && d.Answered && !s.troubled[c.id] {
				s.violate("comment %s: sent again %d times after a delivery that was answered, with no fault in between", c.id, s.repeats[c.id])
			}
		}
		recs := records[c.id]
		if c.own && len(recs) > 0 {
			s.violate("own comment %s has a record (%s): the webhook should have dropped it", c.id, recs[0].State)
		}
		if !c.accepted {
			continue
		}
		s.res.Accepted++
		if len(recs) != 1 {
			s.res.Lost++
			s.violate("comment %s: %d records, want 1", c.id, len(recs))
			continue
		}
		r := recs[0]
		if !r.State.Terminal() {
			s.res.Lost++
			s.violate("comment %s: left %s (%s, due %s)", c.id, r.State, r.Reason, r.DueAt.Format(time.RFC3339))
			continue
		}
		terminal++
		s.res.Outcomes[string(r.State)]++
		if r.UpdatedAt.After(r.Deadline.Add(settleGrace)) {
			s.violate("comment %s: became %s at %s, deadline %s", c.id, r.State, r.UpdatedAt.Format(time.RFC3339), r.Deadline.Format(time.RFC3339))
		}
		switch {
		case r.State == reply.StateAmbiguous:
			s.res.Ambiguous++ // delivered or not, the record says it cannot tell
		case r.State == reply.StateSent && len(got) == 0 && !c.deleted.IsZero() && r.Reason == "delivered_before":
			s.res.Ambiguous++
		case r.State == reply.StateExpired && len(got) > 0 && r.Attempts > 0:
			s.res.Ambiguous++
		case r.State == reply.StateSent && len(got) == 0:
			s.violate("comment %s: recorded SENT (%s) but never delivered", c.id, r.Reason)
		case r.State != reply.StateSent && len(got) > 0:
			s.violate("comment %s: delivered but recorded %s (%s)", c.id, r.State, r.Reason)
		}
	}
	sum := 0
	for _, st := range reply.TerminalStates {
		sum += s.res.Outcomes[string(st)]
	}
	if sum != s.res.Accepted || terminal != s.res.Accepted {
		s.violate("counts do not reconcile: accepted %d, sent+skipped+expired+failed %d", s.res.Accepted, sum)
	}
	for id := range records {
		if s.byID[id] == nil {
			s.violate("a record for comment %s nobody made", id)
		}
	}
	sort.Strings(s.res.Violations)
	return nil
}
