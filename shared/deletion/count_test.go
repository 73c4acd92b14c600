package deletion

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
)

// Count finds what the worker would remove and removes and writes nothing.
func TestCount(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	store := memory.NewStore()
	const acct, person, other = "17841400000000001", "900000001", "900000002"
	for i, from := range []string{person, other, person, person} {
		j := reply.Job{V: reply.JobVersion, AccountID: acct, CommentID: fmt.Sprintf("1790000000000000%d", i), FromID: from, Kind: reply.KindPost, CommentedAt: now}
		if _, err := store.Create(ctx, reply.NewSkipped(j, reply.SkipNoRule, now)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.Touch(ctx, reply.Touch{AccountID: acct, PersonID: person, At: now, Now: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.PutAccount(ctx, reply.Account{ID: acct, Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateLead(ctx, lead.Lead{AccountID: acct, PersonID: person, Kind: lead.KindEmail, Value: "ana@example.com",
		Rule: "recipe", Step: "email", CapturedAt: now, ExpiresAt: now.Add(lead.DefaultRetention)}); err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{"Lk1", "Lk2", "Lk1"} { // two links, one clicked twice: two records
		c := reply.Click{Origin: reply.Origin{Account: acct, Rule: "recipe", Person: person}, Link: link, Target: "https://example.com/" + link,
			At: now, Issued: now.Add(-time.Hour), Until: now.Add(24 * time.Hour)}
		if _, err := store.RecordClick(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	w := &Worker{Store: store, Leads: store, Clicks: store, PageSize: 2} // several pages
	tests := []struct {
		person string
		want   Matches
	}{
		{person, Matches{Records: 3, Conversations: 1, Leads: 1, Clicks: 2}},
		{other, Matches{Records: 1}},
		{"900000003", Matches{}},
	}
	for _, tt := range tests {
		got, err := w.Count(ctx, reply.Deletion{Kind: reply.DeletionPerson, UserID: tt.person})
		if err != nil || got != tt.want {
			t.Errorf("Count(%s) = %+v, %v; want %+v", tt.person, got, err, tt.want)
		}
	}
	recs, _, _ := store.Scan(ctx, "", 100)
	if len(recs) != 4 {
		t.Errorf("%d records after Count, want the 4 it read", len(recs))
	}
	if _, err := store.Create(ctx, reply.NewSkipped(reply.Job{V: reply.JobVersion, AccountID: acct, CommentID: "17900000000000009", FromID: person, Kind: reply.KindPost, CommentedAt: now}, reply.SkipNoRule, now)); err != nil {
		t.Errorf("a tombstone was written: %v", err)
	}
}
