package dynamo

import (
	"fmt"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/funnel"
)

// TestCountsMonthReads: a report of 30 days reads that month's counter items of the account and
// nothing else (no scan, no record), with one Query paged by DynamoDB's 1 MB pages. The figure
// for the note: requests and items for a viral account's month (2 rules, 2 variants each, 5
// media, every day).
func TestCountsMonthReads(t *testing.T) {
	api, table := newTable(t)
	c := Count(api)
	s := New(c, table)
	ctx := awstest.Context(t)
	end := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	const acct = "17841400000000001"
	written := 0
	for d := range 40 { // 40 days: 10 of them before the month
		day := end.AddDate(0, 0, -d)
		for _, rule := range []string{"recipe", "book"} {
			for _, v := range []string{"A", "B"} {
				for m := range 5 {
					tally := funnel.NewTally(acct, rule, v, fmt.Sprint(18000000000000000+m), day).
						With(funnel.Matched, funnel.Sent, funnel.Taps, funnel.FollowUps, funnel.WithReason(funnel.Skipped, "duplicate_person"))
					if err := s.AddCounts(ctx, tally); err != nil {
						t.Fatal(err)
					}
					written++
				}
			}
		}
	}
	if err := s.AddCounts(ctx, funnel.NewTally("17841400000000002", "recipe", "A", "1", end).With(funnel.Sent)); err != nil {
		t.Fatal(err)
	}
	c.Reset()
	rows, err := s.Counts(ctx, acct, end.AddDate(0, 0, -29), end)
	if err != nil {
		t.Fatal(err)
	}
	ops := c.ByOp()
	t.Logf("30 days of a viral account: %d counter items read (of %d written over 40 days) in %d Query requests, %d Scan, %d GetItem",
		len(rows), written, ops["Query"], ops["Scan"], ops["GetItem"])
	if want := 30 * 2 * 2 * 5; len(rows) != want {
		t.Errorf("%d rows, want %d", len(rows), want)
	}
	if ops["Scan"] != 0 || ops["GetItem"] != 0 || ops["Query"] < 1 || ops["Query"] > 2 {
		t.Errorf("reads %v: want one or two Query pages and nothing else", ops)
	}
	for _, r := range rows {
		if r.Counts["sent"] != 1 || r.Counts["skipped:duplicate_person"] != 1 || r.Account != acct {
			t.Fatalf("row %+v", r)
		}
	}
}
