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

// leadStore is a store that keeps leads too, as both of ours do.
type leadStore interface {
	reply.Store
	lead.Store
}

// goneParams is SSM with no token parameters left to remove.
type goneParams struct{}

func (goneParams) Delete(context.Context, string) error { return reply.ErrNotFound }

// TestLeadsDeleted: the operator's request for a commenter (forget --person) removes their leads
// on every account, Meta's request for the person who connected an account removes every lead of
// that account (in pages), others' leads stay, and the tombstones refuse the leads' return. On
// both stores (DynamoDB on moto).
func TestLeadsDeleted(t *testing.T) {
	stores := map[string]func(t *testing.T) (context.Context, leadStore){
		"memory": func(t *testing.T) (context.Context, leadStore) { return context.Background(), memory.NewStore() },
		"dynamo": func(t *testing.T) (context.Context, leadStore) { return newStore(t) },
	}
	for name, newLeadStore := range stores {
		t.Run(name, func(t *testing.T) {
			ctx, store := newLeadStore(t)
			now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
			owner := "26" + id(1)[2:]
			mine, other := id(2), id(3)
			commenter, bystander := id(4), id(5)
			putAccounts(t, ctx, store, owner, mine, other)
			put := func(account, person string, kind lead.Kind) {
				t.Helper()
				l := lead.Lead{AccountID: account, PersonID: person, Kind: kind, Value: "v", Rule: "r", Step: "s",
					CapturedAt: now.Add(-time.Hour), ExpiresAt: now.Add(lead.DefaultRetention)}
				if _, err := store.CreateLead(ctx, l); err != nil {
					t.Fatal(err)
				}
			}
			has := func(account, person string, kind lead.Kind) bool {
				t.Helper()
				_, err := store.Lead(ctx, account, person, kind)
				if err != nil && !errors.Is(err, reply.ErrNotFound) {
					t.Fatal(err)
				}
				return err == nil
			}
			for _, a := range []string{mine, other} {
				put(a, commenter, lead.KindEmail)
				put(a, commenter, lead.KindPhone)
				put(a, bystander, lead.KindEmail)
			}
			for i := range 4 { // more than a page on the owner's account
				put(mine, fmt.Sprintf("%s%d", id(6)[:16], i), lead.KindEmail)
			}
			clock := &tickingClock{t: now, step: time.Millisecond}
			w := &Worker{Store: store, Params: goneParams{}, Leads: store, PageSize: 2, Clock: clock}

			open(t, ctx, store, reply.DeletionPerson, commenter, now)
			if res, err := w.Run(ctx, time.Hour); err != nil || res.Done != 1 {
				t.Fatalf("forget the commenter: %+v, %v", res, err)
			}
			for _, a := range []string{mine, other} {
				if has(a, commenter, lead.KindEmail) || has(a, commenter, lead.KindPhone) {
					t.Errorf("account %s still holds the commenter's leads", a)
				}
				if !has(a, bystander, lead.KindEmail) {
					t.Errorf("account %s lost a bystander's lead", a)
				}
			}
			late := lead.Lead{AccountID: other, PersonID: commenter, Kind: lead.KindEmail, Value: "v", Rule: "r", Step: "s",
				CapturedAt: now.Add(time.Minute), ExpiresAt: now.Add(lead.DefaultRetention)}
			if _, err := store.CreateLead(ctx, late); !errors.Is(err, reply.ErrForgotten) {
				t.Errorf("a queued answer brought a forgotten person's lead back: %v", err)
			}

			open(t, ctx, store, reply.DeletionUser, owner, now)
			if res, err := w.Run(ctx, time.Hour); err != nil || res.Done != 1 {
				t.Fatalf("Meta's request for the owner: %+v, %v", res, err)
			}
			if ls, _, err := store.Leads(ctx, mine, "", 100); err != nil || len(ls) != 0 {
				t.Errorf("the owner's account keeps %d leads (%v)", len(ls), err)
			}
			if !has(other, bystander, lead.KindEmail) {
				t.Error("another account's lead went with the owner's")
			}
			late.AccountID, late.PersonID = mine, bystander
			if _, err := store.CreateLead(ctx, late); !errors.Is(err, reply.ErrForgotten) {
				t.Errorf("a lead came back on a deleted account: %v", err)
			}
		})
	}
}

// putAccounts stores two accounts: mine, connected by owner, and other.
func putAccounts(t *testing.T, ctx context.Context, store reply.Store, owner, mine, other string) {
	t.Helper()
	for _, a := range []reply.Account{{ID: mine, AppUserIDs: []string{owner}}, {ID: other}} {
		a.Login, a.TokenParam, a.Version = reply.LoginInstagram, "/replywindow/tokens/"+a.ID, 1
		if _, err := store.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
}
