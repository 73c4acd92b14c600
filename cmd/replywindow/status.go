package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

func init() {
	commands["status"] = command{summary: "what happened to a comment: state, attempts, Meta's answer, deadlines, the conversation after it", run: runStatus}
}

// opStatus is status's JSON answer: the reply record as stored, plus what it means now.
type opStatus struct {
	Record   reply.Record `json:"record"`
	Terminal bool         `json:"terminal"`
	// Shared is true when the record is the funnel record of another comment by the same person
	// on the same media: this comment was (or will be) skipped as a duplicate.
	Shared        bool    `json:"shared,omitempty"`
	WindowLeftSec float64 `json:"window_left_seconds"`
	// Conversation is what followed a SENT private reply, when the person has a conversation
	// with the account: their window, the flow's steps and every follow-up.
	Conversation *opConversation `json:"conversation,omitempty"`
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("status", "COMMENT_ID [--json]", `  replywindow status 17900000000000001
  replywindow status 17900000000000001 --json | jq -r .record.state

Exit status: 0 the comment has a reply record, 1 it has none (or an error), 2 bad usage.
`, stdout, stderr)
	asJSON := c.fs.Bool("json", false, "print JSON")
	table := c.tableFlag()
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return c.fail(opUsagef("want exactly one COMMENT_ID"))
	}
	id := pos[0]
	if err := opCheckID("COMMENT_ID", "comment", id); err != nil {
		return c.fail(err)
	}
	store, _, err := c.store(ctx, *table)
	if err != nil {
		return c.fail(err)
	}
	r, err := store.ByComment(ctx, id)
	if errors.Is(err, reply.ErrNotFound) {
		return c.fail(fmt.Errorf("no reply record for comment %s: it never reached the replier, or its record passed retention", id))
	}
	if err != nil {
		return c.fail(fmt.Errorf("read comment %s: %w", id, err))
	}
	now := time.Now()
	st := opStatus{Record: r, Terminal: r.State.Terminal(), Shared: r.CommentID != id}
	if left := r.Deadline.Sub(now); left > 0 && !st.Terminal {
		st.WindowLeftSec = left.Seconds()
	}
	if person := r.Job.Person(); r.State == reply.StateSent && person != "" {
		cv, err := opLoadConversation(ctx, store, r.AccountID, person, now)
		if err != nil {
			return c.fail(err)
		}
		if cv.Conversation != nil {
			st.Conversation = &cv
		}
	}
	if *asJSON {
		if err := opJSON(stdout, st); err != nil {
			return c.fail(err)
		}
		return exitOK
	}
	state := string(r.State)
	if r.Reason != "" {
		state += " (" + r.Reason + ")"
	}
	if st.Shared {
		state = fmt.Sprintf("answered through comment %s of the same person on the same media: %s", r.CommentID, state)
	}
	meta := r.Detail
	if r.MessageID != "" {
		meta = "message " + r.MessageID + " to " + r.RecipientID
	}
	attempts := strconv.Itoa(r.Attempts)
	if r.Uncertain {
		attempts += " (an earlier send may have been delivered)"
	}
	pairs := [][2]string{
		{"comment", id},
		{"account", r.AccountID},
		{"state", state},
		{"attempts", attempts},
		{"Meta's last answer", opOr(meta)},
		{"deadline", opWhen(r.Deadline, now)},
	}
	if !st.Terminal {
		pairs = append(pairs, [2]string{"next look", opWhen(r.DueAt, now)})
	}
	if r.State == reply.StateLeased {
		pairs = append(pairs, [2]string{"lease", opOr(r.Owner) + " until " + opWhen(r.LeaseUntil, now)})
	}
	pairs = append(pairs,
		[2]string{"kind", fmt.Sprintf("%s (%s lane)", r.Job.Kind, r.Lane)},
		[2]string{"media", opOr(r.Job.MediaID)},
		[2]string{"rule", opOr(r.Rule)},
		[2]string{"variant", opOr(r.Variant)},
		[2]string{"sent", opOr(r.Sent)},
		[2]string{"from", opOr(r.Job.FromUsername)},
		[2]string{"commented", opWhen(r.Job.CommentedAt, now)},
		[2]string{"created", opWhen(r.CreatedAt, now)},
		[2]string{"updated", opWhen(r.UpdatedAt, now)},
		[2]string{"record", fmt.Sprintf("%s version %d", r.Key, r.Version)},
	)
	if err := opFields(stdout, pairs...); err != nil {
		return c.fail(err)
	}
	if cv := st.Conversation; cv != nil {
		fmt.Fprintf(stdout, "\nconversation after the private reply (replywindow conversation --account %s --person %s):\n", cv.AccountID, cv.PersonID)
		if err := opPrintConversation(stdout, *cv, now); err != nil {
			return c.fail(err)
		}
	}
	return exitOK
}
