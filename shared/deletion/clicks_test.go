package deletion

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
)

// clickStore is a store that keeps the people's click records too, as both of ours do.
type clickStore interface {
	reply.Store
	lead.Store
	reply.Clicks
	reply.ClickRecords
}

// TestClicksDeleted: the operator's request for a commenter (forget --person) removes their click
// records on every account, Meta's request for the person who connected an account removes every
// click record of that account (in pages), others' stay, and the tombstones refuse a click's
// record coming back. On both stores (DynamoDB on moto).
func TestClicksDeleted(t *testing.T) {
	stores := map[string]func(t *testing.T) (context.Context, clickStore){
		"memory": func(t *testing.T) (context.Context, clickStore) { return context.Background(), memory.NewStore() },
		"dynamo": func(t *testing.T) (context.Context, clickStore) { return newStore(t) },
	}
	for name, newClickStore := range stores {
		t.Run(name, func(t *testing.T) {
			ctx, store := newClickStore(t)
			now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
			owner := "26" + id(1)[2:]
			mine, other := id(2), id(3)
			commenter, bystander := id(4), id(5)
			putAccounts(t, ctx, store, owner, mine, other)
			click := func(account, person, link string, at time.Time) error {
				t.Helper()
				_, err := store.RecordClick(ctx, reply.Click{Origin: reply.Origin{Account: account, Rule: "r", Person: person},
					Link: link, Target: "https://shop.example/" + link, At: at, Issued: now.Add(-time.Hour), Until: now.Add(24 * time.Hour)})
				return err
			}
			clickers := func(account string) map[string]int {
				t.Helper()
				out := map[string]int{}
				cs, _, err := store.ClickedBy(ctx, account, "", 100)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range cs {
					out[c.Person]++
				}
				return out
			}
			for _, a := range []string{mine, other} {
				for _, c := range []struct{ person, link string }{{commenter, "Lk1"}, {commenter, "Lk2"}, {bystander, "Lk1"}} {
					if err := click(a, c.person, c.link, now.Add(-time.Minute)); err != nil {
						t.Fatal(err)
					}
				}
			}
			for i := range 4 { // more than a page on the owner's account
				if err := click(mine, fmt.Sprintf("%s%d", id(6)[:16], i), "Lk1", now.Add(-time.Minute)); err != nil {
					t.Fatal(err)
				}
			}
			clock := &tickingClock{t: now, step: time.Millisecond}
			w := &Worker{Store: store, Params: goneParams{}, Leads: store, Clicks: store, PageSize: 2, Clock: clock}

			open(t, ctx, store, reply.DeletionPerson, commenter, now)
			res, err := w.Run(ctx, time.Hour)
			if err != nil || res.Done != 1 {
				t.Fatalf("forget the commenter: %+v, %v", res, err)
			}
			for _, a := range []string{mine, other} {
				if got := clickers(a); got[commenter] != 0 || got[bystander] != 1 {
					t.Errorf("account %s after forgetting the commenter: clicks by person %v; want none of the commenter's, the bystander's one", a, got)
				}
			}
			if err := click(other, commenter, "Lk3", now.Add(time.Minute)); !errors.Is(err, reply.ErrForgotten) {
				t.Errorf("a click on a link sent before the deletion brought the person back: %v", err)
			}
			if got := clickers(other); got[commenter] != 0 {
				t.Errorf("the forgotten commenter's clicks are back: %v", got)
			}

			open(t, ctx, store, reply.DeletionUser, owner, now)
			if res, err := w.Run(ctx, time.Hour); err != nil || res.Done != 1 {
				t.Fatalf("Meta's request for the owner: %+v, %v", res, err)
			}
			if got := clickers(mine); len(got) != 0 {
				t.Errorf("the owner's account keeps click records: %v", got)
			}
			if got := clickers(other); got[bystander] != 1 {
				t.Errorf("another account's click records went with the owner's: %v", got)
			}
			if err := click(mine, bystander, "Lk4", now.Add(time.Minute)); !errors.Is(err, reply.ErrForgotten) {
				t.Errorf("a click record came back on a deleted account: %v", err)
			}
		})
	}
}
