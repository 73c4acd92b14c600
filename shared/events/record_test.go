package events_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
	"github.com/replywindow/replywindow/shared/reply"
)

func TestOfRecord(t *testing.T) {
	comment, follow := eventstest.Comment(), eventstest.FollowUp()
	notice := eventstest.FollowUp()
	n := *notice.FollowUp
	n.Notice = true
	notice.FollowUp = &n
	sent := reply.Sent("mid.1", eventstest.Person)
	tests := []struct {
		name   string
		rec    reply.Record
		kind   events.Kind // "" for none
		detail string
	}{
		{"private reply sent", eventstest.Finished(comment, sent), events.PrivateReplySent,
			`{"id":"","v":1,"at":"2026-12-06T14:00:00.123Z","account":"17841400000000001","rule":"","step":"","variant":"","person":"6200000000000042","comment":"17900000000000042","media":"18000000000000001","message_id":"mid.1"}`},
		{"follow-up sent", eventstest.Finished(follow, sent), events.FollowUpSent,
			`{"id":"","v":1,"at":"2026-12-06T14:00:00.123Z","account":"17841400000000001","rule":"recipe","step":"link","variant":"","person":"6200000000000042","message_id":"mid.1","index":1,"trigger":"aWdfZAG1faXRlbTox"}`},
		{"private reply failed", eventstest.Finished(comment, eventstest.Failed), events.ReplyFailed,
			`{"id":"","v":1,"at":"2026-12-06T14:00:00.123Z","account":"17841400000000001","rule":"","step":"","variant":"","person":"6200000000000042","comment":"17900000000000042","media":"18000000000000001","reason":"551/1545041"}`},
		{"follow-up ambiguous", eventstest.Finished(follow, eventstest.Ambiguous), events.ReplyAmbiguous,
			`{"id":"","v":1,"at":"2026-12-06T14:00:00.123Z","account":"17841400000000001","rule":"recipe","step":"link","variant":"","person":"6200000000000042","index":1,"trigger":"aWdfZAG1faXRlbTox","reason":"uncertain_retries_exhausted"}`},
		{"skipped", eventstest.Finished(comment, reply.Skipped(reply.SkipNoRule)), "", ""},
		{"expired", eventstest.Finished(comment, reply.Outcome{State: reply.StateExpired, Reason: "10/2534022"}), "", ""},
		{"leased", reply.NewRecord(comment, eventstest.T0), "", ""},
		{"disclosure notice sent", eventstest.Finished(notice, sent), "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, ok := events.OfRecord(tc.rec)
			if ok != (tc.kind != "") || ev.Kind != tc.kind {
				t.Fatalf("OfRecord = %q, %v; want %q", ev.Kind, ok, tc.kind)
			}
			if !ok {
				if events.Due(reply.Record{}, tc.rec) {
					t.Error("Due for a change without an event")
				}
				return
			}
			if want := events.ID(tc.kind, tc.rec.Key); ev.Detail.ID != want {
				t.Errorf("id %s, want %s (kind and key)", ev.Detail.ID, want)
			}
			ev.Detail.ID = ""
			got, err := ev.JSON()
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.detail {
				t.Errorf("detail\n got %s\nwant %s", got, tc.detail)
			}
			if !events.Due(reply.Record{}, tc.rec) || events.Due(tc.rec, tc.rec) {
				t.Error("Due is not exactly the entry into the state")
			}
		})
	}
}

func TestIDsAreStableAndDistinct(t *testing.T) {
	seen := map[string]events.Kind{}
	for _, ev := range eventstest.All() {
		if prev, dup := seen[ev.Detail.ID]; dup {
			t.Errorf("%s and %s share id %s", prev, ev.Kind, ev.Detail.ID)
		}
		seen[ev.Detail.ID] = ev.Kind
	}
	// The same change made again (a retry, a redelivery) has the same id; another has another.
	a := events.Tapped(events.Tap{Account: "1", Person: "2", Trigger: "m1", At: eventstest.T0})
	b := events.Tapped(events.Tap{Account: "1", Person: "2", Trigger: "m1", At: eventstest.T0.Add(5)})
	c := events.Tapped(events.Tap{Account: "1", Person: "2", Trigger: "m2", At: eventstest.T0})
	if a.Detail.ID != b.Detail.ID || a.Detail.ID == c.Detail.ID {
		t.Errorf("tap ids: same tap %s/%s, another tap %s", a.Detail.ID, b.Detail.ID, c.Detail.ID)
	}
	// Parts are length-prefixed: moving a boundary makes another id.
	if events.ID(events.LeadCaptured, "1", "23") == events.ID(events.LeadCaptured, "12", "3") {
		t.Error("ids collide when parts shift")
	}
}

func TestValidate(t *testing.T) {
	good := eventstest.All()[0]
	tests := []struct {
		name  string
		edit  func(*events.Event)
		valid bool
	}{
		{"as made", func(*events.Event) {}, true},
		{"unknown kind", func(e *events.Event) { e.Kind = "Sneezed" }, false},
		{"no person", func(e *events.Event) { e.Detail.Person = "" }, false},
		{"no account", func(e *events.Event) { e.Detail.Account = "" }, false},
		{"no id", func(e *events.Event) { e.Detail.ID = "" }, false},
	}
	for _, tc := range tests {
		e := good
		tc.edit(&e)
		if err := e.Validate(); (err == nil) != tc.valid {
			t.Errorf("%s: Validate() = %v", tc.name, err)
		}
	}
}

func TestDetailHasNoTokenOrCommentText(t *testing.T) {
	// The job holds the comment's text and the person's username: neither goes out.
	for _, ev := range eventstest.All() {
		b, _ := ev.JSON()
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"text", "username", "token", "from_username"} {
			if _, ok := m[f]; ok {
				t.Errorf("%s detail has %q", ev.Kind, f)
			}
		}
	}
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		bus, timeout string
		on           bool
		put          time.Duration
		bad          bool
	}{
		{"", "", false, events.PutTimeout, false},
		{"prod-events", "", true, events.PutTimeout, false},
		{"arn:aws:events:eu-west-1:123456789012:event-bus/prod-events", "3s", true, 3 * time.Second, false},
		{"prod events", "", false, 0, true},
		{strings.Repeat("b", 256), "", true, events.PutTimeout, false},
		{strings.Repeat("b", 257), "", false, 0, true},
		{"arn:aws:events:eu-west-1:123456789012:event-bus/" + strings.Repeat("b", 257), "", false, 0, true},
		{"prod-events", "1 second", false, 0, true},
		{"prod-events", "1m", false, 0, true},
	}
	for _, tc := range tests {
		env := map[string]string{"EVENT_BUS_NAME": tc.bus, "EVENT_PUT_TIMEOUT": tc.timeout}
		c, err := events.LoadConfig(func(k string) string { return env[k] })
		if (err != nil) != tc.bad || c.On() != tc.on || c.PutTimeout != tc.put {
			t.Errorf("%v: %+v, %v", env, c, err)
		}
	}
}
