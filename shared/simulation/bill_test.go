package simulation

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
)

// TestBillOfASentReply holds the metered store to what the dynamo adapter asks of DynamoDB for
// one private reply claimed, sent and counted: the figures TestWriteUnitsPerSent measures on
// moto for the table (13 with the bucket), and the index writes moto does not report.
func TestBillOfASentReply(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	job := reply.Job{V: 1, AccountID: "17841400000000001", CommentID: "18000000000000101", MediaID: "18000000000000001",
		FromID: "9000000000000001", Text: "recipe", Kind: reply.KindReel, CommentedAt: at, DeliveredAt: at}
	tests := []struct {
		name   string
		finish bool // the claim is followed by the SENT outcome
		want   map[BillKey]Bill
	}{
		{"claim only", false, map[BillKey]Bill{
			{kindRecord, "TransactWriteItems"}:    {Requests: 1, WriteUnits: 2},
			{kindGuard, "TransactWriteItems"}:     {WriteUnits: 2},
			{kindTombstone, "TransactWriteItems"}: {WriteUnits: 4},
			{kindIndexDue, "TransactWriteItems"}:  {WriteUnits: 1},
		}},
		{"claim and sent", true, map[BillKey]Bill{
			{kindRecord, "TransactWriteItems"}:    {Requests: 2, WriteUnits: 4},
			{kindGuard, "TransactWriteItems"}:     {WriteUnits: 2},
			{kindTombstone, "TransactWriteItems"}: {WriteUnits: 4},
			{kindCounter, "TransactWriteItems"}:   {WriteUnits: 2},
			{kindIndexList, "TransactWriteItems"}: {WriteUnits: 1},
			{kindIndexDue, "TransactWriteItems"}:  {WriteUnits: 2}, // in at the claim, out at the end
			{kindIndexMsg, "TransactWriteItems"}:  {WriteUnits: 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := memory.NewClock(at)
			c := newCounters()
			s := &meteredStore{Store: memory.NewStore(), m: &model{lat: DefaultLatency}, c: c, clock: clock}
			rec, err := reply.NewRecord(job, at).Claim(job, "worker", at, at.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			rec.Funnel = reply.FunnelKey(job.AccountID, job.MediaID, job.FromID)
			rec.Rule = "recipe"
			if rec, err = s.Create(context.Background(), rec); err != nil {
				t.Fatal(err)
			}
			if tt.finish {
				done, err := rec.Finish(reply.Sent("m1", job.FromID), true, at.Add(time.Second))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.Update(context.Background(), done); err != nil {
					t.Fatal(err)
				}
			}
			got := c.billed()
			for k, w := range tt.want {
				if got[k] != w {
					t.Errorf("%s %s: %+v, want %+v", k.Kind, k.Op, got[k], w)
				}
			}
			for k, g := range got {
				if _, ok := tt.want[k]; !ok {
					t.Errorf("%s %s billed %+v, want nothing", k.Kind, k.Op, g)
				}
			}
			var b strings.Builder
			ScaleResult{Comments: 1, Bills: got}.Breakdown(&b)
			t.Log("\n" + b.String())
		})
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct{ key, want string }{
		{"C#18000000000000101", kindRecord},
		{reply.FunnelKey("1", "2", "3"), kindGuard},
		{reply.BucketKey("1", reply.LanePosts), kindBucket},
		{"N#1#recipe", kindCounter},
		{"Z#what", "Z# other"},
		{"nohash", "other"},
	}
	for _, tt := range tests {
		if got := kindOf(tt.key); got != tt.want {
			t.Errorf("kindOf(%q) = %q, want %q", tt.key, got, tt.want)
		}
	}
}
