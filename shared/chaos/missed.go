package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reconcile"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// Webhooks that never come: Meta drops some for good, and in some seeds it unsubscribes the app
// for a while, so every comment made meanwhile has none. Reconciliation (the sweeper's chore)
// must find each of them while its window is open, and the checker holds them to the same
// promises as the comments the webhook brought.

// Faults of the missed webhooks, keys of Result.Faults.
const (
	FaultWebhookDropped  = "webhook_never_sent"
	FaultAppUnsubscribed = "app_unsubscribed"
	FaultReadFailed      = "graph_read_5xx"
)

// newReconciler is the sweeper's reconcile chore as main wires it, on the sweeper invocation's
// store, queue and fate. The cursors live in the store under test when it keeps them (DynamoDB).
func (s *sim) newReconciler(inv *invocation) *reconcile.Reconciler {
	st := &faultyStore{Store: s.store, s: s, inv: inv, role: "sweeper"}
	store := struct {
		*faultyStore
		reply.Cursors
	}{st, s.cursors}
	return reconcile.New(reconcile.Config{AppIDs: []string{sandbox.DefaultAppID}}, store, &faultyQueue{q: s.queue, s: s, inv: inv}, s.client, outageTokens{s.tokens, s}, s.clock, nil, s.log)
}

// cursorsOf is where the reconciler keeps its cursors: in the store under test when it can.
func cursorsOf(st reply.Store) reply.Cursors {
	if c, ok := st.(reply.Cursors); ok {
		return c
	}
	return &memory.Cursors{}
}

// reconcile runs the chore after a sweep that did not die, and keeps its figures.
func (s *sim) reconcile(ctx context.Context, inv *invocation) {
	if s.cfg.Sabotage.NoReconcile || inv.dead() {
		return
	}
	// A failed pass is no violation by itself (Meta and SSM fail here on purpose); the checker
	// sees what it left undone.
	rep, _ := s.newReconciler(inv).Run(ctx)
	s.res.Reads += rep.Calls
	s.res.Reconciled += rep.Reconciled
	s.res.Resubscribed += rep.Resubscribed
	s.reconcileDue = time.Time{}
	for _, a := range s.accounts {
		c, err := s.cursors.Cursor(ctx, a.ID)
		if err != nil || c.Version == 0 {
			return // unknown: the next sweep runs it
		}
		due := c.NextPass
		if len(c.Live) > 0 && c.NextLive.Before(due) {
			due = c.NextLive
		}
		if s.reconcileDue.IsZero() || due.Before(s.reconcileDue) {
			s.reconcileDue = due
		}
	}
}

// withoutWebhook decides, as comments are made, which ones Meta never notifies: a share of the
// organic comments made once the watch began (ads are not listed by Meta, so no reconciler can
// find them; comments from before the account was connected are backfill's).
func (s *sim) withoutWebhook(c *comment) bool {
	if c.own || c.kind == reply.KindAd || c.created.Before(s.start) || !s.dice.roll(s.cfg.Rates.DroppedWebhooks) {
		return false
	}
	s.fault(FaultWebhookDropped, "") // not a fault of the comment's processing: no repeat send excused
	return true
}

// unsubscribe puts Meta's unsubscription of the app on the timeline in some seeds: nobody
// restores it but the reconciler's subscription check.
func (s *sim) unsubscribe() {
	if !s.dice.roll(s.cfg.Rates.Unsubscribed) {
		return
	}
	at := s.start.Add(s.dice.duration(15*time.Minute, 75*time.Minute)).Truncate(time.Second)
	s.timeline = append(s.timeline, event{at: at, name: "Meta unsubscribes the app", do: func() {
		s.fault(FaultAppUnsubscribed, "")
		s.sandbox.UnsubscribeApp("")
	}})
}

// readFault is Meta's trouble with reconciliation's reads.
func (s *sim) readFault(c sandbox.Call) sandbox.Fault {
	switch c.Op {
	case sandbox.OpMedia, sandbox.OpComments, sandbox.OpSubscribed:
		if s.dice.roll(s.cfg.Rates.Graph5xx) {
			s.fault(FaultReadFailed, "")
			return sandbox.ServerError(503)
		}
	}
	return sandbox.Fault{}
}

// findable reports whether reconciliation can still find c, a comment Meta never notified:
// Meta lists it (not an ad, not deleted by the person before a pass could read it), it has no
// record yet, and no data deletion forbids one.
func (s *sim) findable(ctx context.Context, c *comment) (bool, error) {
	if c.own || c.kind == reply.KindAd || s.found[c.id] || s.sandbox.Notifies(c.id) {
		return false, nil
	}
	if _, gone := s.forgets(c); gone {
		return false, nil
	}
	now := s.clock.Now()
	if !c.deleted.IsZero() && !c.deleted.After(now) {
		return false, nil
	}
	if now.After(s.findBy(c)) {
		return false, nil // not found in time: the checker says so
	}
	_, err := s.store.ByComment(ctx, c.id)
	switch {
	case err == nil:
		s.found[c.id] = true
		return false, nil
	case !errors.Is(err, reply.ErrNotFound):
		return false, err
	}
	return true, nil
}

// findBy is how long the run waits for reconciliation to find c: a pass every few minutes and a
// whole read of its media every Revisit find any comment Meta lists well before; a broadcast's
// comment is found by the reads just after the broadcast ends, or never.
func (s *sim) findBy(c *comment) time.Time {
	if c.kind == reply.KindLive {
		return c.broadcastEnd.Add(10 * time.Minute)
	}
	return c.created.Add(2*reconcile.DefaultRevisit + time.Hour)
}

// miss notes that Meta never notified c, a comment the webhook would have brought now.
func (s *sim) miss(c *comment) {
	if !s.watched[c.id] {
		s.watched[c.id] = true
		s.watch = append(s.watch, c)
	}
}

// unfound reports whether some comment without a webhook is still to be found: the sweeper (and
// its reconcile chore) must keep running until none is. Comments found, or past finding, leave
// the watch list.
func (s *sim) unfound(ctx context.Context) (bool, error) {
	if s.cfg.Sabotage.NoReconcile {
		return false, nil
	}
	kept := s.watch[:0]
	var err error
	for _, c := range s.watch {
		ok := true
		if err == nil {
			ok, err = s.findable(ctx, c)
		}
		if ok || err != nil {
			kept = append(kept, c)
		}
	}
	s.watch = kept
	return len(kept) > 0, err
}

// unfoundReport names the comments without a webhook still to be found, for a run that did not
// settle.
func (s *sim) unfoundReport(ctx context.Context) string {
	var out []string
	for _, c := range s.watch {
		if ok, _ := s.findable(ctx, c); ok {
			out = append(out, fmt.Sprintf("%s (%s on %s, made %s, parent %q)", c.id, c.kind, c.media, c.created.Format(time.RFC3339), c.parent))
		}
	}
	if len(out) == 0 {
		return ""
	}
	return fmt.Sprintf("; %d comment(s) without a webhook never found: %s", len(out), strings.Join(out[:min(len(out), 5)], ", "))
}

// latencies summarizes how long found comments waited for their DM.
type latencies []time.Duration

// at is the q-quantile (0.5 the median, 1 the longest), to the second.
func (l latencies) at(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))].Round(time.Second)
}
