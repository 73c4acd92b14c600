package storetest

import (
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/reply"
)

// OutboxStore is a store with the outbox of funnel events.
type OutboxStore interface {
	reply.Store
	events.Outbox
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

// Outbox runs the outbox's contract: marks listed oldest first up to a time and a limit,
// cleared only at the record's version, the record otherwise unchanged.
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

		tests := []struct {
			before time.Time
			limit  int
			want   []string
		}{
			{T0.Add(time.Hour), 10, []string{Job(1).Key(), Job(2).Key(), Job(3).Key()}},
			{T0.Add(2 * time.Second), 10, []string{Job(1).Key(), Job(2).Key()}},
			{T0.Add(2*time.Second - time.Millisecond), 10, []string{Job(1).Key()}},
			{T0.Add(time.Hour), 2, []string{Job(1).Key(), Job(2).Key()}},
			{T0, 10, nil},
		}
		for _, tc := range tests {
			recs, err := s.PendingEvents(ctx(t), tc.before, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range recs {
				got = append(got, r.Key)
			}
			Same(t, "pending before "+tc.before.Format(time.RFC3339Nano), got, tc.want)
		}
		if _, err := s.PendingEvents(ctx(t), T0, 0); err == nil {
			t.Error("limit 0 accepted")
		}
	})

	t.Run("ClearsAtItsVersionOnly", func(t *testing.T) {
		s := newStore(t)
		r := Sent(t, 1, T0.Add(time.Second))
		r.Version = 1
		create(t, s, r)
		if err := s.ClearEvents(ctx(t), r.Key, 2); err != nil {
			t.Fatal(err)
		}
		if recs, _ := s.PendingEvents(ctx(t), T0.Add(time.Hour), 10); len(recs) != 1 {
			t.Fatalf("a clear at another version cleared the mark: %d pending", len(recs))
		}
		if err := s.ClearEvents(ctx(t), r.Key, 1); err != nil {
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
		want.EventsAt = time.Time{}
		Same(t, "record after its mark was cleared", got, want)
		if err := s.ClearEvents(ctx(t), Job(9).Key(), 1); err != nil {
			t.Errorf("clear of a record that is not there: %v", err)
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
		if recs, _ := s.PendingEvents(ctx(t), T0.Add(time.Hour), 10); len(recs) != 0 {
			t.Fatalf("a write that lost its condition left a mark: %v", recs)
		}
		update(t, s, sent)
		recs, err := s.PendingEvents(ctx(t), T0, 10)
		if err != nil || len(recs) != 1 {
			t.Fatalf("pending after the change = %v, %v; want the record", recs, err)
		}
		Same(t, "pending record", recs[0], sent)
	})
}
