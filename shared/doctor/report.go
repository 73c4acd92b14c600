package doctor

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// WriteText writes the report as aligned lines, each fix on the line below its check, and a
// summary line.
func (r Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCOUNT\tCHECK\tSTATUS\tDETAIL")
	for _, c := range r.Checks {
		acct := c.Account
		if acct == "" {
			acct = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", acct, c.Name, c.Status, c.Detail)
		if c.Fix != "" {
			fmt.Fprintf(tw, "\t\t\t→ %s\n", c.Fix)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	n := map[Status]int{}
	for _, c := range r.Checks {
		n[c.Status]++
	}
	_, err := fmt.Fprintf(w, "%d ok, %d warn, %d fail\n", n[OK], n[Warn], n[Fail])
	return err
}

// DueScan counts an account's parked records through the sweeper's index of unfinished records
// (every one is due by its deadline, at most reply.Window ahead), reading at most Cap records
// (0: 100,000); past it the count is a lower bound.
type DueScan struct {
	Records reply.Replies
	Cap     int
}

// Parked is the account's parked records and the earliest time one of them was last parked.
func (s DueScan) Parked(ctx context.Context, account string, now time.Time) (int, time.Time, error) {
	limit := s.Cap
	if limit <= 0 {
		limit = 100_000
	}
	before := now.Add(reply.Window + time.Hour)
	cursor, seen, n := "", 0, 0
	var oldest time.Time
	for {
		recs, next, err := s.Records.Due(ctx, before, cursor, 500)
		if err != nil {
			return 0, time.Time{}, fmt.Errorf("read unfinished records: %w", err)
		}
		for _, r := range recs {
			seen++
			if r.AccountID != account || r.State != reply.StateParked {
				continue
			}
			n++
			if oldest.IsZero() || r.UpdatedAt.Before(oldest) {
				oldest = r.UpdatedAt
			}
		}
		if next == "" || seen >= limit {
			return n, oldest, nil
		}
		cursor = next
	}
}
