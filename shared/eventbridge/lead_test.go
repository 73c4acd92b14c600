package eventbridge_test

import (
	"errors"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

// TestLeadCapturedOnMoto: a lead's event rides on the lead's own conditional write (DynamoDB on
// moto), goes out as documented, once; a second answer stores and publishes nothing; a put that
// failed after the lead was stored is published by the sweeper's drain; events off publish
// nothing.
func TestLeadCapturedOnMoto(t *testing.T) {
	s := newStack(t)
	ctx := awstest.Context(t)
	first := eventstest.Lead("ana@example.com")
	if _, err := s.outbox.CreateLead(ctx, first); err != nil {
		t.Fatal(err)
	}
	kind, d := s.one(t)
	if want := events.OfLead(first).Detail; kind != "LeadCaptured" || d != want {
		t.Errorf("received %s %+v, want LeadCaptured %+v", kind, d, want)
	}
	stored, err := s.table.Lead(ctx, first.AccountID, first.PersonID, lead.KindEmail)
	if err != nil || !stored.EventsAt.IsZero() || s.pending(t) != 0 {
		t.Fatalf("after the put: lead mark %v (%v), %d pending", stored.EventsAt, err, s.pending(t))
	}

	// The person answers again (or a duplicate delivery): the first lead stays, no event.
	if _, err := s.outbox.CreateLead(ctx, eventstest.Lead("other@example.com")); !errors.Is(err, reply.ErrExists) {
		t.Fatalf("second answer: %v", err)
	}
	if got := s.kinds(t); len(got) != 0 || s.pending(t) != 0 {
		t.Fatalf("after a second answer: received %v, %d pending", got, s.pending(t))
	}

	// The bus fails after the lead was stored: the lead is kept, marked, and the drain
	// publishes its event once the bus is back.
	s.bus.down = true
	phone := eventstest.Lead("+4915123456789")
	phone.Kind = lead.KindPhone
	if _, err := s.outbox.CreateLead(ctx, phone); err != nil {
		t.Fatalf("lead with the bus down: %v", err)
	}
	if s.pending(t) != 1 {
		t.Fatalf("%d pending, want the phone lead's event", s.pending(t))
	}
	s.clock.Add(2 * time.Minute)
	if rep, err := s.drain.Run(ctx); err == nil || rep.Failed != 1 {
		t.Fatalf("drain with the bus down: %+v, %v", rep, err)
	}
	s.bus.down = false
	if rep, err := s.drain.Run(ctx); err != nil || rep.Published != 1 || rep.Cleared != 1 {
		t.Fatalf("drain: %+v, %v", rep, err)
	}
	if _, d = s.one(t); d != events.OfLead(phone).Detail {
		t.Errorf("drained %+v, want %+v", d, events.OfLead(phone).Detail)
	}
	if rep, err := s.drain.Run(ctx); err != nil || rep.Pending != 0 || s.pending(t) != 0 {
		t.Errorf("second drain: %+v, %v", rep, err)
	}

	// Events off: the conversation writes the lead through the table itself: no mark, no event.
	other := eventstest.Lead("bo@example.com")
	other.PersonID = "6200000000000043"
	if _, err := s.table.CreateLead(ctx, other); err != nil {
		t.Fatal(err)
	}
	s.clock.Add(2 * time.Minute)
	if rep, err := s.drain.Run(ctx); err != nil || rep.Pending != 0 || len(s.Received(t)) != 0 {
		t.Errorf("events off: drain %+v, %v", rep, err)
	}
}
