package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/replywindow/replywindow/shared/deletion"
	"github.com/replywindow/replywindow/shared/reply"
)

func init() {
	commands["forget"] = command{summary: "delete what the table holds of a commenter (--person IGSID)", run: runForget}
}

// runForget is the person-level deletion: Meta's data-deletion callback names the people who
// connected accounts, never the commenters, so a commenter who asks the account to forget them
// is served here. The request is stored like Meta's (the sweeper finishes what this run leaves)
// and worked off at once.
func runForget(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("forget", "--person IGSID [--dry-run] [--budget 5m] [--json]", `  # what the table holds of them, nothing removed or written
  replywindow forget --person 17841400000000777 --dry-run

  # a commenter asked to be forgotten: their records, funnel guards, and a tombstone so that
  # no job still queued brings them back
  replywindow forget --person 17841400000000777

Exit status: 0 done, or left pending for the sweeper (the output says which), 1 an error,
2 bad usage.
`, stdout, stderr)
	person := c.idFlag("person", "person", "the commenter's Instagram-scoped `IGSID` (from.id of their comments)", true)
	budget := c.fs.Duration("budget", 5*time.Minute, "work this `long`, then leave the rest to the sweeper")
	asJSON := c.fs.Bool("json", false, "print JSON")
	dryRun := c.fs.Bool("dry-run", false, "count what would be removed; remove and write nothing (no tombstone)")
	table := c.tableFlag()
	st, code, ok := c.open(ctx, args, func() error {
		if *budget <= 0 {
			return opUsagef("--budget %s: want a positive duration", *budget)
		}
		return nil
	})
	if !ok {
		return code
	}
	store, cfg := st.store, st.cfg
	if *dryRun {
		w := &deletion.Worker{Store: store, Leads: store, Clicks: store}
		m, err := w.Count(ctx, reply.Deletion{Kind: reply.DeletionPerson, UserID: *person})
		if err != nil {
			return c.fail(err)
		}
		if *asJSON {
			if err := opJSON(stdout, map[string]any{"person": *person, "dry_run": true, "would_remove": m}); err != nil {
				return c.fail(err)
			}
			return exitOK
		}
		if m.Total() == 0 {
			fmt.Fprintf(stdout, "nothing in table %s names person %s (a wrong IGSID? it is from.id of their comments); nothing removed\n", *table, *person)
		} else {
			fmt.Fprintf(stdout, "forget would remove %d reply records, %d conversations, %d leads and %d click records of person %s, and write a tombstone; nothing removed (dry run)\n",
				m.Records, m.Conversations, m.Leads, m.Clicks, *person)
		}
		return exitOK
	}
	now := time.Now().UTC().Truncate(time.Second)
	d, err := store.OpenDeletion(ctx, reply.Deletion{Code: deletion.NewCode(), Kind: reply.DeletionPerson,
		UserID: *person, State: reply.DeletionPending, RequestedAt: now, Version: 1})
	if err != nil && !errors.Is(err, reply.ErrExists) {
		return c.fail(fmt.Errorf("store the request: %w", err))
	}
	w := &deletion.Worker{Store: store, Params: c.params(cfg), Cursors: store, Leads: store, Clicks: store, Log: c.logger()}
	if _, err := w.Run(ctx, *budget); err != nil {
		return c.fail(fmt.Errorf("work off deletions (request %s stays pending for the sweeper): %w", d.Code, err))
	}
	if d, err = store.Deletion(ctx, d.Code); err != nil {
		return c.fail(fmt.Errorf("read request %s: %w", d.Code, err))
	}
	if *asJSON {
		if err := opJSON(stdout, map[string]any{"code": d.Code, "state": d.State, "removed": d.Removed}); err != nil {
			return c.fail(err)
		}
		return exitOK
	}
	if d.State == reply.DeletionDone && d.Removed == 0 {
		fmt.Fprintf(stdout, "nothing in the table named person %s (a wrong IGSID? it is from.id of their comments); the tombstone is written all the same: a comment of theirs still on its way gets no record (request %s)\n", *person, d.Code)
	} else if d.State == reply.DeletionDone {
		fmt.Fprintf(stdout, "forgot person %s: %d records removed; their comments made until now can get no reply record again (request %s)\n", *person, d.Removed, d.Code)
	} else {
		fmt.Fprintf(stdout, "request %s for person %s is pending (%d removed so far): the sweeper carries on\n", d.Code, *person, d.Removed)
	}
	return exitOK
}
