package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// accountsPause pauses (or resumes) an account: a conditional write of the stored account with
// Paused set, nothing else changed.
func accountsPause(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) int {
	c := opNew("accounts "+verb, "ID", fmt.Sprintf(`  replywindow accounts %s 17841400000000001
`, verb), stdout, stderr)
	table := c.tableFlag()
	id, code, ok := c.accountArg(args)
	if !ok {
		return code
	}
	store, _, err := c.store(ctx, *table)
	if err != nil {
		return c.fail(err)
	}
	pause := verb == "pause"
	for range 3 { // another writer between the read and the write: read again
		a, err := opReadAccount(ctx, store, id, "nothing "+verb+"d")
		if err != nil {
			return c.fail(err)
		}
		if a.Paused == pause {
			fmt.Fprintf(stdout, "account %s is already %s\n", a.ID, map[bool]string{true: "paused", false: "answering"}[pause])
			return exitOK
		}
		a.Paused, a.Version, a.UpdatedAt = pause, a.Version+1, time.Now().UTC().Truncate(time.Second)
		_, err = store.PutAccount(ctx, a)
		if errors.Is(err, reply.ErrConflict) {
			continue
		}
		if err != nil {
			return c.fail(fmt.Errorf("store account %s: %w", a.ID, err))
		}
		if pause {
			fmt.Fprintf(stdout, "paused account %s (version %d): its comments are skipped (SKIPPED paused) until replywindow accounts resume %s\n", a.ID, a.Version, a.ID)
		} else {
			fmt.Fprintf(stdout, "resumed account %s (version %d): comments are answered again\n", a.ID, a.Version)
		}
		return exitOK
	}
	return c.fail(fmt.Errorf("account %s keeps changing while this runs: run the command again", id))
}
