package links

import (
	"context"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/memory"
)

// With events on, the route marks each person's first click for LinkClicked in the guard's
// write, and nothing else: previews, HEADs and repeats are no new click; events off mark none.
func TestRouteMarksFirstClicks(t *testing.T) {
	for _, on := range []bool{true, false} {
		store := memory.NewStore()
		route, sealer := newRoute(t, store)
		route.Events = on
		seal := func(person string) string {
			o := origin
			o.Person = person
			return sealer.Seal(Link{Origin: o, Target: target, Issued: sentAt})
		}
		for _, r := range [][3]string{{"GET", seal("1"), previewUA}, {"HEAD", seal("1"), browserUA}, {"GET", seal("1"), browserUA},
			{"GET", seal("1"), browserUA}, {"GET", seal("2"), browserUA}} {
			if _, err := route.Handle(context.Background(), request(r[0], r[1], r[2])); err != nil {
				t.Fatal(err)
			}
		}
		marks, err := store.PendingEvents(context.Background(), clickAt.Add(time.Hour), 10)
		if err != nil {
			t.Fatal(err)
		}
		want := 0
		if on {
			want = 2
		}
		if len(marks) != want {
			t.Errorf("events %v: %d clicks marked, want %d", on, len(marks), want)
		}
		for _, m := range marks {
			c, err := store.MarkedClick(context.Background(), m.Key)
			if err != nil || c.Origin.Account != origin.Account || (c.Origin.Person != "1" && c.Origin.Person != "2") || c.Link != LinkID(target) {
				t.Errorf("marked click %+v, %v", c, err)
			}
		}
	}
}
