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
	c := opNew("forget", "--person IGSID [--budget 5m] [--json]", `  # a commenter asked to be forgotten: their records, funnel guards, and a tombstone so that
  # no job still queued brings them back
  replywindow forget --person 17841400000000777

Exit status: 0 done, or left pending for the sweeper (the output says which), 1 an error,
2 bad usage.
`, stdout, stderr)
	person := c.fs.String("person", "", "the commenter's Instagram-scoped `IGSID` (from.id of their comments)")
	budget := c.fs.Duration("budget", 5*time.Minute, "work this `long`, then leave the rest to the sweeper")
	asJSON := c.fs.Bool("json", false, "print JSON")
	table := c.tableFlag()
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	switch {
	case len(pos) > 0:
		return c.fail(opUsagef("unexpected argument %q", pos[0]))
	case *person == "":
		return c.fail(opUsagef("--person is required"))
	case *budget <= 0:
		return c.fail(opUsagef("--budget %s: want a positive duration", *budget))
	}
	if err := opCheckID("--person", "person", *person); err != nil {
		return c.fail(err)
	}
	store, cfg, err := c.store(ctx, *table)
	if err != nil {
		return c.fail(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	d, err := store.OpenDeletion(ctx, reply.Deletion{Code: deletion.NewCode(), Kind: reply.DeletionPerson,
		UserID: *person, State: reply.DeletionPending, RequestedAt: now, Version: 1})
	if err != nil && !errors.Is(err, reply.ErrExists) {
		return c.fail(fmt.Errorf("store the request: %w", err))
	}
	w := &deletion.Worker{Store: store, Params: c.params(cfg), Cursors: store, Leads: store, Log: c.logger()}
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
	if d.State == reply.DeletionDone {
		fmt.Fprintf(stdout, "forgot person %s: %d records removed; their comments made until now can get no reply record again (request %s)\n", *person, d.Removed, d.Code)
	} else {
		fmt.Fprintf(stdout, "request %s for person %s is pending (%d removed so far): the sweeper carries on\n", d.Code, *person, d.Removed)
	}
	return exitOK
}
