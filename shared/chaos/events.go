package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/replywindow/replywindow/shared/events"
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

// checkEvents compares every state change with an event (events.OfRecord) with what the bus
// got: each change's event at least once (missing ones are broken promises), none for a change
// the store does not hold, duplicates counted.
func (s *sim) checkEvents(ctx context.Context) error {
	if s.bus == nil {
		return nil
	}
	want := map[string]events.Kind{}
	cursor := ""
	for {
		page, next, err := s.store.Scan(ctx, cursor, 500)
		if err != nil {
			return fmt.Errorf("scan records: %w", err)
		}
		for _, r := range page {
			if ev, ok := events.OfRecord(r); ok {
				want[ev.Detail.ID] = ev.Kind
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	got := map[string]int{}
	for _, ev := range s.bus.Events() {
		got[ev.Detail.ID]++
		s.res.Events++
		if got[ev.Detail.ID] == 2 {
			s.res.EventDuplicates++
		}
		if _, ok := want[ev.Detail.ID]; !ok {
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

func (s *sim) deletedPerson(person string) bool {
	_, ok := s.forgotten[person]
	return ok
}
