package chaos

import (
	"context"
	"fmt"
	"strings"

	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/reply"
)

// checkCounts is (n): the funnel counts, written with the transitions, say what the records say.
// For every account, each count (by rule, variant, media, day, name) equals the sum of
// funnel.Outcome over the terminal records the store holds, comments' and follow-ups' alike, so
// no duplicate delivery, retried write, lost answer, racing instance or sweeper's expiry counted
// twice or not at all. A data deletion removes records but not the counts they wrote (counts name
// no person): an account's counts may exceed its records' by at most the records the deletions
// could have taken (the forgotten people's comments and follow-ups), never fall below them.
func (s *sim) checkCounts(ctx context.Context, records map[string][]reply.Record, followUps []reply.Record) error {
	reader, ok := s.store.(funnel.Reader)
	if !ok {
		return nil // a store without counts: nothing to hold them to
	}
	want := map[string]int64{}
	add := func(r reply.Record) {
		if t, ok := funnel.Outcome(r); ok {
			for _, n := range dedup(t.Add) {
				want[countKey(t.Account, t.Day, t.Rule, t.Variant, t.Media, strings.TrimPrefix(n, funnel.CountPrefix))]++
			}
		}
	}
	for _, recs := range records {
		for _, r := range recs {
			add(r)
		}
	}
	for _, r := range followUps {
		add(r)
	}
	// What deletions may have taken, per account: an upper bound of the records gone.
	gone := map[string]int64{}
	for _, c := range s.comments {
		if _, ok := s.forgets(c); ok {
			gone[c.account]++
		}
	}
	for k := range s.followUpKeys {
		if f := strings.SplitN(k, "#", 4); len(f) == 4 {
			if _, ok := s.forgotten[f[2]]; ok {
				gone[f[1]]++
			}
		}
	}
	got := map[string]int64{}
	accounts := map[string]bool{}
	for _, c := range s.comments {
		accounts[c.account] = true
	}
	from, to := s.start.AddDate(0, 0, -1), s.clock.Now().AddDate(0, 0, 1)
	for a := range accounts {
		rows, err := reader.Counts(ctx, a, from, to)
		if err != nil {
			return fmt.Errorf("counts of %s: %w", a, err)
		}
		for _, r := range rows {
			for n, v := range r.Counts {
				got[countKey(a, r.Day, r.Rule, r.Variant, r.Media, n)] += v
			}
		}
	}
	extra := map[string]int64{}
	for k, v := range got {
		s.res.Counted += v
		acct := strings.SplitN(k, "|", 2)[0]
		switch w := want[k]; {
		case v < w:
			s.violate("count %s: %d, but %d records say so (a transition counted not at all)", k, v, w)
		case v > w:
			extra[acct] += v - w
		}
	}
	for k, w := range want {
		if _, ok := got[k]; !ok && w > 0 {
			s.violate("count %s: none, but %d records say so", k, w)
		}
	}
	for a, e := range extra {
		// Each gone record wrote at most four counts (matched, its state, the state by reason;
		// a follow-up: tap, sent, gate).
		if e > 4*gone[a] {
			s.violate("counts of account %s exceed its records by %d, more than the %d records deletions took can explain, at 4 counts each (a transition counted twice)", a, e, gone[a])
		}
	}
	return nil
}

func countKey(account, day, rule, variant, media, name string) string {
	return strings.Join([]string{account, day, rule, variant, media, name}, "|")
}

func dedup(names []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
