package eventbridge_test

import (
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
	"github.com/replywindow/replywindow/shared/reply"
)

// TestConversationPausedOnMoto: a human's pause is marked in the conversation's own UpdateItem
// (DynamoDB on moto), its event goes out as documented; a repeated echo publishes nothing; a put
// that failed is published by the drain.
func TestConversationPausedOnMoto(t *testing.T) {
	s := newStack(t)
	ctx := awstest.Context(t)
	touch := reply.Touch{AccountID: eventstest.Account, PersonID: eventstest.Person, At: s.clock.Now(), Pause: time.Hour,
		Echo: "aWdfZAG1faXRlbTo5", Now: s.clock.Now()}
	if _, err := s.outbox.Touch(ctx, touch); err != nil { // the conversation's first write: a transaction
		t.Fatal(err)
	}
	kind, d := s.one(t)
	if kind != "ConversationPaused" || d.MessageID != touch.Echo || d.Person != eventstest.Person || s.pending(t) != 0 {
		t.Fatalf("received %s %+v, %d pending", kind, d, s.pending(t))
	}
	if _, err := s.outbox.Touch(ctx, touch); err != nil {
		t.Fatal(err)
	}
	if got := s.kinds(t); len(got) != 0 {
		t.Fatalf("a repeated echo published %v", got)
	}

	s.bus.down = true
	later := touch
	later.At, later.Echo, later.Now = touch.At.Add(time.Minute), "aWdfZAG1faXRlbTo6", s.clock.Now()
	if _, err := s.outbox.Touch(ctx, later); err != nil { // an UpdateItem on the stored conversation
		t.Fatal(err)
	}
	if s.pending(t) != 1 {
		t.Fatalf("%d pending with the bus down, want the pause's", s.pending(t))
	}
	s.bus.down = false
	s.clock.Add(2 * time.Minute)
	if rep, err := s.drain.Run(ctx); err != nil || rep.Published != 1 || rep.Cleared != 1 {
		t.Fatalf("drain: %+v, %v", rep, err)
	}
	c, err := s.table.Conversation(ctx, eventstest.Account, eventstest.Person)
	if err != nil {
		t.Fatal(err)
	}
	if _, d = s.one(t); d.MessageID != later.Echo || d.ID != events.ID(events.ConversationPaused, eventstest.Account, eventstest.Person, later.Echo) ||
		c.PausedBy != later.Echo || !c.EventsAt.IsZero() || s.pending(t) != 0 {
		t.Errorf("drained %+v; conversation %+v", d, c)
	}
}
