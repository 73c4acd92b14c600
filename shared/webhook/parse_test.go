package webhook

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
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
		events    []reply.Job // messaging events' jobs, compared whole
		seen      int
		own       int
		ignored   int
		rejected  int
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
		// every shape of messaging event; the duplicate, the read, the unsent message and the
		// one without a mid are counted, not enqueued
		{file: "messaging.json", object: "instagram", ignored: 3, seen: 1, events: []reply.Job{
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventMessage, PersonID: "17841400000000790", MID: "aWdfZAG1faXRlbTox", At: time.UnixMilli(1763711999000).UTC(), Text: "Hallo ä"}},
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventEcho, PersonID: "17841400000000790", MID: "aWdfZAG1faXRlbToy", At: time.UnixMilli(1763712000000).UTC(), Text: "echo", AppID: "1517776481860111"}},
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventPostback, PersonID: "17841400000000791", MID: "aWdfZAG1faXRlbToz", At: time.UnixMilli(1763712000050).UTC(), Text: "Get the recipe", Payload: "RECIPE"}},
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventQuickReply, PersonID: "17841400000000793", MID: "aWdfZAG1faXRlbTo0", At: time.UnixMilli(1763712000070).UTC(), Text: "Yes please", Payload: "YES"}},
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventStoryReply, PersonID: "17841400000000794", MID: "aWdfZAG1faXRlbTo1", At: time.UnixMilli(1763712000080).UTC(), Text: "love it"}},
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventMessage, PersonID: "17841400000000795", MID: "aWdfZAG1faXRlbTo2", At: time.UnixMilli(1763712000090).UTC()}},
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventReaction, PersonID: "17841400000000796", MID: "aWdfZAG1faXRlbTo3", At: time.UnixMilli(1763712000100).UTC(), Text: "react"}},
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventEcho, PersonID: "17841400000000797", MID: "aWdfZAG1faXRlbTo4", At: time.UnixMilli(1763712000110).UTC(), Text: "typed in the app"}},
		}},
		// the entry points: a story mention (no URL kept), a ref on a first message, a
		// messaging_referral event (its id from its time), a ref on an ice breaker's tap; a
		// referral without a ref, one with a ref Meta never sends and a redelivered one are
		// counted, and a message whose ref is odd is kept without it
		{file: "entries.json", object: "instagram", ignored: 3, events: []reply.Job{
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventStoryMention, PersonID: "17841400000000800", MID: "aWdfZAG1faXRlbTo5", At: time.UnixMilli(1763711999000).UTC()}},
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventMessage, PersonID: "17841400000000801", MID: "aWdfZAG1faXRlbToxMA", At: time.UnixMilli(1763711999100).UTC(), Text: "hi", Ref: "recipe-qr"}},
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventReferral, PersonID: "17841400000000802", MID: "ref.17841400000000802.1763711999200", At: time.UnixMilli(1763711999200).UTC(), Ref: "recipe-bio"}},
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventPostback, PersonID: "17841400000000803", MID: "aWdfZAG1faXRlbToxMQ", At: time.UnixMilli(1763711999300).UTC(), Text: "What's cooking?", Payload: "ASK_RECIPE", Ref: "summer=1"}},
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventMessage, PersonID: "17841400000000806", MID: "aWdfZAG1faXRlbToxMg", At: time.UnixMilli(1763711999600).UTC(), Text: "hey"}},
		}},
		// items that do not fit are left out alone; the good events around them go on
		{file: "messaging-odd.json", object: "instagram", ignored: 2, rejected: 1, events: []reply.Job{
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventMessage, PersonID: "17841400000000790", MID: "aWdfZAG1faXRlbTox", At: time.UnixMilli(1763711999000).UTC(), Text: "fine"}},
			{V: reply.JobVersion, AccountID: account, DeliveredAt: time.UnixMilli(1763712000123).UTC(), Event: &reply.Event{Kind: reply.EventPostback, PersonID: "17841400000000792", MID: "m3", At: time.UnixMilli(1763711999500).UTC(), Text: "Go", Payload: "GO"}},
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
		// "time":"NaN", ids that are not digits, times past the year 9999: each item alone is
		// rejected; the good comments, the last representable time among them, go on.
		{file: "bad-values.json", object: "instagram", rejected: 9, jobs: []reply.Job{
			{AccountID: account, CommentID: "17900000000000020", MediaID: "18000000000000042", FromID: "17841400000000793",
				FromUsername: "good", Text: "recipe", Kind: reply.KindPost, CommentedAt: sent, DeliveredAt: sent},
			{AccountID: account, CommentID: "17900000000000021", MediaID: "18000000000000042", FromID: "17841400000000797",
				FromUsername: "last", Text: "recipe", Kind: reply.KindPost, CommentedAt: now, DeliveredAt: time.UnixMilli(253402300799999).UTC()},
		}},
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
			if d.Object != tt.object || d.OwnDropped != tt.own || d.Ignored != tt.ignored || d.Rejected != tt.rejected {
				t.Errorf("object %q, own %d, ignored %d, rejected %d; want %q, %d, %d, %d", d.Object, d.OwnDropped, d.Ignored, d.Rejected, tt.object, tt.own, tt.ignored, tt.rejected)
			}
			var comments, events []reply.Job
			for _, j := range d.Jobs {
				if j.Event != nil {
					events = append(events, j)
				} else {
					comments = append(comments, j)
				}
			}
			d.Jobs = comments
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
			if d.Messaging != len(tt.events) || d.Seen != tt.seen {
				t.Errorf("messaging %d, seen %d; want %d, %d", d.Messaging, d.Seen, len(tt.events), tt.seen)
			}
			for i, want := range tt.events {
				if i >= len(events) {
					t.Fatalf("%d events, want %d", len(events), len(tt.events))
				}
				if got := events[i]; !reflect.DeepEqual(got, want) {
					t.Errorf("event %d:\n got %+v %+v\nwant %+v %+v", i, got, got.Event, want, want.Event)
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
		{maxEpoch, time.UnixMilli(maxEpoch).UTC()},
		{1e16, now}, // nonsense, and refused by UnmarshalJSON
	}
	for _, tt := range tests {
		if got := tt.in.at(now); !got.Equal(tt.want) {
			t.Errorf("epoch(%v).at = %v, want %v", float64(tt.in), got, tt.want)
		}
	}
}

// TestEpochJSON: a time Meta could send decodes; one that is no time, or later than a job's
// four-digit years, is errBadValue (the item is rejected, the delivery goes on).
func TestEpochJSON(t *testing.T) {
	tests := []struct {
		in  string
		bad bool
	}{
		{`1763712000`, false}, {`"1763712000"`, false}, {`1763712000.5`, false}, {`null`, false},
		{`0`, false}, {`-1`, false}, {`253402300799999`, false},
		{`"NaN"`, true}, {`"nan"`, true}, {`"Infinity"`, true}, {`"-Inf"`, true}, {`1e300`, true},
		{`-1e300`, true}, {`253402300800000`, true}, {`"1e16"`, true},
	}
	for _, tt := range tests {
		var e epoch
		err := json.Unmarshal([]byte(tt.in), &e)
		if tt.bad != errors.Is(err, errBadValue) || !tt.bad && err != nil {
			t.Errorf("epoch %s: err %v, want bad = %v", tt.in, err, tt.bad)
		}
	}
	var e epoch
	if err := json.Unmarshal([]byte(`"soon"`), &e); err == nil || errors.Is(err, errBadValue) {
		t.Errorf("a word: %v, want a plain decode error (ignored, not rejected)", err)
	}
}

// TestIDJSON: ids are digits, as strings or numbers; anything else is errBadValue.
func TestIDJSON(t *testing.T) {
	for in, want := range map[string]string{`"17841400000000001"`: "17841400000000001", `17841400000000001`: "17841400000000001", `null`: "", `""`: ""} {
		var i id
		if err := json.Unmarshal([]byte(in), &i); err != nil || string(i) != want {
			t.Errorf("id %s = %q, %v; want %q", in, i, err, want)
		}
	}
	for _, in := range []string{`"abc"`, `"../1"`, `"1/messages"`, `-5`, `1e5`, `1.5`, `"17841400000000001 "`, `"1\u00002"`} {
		var i id
		if err := json.Unmarshal([]byte(in), &i); !errors.Is(err, errBadValue) {
			t.Errorf("id %s: err %v, want errBadValue", in, err)
		}
	}
}
