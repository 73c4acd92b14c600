package events_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

func TestLeadCapturedPublishedOnceWithItsLead(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		answers []string // each an answer that reaches CreateLead
		fail    bool     // the bus refuses the put after the write
		want    string   // the value of the one LeadCaptured event; "" for none
	}{
		{"one answer", []string{"ana@example.com"}, false, "ana@example.com"},
		{"a second answer stores and publishes nothing", []string{"ana@example.com", "other@example.com"}, false, "ana@example.com"},
		{"put refused: the drain publishes it", []string{"ana@example.com"}, true, "ana@example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := newOutboxWorld()
			if tc.fail {
				w.bus.Fail = func(events.Event) string { return "ThrottlingException: Rate exceeded" }
			}
			for i, v := range tc.answers {
				_, err := w.store.CreateLead(ctx, eventstest.Lead(v))
				if (i == 0) != (err == nil) || (i > 0 && !errors.Is(err, reply.ErrExists)) {
					t.Fatalf("answer %d: %v", i, err)
				}
			}
			if tc.fail {
				if got := len(w.bus.Events()); got != 0 || w.pending(t) != 1 {
					t.Fatalf("put refused: %d published, %d pending; want 0, 1", got, w.pending(t))
				}
				w.bus.Fail = nil
				w.clock.Add(2 * time.Minute)
				if rep, err := w.drain.Run(ctx); err != nil || rep.Published != 1 || rep.Cleared != 1 {
					t.Fatalf("drain: %+v, %v", rep, err)
				}
			}
			evs := w.bus.Events()
			if len(evs) != 1 || evs[0].Kind != events.LeadCaptured || evs[0].Detail.Value != tc.want {
				t.Fatalf("published %+v; want one LeadCaptured of %s", evs, tc.want)
			}
			stored, err := w.inner.Lead(ctx, eventstest.Account, eventstest.Person, lead.KindEmail)
			if err != nil || !stored.EventsAt.IsZero() || w.pending(t) != 0 {
				t.Fatalf("after publication: lead %+v, %v, %d pending", stored, err, w.pending(t))
			}
			if want := events.OfLead(stored); evs[0].Detail != want.Detail {
				t.Errorf("published %+v, want the stored lead's %+v", evs[0].Detail, want.Detail)
			}
			if rep, err := w.drain.Run(ctx); err != nil || rep.Pending != 0 {
				t.Errorf("drain after: %+v, %v", rep, err)
			}
		})
	}
}

// A lead a data deletion removed before its event went out takes its mark with it: nothing is
// published for a person who asked to be forgotten, and the drain is not stuck on it.
func TestForgottenLeadIsNotPublished(t *testing.T) {
	ctx := context.Background()
	w := newOutboxWorld()
	w.bus.Fail = func(events.Event) string { return "down" }
	if _, err := w.store.CreateLead(ctx, eventstest.Lead("ana@example.com")); err != nil {
		t.Fatal(err)
	}
	if err := w.store.DeleteLead(ctx, eventstest.Account, eventstest.Person, lead.KindEmail); err != nil {
		t.Fatal(err)
	}
	w.bus.Fail = nil
	w.clock.Add(2 * time.Minute)
	if rep, err := w.drain.Run(ctx); err != nil || rep.Pending != 0 || len(w.bus.Events()) != 0 {
		t.Fatalf("drain: %+v, %v, %d published", rep, err, len(w.bus.Events()))
	}
}

func TestLeadEventID(t *testing.T) {
	l := eventstest.Lead("ana@example.com")
	again := l
	again.EventsAt = eventstest.T0.Add(time.Hour) // the drain's read: the mark is no part of the event
	later := l
	later.CapturedAt = l.CapturedAt.Add(400 * 24 * time.Hour) // captured anew after its retention
	phone := l
	phone.Kind, phone.Value = lead.KindPhone, "+4915123456789"
	id := events.OfLead(l).Detail.ID
	for _, tc := range []struct {
		name string
		l    lead.Lead
		same bool
	}{{"the same lead read again", again, true}, {"a lead captured anew", later, false}, {"the phone beside it", phone, false}} {
		if got := events.OfLead(tc.l).Detail.ID; (got == id) != tc.same {
			t.Errorf("%s: id %s, first %s; same wanted %v", tc.name, got, id, tc.same)
		}
	}
}

// The event names the consent line by its digest, never its text, within the schema's bound.
func TestLeadEventConsentDigest(t *testing.T) {
	l := eventstest.Lead("ana@example.com")
	d := events.OfLead(l).Detail
	if d.Consent != events.ConsentDigest(l.Consent) || len(d.Consent) != 16 || d.Consent == l.Consent {
		t.Errorf("consent %q, want the 16-digit digest of %q", d.Consent, l.Consent)
	}
	l.Consent = ""
	if d := events.OfLead(l).Detail; d.Consent != "" {
		t.Errorf("no consent line: %q", d.Consent)
	}
}
