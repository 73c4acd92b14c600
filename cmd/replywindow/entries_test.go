package main

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
)

// TestAccountsPutEntries: `accounts put` sets the file's ice breakers and menu on Meta (the
// sandbox), leaves them when Meta has them already, removes what the file dropped, warns when the
// subscription lacks what the entry points need; `accounts show` compares Meta's with the file.
func TestAccountsPutEntries(t *testing.T) {
	h := opSetup(t)
	id := opID(t)
	const token = "IGAAT-test-token-entries-42"
	h.sb.AddAccount(id, token, reply.LoginInstagram, "")
	file := h.accountFile("entries.yaml", id)

	// No token yet: stored all the same, and told what was not done on Meta.
	if code, _, errs := h.run("accounts", "put", "--file", file); code != exitOK || !strings.Contains(errs, "the ice breakers and menu are not set on Meta") {
		t.Fatalf("put without a token: exit %d, %s", code, errs)
	}
	if got := h.sb.MessengerProfile(id); !got.Empty() {
		t.Fatalf("set without a token: %+v", got)
	}
	// Subscribed without messaging_referral: the put says so.
	h.sb.Subscribe(id, []string{"comments", "live_comments", "messages", "messaging_postbacks"})
	code, out, errs := h.runStdin(token, "accounts", "put", "--file", file, "--token-stdin")
	if code != exitOK || !strings.Contains(out, "messenger profile set on Meta: 1 ice breaker, 2 menu items") {
		t.Fatalf("put: exit %d\n%s\n%s", code, out, errs)
	}
	if !strings.Contains(errs, "need messaging_referral, which its subscription lacks") {
		t.Errorf("no warning about the missing field: %s", errs)
	}
	want := reply.MessengerProfile{
		IceBreakers: []reply.IceBreaker{{Question: "What's cooking today?", Payload: "ASK_RECIPE"}},
		Menu: []reply.MenuItem{{Type: reply.ButtonPostback, Title: "Today's recipe", Payload: "ASK_RECIPE"},
			{Type: reply.ButtonURL, Title: "Shop", URL: "https://shop.example.com"}},
	}
	if got := h.sb.MessengerProfile(id); !reflect.DeepEqual(got, want) {
		t.Fatalf("Meta's profile = %+v, want %+v", got, want)
	}
	// Again, the token from SSM: nothing to change on Meta.
	if out := h.must("accounts", "put", "--file", file); !strings.Contains(out, "messenger profile: Meta has it already") {
		t.Errorf("second put: %s", out)
	}
	show := h.must("accounts", "show", id)
	for _, w := range []string{"story mention", "once per person per 24h0m0s", "ig.me ref", "ref recipe-*", "ice breaker", "menu item", "Meta's messenger profile: matches the file"} {
		if !strings.Contains(show, w) {
			t.Errorf("show lacks %q:\n%s", w, show)
		}
	}
	// The file drops the menu: put removes it from Meta; show before that put sees the difference.
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	noMenu := strings.Split(string(b), "persistent_menu:")[0]
	if err := os.WriteFile(file, []byte(noMenu), 0o600); err != nil {
		t.Fatal(err)
	}
	h.must("accounts", "put", "--file", file)
	if got := h.sb.MessengerProfile(id); len(got.Menu) != 0 || len(got.IceBreakers) != 1 {
		t.Errorf("after dropping the menu, Meta has %+v", got)
	}
	// Someone changes the ice breakers in another tool: show names the difference.
	h.sb.SetMessengerProfile(id, reply.MessengerProfile{IceBreakers: []reply.IceBreaker{{Question: "Other?", Payload: "OTHER"}}})
	show = h.must("accounts", "show", id)
	if !strings.Contains(show, "DIFFERS from the file") || !strings.Contains(show, `ice_breakers[0]: Meta "Other?" → OTHER, file "What's cooking today?" → ASK_RECIPE`) {
		t.Errorf("show does not name the difference:\n%s", show)
	}
}
