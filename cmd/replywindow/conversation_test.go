package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestConversation (on moto): a person who got the private reply, tapped, met the follow gate,
// followed and tapped again; their conversation and every follow-up show, and only theirs.
func TestConversation(t *testing.T) {
	h := opSetup(t)
	now := time.Now().UTC().Truncate(time.Millisecond)
	const acct, person, shadow, orphan = "17841400000000001", "17841400000000777", "178414000000007771", "17841400000000888"
	tap := now.Add(-time.Hour)
	// The private reply: its SENT record, and the conversation it starts (flow and username).
	pj := reply.Job{V: reply.JobVersion, AccountID: acct, CommentID: "17900000000000301", MediaID: "m1", FromID: person,
		FromUsername: "ana", Text: "recipe", Kind: reply.KindReel, CommentedAt: now.Add(-2 * time.Hour)}
	pr, err := reply.NewRecord(pj, now.Add(-2*time.Hour)).Claim(pj, "replier-1", now.Add(-2*time.Hour), now.Add(-2*time.Hour+time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if pr, err = h.store.Create(h.ctx, pr); err != nil {
		t.Fatal(err)
	}
	pr, _ = pr.Finish(reply.Sent("m_private", person), true, now.Add(-2*time.Hour))
	if _, err := h.store.Update(h.ctx, pr); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{person, shadow, orphan} {
		for _, tc := range []reply.Touch{
			{AccountID: acct, PersonID: p, Rule: "recipe", Username: "ana", Now: now.Add(-2 * time.Hour)},
			{AccountID: acct, PersonID: p, At: tap, Now: tap},
		} {
			if _, err := h.store.Touch(h.ctx, tc); err != nil {
				t.Fatal(err)
			}
		}
	}
	// claim writes a step's records as the conversation service does, then gives each its
	// outcome: SENT with Meta's message id, or parked.
	claim := func(p, step string, gate bool, mid string, at time.Time, outcomes ...string) {
		t.Helper()
		var recs []reply.Record
		for i := range outcomes {
			f := reply.FollowUp{PersonID: p, Rule: "recipe", Step: step, Index: i, Gate: gate, Trigger: mid, Once: !gate,
				Lane: reply.LaneText, Deadline: tap.Add(reply.ConversationWindow)}
			j := reply.Job{V: reply.JobVersion, AccountID: acct, FollowUp: &f}
			r, err := reply.NewRecord(j, at).Claim(j, "replier-1", at, at.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			recs = append(recs, r)
		}
		// A gate's message is claimed as the gate of its step, as the conversation service does.
		cl := reply.StepClaim{AccountID: acct, PersonID: p, Rule: "recipe", Step: reply.Step{Name: step}, Gate: gate, At: at}
		if _, err := h.store.ClaimStep(h.ctx, recs, cl); err != nil {
			t.Fatalf("claim %s of %s: %v", step, p, err)
		}
		for i, o := range outcomes {
			n, err := recs[i].Finish(reply.Sent(o, p), true, at)
			if o == "" {
				n, err = recs[i].Park(at.Add(time.Second), "rate_limited", false, at)
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := h.store.Update(h.ctx, n); err != nil {
				t.Fatal(err)
			}
		}
	}
	claim(person, "link", true, "mid-1", tap, "m_gate")
	claim(person, "link", false, "mid-2", tap.Add(time.Minute), "m_link", "")
	claim(shadow, "link", false, "mid-3", tap, "m_shadow") // an id that starts with person's
	claim(orphan, "link", false, "mid-4", tap, "m_orphan")
	if err := h.store.DeleteConversation(h.ctx, acct, orphan); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		person   string
		conv     bool
		messages []string // Meta's message ids, oldest first
		human    []string
	}{
		{person, true, []string{"m_gate", "m_link", ""}, []string{
			"username:", "ana", "flow:", "recipe", "window:", "open until", "last automated:",
			"STEP", "link (follow gate)", "link gate", "link #1", "SENT", "m_gate", "PARKED", "rate_limited", "text",
		}},
		{orphan, false, []string{"m_orphan"}, []string{"none (expired or deleted)", "m_orphan"}},
	}
	for _, c := range cases {
		t.Run(c.person, func(t *testing.T) {
			var cv opConversation
			if err := json.Unmarshal([]byte(h.must("conversation", "--account", acct, "--person", c.person, "--json")), &cv); err != nil {
				t.Fatal(err)
			}
			if (cv.Conversation != nil) != c.conv || (c.conv && (!cv.Open || cv.WindowLeftSec <= 0 || cv.Conversation.Rule != "recipe")) {
				t.Errorf("conversation %+v", cv)
			}
			var got []string
			for _, r := range cv.FollowUps {
				if r.Job.FollowUp == nil || r.Job.FollowUp.PersonID != c.person {
					t.Errorf("follow-up %s is not the person's", r.Key)
				}
				got = append(got, r.MessageID)
			}
			if strings.Join(got, ",") != strings.Join(c.messages, ",") {
				t.Errorf("follow-ups' message ids %q, want %q", got, c.messages)
			}
			out := h.must("conversation", "--person", c.person, "--account", acct)
			for _, w := range c.human {
				if !strings.Contains(out, w) {
					t.Errorf("conversation lacks %q:\n%s", w, out)
				}
			}
		})
	}

	// status of the private reply shows the conversation after it.
	var st opStatus
	if err := json.Unmarshal([]byte(h.must("status", pj.CommentID, "--json")), &st); err != nil {
		t.Fatal(err)
	}
	if st.Conversation == nil || st.Conversation.PersonID != person || len(st.Conversation.FollowUps) != 3 {
		t.Errorf("status: conversation %+v, want the person's with 3 follow-ups", st.Conversation)
	}
	if out := h.must("status", pj.CommentID); !strings.Contains(out, "conversation after the private reply") || !strings.Contains(out, "m_link") {
		t.Errorf("status lacks the conversation:\n%s", out)
	}

	failures := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--account", acct, "--person", "17841400000000999"}, exitFail, "no conversation of person 17841400000000999 with account " + acct},
		{[]string{"--account", acct, "--person", "ana"}, exitUsage, `--person: person id "ana": not a Meta id`},
		{[]string{"--account", "x1", "--person", person}, exitUsage, `--account: account id "x1": not a Meta id`},
		{[]string{"--account", acct}, exitUsage, "--account and --person are required"},
		{[]string{"--account", acct, "--person", person, "extra"}, exitUsage, `unexpected argument "extra"`},
	}
	for _, f := range failures {
		if code, _, errs := h.run(append([]string{"conversation"}, f.args...)...); code != f.code || !strings.Contains(errs, f.msg) {
			t.Errorf("conversation %q: exit %d %q, want %d with %q", f.args, code, errs, f.code, f.msg)
		}
	}
	if code, out, _ := h.run("conversation", "--help"); code != exitOK || !strings.Contains(out, "Examples:") {
		t.Errorf("--help: exit %d %q", code, out)
	}
}
