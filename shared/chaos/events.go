package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// FaultEventPut is a put of funnel events the bus refused (throttled, an outage).
const FaultEventPut = "event_put_refused"

// eventsOn reports whether the run publishes funnel events (Config.Events) through an outbox
// its store keeps.
func (s *sim) eventsOn() bool {
	_, ok := s.store.(events.Outbox)
	return s.cfg.Events && ok
}

// startEvents makes the run's bus: it refuses each event at Rates.EventPut.
func (s *sim) startEvents() {
	if !s.eventsOn() {
		return
	}
	s.bus = &memory.Bus{Fail: func(events.Event) string {
		if s.dice.roll(s.cfg.Rates.EventPut) {
			s.fault(FaultEventPut, "")
			return "ThrottlingException: Rate exceeded"
		}
		return ""
	}}
}

// publishing is st behind the events outbox, as the functions' mains wire it; st itself when
// events are off. The outbox is the store's own (the mark rides on st's faulty writes).
func (s *sim) publishing(st reply.Store) reply.Store {
	if s.bus == nil {
		return st
	}
	return &events.OutboxStore{Store: st, Outbox: s.store.(events.Outbox), Bus: s.bus, Clock: s.clock,
		Metrics: telemetry.NewMetrics("chaos"), Log: s.log}
}

// drainEvents is the sweeper's events chore.
func (s *sim) drainEvents(ctx context.Context) {
	if s.bus == nil {
		return
	}
	d := &events.Drain{Outbox: s.store.(events.Outbox), Bus: s.bus, Clock: s.clock, Metrics: telemetry.NewMetrics("chaos"),
		Log: s.log, Grace: events.DrainGrace, Limit: events.DrainLimit}
	_, _ = d.Run(ctx) // what failed stays marked for the next sweep
}

// eventsDue is when the oldest mark is the drain's to publish, zero when none waits.
func (s *sim) eventsDue(ctx context.Context) (time.Time, error) {
	if s.bus == nil {
		return time.Time{}, nil
	}
	marks, err := s.store.(events.Outbox).PendingEvents(ctx, s.start.Add(100*reply.Window), 1)
	if err != nil || len(marks) == 0 {
		return time.Time{}, err
	}
	return marks[0].At.Add(events.DrainGrace), nil
}

// checkEvents compares every state change that has an event with what the bus got: each
// record's end (events.OfRecord) and, for a turn's first record, the tap and the gate passed
// that started it (events.Started); each lead's LeadCaptured; each conversation's latest human
// pause. Every change's event at least once (missing ones are broken promises), none for a change
// the store does not hold (a pause a later one replaced is no phantom: it named a human's reply
// the run made), duplicates counted.
func (s *sim) checkEvents(ctx context.Context) error {
	if s.bus == nil {
		return nil
	}
	want := map[string]events.Kind{}
	add := func(evs ...events.Event) {
		for _, ev := range evs {
			want[ev.Detail.ID] = ev.Kind
		}
	}
	record := func(r reply.Record) {
		if ev, ok := events.OfRecord(r); ok {
			add(ev)
		}
		add(events.Started(r)...)
	}
	cursor := ""
	for {
		page, next, err := s.store.Scan(ctx, cursor, 500)
		if err != nil {
			return fmt.Errorf("scan records: %w", err)
		}
		for _, r := range page {
			record(r)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	followUps, err := s.followUps(ctx)
	if err != nil {
		return err
	}
	for _, r := range followUps {
		record(r)
	}
	leads, err := s.leadEvents(ctx)
	if err != nil {
		return err
	}
	add(leads...)
	convs, err := s.pauseEvents(ctx)
	if err != nil {
		return err
	}
	add(convs...)
	replaced := map[string]bool{} // every human reply's pause: a later one may have replaced it
	for _, t := range s.taps {
		if t.step == "" && t.mid != "" {
			replaced[events.Paused(t.account, t.person, t.mid, time.Time{}).Detail.ID] = true
		}
	}
	got := map[string]int{}
	for _, ev := range s.bus.Events() {
		got[ev.Detail.ID]++
		s.res.Events++
		s.res.EventKinds[string(ev.Kind)]++
		if got[ev.Detail.ID] == 2 {
			s.res.EventDuplicates++
		}
		if _, ok := want[ev.Detail.ID]; !ok && !replaced[ev.Detail.ID] {
			// A record deleted by a data deletion after its event went out is no phantom.
			if !s.deletedPerson(ev.Detail.Person) {
				s.res.Violations = append(s.res.Violations, fmt.Sprintf("event %s %s published for a change no record holds", ev.Kind, ev.Detail.ID))
			}
		}
	}
	for id, kind := range want {
		if got[id] == 0 {
			s.res.EventsMissing++
			s.res.Violations = append(s.res.Violations, fmt.Sprintf("%s event %s never published", kind, id))
		}
	}
	return nil
}

// leadEvents is the LeadCaptured event of every lead the run's accounts hold.
func (s *sim) leadEvents(ctx context.Context) ([]events.Event, error) {
	leads, ok := reply.StoreAs[lead.Store](s.store)
	if !ok {
		return nil, nil
	}
	var evs []events.Event
	for _, a := range s.accounts {
		cursor := ""
		for {
			page, next, err := leads.Leads(ctx, a.ID, cursor, 500)
			if err != nil {
				return nil, fmt.Errorf("leads of %s: %w", a.ID, err)
			}
			for _, l := range page {
				evs = append(evs, events.OfLead(l))
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return evs, nil
}

// pauseEvents is the ConversationPaused event of every conversation's latest human pause.
func (s *sim) pauseEvents(ctx context.Context) ([]events.Event, error) {
	var evs []events.Event
	cursor := ""
	for {
		page, next, err := s.store.Conversations(ctx, cursor, 500)
		if err != nil {
			return nil, fmt.Errorf("conversations: %w", err)
		}
		for _, c := range page {
			if c.PausedBy != "" {
				evs = append(evs, events.OfPause(c))
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	return evs, nil
}

func (s *sim) deletedPerson(person string) bool {
	_, ok := s.forgotten[person]
	return ok
}
