package sandbox

import (
	"fmt"
	"slices"
	"strings"
)

// metaFields are the webhook fields POST subscribed_apps takes for an Instagram account: those of
// Meta's Instagram webhook fields page (Oct 2026), which names reactions message_reactions and
// referrals messaging_referral, and the other names (reply.FieldAliases): messaging_reactions,
// as design.md §2 and replywindow name it, and messaging_referrals, as design.md §2 and
// Messenger name it. Which ones Meta really takes is not settled, so the sandbox takes both
// unless told (WithRefusedFields) to play one reading.
var metaFields = []string{"comments", "live_comments", "mentions", "message_reactions", "messages", "messaging_handover",
	"messaging_optins", "messaging_postbacks", "messaging_reactions", "messaging_referral", "messaging_referrals", "messaging_seen", "standby", "story_insights"}

// WithRefusedFields makes Meta refuse a subscription naming any of fields with code 100, as it
// refuses a field it does not know: nothing of that request is subscribed. The reading of Meta's
// docs where Instagram's reactions field is message_reactions is
// WithRefusedFields("messaging_reactions").
func WithRefusedFields(fields ...string) Option {
	return func(s *Sandbox) { s.refusedFields = append(s.refusedFields, fields...) }
}

// checkFields is Meta's answer to a subscription naming a field it does not take: 400, code 100,
// naming the parameter's index, the fields it takes and the field it got, as Graph answers a
// parameter outside its enum; nil when it takes them all.
func (s *Sandbox) checkFields(fields []string) *result {
	for i, f := range fields {
		if slices.Contains(metaFields, f) && !slices.Contains(s.refusedFields, f) {
			continue
		}
		known := slices.DeleteFunc(slices.Clone(metaFields), func(k string) bool { return slices.Contains(s.refusedFields, k) })
		r := refuse(400, 100, 0, "OAuthException", fmt.Sprintf("(#100) Param subscribed_fields[%d] must be one of {%s} - got %q", i, strings.Join(known, ", "), f))
		return &r
	}
	return nil
}
