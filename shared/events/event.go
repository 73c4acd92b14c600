// Package events is the funnel's events out: what a consumer on the stack's EventBridge bus
// receives for each state change (a private reply sent, a tap, a follow-up, a lead...), with a
// stable id derived from the change, and the outbox that delivers them at least once and never
// for a change that did not happen. It knows no AWS: the bus is the Bus port
// (shared/eventbridge implements it).
package events

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Source is the source of every event the stack puts on its bus.
const Source = "replywindow"

// Version is the version of the events' detail format; a consumer refuses versions it does not
// know. It changes only when a field changes meaning or goes away (new optional fields do not).
const Version = 1

// Kind is an event's kind: its EventBridge detail-type.
type Kind string

const (
	PrivateReplySent   Kind = "PrivateReplySent"   // Meta accepted a comment's private reply
	ButtonTapped       Kind = "ButtonTapped"       // a person tapped a button or quick reply that runs a step
	FollowGatePassed   Kind = "FollowGatePassed"   // a follow gate found the person following and let the step through
	FollowUpSent       Kind = "FollowUpSent"       // Meta accepted one message of a conversation's step
	LinkClicked        Kind = "LinkClicked"        // a person first opened a tracked link (the stack's /l/{code} route)
	LeadCaptured       Kind = "LeadCaptured"       // a person's answer to a step that asks was valid and stored
	ConversationPaused Kind = "ConversationPaused" // a human on the account answered: automation leaves the person to them
	ReplyFailed        Kind = "ReplyFailed"        // a private reply or follow-up that Meta refused for good
	ReplyAmbiguous     Kind = "ReplyAmbiguous"     // a send that may or may not have reached the person
)

// Kinds lists every kind, in a stable order (one JSON Schema each in schema/).
var Kinds = []Kind{PrivateReplySent, ButtonTapped, FollowGatePassed, FollowUpSent, LinkClicked,
	LeadCaptured, ConversationPaused, ReplyFailed, ReplyAmbiguous}

// Event is one funnel event. Detail is what goes on the bus as the event's detail: ids and the
// funnel's names only, never a token, and no text a person wrote except a lead's value, which
// is what LeadCaptured is for.
type Event struct {
	Kind   Kind      `json:"-"`
	Detail Detail    `json:"-"`
	At     time.Time `json:"-"` // when the state changed: the event's time on the bus
}

// Detail is an event's detail. Fields that do not apply to a kind are left out (each kind's
// JSON Schema says which it has).
type Detail struct {
	// ID is stable: derived from the state change alone, so every publication of the same change
	// (a retry, the sweeper's redelivery) carries the same id and a consumer drops duplicates.
	ID      string `json:"id"`
	V       int    `json:"v"`
	At      string `json:"at"` // RFC 3339, milliseconds, UTC
	Account string `json:"account"`
	Rule    string `json:"rule"`    // the comment rule or DM rule ("" when the record does not name it)
	Step    string `json:"step"`    // the flow step ("" for a private reply)
	Variant string `json:"variant"` // the A/B variant ("" until variants exist)
	Person  string `json:"person"`  // the person's Instagram-scoped id (IGSID)

	Comment   string `json:"comment,omitempty"`    // the comment a private reply answered
	Media     string `json:"media,omitempty"`      // the post it was made on (an ad's original post)
	MessageID string `json:"message_id,omitempty"` // Meta's id of the message sent
	Index     *int   `json:"index,omitempty"`      // a follow-up's place in its step's messages, from 0
	Gate      bool   `json:"gate,omitempty"`       // the follow gate's own message ("follow us, then tap again")
	Trigger   string `json:"trigger,omitempty"`    // Meta's id of the inbound message or tap that ran the step
	Payload   string `json:"payload,omitempty"`    // the tapped button's payload (the account's own configuration)
	Reason    string `json:"reason,omitempty"`     // why a reply FAILED (Meta's code/subcode) or is AMBIGUOUS
	Link      string `json:"link,omitempty"`       // a tracked link's id in the counters (a hash of its URL)
	Click     string `json:"click,omitempty"`      // a first click's id (one per person and link)
	LeadKind  string `json:"lead_kind,omitempty"`  // email or phone
	Value     string `json:"value,omitempty"`      // the lead's checked value (an address, an E.164 number)
	Consent   string `json:"consent,omitempty"`    // the digest of the consent line the person saw, "" when none
}

// ID derives an event's stable id from its kind and the parts that name the state change.
func ID(kind Kind, parts ...string) string {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, p := range parts {
		// Length-prefixed, so no two lists of parts hash the same text.
		fmt.Fprintf(h, "|%d:%s", len(p), p)
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// newEvent fills the parts every event has.
func newEvent(kind Kind, at time.Time, account, person string, idParts ...string) Event {
	return Event{Kind: kind, At: at, Detail: Detail{
		ID: ID(kind, idParts...), V: Version, At: stamp(at), Account: account, Person: person,
	}}
}

// JSON is the event's detail as it goes on the bus.
func (e Event) JSON() ([]byte, error) {
	b, err := json.Marshal(e.Detail)
	if err != nil {
		return nil, fmt.Errorf("encode %s event %s: %w", e.Kind, e.Detail.ID, err)
	}
	return b, nil
}

// Validate names what makes e unfit for the bus: a kind not documented, or a part every event
// must have missing.
func (e Event) Validate() error {
	known := false
	for _, k := range Kinds {
		known = known || k == e.Kind
	}
	var missing []string
	for _, f := range [][2]string{{"id", e.Detail.ID}, {"at", e.Detail.At}, {"account", e.Detail.Account}, {"person", e.Detail.Person}} {
		if f[1] == "" {
			missing = append(missing, f[0])
		}
	}
	switch {
	case !known:
		return fmt.Errorf("event kind %q is not documented", e.Kind)
	case len(missing) > 0:
		return fmt.Errorf("%s event %s without %s", e.Kind, e.Detail.ID, strings.Join(missing, ", "))
	}
	return nil
}
