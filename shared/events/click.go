package events

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/replywindow/replywindow/shared/reply"
)

// OfClick is the LinkClicked event of a person's first click on a tracked link: the click whose
// guard the click route created (a repeat, a crawler's preview or a HEAD is none). The route
// only marks the guard, so the redirect waits for its one DynamoDB round trip and no put; the
// sweeper's drain publishes the event. Link is the link's id in the funnel's counters (a hash of
// its URL); Click names the guard, one per person and link, without its key.
func OfClick(c reply.MarkedClick) Event {
	sum := sha256.Sum256([]byte(c.Key))
	return Clicked(Click{Account: c.Origin.Account, Person: c.Origin.Person, Rule: c.Origin.Rule, Variant: c.Origin.Variant,
		Link: c.Link, ID: hex.EncodeToString(sum[:8]), At: c.At})
}
