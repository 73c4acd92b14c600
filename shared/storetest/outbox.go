package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

// OutboxStore is a store with the outbox of funnel events, which its leads carry too.
type OutboxStore interface {
	reply.Store
	lead.Store
	events.Outbox
}

// markKeys is the keys of marks.
func markKeys(marks []reply.Mark) []string {
	var keys []string
	for _, m := range marks {
		keys = append(keys, m.Key)
	}
	return keys
}

// Sent is job i's record after Meta accepted its reply at T0+i seconds (version 3: created
// leased, then finished), with the outbox mark its write would carry, or none when marked is zero.
func Sent(t *testing.T, i int, marked time.Time) reply.Record {
	t.Helper()
	at := T0.Add(time.Duration(i) * time.Second)
	r, err := reply.NewRecord(Job(i), at).Claim(Job(i), "w", at, at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	r, err = r.Finish(reply.Sent("mid.000"+Job(i).CommentID, Job(i).FromID), true, at)
	if err != nil {
		t.Fatal(err)
	}
	r.EventsAt = marked
	return r
}

// Outbox runs the outbox's contract: marks of records and leads listed oldest first up to a
// time and a limit, a mark cleared only while its item carries that very mark, the item
// otherwise unchanged.
func Outbox(t *testing.T, newStore func(t *testing.T) OutboxStore) {
	t.Run("ListsMarksInOrder", func(t *testing.T) {
		s := newStore(t)
		// Created out of order: the list follows the marks, not the writes.
		for _, i := range []int{3, 1, 2} {
			r := Sent(t, i, T0.Add(time.Duration(i)*time.Second))
			r.Version = 1
			create(t, s, r)
		}
		create(t, s, Parked(4, T0))         // no mark: not in the outbox
		unmarked := Sent(t, 5, time.Time{}) // terminal, but its event went out
		unmarked.Version = 1
		create(t, s, unmarked)
		l := Lead(person, "ana@example.com")
		l.EventsAt = T0.Add(1500 * time.Millisecond) // a lead between the records
		if _, err := s.CreateLead(ctx(t), l); err != nil {
			t.Fatal(err)
		}

		tests := []struct {
			before time.Time
			limit  int
			want   []string
		}{
			{T0.Add(time.Hour), 10, []string{Job(1).Key(), l.Key(), Job(2).Key(), Job(3).Key()}},
			{T0.Add(2 * time.Second), 10, []string{Job(1).Key(), l.Key(), Job(2).Key()}},
			{T0.Add(1500 * time.Millisecond), 10, []string{Job(1).Key(), l.Key()}},
			{T0.Add(1500*time.Millisecond - time.Millisecond), 10, []string{Job(1).Key()}},
			{T0.Add(time.Hour), 3, []string{Job(1).Key(), l.Key(), Job(2).Key()}},
			{T0, 10, nil},
		}
		for _, tc := range tests {
			marks, err := s.PendingEvents(ctx(t), tc.before, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			Same(t, "pending before "+tc.before.Format(time.RFC3339Nano), markKeys(marks), tc.want)
		}
		if _, err := s.PendingEvents(ctx(t), T0, 0); err == nil {
			t.Error("limit 0 accepted")
		}
	})

	t.Run("ClearsItsOwnMarkOnly", func(t *testing.T) {
		s := newStore(t)
		r := Sent(t, 1, T0.Add(time.Second))
		r.Version = 1
		r.StartEvents = true // its turn's start events ride on the same mark, and go with it
		create(t, s, r)
		if err := s.ClearEvents(ctx(t), reply.Mark{Key: r.Key, At: T0.Add(2 * time.Second)}); err != nil {
			t.Fatal(err)
		}
		if recs, _ := s.PendingEvents(ctx(t), T0.Add(time.Hour), 10); len(recs) != 1 {
			t.Fatalf("a clear of another mark cleared the record's: %d pending", len(recs))
		}
		if err := s.ClearEvents(ctx(t), reply.Mark{Key: r.Key, At: r.EventsAt}); err != nil {
			t.Fatal(err)
		}
		if recs, _ := s.PendingEvents(ctx(t), T0.Add(time.Hour), 10); len(recs) != 0 {
			t.Fatalf("cleared mark still pending: %v", recs)
		}
		got, err := s.Get(ctx(t), r.Key)
		if err != nil {
			t.Fatal(err)
		}
		want := r
		want.EventsAt, want.StartEvents = time.Time{}, false
		Same(t, "record after its mark was cleared", got, want)
		if err := s.ClearEvents(ctx(t), reply.Mark{Key: Job(9).Key(), At: T0}); err != nil {
			t.Errorf("clear of a record that is not there: %v", err)
		}
		// A lead's mark, cleared: the lead is as it was, less the mark; a clear never creates one.
		l := Lead(person, "ana@example.com")
		l.EventsAt = T0.Add(time.Second)
		if _, err := s.CreateLead(ctx(t), l); err != nil {
			t.Fatal(err)
		}
		if got, err := s.Lead(ctx(t), account, person, lead.KindEmail); err != nil || !got.EventsAt.Equal(l.EventsAt) {
			t.Fatalf("stored lead's mark = %v (%v), want %v", got.EventsAt, err, l.EventsAt)
		}
		if err := s.ClearEvents(ctx(t), reply.Mark{Key: l.Key(), At: T0}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Lead(ctx(t), account, person, lead.KindEmail); got.EventsAt.IsZero() {
			t.Fatal("a clear of another mark cleared the lead's")
		}
		if err := s.ClearEvents(ctx(t), reply.Mark{Key: l.Key(), At: l.EventsAt}); err != nil {
			t.Fatal(err)
		}
		want2 := l
		want2.EventsAt = time.Time{}
		got2, err := s.Lead(ctx(t), account, person, lead.KindEmail)
		if err != nil {
			t.Fatal(err)
		}
		Same(t, "lead after its mark was cleared", got2, want2)
		if err := s.ClearEvents(ctx(t), reply.Mark{Key: lead.Key(account, "6200000000000099", lead.KindEmail), At: T0}); err != nil {
			t.Errorf("clear of a lead that is not there: %v", err)
		}
		if _, err := s.Lead(ctx(t), account, "6200000000000099", lead.KindEmail); !errors.Is(err, reply.ErrNotFound) {
			t.Errorf("a clear created a lead: %v", err)
		}
		if marks, _ := s.PendingEvents(ctx(t), T0.Add(time.Hour), 10); len(marks) != 0 {
			t.Errorf("pending after every clear: %v", markKeys(marks))
		}
	})

	t.Run("LeadRefusedLeavesNoMark", func(t *testing.T) {
		s := newStore(t)
		first := Lead(person, "ana@example.com")
		if _, err := s.CreateLead(ctx(t), first); err != nil {
			t.Fatal(err)
		}
		second := Lead(person, "other@example.com")
		second.EventsAt = T0 // a second answer: refused, so no mark either
		if _, err := s.CreateLead(ctx(t), second); !errors.Is(err, reply.ErrExists) {
			t.Fatalf("second answer: %v", err)
		}
		if marks, _ := s.PendingEvents(ctx(t), T0.Add(time.Hour), 10); len(marks) != 0 {
			t.Fatalf("a lead that lost its condition left a mark: %v", markKeys(marks))
		}
	})

	t.Run("MarkWrittenWithTheChange", func(t *testing.T) {
		s := newStore(t)
		p := Parked(1, T0)
		create(t, s, p)
		next, err := p.Claim(p.Job, "w", T0, T0.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		update(t, s, next)
		sent, err := next.Finish(reply.Sent("mid.1", Job(1).FromID), true, T0)
		if err != nil {
			t.Fatal(err)
		}
		sent.EventsAt = T0
		stale := sent
		stale.Version-- // lost its condition: no change, so no mark either
		if _, err := s.Update(ctx(t), stale); err == nil {
			t.Fatal("stale update accepted")
		}
		if marks, _ := s.PendingEvents(ctx(t), T0.Add(time.Hour), 10); len(marks) != 0 {
			t.Fatalf("a write that lost its condition left a mark: %v", marks)
		}
		update(t, s, sent)
		marks, err := s.PendingEvents(ctx(t), T0, 10)
		if err != nil || len(marks) != 1 || !marks[0].Same(reply.Mark{Key: sent.Key, At: T0}) {
			t.Fatalf("pending after the change = %v, %v; want the record", marks, err)
		}
		got, err := s.Get(ctx(t), sent.Key)
		if err != nil {
			t.Fatal(err)
		}
		Same(t, "pending record", got, sent)
	})
}
