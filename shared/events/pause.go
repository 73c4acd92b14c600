package events

import (
	"context"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// OfPause is the ConversationPaused event of a conversation's latest pause by a human on the
// account (PausedBy, marked at EventsAt). A conversation keeps one pause: a later one that
// reaches further replaces it, and its mark the earlier one's.
func OfPause(c reply.Conversation) Event {
	return Paused(c.AccountID, c.PersonID, c.PausedBy, c.EventsAt)
}

// Touch moves the conversation; a human's pause (a touch with Pause and the echo's id) is
// marked for its ConversationPaused event in the same UpdateItem, and the event put once the
// store says the pause moved (an older or repeated echo writes nothing and publishes nothing).
func (s *OutboxStore) Touch(ctx context.Context, t reply.Touch) (reply.Conversation, error) {
	if t.Pause <= 0 || t.Echo == "" {
		return s.Store.Touch(ctx, t)
	}
	// Stores keep milliseconds: a touch that moves the pause by less moves nothing stored, and
	// must not be taken for a change.
	t.At, t.EventsAt = t.At.Truncate(time.Millisecond), s.Clock.Now()
	before, err := s.Store.Touch(ctx, t)
	if err != nil || !before.Moves(t) {
		return before, err
	}
	after := before.Touched(t)
	s.publish(ctx, []Event{OfPause(after)}, reply.Mark{Key: reply.ConversationKey(t.AccountID, t.PersonID), At: t.EventsAt})
	return before, nil
}
