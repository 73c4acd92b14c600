package chaos

import (
	"context"
	"encoding/json"
	"errors"
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

// check compares what the sandbox delivered with what the store recorded, for every comment. It
// proves the promises from the sandbox's ledger and the records alone, so it holds with Meta's
// one-reply rule switched off too:
//   - (a) no private-reply call after the comment was recorded SENT (a second DM only as the
//     retry of a send whose outcome never reached the record, counted in Repeats);
//   - (b) at most one DM per person and media (funnel dedup; not for accounts allowing repeats);
//   - (c) every accepted comment has exactly one record, terminal, and it turned terminal by its
//     deadline; SENT if and only if the sandbox delivered the DM (but see Result.Ambiguous); and
//     so has every comment whose webhook never came, unless Meta does not list it (Unfindable);
//   - (d) after a person's data deletion finished, no record names them for a comment made
//     before it, and no DM goes out for such a comment;
//   - (e) no DM after the comment's real window (7 days, or the broadcast's end);
//   - no dead letter for a comment that is not done;
//   - no DM for the account's own comments or comments no rule matches;
//   - the counts reconcile: accepted + found = sent + skipped + expired + failed + ambiguous;
//   - and the conversations' promises (f) to (i), checkConversations;
//   - (n) the funnel counts equal what the records say (checkCounts).
func (s *sim) check(ctx context.Context) error {
	records := map[string][]reply.Record{}
	cursor := ""
	for {
		page, next, err := s.store.Scan(ctx, cursor, 500)
		if err != nil {
			return fmt.Errorf("scan records: %w", err)
		}
		for _, r := range page {
			if r.Job.FollowUp != nil {
				continue // read by key below
			}
			records[r.CommentID] = append(records[r.CommentID], r)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	dms := map[string][]sandbox.Delivery{}
	funnel := map[string]map[string]bool{}
	for _, d := range s.sandbox.Deliveries() {
		dms[d.CommentID] = append(dms[d.CommentID], d)
		if c := s.byID[d.CommentID]; c != nil && !s.repeating[c.account] {
			k := c.account + "#" + c.media + "#" + c.person
			if funnel[k] == nil {
				funnel[k] = map[string]bool{}
			}
			funnel[k][c.id] = true
		}
	}
	s.res.Comments = len(s.comments)
	s.res.Deliveries = len(s.sandbox.Deliveries())
	dead := s.queue.DeadLetters()
	s.res.DeadLetter = len(dead)
	deadEvents := map[string]bool{}
	for _, m := range dead {
		// Whatever fails is parked for the sweeper, so a dead letter may only be a copy of a job
		// whose comment is done (a duplicate that kept landing in crashed invocations); one whose
		// comment is not is a comment the product stopped owning.
		var j reply.Job
		if err := json.Unmarshal([]byte(m.Body), &j); err != nil {
			s.violate("dead letter %s: %v", m.MessageId, err)
			continue
		}
		switch {
		case j.Event != nil:
			// A messaging event given up: checkConversations holds its tap to its promise.
			deadEvents[j.Event.MID] = true
			continue
		case j.FollowUp != nil:
			continue // its record is held to be terminal with the others
		}
		if recs := records[j.CommentID]; len(recs) == 0 || !recs[0].State.Terminal() {
			s.violate("dead letter %s: comment %s has no terminal record", m.MessageId, j.CommentID)
		}
	}
	for k, cs := range funnel {
		if len(cs) > 1 {
			s.violate("%d comments of one person on one media got DMs (%s)", len(cs), k)
		}
	}
	terminal := 0
	for _, c := range s.comments {
		got, recs := dms[c.id], records[c.id]
		s.checkDMs(c, got)
		if c.own && len(recs) > 0 {
			s.violate("own comment %s has a record (%s): the webhook should have dropped it", c.id, recs[0].State)
		}
		// A tombstone covers what Meta may still deliver of comments made before it.
		if gone, ok := s.forgets(c); ok {
			s.checkForgotten(c, gone, got, recs)
			continue
		}
		dropped := !c.own && !s.sandbox.Notifies(c.id)
		switch {
		case dropped && len(recs) == 0 && (c.kind == reply.KindAd || !c.deleted.IsZero()):
			s.res.Dropped++
			s.res.Unfindable++ // Meta lists no ad comment, nor one deleted before a pass read it
			continue
		case dropped:
			s.res.Dropped++
			if len(recs) > 0 {
				s.res.Found++
			}
		case !c.accepted:
			continue
		default:
			s.res.Accepted++
		}
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
		// A late notification's deadline is known only from Meta's timestamp, which a failing
		// lookup may withhold past it: such a record closes when it is learned, and only the
		// ledger's (e) says whether a DM was late.
		lateNotice := c.created.Before(s.start)
		if r.UpdatedAt.After(r.Deadline.Add(settleGrace)) && !lateNotice {
			s.violate("comment %s: became %s at %s, deadline %s", c.id, r.State, r.UpdatedAt.Format(time.RFC3339), r.Deadline.Format(time.RFC3339))
		}
		if dropped {
			s.res.ToFind = append(s.res.ToFind, r.CreatedAt.Sub(c.created))
			if r.State == reply.StateSent && len(got) > 0 {
				s.res.ToReply = append(s.res.ToReply, got[0].At.Sub(c.created))
			}
		}
		switch {
		case r.State == reply.StateAmbiguous:
			s.res.Ambiguous++ // delivered or not, the record says it cannot tell
		case r.State == reply.StateSent && len(got) == 0 && !c.deleted.IsZero() && r.Reason == "delivered_before":
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
	if want := s.res.Accepted + s.res.Found; sum != want || terminal != want {
		s.violate("counts do not reconcile: accepted %d + found %d, terminal records %d", s.res.Accepted, s.res.Found, sum)
	}
	for id := range records {
		if s.byID[id] == nil {
			s.violate("a record for comment %s nobody made", id)
		}
	}
	followUps, err := s.followUps(ctx)
	if err != nil {
		return err
	}
	if err := s.checkConversations(ctx, followUps, deadEvents); err != nil {
		return err
	}
	if err := s.checkCounts(ctx, records, followUps); err != nil {
		return err
	}
	sort.Strings(s.res.Violations)
	return nil
}

// forgets reports whether a data deletion covers the comment (one made before it, not the
// account's own), and when the deletion finished.
func (s *sim) forgets(c *comment) (time.Time, bool) {
	gone, ok := s.forgotten[c.person]
	return gone, ok && !c.created.After(gone.Add(reply.DeliveryHorizon)) && !c.own
}

// checkDMs holds one comment's DMs to the promises (a) and (e) and the rules.
func (s *sim) checkDMs(c *comment, got []sandbox.Delivery) {
	if len(got) == 0 {
		return
	}
	// Once the comment's record said SENT, nothing may call Meta for it again; before that, a
	// second DM can only be the retry of a send whose outcome never reached the record.
	for i, d := range got {
		if at, ok := s.sentAt[c.id]; ok && d.At.After(at) {
			s.res.Duplicates++
			s.violate("comment %s: DM %d of %d at %s, after the record said SENT at %s", c.id, i+1, len(got),
				d.At.Format(time.RFC3339), at.Format(time.RFC3339))
			break
		}
	}
	if len(got) > 1 {
		s.res.Repeats++
	}
	window := c.created.Add(reply.Window)
	if c.kind == reply.KindLive {
		window = c.broadcastEnd
	}
	for _, d := range got {
		if d.At.After(window) {
			s.res.Late++
			s.violate("comment %s: DM at %s, window closed %s", c.id, d.At.Format(time.RFC3339), window.Format(time.RFC3339))
		}
	}
	if c.own || !(c.matches || c.maybe) {
		s.violate("comment %s (own %v, matches %v) got a DM", c.id, c.own, c.matches)
	}
	if s.repeats[c.id] > 0 && got[0].Answered && !s.troubled[c.id] {
		s.violate("comment %s: sent again %d times after a delivery that was answered, with no fault in between", c.id, s.repeats[c.id])
	}
}

// checkForgotten holds a comment made before its person's data deletion to promise (d).
func (s *sim) checkForgotten(c *comment, gone time.Time, got []sandbox.Delivery, recs []reply.Record) {
	s.res.Forgotten++
	for _, r := range recs {
		if r.Job.FromID == c.person || r.Job.FromUsername == c.username {
			s.violate("comment %s: a %s record names %s after their data deletion", c.id, r.State, c.person)
		}
	}
	for _, d := range got {
		// A comment delivered without `from` and never looked up (an account allowing repeats
		// needs no funnel) cannot be tied to the person: it is the one exception.
		if d.At.After(gone) && !s.fromless[c.id] {
			s.violate("comment %s: DM at %s after %s's data deletion at %s", c.id, d.At.Format(time.RFC3339), c.person, gone.Format(time.RFC3339))
		}
	}
}

// followUps is every follow-up record a claim stored, in key order (read by key: a DynamoDB
// Scan lists comments' records only).
func (s *sim) followUps(ctx context.Context) ([]reply.Record, error) {
	keys := make([]string, 0, len(s.followUpKeys))
	for k := range s.followUpKeys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var followUps []reply.Record
	for _, k := range keys {
		r, err := s.store.Get(ctx, k)
		switch {
		case errors.Is(err, reply.ErrNotFound):
			continue // the claim never landed
		case err != nil:
			return nil, fmt.Errorf("follow-up %s: %w", k, err)
		}
		followUps = append(followUps, r)
	}
	return followUps, nil
}
