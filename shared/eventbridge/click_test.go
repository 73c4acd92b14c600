package eventbridge_test

import (
	"errors"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
	"github.com/replywindow/replywindow/shared/reply"
)

// TestLinkClickedOnMoto: a first click's guard carries its mark and the event's parts in the
// click's own transaction (DynamoDB on moto); the drain publishes LinkClicked as documented and
// removes the parts with the mark; a replayed click and a click with events off publish nothing.
func TestLinkClickedOnMoto(t *testing.T) {
	s := newStack(t)
	ctx := awstest.Context(t)
	c := eventstest.Click(s.clock.Now(), true)
	if first, err := s.table.RecordClick(ctx, c); err != nil || !first {
		t.Fatalf("first click: %v, %v", first, err)
	}
	replay := c
	replay.At = c.At.Add(time.Second)
	if first, err := s.table.RecordClick(ctx, replay); err != nil || first {
		t.Fatalf("replayed click: %v, %v", first, err)
	}
	off := eventstest.Click(s.clock.Now(), false)
	off.Origin.Person = "6200000000000099"
	if _, err := s.table.RecordClick(ctx, off); err != nil {
		t.Fatal(err)
	}
	if s.pending(t) != 1 {
		t.Fatalf("%d pending, want the first click's", s.pending(t))
	}
	s.clock.Add(2 * time.Minute)
	if rep, err := s.drain.Run(ctx); err != nil || rep.Published != 1 || rep.Cleared != 1 {
		t.Fatalf("drain: %+v, %v", rep, err)
	}
	kind, d := s.one(t)
	key := reply.ClickGuardKey(c.Origin.Account, c.Origin.Person, c.Link)
	want := events.OfClick(reply.MarkedClick{Key: key, Origin: c.Origin, Link: c.Link, At: c.At, EventsAt: c.At}).Detail
	if kind != "LinkClicked" || d != want {
		t.Errorf("received %s %+v, want LinkClicked %+v", kind, d, want)
	}
	if _, err := s.table.MarkedClick(ctx, key); !errors.Is(err, reply.ErrNotFound) {
		t.Errorf("guard after the drain: %v; want its event parts gone", err)
	}
	if rep, err := s.drain.Run(ctx); err != nil || rep.Pending != 0 || len(s.Received(t)) != 0 {
		t.Errorf("second drain: %+v, %v", rep, err)
	}
}

// TestForgottenClickOnMoto: a tombstone written after the first click, before the drain: the
// guard's mark is cleared (the person's id with it) and nothing is published.
func TestForgottenClickOnMoto(t *testing.T) {
	s := newStack(t)
	ctx := awstest.Context(t)
	c := eventstest.Click(s.clock.Now(), true)
	if _, err := s.table.RecordClick(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.table.PutTombstone(ctx, reply.Tombstone{PersonID: c.Origin.Person, At: c.At.Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	s.clock.Add(2 * time.Minute)
	if rep, err := s.drain.Run(ctx); err != nil || rep.Cleared != 1 || rep.Published != 0 {
		t.Fatalf("drain: %+v, %v", rep, err)
	}
	if got := s.Received(t); len(got) != 0 || s.pending(t) != 0 {
		t.Errorf("a forgotten person's click: received %d, %d pending", len(got), s.pending(t))
	}
}
