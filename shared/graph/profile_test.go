package graph_test

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestMessengerProfile: ice breakers and the persistent menu set, read back and removed through
// Meta's messenger profile API for Instagram (the sandbox's), on both logins; what Meta refuses
// comes back as Meta's error and changes nothing.
func TestMessengerProfile(t *testing.T) {
	want := reply.MessengerProfile{
		IceBreakers: []reply.IceBreaker{{Question: "What's cooking?", Payload: "ASK_RECIPE"}, {Question: "Prices?", Payload: "PRICES"}},
		Menu: []reply.MenuItem{{Type: reply.ButtonPostback, Title: "Recipes", Payload: "ASK_RECIPE"},
			{Type: reply.ButtonURL, Title: "Shop", URL: "https://shop.example.com/"}},
	}
	five := make([]reply.IceBreaker, 5)
	for i := range five {
		five[i] = reply.IceBreaker{Question: fmt.Sprintf("Q%d?", i), Payload: fmt.Sprintf("P%d", i)}
	}
	long := reply.MenuItem{Type: reply.ButtonPostback, Title: "A title far longer than thirty characters", Payload: "X"}
	for _, tc := range []struct {
		name    string
		account reply.Account
		token   string
		id      string
	}{{"instagram login", igAccount, igToken, igID}, {"facebook login", fbAccount, fbToken, fbID}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, time.Second)
			ctx := t.Context()
			if err := e.c.SetMessengerProfile(ctx, tc.account, tc.token, want, reply.MessengerProfile{}); err != nil {
				t.Fatalf("set: %v", err)
			}
			got, err := e.c.MessengerProfile(ctx, tc.account, tc.token)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("read = %+v, %v; want %+v", got, err, want)
			}
			if !reflect.DeepEqual(e.sb.MessengerProfile(tc.id), want) {
				t.Errorf("the sandbox's Instagram profile = %+v", e.sb.MessengerProfile(tc.id))
			}
			for name, bad := range map[string]reply.MessengerProfile{
				"a fifth ice breaker": {IceBreakers: five},
				"a title over 30":     {Menu: []reply.MenuItem{long}},
				"a link with no url":  {Menu: []reply.MenuItem{{Type: reply.ButtonURL, Title: "Shop"}}},
				"an empty question":   {IceBreakers: []reply.IceBreaker{{Payload: "X"}}},
			} {
				err := e.c.SetMessengerProfile(ctx, tc.account, tc.token, bad, got)
				var ge *reply.GraphError
				if !errors.As(err, &ge) || ge.Code != 100 {
					t.Errorf("%s: err = %v, want Meta's code 100", name, err)
				}
			}
			if got, _ := e.c.MessengerProfile(ctx, tc.account, tc.token); !reflect.DeepEqual(got, want) {
				t.Errorf("a refused call changed the profile: %+v", got)
			}
			// The file drops the menu: it is deleted, the ice breakers stay.
			keep := reply.MessengerProfile{IceBreakers: want.IceBreakers}
			if err := e.c.SetMessengerProfile(ctx, tc.account, tc.token, keep, want); err != nil {
				t.Fatalf("set without the menu: %v", err)
			}
			if got, _ := e.c.MessengerProfile(ctx, tc.account, tc.token); !reflect.DeepEqual(got, keep) {
				t.Errorf("after dropping the menu = %+v, want %+v", got, keep)
			}
		})
	}
}
