package webhook

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// now is when the test deliveries arrive: shortly after their entry.time (1763712000).
var now = time.Date(2025, 11, 21, 8, 0, 5, 0, time.UTC)

var sent = time.Unix(1763712000, 0).UTC() // entry.time of most test deliveries

func delivery(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "deliveries", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	const account = "17841400000000001"
	tests := []struct {
		file      string
		malformed bool
		object    string
		jobs      []reply.Job // compared field by field (V is always checked)
		messages  []Message
		own       int
		ignored   int
	}{
		{file: "comment.json", object: "instagram", jobs: []reply.Job{{
			AccountID: account, CommentID: "17900000000000001", MediaID: "18000000000000042", ProductType: "FEED",
			FromID: "17841400000000777", FromUsername: "jürgen.köche",
			Text: "Rezept bitte! Sieht köstlich aus 😍 https://example.com/r",
			Kind: reply.KindPost, CommentedAt: sent, DeliveredAt: sent,
		}}},
		{file: "comment-id-field.json", object: "instagram", jobs: []reply.Job{{
			AccountID: account, CommentID: "17900000000000002", MediaID: "18000000000000043", ProductType: "REELS",
			FromID: "17841400000000778", FromUsername: "ana", Text: "RECIPE", ParentID: "17900000000000001",
			Kind: reply.KindReel, CommentedAt: sent, DeliveredAt: sent,
		}}},
		{file: "meta-example.json", object: "instagram", jobs: []reply.Job{{
			AccountID: account, CommentID: "17900000000000003", MediaID: "18000000000000044", ProductType: "REELS",
			FromID: "17841400000000779", FromUsername: "bea", Text: "recipe please",
			Kind: reply.KindReel, CommentedAt: sent, DeliveredAt: sent,
		}}},
		{file: "live.json", object: "instagram", jobs: []reply.Job{{
			AccountID: account, CommentID: "17900000000000004", MediaID: "18000000000000045", ProductType: "LIVE",
			FromID: "17841400000000780", FromUsername: "carl", Text: "link?",
			Kind: reply.KindLive, CommentedAt: sent, DeliveredAt: sent,
		}}},
		{file: "ad.json", object: "instagram", ignored: 1, jobs: []reply.Job{{ // the duplicate notification
			AccountID: account, CommentID: "17900000000000005", MediaID: "18000000000000046", ProductType: "REELS",
			AdID: "23800000000000001", OriginalMediaID: "18000000000000040", FromID: "17841400000000781", FromUsername: "dora", Text: "info",
			Kind: reply.KindAd, CommentedAt: sent, DeliveredAt: sent,
		}}},
		{file: "own.json", object: "instagram", own: 1},
		{file: "mixed.json", object: "instagram", ignored: 5, jobs: []reply.Job{
			{AccountID: account, CommentID: "17900000000000007", MediaID: "18000000000000042", ProductType: "FEED",
				FromID: "17841400000000782", FromUsername: "eve", Text: "recipe", Kind: reply.KindPost, CommentedAt: sent, DeliveredAt: sent},
			{AccountID: "17841400000000002", CommentID: "17900000000000009", MediaID: "18000000000000050",
				FromID: "17841400000000783", FromUsername: "fred", Text: "RECIPE", Kind: reply.KindPost,
				CommentedAt: sent.Add(time.Second), DeliveredAt: sent.Add(time.Second)},
		}},
		{file: "messaging.json", object: "instagram", ignored: 2, messages: []Message{
			{AccountID: account, SenderID: "17841400000000790", RecipientID: account, MID: "aWdfZAG1faXRlbTox", Text: "Hallo ä", At: time.UnixMilli(1763711999000).UTC()},
			{AccountID: account, SenderID: "17841400000000791", RecipientID: account, MID: "aWdfZAG1faXRlbToz", Postback: "RECIPE", At: time.UnixMilli(1763712000050).UTC()},
		}},
		{file: "other-object.json", object: "page", ignored: 1},
		{file: "times.json", object: "instagram", jobs: []reply.Job{
			// entry.time in the future: the comment cannot be younger than its arrival.
			{AccountID: account, CommentID: "17900000000000010", MediaID: "18000000000000042", FromID: "17841400000000784",
				FromUsername: "future", Text: "from the future", Kind: reply.KindPost, CommentedAt: now, DeliveredAt: time.Unix(4102444800, 0).UTC()},
			{AccountID: account, CommentID: "17900000000000011", MediaID: "18000000000000042", FromID: "17841400000000785",
				FromUsername: "untimed", Text: "no time", Kind: reply.KindPost, CommentedAt: now, DeliveredAt: now},
			{AccountID: account, CommentID: "17900000000000012", MediaID: "18000000000000042", FromID: "17841400000000786",
				FromUsername: "millis", Text: "ms", Kind: reply.KindPost, CommentedAt: sent.Add(500 * time.Millisecond), DeliveredAt: sent.Add(500 * time.Millisecond)},
		}},
		{file: "no-ids.json", object: "instagram", ignored: 2},
		{file: "empty.json", object: "instagram"},
		{file: "truncated.json", malformed: true},
		{file: "not-object.json", malformed: true},
		{file: "entry-not-list.json", malformed: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d, err := Parse(delivery(t, tt.file), now)
			if tt.malformed {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("Parse error = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if d.Object != tt.object || d.OwnDropped != tt.own || d.Ignored != tt.ignored {
				t.Errorf("object %q, own %d, ignored %d; want %q, %d, %d", d.Object, d.OwnDropped, d.Ignored, tt.object, tt.own, tt.ignored)
			}
			if len(d.Jobs) != len(tt.jobs) {
				t.Fatalf("%d jobs, want %d: %+v", len(d.Jobs), len(tt.jobs), d.Jobs)
			}
			for i, want := range tt.jobs {
				want.V = reply.JobVersion
				if got := d.Jobs[i]; got != want {
					t.Errorf("job %d:\n got %+v\nwant %+v", i, got, want)
				}
				if err := d.Jobs[i].Validate(); err != nil {
					t.Errorf("job %d invalid: %v", i, err)
				}
			}
			if len(d.Messages) != len(tt.messages) {
				t.Fatalf("%d messages, want %d: %+v", len(d.Messages), len(tt.messages), d.Messages)
			}
			for i, want := range tt.messages {
				if got := d.Messages[i]; got != want {
					t.Errorf("message %d:\n got %+v\nwant %+v", i, got, want)
				}
			}
		})
	}
}

func TestEpoch(t *testing.T) {
	tests := []struct {
		in   epoch
		want time.Time
	}{
		{0, now},
		{-5, now},
		{1763712000, sent},
		{1763712000.25, sent.Add(250 * time.Millisecond)},
		{1763712000123, sent.Add(123 * time.Millisecond)},
		{1e16, now}, // nonsense: neither unit
	}
	for _, tt := range tests {
		if got := tt.in.at(now); !got.Equal(tt.want) {
			t.Errorf("epoch(%v).at = %v, want %v", float64(tt.in), got, tt.want)
		}
	}
}
