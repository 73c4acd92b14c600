package memory

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/reply"
)

// countOutcome adds the funnel counts of r's write, in the same critical section as the write
// (as DynamoDB's transaction does): only a write that moves a record into a terminal state
// counts; s.mu is held.
func (s *Store) countOutcome(old reply.Record, had bool, r reply.Record) {
	if had && old.State.Terminal() {
		return
	}
	if t, ok := funnel.Outcome(r); ok {
		s.addTally(t)
	}
}

// addTally adds t's counts; s.mu is held.
func (s *Store) addTally(t funnel.Tally) {
	if s.tallies == nil {
		s.tallies = map[string]funnel.Row{}
	}
	row, ok := s.tallies[t.Key]
	if !ok {
		row = funnel.Row{Account: t.Account, Day: t.Day, Rule: t.Rule, Variant: t.Variant, Media: t.Media, Counts: map[string]int64{}}
	}
	for _, n := range slices.Compact(slices.Sorted(slices.Values(t.Add))) {
		row.Counts[strings.TrimPrefix(n, funnel.CountPrefix)]++
	}
	s.tallies[t.Key] = row
}

// AddCounts adds t's counts on their own (a click's, written by the links route).
func (s *Store) AddCounts(_ context.Context, t funnel.Tally) error {
	if len(t.Add) == 0 {
		return fmt.Errorf("count %s: nothing to add", t.Key)
	}
	s.lock()
	defer s.mu.Unlock()
	s.addTally(t)
	return nil
}

// Counts is every counter item of the account for the days from `from` to `to`.
func (s *Store) Counts(_ context.Context, account string, from, to time.Time) ([]funnel.Row, error) {
	lo, hi := from.UTC().Format(funnel.DayLayout), to.UTC().Format(funnel.DayLayout)
	if lo > hi {
		return nil, fmt.Errorf("counts of %s: from %s is after to %s", account, lo, hi)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []funnel.Row
	for _, r := range s.tallies {
		if r.Account == account && r.Day >= lo && r.Day <= hi {
			r.Counts = maps.Clone(r.Counts)
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b funnel.Row) int {
		return strings.Compare(funnel.NewTally(a.Account, a.Rule, a.Variant, a.Media, day(a.Day)).Key,
			funnel.NewTally(b.Account, b.Rule, b.Variant, b.Media, day(b.Day)).Key)
	})
	return out, nil
}

func day(d string) time.Time {
	t, _ := time.Parse(funnel.DayLayout, d)
	return t
}
