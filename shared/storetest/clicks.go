package storetest

import (
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/reply"
)

// ClickStore is what the click route writes to (counters, the people's click records and the
// tombstones they check), and what the people export and the deletions read and remove.
type ClickStore interface {
	reply.Clicks
	reply.ClickRecords
	reply.Tombstones
}

// Clicks is the contract of reply.Clicks and reply.ClickRecords: every click counted, a person's
// first click on a link counted unique exactly once however many race and kept in their click
// record, read per account, removed per person, and a tombstone forbidding the unique count and
// the record.
func Clicks(t *testing.T, newStore func(t *testing.T) ClickStore) {
	at := time.Date(2026, 12, 6, 14, 0, 0, 0, time.UTC)
	origin := reply.Origin{Account: "17841400000000001", Rule: "recipe#1", Variant: "b", Media: "18000000000000001", Person: "9000000000000001"}
	click := func(person, link string, when time.Time) reply.Click {
		o := origin
		o.Person = person
		target := "https://shop.example/book"
		if link != "Lk1" {
			target += "/" + link
		}
		return reply.Click{Origin: o, Link: link, Target: target,
			At: when, Issued: at.Add(-time.Hour), Until: at.Add(90 * 24 * time.Hour)}
	}
	counts := func(t *testing.T, s ClickStore, day time.Time) reply.ClickCounts {
		t.Helper()
		n, err := s.ClickCounts(ctx(t), origin, "Lk1", day)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("unique once, all every time, per day", func(t *testing.T) {
		s := newStore(t)
		steps := []struct {
			name      string
			c         reply.Click
			wantFirst bool
		}{
			{"first click", click("1", "Lk1", at), true},
			{"same person again", click("1", "Lk1", at.Add(time.Minute)), false},
			{"another person", click("2", "Lk1", at.Add(2*time.Minute)), true},
			{"first person the next day", click("1", "Lk1", at.Add(24*time.Hour)), false},
		}
		for _, st := range steps {
			first, err := s.RecordClick(ctx(t), st.c)
			if err != nil || first != st.wantFirst {
				t.Fatalf("%s: first %v, err %v; want %v", st.name, first, err, st.wantFirst)
			}
		}
		if n := counts(t, s, at); n.All != 3 || n.Unique != 2 || n.Target != "https://shop.example/book" || n.Origin.Person != "" {
			t.Errorf("day 1: %+v, want 3 clicks, 2 unique, the target and no person", n)
		}
		if n := counts(t, s, at.Add(24*time.Hour)); n.All != 1 || n.Unique != 0 {
			t.Errorf("day 2: %+v, want 1 click, 0 unique (the person clicked before)", n)
		}
		// The report reads clicks with the funnel's other counts: the day's counter items of the
		// rule, variant and media, in the account's one query.
		reader, ok := s.(funnel.Reader)
		if !ok {
			t.Fatal("a click store that keeps funnel counts must let the report read them (funnel.Reader)")
		}
		rows, err := reader.Counts(ctx(t), origin.Account, at, at)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]int64{}
		for _, r := range rows {
			if r.Rule != origin.Rule || r.Variant != origin.Variant || r.Media != origin.Media || r.Day != "2026-12-06" {
				t.Errorf("counter row %+v: not the click's rule, variant, media and day", r)
			}
			for k, v := range r.Counts {
				got[k] += v
			}
		}
		want := map[string]int64{"clicks": 3, "clicks:Lk1": 3, "unique_clicks": 2, "unique_clicks:Lk1": 2}
		if !maps.Equal(got, want) {
			t.Errorf("the report's counts of day 1: %v, want %v", got, want)
		}
	})

	t.Run("racing first clicks count unique once", func(t *testing.T) {
		s := newStore(t)
		const racers = 8
		var wg sync.WaitGroup
		firsts := make(chan bool, racers)
		for range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				first, err := s.RecordClick(ctx(t), click("1", "Lk1", at))
				if err != nil {
					t.Error(err)
				}
				firsts <- first
			}()
		}
		wg.Wait()
		close(firsts)
		n := 0
		for f := range firsts {
			if f {
				n++
			}
		}
		if c := counts(t, s, at); n != 1 || c.Unique != 1 || c.All != racers {
			t.Errorf("%d racers: %d first, counts %+v; want 1 first, 1 unique, %d clicks", racers, n, c, racers)
		}
	})

	t.Run("tombstone forbids the unique count", func(t *testing.T) {
		s := newStore(t)
		if err := s.PutTombstone(ctx(t), reply.Tombstone{PersonID: "1", At: at.Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
		first, err := s.RecordClick(ctx(t), click("1", "Lk1", at))
		if !errors.Is(err, reply.ErrForgotten) || first {
			t.Fatalf("forgotten person's click: first %v, err %v; want ErrForgotten", first, err)
		}
		if first, err := s.RecordClick(ctx(t), click("2", "Lk1", at)); err != nil || !first {
			t.Fatalf("another person's click: first %v, err %v", first, err)
		}
		if n := counts(t, s, at); n.All != 2 || n.Unique != 1 {
			t.Errorf("counts %+v, want 2 clicks (anonymous), 1 unique", n)
		}
	})

	t.Run("bad click refused", func(t *testing.T) {
		s := newStore(t)
		c := click("1", "", at)
		if _, err := s.RecordClick(ctx(t), c); err == nil {
			t.Error("a click without a link was accepted")
		}
		if _, _, err := s.ClickedBy(ctx(t), origin.Account, "", 0); err == nil {
			t.Error("a page of 0 click records was accepted")
		}
		if _, _, err := s.ClickedBy(ctx(t), origin.Account, "not-a-cursor", 10); err == nil {
			t.Error("a made-up cursor was accepted")
		}
		if _, err := s.ClickCounts(ctx(t), origin, "Lk1", at); !errors.Is(err, reply.ErrNotFound) {
			t.Errorf("counts after a refused click: %v, want ErrNotFound (nothing written)", err)
		}
	})

	t.Run("a click without a person counts in all clicks only", func(t *testing.T) {
		s := newStore(t)
		for range 2 {
			if first, err := s.RecordClick(ctx(t), click("", "Lk1", at)); err != nil || first {
				t.Fatalf("click without a person: first %v, err %v; want counted, not unique", first, err)
			}
		}
		if n := counts(t, s, at); n.All != 2 || n.Unique != 0 {
			t.Errorf("counts %+v, want 2 clicks, 0 unique", n)
		}
		if got := clicked(t, s, origin.Account, 10); len(got) != 0 {
			t.Errorf("click records %+v, want none: nobody to record", got)
		}
	})

	t.Run("a person's first click on each link is their record of it", func(t *testing.T) {
		s := newStore(t)
		other := click("3", "Lk1", at)
		other.Origin.Account = "17841400000000002"
		for _, c := range []reply.Click{
			click("1", "Lk1", at), click("1", "Lk1", at.Add(time.Minute)), click("1", "Lk2", at.Add(2*time.Minute)),
			click("2", "Lk1", at.Add(3*time.Minute)), other,
		} {
			if _, err := s.RecordClick(ctx(t), c); err != nil {
				t.Fatal(err)
			}
		}
		want := []reply.Clicked{
			{Account: origin.Account, Person: "1", Link: "Lk1", Target: "https://shop.example/book", Rule: origin.Rule, Variant: "b", Media: origin.Media, At: at},
			{Account: origin.Account, Person: "1", Link: "Lk2", Target: "https://shop.example/book/Lk2", Rule: origin.Rule, Variant: "b", Media: origin.Media, At: at.Add(2 * time.Minute)},
			{Account: origin.Account, Person: "2", Link: "Lk1", Target: "https://shop.example/book", Rule: origin.Rule, Variant: "b", Media: origin.Media, At: at.Add(3 * time.Minute)},
		}
		if got := clicked(t, s, origin.Account, 10); !slices.EqualFunc(got, want, sameClicked) {
			t.Errorf("click records:\n got %+v\nwant %+v", got, want)
		}
		// Pages in key order: person 1's links, then person 2's.
		page, next, err := s.ClickedBy(ctx(t), origin.Account, "", 2)
		if err != nil || len(page) != 2 || page[0].Person != "1" || page[1].Person != "1" || next == "" {
			t.Fatalf("first page of 2: %+v, next %q, err %v; want person 1's two links and a cursor", page, next, err)
		}
		if page, _, err = s.ClickedBy(ctx(t), origin.Account, next, 2); err != nil || len(page) != 1 || page[0].Person != "2" {
			t.Errorf("second page: %+v, err %v; want person 2's link", page, err)
		}
		if got := clicked(t, s, origin.Account, 1); !slices.EqualFunc(got, want, sameClicked) {
			t.Errorf("click records a page of 1 at a time:\n got %+v\nwant %+v", got, want)
		}
		if got := clicked(t, s, "17841400000000009", 10); len(got) != 0 {
			t.Errorf("an account without clicks lists %+v", got)
		}
	})

	t.Run("forgotten clicks stay forgotten", func(t *testing.T) {
		s := newStore(t)
		for _, c := range []reply.Click{click("1", "Lk1", at), click("1", "Lk2", at), click("2", "Lk1", at)} {
			if _, err := s.RecordClick(ctx(t), c); err != nil {
				t.Fatal(err)
			}
		}
		// A deletion writes the tombstone, then removes the record.
		forgotten := at.Add(time.Minute)
		if err := s.PutTombstone(ctx(t), reply.Tombstone{PersonID: "1", At: forgotten}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.ForgetClicks(ctx(t), origin.Account, "1"); err != nil || n != 2 {
			t.Fatalf("forget person 1's clicks: %d, %v; want the 2 links", n, err)
		}
		if _, err := s.ForgetClicks(ctx(t), origin.Account, ""); err == nil {
			t.Error("forgetting the clicks of no person was accepted (it would name the whole account)")
		}
		if n, err := s.ForgetClicks(ctx(t), origin.Account, "1"); err != nil || n != 0 {
			t.Fatalf("forget them again: %d, %v; want 0, no error", n, err)
		}
		// A click on a link sent before the deletion must not bring the person back.
		if first, err := s.RecordClick(ctx(t), click("1", "Lk3", at.Add(2*time.Minute))); !errors.Is(err, reply.ErrForgotten) || first {
			t.Fatalf("click after the deletion: first %v, err %v; want ErrForgotten", first, err)
		}
		if got := clicked(t, s, origin.Account, 10); len(got) != 1 || got[0].Person != "2" {
			t.Errorf("click records after forgetting person 1: %+v, want only person 2's", got)
		}
		// A link sent to the person after the deletion's horizon (they came back) is theirs again.
		back := click("1", "Lk1", forgotten.Add(reply.DeliveryHorizon+time.Hour))
		back.Issued = forgotten.Add(reply.DeliveryHorizon + time.Minute)
		if first, err := s.RecordClick(ctx(t), back); err != nil || !first {
			t.Fatalf("click on a link sent after the deletion: first %v, err %v; want a first click", first, err)
		}
		if got := clicked(t, s, origin.Account, 10); len(got) != 2 {
			t.Errorf("click records: %+v, want person 1's new click and person 2's", got)
		}
	})
}

// clicked is every click record of the account, page by page.
func clicked(t *testing.T, s ClickStore, account string, limit int) []reply.Clicked {
	t.Helper()
	var out []reply.Clicked
	cursor := ""
	for {
		page, next, err := s.ClickedBy(ctx(t), account, cursor, limit)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page...)
		if cursor = next; cursor == "" {
			return out
		}
	}
}

func sameClicked(a, b reply.Clicked) bool {
	at := a.At.Equal(b.At)
	a.At, b.At = time.Time{}, time.Time{}
	return at && a == b
}
