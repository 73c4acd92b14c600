package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

func init() {
	commands["conversation"] = command{summary: "a person's conversation with an account: window, flow steps, every follow-up and its outcome", run: runConversation}
}

// opConversation is what the table holds of one person's conversation with an account: the
// conversation record, what it means now, and the records of its automated messages.
type opConversation struct {
	AccountID string `json:"account"`
	PersonID  string `json:"person"`
	// Conversation is nil when only follow-up records are left (the conversation expired by
	// TTL first, or was deleted).
	Conversation  *reply.Conversation `json:"conversation,omitempty"`
	Open          bool                `json:"open"`
	Paused        bool                `json:"paused"`
	WindowLeftSec float64             `json:"window_left_seconds"`
	FollowUps     []reply.Record      `json:"follow_ups"`
}

func runConversation(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("conversation", "--account ID --person IGSID [--json]", `  replywindow conversation --account 17841400000000001 --person 17841400000000777
  replywindow conversation --account 17841400000000001 --person 17841400000000777 --json | jq '.follow_ups[].state'

Follow-up records are found by scanning the table: on a large table this reads all of it.

Exit status: 0 the person has a conversation or follow-ups with the account, 1 none (or an
error), 2 bad usage.
`, stdout, stderr)
	account := c.fs.String("account", "", "the Instagram account `ID`")
	person := c.fs.String("person", "", "the person's Instagram-scoped `IGSID` (from.id of their comment, sender.id of their messages)")
	asJSON := c.fs.Bool("json", false, "print JSON")
	table := c.tableFlag()
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	switch {
	case len(pos) > 0:
		return c.fail(opUsagef("unexpected argument %q", pos[0]))
	case *account == "" || *person == "":
		return c.fail(opUsagef("--account and --person are required"))
	}
	if err := opCheckID("--account", "account", *account); err != nil {
		return c.fail(err)
	}
	if err := opCheckID("--person", "person", *person); err != nil {
		return c.fail(err)
	}
	store, _, err := c.store(ctx, *table)
	if err != nil {
		return c.fail(err)
	}
	now := time.Now()
	cv, err := opLoadConversation(ctx, store, *account, *person, now)
	if err != nil {
		return c.fail(err)
	}
	if cv.Conversation == nil && len(cv.FollowUps) == 0 {
		return c.fail(fmt.Errorf("no conversation of person %s with account %s: they never tapped or wrote, or its records passed retention", *person, *account))
	}
	if *asJSON {
		if err := opJSON(stdout, cv); err != nil {
			return c.fail(err)
		}
		return exitOK
	}
	if err := opPrintConversation(stdout, cv, now); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// opScanPage is how many records one Scan call of the follow-up search reads.
const opScanPage = 1000

// opLoadConversation reads the person's conversation with the account and every record of its
// automated messages, oldest first. Follow-up keys start with the account and the person
// (reply.FollowUpKey) but DynamoDB cannot query a key prefix, so they are found by a Scan.
func opLoadConversation(ctx context.Context, store reply.Store, account, person string, now time.Time) (opConversation, error) {
	cv := opConversation{AccountID: account, PersonID: person, FollowUps: []reply.Record{}}
	conv, err := store.Conversation(ctx, account, person)
	switch {
	case err == nil:
		cv.Conversation = &conv
		cv.Open, cv.Paused = conv.Open(now), conv.Paused(now)
		if cv.Open {
			cv.WindowLeftSec = conv.WindowEnd.Sub(now).Seconds()
		}
	case !errors.Is(err, reply.ErrNotFound):
		return cv, fmt.Errorf("read conversation %s: %w", reply.ConversationKey(account, person), err)
	}
	// Ids are digits, so the '#' after the person keeps 1234 from matching 12345's records.
	prefix := "S#" + account + "#" + person + "#"
	cursor := ""
	for {
		recs, next, err := store.Scan(ctx, cursor, opScanPage)
		if err != nil {
			return cv, fmt.Errorf("scan for the follow-ups of %s: %w", reply.ConversationKey(account, person), err)
		}
		for _, r := range recs {
			if strings.HasPrefix(r.Key, prefix) {
				cv.FollowUps = append(cv.FollowUps, r)
			}
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	slices.SortFunc(cv.FollowUps, func(a, b reply.Record) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return cv, nil
}

// opPrintConversation writes the conversation's fields, its steps and its follow-ups as tables.
func opPrintConversation(w io.Writer, cv opConversation, now time.Time) error {
	pairs := [][2]string{{"account", cv.AccountID}, {"person", cv.PersonID}}
	if c := cv.Conversation; c == nil {
		pairs = append(pairs, [2]string{"conversation", "none (expired or deleted); its follow-ups below"})
	} else {
		window := "never opened (no tap or message yet)"
		switch {
		case cv.Open:
			window = "open until " + opWhen(c.WindowEnd, now)
		case !c.WindowEnd.IsZero():
			window = "closed at " + opWhen(c.WindowEnd, now)
		}
		paused := "-"
		if !c.PausedUntil.IsZero() {
			paused = opWhen(c.PausedUntil, now)
			if !cv.Paused {
				paused += " (over)"
			}
		}
		pairs = append(pairs,
			[2]string{"username", opOr(c.Username)},
			[2]string{"flow", opOr(c.Rule)},
			[2]string{"window", window},
			[2]string{"last inbound", opWhen(c.LastInbound, now)},
			[2]string{"last automated", opWhen(c.LastAutomated, now)},
			[2]string{"disclosed", opWhen(c.DisclosedAt, now)},
			[2]string{"paused until", paused},
		)
	}
	if err := opFields(w, pairs...); err != nil {
		return err
	}
	if c := cv.Conversation; c != nil && len(c.Steps) > 0 {
		names := make([]string, 0, len(c.Steps))
		for n := range c.Steps {
			names = append(names, n)
		}
		slices.SortFunc(names, func(a, b string) int { return c.Steps[a].Compare(c.Steps[b]) })
		rows := make([][]string, len(names))
		for i, n := range names {
			rule, step := reply.SplitStepKey(n)
			rows[i] = []string{opOr(rule), step, opWhen(c.Steps[n], now)}
		}
		fmt.Fprintln(w)
		if err := opTable(w, []string{"RULE", "STEP", "LAST SENT"}, rows); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	if len(cv.FollowUps) == 0 {
		_, err := fmt.Fprintln(w, "no follow-up records")
		return err
	}
	rows := make([][]string, len(cv.FollowUps))
	for i, r := range cv.FollowUps {
		msg := "-"
		if f := r.Job.FollowUp; f != nil {
			msg = f.Step + " #" + strconv.Itoa(f.Index)
			if f.Gate {
				msg = f.Step + " gate"
			}
		}
		meta := r.MessageID
		if meta == "" {
			meta = r.Detail
		}
		rows[i] = append([]string{msg, string(r.State), opOr(r.Reason), opOr(meta), string(r.Lane),
			strconv.Itoa(r.Attempts), opWhen(r.Deadline, now)}, opAttribution(r)...)
	}
	return opTable(w, []string{"MESSAGE", "STATE", "REASON", "META", "LANE", "ATTEMPTS", "DEADLINE", "RULE", "VARIANT", "SENT"}, rows)
}

// opAttribution is what a follow-up record says it sent: its rule, the person's variant and the
// digest of the message (what it sent, whatever edits came after; the flow file shows it).
func opAttribution(r reply.Record) []string {
	f := r.Job.FollowUp
	if f == nil {
		return []string{"-", "-", "-"}
	}
	sent := f.Digest
	if f.Notice {
		sent = "disclosure"
	}
	return []string{opOr(f.Rule), opOr(f.Variant), opOr(sent)}
}
