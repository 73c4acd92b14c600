package chaos

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// The checker reads the Send API ledger by content: every message any version of an account's
// flows ever held is catalogued with its rule, step and digest, so a message the person got is
// tied to the step it belongs to whatever the product's records say (or lost).

// stepMessage is one message of one step of one version of an account's flows.
type stepMessage struct {
	rule, step string
	gate       bool // the step's follow gate message
	notice     bool // the disclosure line alone
	resend     bool // the step may go out again after its cooldown
	digest     string
	msg        reply.Message
}

// pause is a human pause the store recorded: when it was written, and until when it holds.
type pause struct{ at, until time.Time }

// catalogue adds the messages of a's flows as they are now.
func (s *sim) catalogue(a reply.Account) {
	add := func(e stepMessage) {
		for _, o := range s.catalog[a.ID] {
			if o.rule == e.rule && o.step == e.step && o.gate == e.gate && o.digest == e.digest {
				return
			}
		}
		s.catalog[a.ID] = append(s.catalog[a.ID], e)
	}
	flow := func(rule string, steps []reply.Step) {
		for _, st := range steps {
			for _, m := range st.Messages {
				add(stepMessage{rule: rule, step: st.Key(), resend: st.Resend, digest: m.Digest(), msg: m})
			}
			if st.Gate != nil {
				add(stepMessage{rule: rule, step: st.Key(), gate: true, digest: st.Gate.Message.Digest(), msg: st.Gate.Message})
			}
			if q := st.Ask; q != nil {
				// The answer's parts, each due once per question: counted like a resend, the
				// leads' checker holds what they did (checkLeads).
				for _, m := range append([]reply.Message{q.Retry, q.Fallback}, q.Confirm...) {
					add(stepMessage{rule: rule, step: st.Key(), resend: true, digest: m.Digest(), msg: m})
				}
			}
		}
	}
	for _, r := range a.Rules {
		flow(r.Name, r.Flow)
	}
	for _, d := range a.DMRules {
		flow(d.Name, d.Flow)
		for _, m := range d.Messages {
			add(stepMessage{rule: d.Name, step: reply.OpeningStep, digest: m.Digest(), msg: m})
		}
	}
	catalogueEntries(a, add)
	if a.Disclosure != "" {
		add(stepMessage{notice: true, digest: "notice", msg: reply.Message{Text: a.Disclosure}})
	}
}

// classify tells which catalogued message a ledger message is, and whether it carried the
// disclosure line.
func (s *sim) classify(m sandbox.SentMessage) (stepMessage, bool, bool) {
	cat := s.catalog[m.AccountID]
	disc := ""
	for _, e := range cat {
		if e.notice {
			disc = e.msg.Text
		}
	}
	text, carries := m.Text, false
	if m.Kind == reply.MessageText && disc != "" {
		if text == disc {
			for _, e := range cat {
				if e.notice {
					return e, true, true
				}
			}
		}
		text, carries = strings.CutSuffix(text, "\n\n"+disc)
	}
	for _, e := range cat {
		if e.notice || e.msg.Type() != m.Kind {
			continue
		}
		if m.Kind == reply.MessageText && templated(e.msg.Text, text) || m.Kind != reply.MessageText && e.msg.URL == m.URL {
			return e, carries, true
		}
	}
	return stepMessage{}, carries, false
}

// templated reports whether text is template with {username} filled in.
func templated(template, text string) bool {
	before, after, ok := strings.Cut(template, "{username}")
	if !ok {
		return template == text
	}
	return len(text) >= len(before)+len(after) && strings.HasPrefix(text, before) && strings.HasSuffix(text, after)
}

// flowEdits puts the operator's edits of the media-paced accounts' steps on the timeline: a
// message inserted at a step's front, its messages reordered, one removed, while turns of the
// step wait in the media lane's line.
func (s *sim) flowEdits() {
	for i, a := range s.accounts {
		if i%2 != 0 {
			continue
		}
		id, n := a.ID, fmt.Sprint(i)
		edits := []func(*reply.Account){
			func(a *reply.Account) { // a new message first in tips' link
				st := &a.Rules[2].Flow[0]
				st.Messages = append([]reply.Message{{Text: tipsIntro + n}}, st.Messages...)
			},
			func(a *reply.Account) { // tips' link reordered: the text before the video
				st := &a.Rules[2].Flow[0]
				slices.Reverse(st.Messages)
			},
			func(a *reply.Account) { // recipe's link reordered: the heart first
				st := &a.Rules[0].Flow[0]
				slices.Reverse(st.Messages)
			},
			func(a *reply.Account) { // the video removed from tips' link
				st := &a.Rules[2].Flow[0]
				st.Messages = slices.DeleteFunc(st.Messages, func(m reply.Message) bool { return m.Kind == reply.MessageVideo })
			},
		}
		// Distinct edits: a step holding one message twice would make two of its records
		// claim one digest.
		for _, j := range s.dice.perm(len(edits))[:1+s.dice.intN(3)] {
			edit := edits[j]
			s.atTime(s.start.Add(s.dice.duration(10*time.Minute, 150*time.Minute)).Truncate(time.Second), "flow edited on "+id, func() {
				s.fault(FaultFlowEdited, "")
				s.edit(id, edit)
				if cur, err := s.store.Account(context.Background(), id); err == nil {
					s.catalogue(cur)
				}
			})
		}
	}
}

type convKey struct{ account, person string }

type stepKey struct{ account, person, rule, step string }

// turnKey is one claim of a step: its records are the turn's messages, by Index.
type turnKey struct {
	stepKey
	gate    bool
	trigger string // "" for a step sent once per conversation
}

func turnOf(r reply.Record) turnKey {
	f := r.Job.FollowUp
	k := turnKey{stepKey: stepKey{r.AccountID, f.PersonID, f.Rule, f.Step}, gate: f.Gate}
	if !f.Once {
		k.trigger = f.Trigger
	}
	return k
}

// checkConversations holds the conversations to their promises, from the sandbox's ledger of
// Send API messages (tied to their steps by content) and the follow-up records:
//   - (f) every follow-up record is terminal; an AMBIGUOUS one not taken over from a holder
//     that died had a Send API call for its person while it was held (a failure before the
//     call, such as its lane's bucket write, is no attempt);
//   - (g) each (conversation, rule, step) goes out at most once (each of its messages once), a
//     gate's message at most once per tap, a resending step's at most once per record, its
//     records a cooldown apart; no message goes out that no step ever held;
//   - (h) nothing goes out at or after the end of the person's window (Meta refuses such a
//     call with 10/2018278: counted in FollowUpsRefused, not a violation);
//   - (i) every tap or answer delivered while its window was open got its step, or a record says
//     why not (a terminal record of the step, the gate's message for that tap), or a human's
//     pause took it over. A tap on its way when its window closed is owed nothing;
//   - (j) a turn's messages reach the person in the order its records claimed them, and each
//     record's delivered message is the one it claimed (its digest), whatever edits came since;
//   - (k) the disclosure line is delivered before or with the first message of each turn that
//     was claimed while it was due: the conversation's first, after a lapse, after a human pause
//     ended (a turn starting with media sends it alone first, unless Meta refused that notice);
//   - (l) only a human's echo pauses a conversation, never the echo of our own send;
//   - (m) after a person's data deletion finished, the store holds no conversation or follow-up
//     naming them, and nothing is sent to them.
func (s *sim) checkConversations(ctx context.Context, recs []reply.Record, dead map[string]bool) error {
	ledger := s.sandbox.Messages()
	pos := map[string]int{} // message id -> place in the ledger
	for i, m := range ledger {
		pos[m.MessageID] = i
	}
	turns := map[turnKey][]reply.Record{}
	byStep := map[stepKey][]reply.Record{}
	byMID := map[string]reply.Record{}
	claims := map[convKey][]time.Time{}
	gateFor := map[string]bool{} // trigger -> a terminal record of the gate's message for it
	for _, r := range recs {
		f := r.Job.FollowUp
		ck := convKey{r.AccountID, f.PersonID}
		if _, gone := s.forgotten[f.PersonID]; gone {
			s.violate("follow-up %s (%s) names %s after their data deletion", r.Key, r.State, f.PersonID)
		}
		if !r.State.Terminal() {
			s.violate("follow-up %s left %s (%s, due %s)", r.Key, r.State, r.Reason, r.DueAt.Format(time.RFC3339))
			continue
		}
		switch r.State {
		case reply.StateAmbiguous:
			s.res.FollowUpsAmbiguous++
			// A takeover's uncertainty is an earlier holder's claim, whose call may never have
			// happened: only an attempt of its own must have called Meta.
			if !r.Uncertain && !slices.ContainsFunc(s.sendCalls[ck.person], func(t time.Time) bool {
				return !t.Before(r.CreatedAt) && !t.After(r.UpdatedAt)
			}) {
				s.violate("follow-up %s recorded AMBIGUOUS (%s: %s) without a Send API call", r.Key, r.Reason, r.Detail)
			}
		case reply.StateExpired:
			s.res.FollowUpsExpired++
		}
		if strings.Contains(r.Reason+" "+r.Detail, "2018278") {
			s.res.FollowUpsRefused++
		}
		if r.State == reply.StateSkipped && r.Reason == "flow_changed" {
			s.res.FlowChanged++
		}
		turns[turnOf(r)] = append(turns[turnOf(r)], r)
		claims[ck] = append(claims[ck], r.CreatedAt)
		if r.MessageID != "" {
			byMID[r.MessageID] = r
		}
		if f.Gate {
			gateFor[f.Trigger] = true
			continue
		}
		k := stepKey{r.AccountID, f.PersonID, f.Rule, f.Step}
		byStep[k] = append(byStep[k], r)
	}
	type sentKey struct {
		stepKey
		digest string
	}
	sent := map[sentKey]int{}
	stepSent := map[stepKey]int{}
	gates := map[stepKey]int{}
	resent := map[stepKey]int{}
	order := map[stepKey][]string{}        // once-steps: the digests the person got, in order
	disclosed := map[convKey][]time.Time{} // deliveries that carried the disclosure line
	for _, m := range ledger {
		if gone, ok := s.forgotten[m.PersonID]; ok && m.At.After(gone) {
			s.violate("follow-up to %s on %s at %s, after their data was deleted at %s", m.PersonID, m.AccountID, m.At.Format(time.RFC3339), gone.Format(time.RFC3339))
		}
		s.res.FollowUpsSent++
		if !m.At.Before(m.WindowEnd) {
			s.res.Late++
			s.violate("follow-up to %s on %s at %s, window closed %s", m.PersonID, m.AccountID, m.At.Format(time.RFC3339), m.WindowEnd.Format(time.RFC3339))
		}
		e, carries, ok := s.classify(m)
		if !ok {
			s.violate("a Send API message no step holds: %+v", m)
			continue
		}
		ck := convKey{m.AccountID, m.PersonID}
		if carries {
			disclosed[ck] = append(disclosed[ck], m.At)
		}
		if r, ok := byMID[m.MessageID]; ok {
			want := r.Job.FollowUp.Digest
			if r.Job.FollowUp.Notice {
				want = "notice"
			}
			if e.digest != want {
				s.violate("follow-up %s claimed message %s, the person got %s (%s %q)", r.Key, want, e.digest, m.Kind, m.Text)
			}
		}
		if e.notice {
			continue
		}
		k := stepKey{m.AccountID, m.PersonID, e.rule, e.step}
		switch {
		case e.gate:
			s.res.GateMessages++
			gates[k]++
		case e.resend:
			resent[k]++
		default:
			sent[sentKey{k, e.digest}]++
			stepSent[k]++
			order[k] = append(order[k], e.digest)
		}
	}
	for k, n := range sent {
		if n > 1 {
			s.res.FollowUpDuplicates++
			s.violate("step %s/%s (message %s) sent %d times to %s on %s; records: %s", k.rule, k.step, k.digest, n, k.person, k.account, describe(byStep[k.stepKey]))
		}
	}
	linkTaps := map[stepKey]map[string]bool{}
	for _, t := range s.taps {
		if t.step == stepLink && t.accepted {
			k := stepKey{t.account, t.person, t.rule, stepLink}
			if linkTaps[k] == nil {
				linkTaps[k] = map[string]bool{}
			}
			linkTaps[k][t.mid] = true
		}
	}
	for k, n := range gates {
		if taps := len(linkTaps[k]); n > taps {
			s.res.FollowUpDuplicates++
			s.violate("gate message of %s/%s sent %d times to %s on %s for %d taps", k.rule, k.step, n, k.person, k.account, taps)
		}
	}
	for k, n := range resent {
		if _, gone := s.forgotten[k.person]; gone {
			continue // the deletion removed the records that held the sends (none came after it: above)
		}
		claimed := 0
		for _, r := range byStep[k] {
			if r.State == reply.StateSent || r.State == reply.StateAmbiguous {
				claimed++
			}
		}
		if n > claimed {
			s.res.FollowUpDuplicates++
			s.violate("step %s/%s sent %d times to %s on %s, claimed %d times", k.rule, k.step, n, k.person, k.account, claimed)
		}
	}
	for k, rs := range byStep {
		if k.step != stepAgain {
			continue
		}
		starts := map[time.Time]bool{}
		for _, r := range rs {
			starts[r.CreatedAt] = true
		}
		var at []time.Time
		for t := range starts {
			at = append(at, t)
		}
		sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
		for i := 1; i < len(at); i++ {
			if gap := at[i].Sub(at[i-1]); gap < againCooldown {
				s.violate("step %s/%s claimed twice %s apart for %s on %s (cooldown %s)", k.rule, k.step, gap, k.person, k.account, againCooldown)
			}
		}
	}
	// (j) Order: by content, the once-steps' messages against their one turn's claims; by
	// message id, every turn's delivered records against their indexes.
	for k, digests := range order {
		if _, gone := s.forgotten[k.person]; gone {
			continue
		}
		index := map[string]int{}
		for _, r := range turns[turnKey{stepKey: k}] {
			index[r.Job.FollowUp.Digest] = r.Job.FollowUp.Index
		}
		last := -1
		for _, d := range digests {
			i, ok := index[d]
			switch {
			case !ok:
				s.violate("step %s/%s: %s got message %s, which its turn never claimed; records: %s", k.rule, k.step, k.person, d, describe(turns[turnKey{stepKey: k}]))
			case i <= last:
				s.violate("step %s/%s: %s got its messages out of order (%v); records: %s", k.rule, k.step, k.person, digests, describe(turns[turnKey{stepKey: k}]))
			}
			last = max(last, i)
		}
	}
	for tk, rs := range turns {
		sort.Slice(rs, func(i, j int) bool { return rs[i].Job.FollowUp.Index < rs[j].Job.FollowUp.Index })
		last, lastIdx := -1, -1
		for _, r := range rs {
			p, ok := pos[r.MessageID]
			if r.State != reply.StateSent || !ok {
				continue
			}
			if p < last {
				s.violate("turn %s/%s of %s on %s: message %d reached the person before message %d", tk.rule, tk.step, tk.person, tk.account, r.Job.FollowUp.Index, lastIdx)
			}
			last, lastIdx = p, r.Job.FollowUp.Index
		}
	}
	s.checkDisclosures(ledger, byMID, turns, claims, disclosed)
	// (l) Our own echoes pause nothing.
	for k, ps := range s.pauses {
		if !s.humans[k] {
			s.violate("conversation %s paused (%d times, first until %s) though no human on the account answered: our own echo", k, len(ps), ps[0].until.Format(time.RFC3339))
		}
	}
	// (m) A finished deletion leaves no conversation behind.
	people := make([]string, 0, len(s.forgotten))
	for p := range s.forgotten {
		people = append(people, p)
	}
	sort.Strings(people)
	for _, p := range people {
		for _, a := range s.accounts {
			_, err := s.store.Conversation(ctx, a.ID, p)
			switch {
			case err == nil:
				s.violate("conversation of %s on %s stored after their data deletion", p, a.ID)
			case !errors.Is(err, reply.ErrNotFound):
				return fmt.Errorf("conversation %s on %s: %w", p, a.ID, err)
			}
		}
	}
	s.checkTaps(ctx, byStep, stepSent, gateFor, dead)
	return nil
}

// checkDisclosures is (k): for each delivered message whose record tells its turn's claim time,
// whether the line was due at that claim, and then delivered between the claim and it.
func (s *sim) checkDisclosures(ledger []sandbox.SentMessage, byMID map[string]reply.Record, turns map[turnKey][]reply.Record,
	claims map[convKey][]time.Time, disclosed map[convKey][]time.Time) {
	lapse := map[string]time.Duration{}
	for _, a := range s.accounts {
		lapse[a.ID] = a.Lapse()
	}
	for _, m := range ledger {
		r, ok := byMID[m.MessageID]
		if !ok || r.Job.FollowUp.Notice {
			continue
		}
		f := r.Job.FollowUp
		if _, gone := s.forgotten[f.PersonID]; gone {
			continue
		}
		ck := convKey{r.AccountID, f.PersonID}
		c := r.CreatedAt
		var before, prev time.Time // a disclosure delivered before the claim; the claim before
		for _, t := range disclosed[ck] {
			if t.Before(c) {
				before = t
			}
		}
		for _, t := range claims[ck] {
			if t.Before(c) && t.After(prev) {
				prev = t
			}
		}
		var pausedUntil time.Time
		for _, p := range s.pauses[ck.account+"#"+ck.person] {
			if p.at.Before(c) && p.until.After(pausedUntil) {
				pausedUntil = p.until
			}
		}
		why := ""
		switch {
		case before.IsZero():
			why = "the conversation's first"
		case !prev.IsZero() && c.Sub(prev) >= lapse[r.AccountID]:
			why = fmt.Sprintf("after %s without an automated message", c.Sub(prev))
		case !pausedUntil.IsZero() && !pausedUntil.After(c) && pausedUntil.After(prev):
			why = "after a human pause ended at " + pausedUntil.Format(time.RFC3339)
		default:
			continue
		}
		if slices.ContainsFunc(disclosed[ck], func(t time.Time) bool { return !t.Before(c) && !t.After(m.At) }) {
			continue
		}
		if m.Kind != reply.MessageText {
			// Media cannot carry the line: the message before it in its turn does (the line
			// alone, when the turn starts with media), and Meta may have refused that one; then
			// the next text carries it.
			refused := false
			for _, o := range turns[turnOf(r)] {
				refused = refused || (o.Job.FollowUp.Index < f.Index && o.State != reply.StateSent)
			}
			if refused {
				continue
			}
		}
		s.violate("follow-up %s (%s) reached %s on %s at %s without the disclosure, due at its claim (%s) as %s",
			r.Key, m.Kind, f.PersonID, r.AccountID, m.At.Format(time.RFC3339), c.Format(time.RFC3339), why)
	}
}

// checkTaps is (i).
func (s *sim) checkTaps(ctx context.Context, byStep map[stepKey][]reply.Record, stepSent map[stepKey]int, gateFor map[string]bool, dead map[string]bool) {
	for _, t := range s.taps {
		if t.step == "" || t.unsent {
			continue
		}
		s.res.Taps++
		if t.late {
			s.res.LateTaps++
		}
		if _, gone := s.forgotten[t.person]; gone {
			continue
		}
		if !t.accepted {
			s.violate("%s: the webhook never accepted it", t)
			continue
		}
		if !t.acceptedAt.Add(tapSettle).Before(t.at.Add(reply.ConversationWindow)) {
			continue // on its way when its window closed: nothing is owed
		}
		conv, err := s.store.Conversation(ctx, t.account, t.person)
		if err != nil {
			s.violate("%s: no conversation record (%v)", t, err)
			continue
		}
		if conv.PausedUntil.After(t.at) {
			s.res.Paused++
			continue
		}
		rules := []string{t.rule}
		if t.rule == "" { // a keyword answer runs the step of the flow the person is in
			rules = []string{ruleRecipe, ruleTips}
		}
		ok := false
		for _, rule := range rules {
			k := stepKey{t.account, t.person, rule, t.step}
			switch t.step {
			case stepAgain:
				// Its own record, or one claimed within the cooldown before the tap was worked.
				for _, r := range byStep[k] {
					ok = ok || r.Job.FollowUp.Trigger == t.mid ||
						(r.CreatedAt.After(t.acceptedAt.Add(-againCooldown)) && !r.CreatedAt.After(t.acceptedAt.Add(tapSettle)))
				}
			default:
				ok = ok || stepSent[k] > 0 || len(byStep[k]) > 0 || gateFor[t.mid]
			}
		}
		if !ok {
			why := ""
			if dead[t.mid] {
				why = " (its job is in the dead-letter queue)"
			}
			s.violate("%s: accepted at %s, nothing sent and no record says why%s", t, t.acceptedAt.Format(time.RFC3339), why)
		}
	}
}
