package events

import "time"

// Tap is a person's tap on a button or quick reply whose payload ran a step.
type Tap struct {
	Account, Person string
	Rule, Step      string
	Variant         string
	Payload         string // the account's payload of the button
	Trigger         string // Meta's message id of the tap (mid): one tap, one event
	At              time.Time
}

// Tapped is the ButtonTapped event of t.
func Tapped(t Tap) Event {
	e := newEvent(ButtonTapped, t.At, t.Account, t.Person, t.Account, t.Person, t.Trigger)
	e.Detail.Rule, e.Detail.Step, e.Detail.Variant, e.Detail.Payload, e.Detail.Trigger = t.Rule, t.Step, t.Variant, t.Payload, t.Trigger
	return e
}

// GatePassed is the FollowGatePassed event of the step a tap (trigger) let through the gate.
func GatePassed(account, person, rule, step, trigger string, at time.Time) Event {
	e := newEvent(FollowGatePassed, at, account, person, account, person, rule, step, trigger)
	e.Detail.Rule, e.Detail.Step, e.Detail.Trigger = rule, step, trigger
	return e
}

// Paused is the ConversationPaused event of a human's message on the account (its Meta message
// id, echo) that left the person to them.
func Paused(account, person, echo string, at time.Time) Event {
	e := newEvent(ConversationPaused, at, account, person, account, person, echo)
	e.Detail.MessageID = echo
	return e
}

// Click is one counted click of a tracked link (crawlers and previews are no clicks).
type Click struct {
	Account, Person string
	Rule, Step      string
	Variant         string
	Link            string // the link's code
	ID              string // the click's own id, fixed where the click is counted
	At              time.Time
}

// Clicked is the LinkClicked event of c.
func Clicked(c Click) Event {
	e := newEvent(LinkClicked, c.At, c.Account, c.Person, c.Link, c.ID)
	e.Detail.Rule, e.Detail.Step, e.Detail.Variant, e.Detail.Link, e.Detail.Click = c.Rule, c.Step, c.Variant, c.Link, c.ID
	return e
}

// Lead is a person's answer to a step that asks, once it was checked and stored: one lead per
// account, person and kind.
type Lead struct {
	Account, Person string
	Rule, Step      string
	Variant         string
	Kind            string // email or phone
	Value           string // the checked value: the address, or the number in E.164
	Consent         string // the digest of the consent line the person saw, "" when none
	At              time.Time
}

// Captured is the LeadCaptured event of l. Its id names the (account, person, kind) the lead
// item is keyed by and the lead's capture time: a second answer stores nothing and publishes
// nothing, every publication of the stored lead has its id, and a lead captured again after
// the first one's retention ended is a new change with a new id.
func Captured(l Lead) Event {
	e := newEvent(LeadCaptured, l.At, l.Account, l.Person, l.Account, l.Person, l.Kind, stamp(l.At))
	d := &e.Detail
	d.Rule, d.Step, d.Variant, d.LeadKind, d.Value, d.Consent = l.Rule, l.Step, l.Variant, l.Kind, l.Value, l.Consent
	return e
}
