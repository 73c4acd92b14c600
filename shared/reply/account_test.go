package reply

import (
	"strings"
	"testing"
)

func TestMatch(t *testing.T) {
	acct := Account{ID: "17841400000000001", Login: LoginInstagram, TokenParam: "/t", Disclosure: "Sent automatically.", Rules: []Rule{
		{Name: "vip", Match: MatchWord, Keywords: []string{"recipe"}, Media: []string{"m-vip"}, Message: "VIP {username}"},
		{Name: "recipe", Match: MatchWord, Keywords: []string{"recipe", "receta"}, Exclude: []string{"stop"}, Message: "Here, {username}: https://example.com/r", Disclose: true},
		{Name: "live", Match: MatchContains, Keywords: []string{"link"}, Kinds: []Kind{KindLive}, Message: "live link"},
		{Name: "exact", Match: MatchExact, Keywords: []string{"Crème Brûlée"}, Message: "dessert"},
	}}
	if err := acct.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		text, media string
		kind        Kind
		want        string
	}{
		{"RECIPE please", "m1", KindReel, "recipe"},
		{"recipe", "m-vip", KindPost, "vip"},
		{"¡RÉCETA!", "m1", KindPost, "recipe"},
		{"recipes", "m1", KindPost, ""},         // word mode: not a whole word
		{"recipe but stop", "m1", KindPost, ""}, // excluded
		{"send the link", "m1", KindLive, "live"},
		{"send the link", "m1", KindPost, ""},
		{"  creme   brulee ", "m1", KindPost, "exact"},
		{"creme brulee now", "m1", KindPost, ""},
		{"", "m1", KindPost, ""},
	}
	for _, tt := range tests {
		j := job("c")
		j.Text, j.MediaID, j.Kind = tt.text, tt.media, tt.kind
		r, ok := acct.Match(j)
		if got := r.Name; got != tt.want || ok != (tt.want != "") {
			t.Errorf("Match(%q, %s, %s) = %q, want %q", tt.text, tt.media, tt.kind, got, tt.want)
		}
	}
	any := Account{Rules: []Rule{{Name: "all", Match: MatchAny, Message: "hi"}}}
	if r, ok := any.Match(job("c")); !ok || r.Name != "all" {
		t.Error("an any-comment rule did not match")
	}
	msg, err := acct.Rules[1].Render("ana", acct.Disclosure)
	if err != nil || msg != "Here, ana: https://example.com/r\n\nSent automatically." {
		t.Errorf("Render = %q, %v", msg, err)
	}
}

func TestValidate(t *testing.T) {
	ok := Account{ID: "17841400000000001", Login: LoginInstagram, TokenParam: "/t"}
	tests := []struct {
		name string
		edit func(*Account)
		want string // part of the error; "" = valid
	}{
		{"valid", func(*Account) {}, ""},
		{"no id", func(a *Account) { a.ID = "" }, "id: required"},
		{"id not digits", func(a *Account) { a.ID = "bakery" }, `id: account id "bakery": not a Meta id`},
		{"id with a path", func(a *Account) { a.ID = "1784/../x" }, "not a Meta id"},
		{"page id not digits", func(a *Account) { a.Login, a.PageID = LoginFacebook, "page-1" }, `page_id: page id "page-1"`},
		{"facebook with page", func(a *Account) { a.Login, a.PageID = LoginFacebook, "100000000000001" }, ""},
		{"app user ids", func(a *Account) { a.AppUserIDs = []string{"26000000000000001", "26000000000000002"} }, ""},
		{"app user id not digits", func(a *Account) { a.AppUserIDs = []string{"26000000000000001", "me"} }, `app_user_ids[1]: app-scoped user id "me"`},
		{"bad login", func(a *Account) { a.Login = "x" }, "login"},
		{"facebook without page", func(a *Account) { a.Login = LoginFacebook }, "page_id"},
		{"no token param", func(a *Account) { a.TokenParam = "" }, "token_param"},
		{"bad match", func(a *Account) { a.Rules = []Rule{{Name: "r", Match: "regex", Message: "x"}} }, `rules[0] "r": match`},
		{"no keywords", func(a *Account) { a.Rules = []Rule{{Name: "r", Match: MatchWord, Message: "x"}} }, "keywords"},
		{"no message", func(a *Account) { a.Rules = []Rule{{Name: "r", Match: MatchAny}} }, "message: required"},
		{"too long", func(a *Account) {
			a.Rules = []Rule{{Name: "r", Match: MatchAny, Message: strings.Repeat("é", 490) + "{username}"}}
		}, "bytes"},
		{"bad link", func(a *Account) { a.Rules = []Rule{{Name: "r", Match: MatchAny, Message: "go https://"}} }, "link"},
		{"disclose without text", func(a *Account) { a.Rules = []Rule{{Name: "r", Match: MatchAny, Message: "x", Disclose: true}} }, "disclose"},
		{"bad kind", func(a *Account) { a.Rules = []Rule{{Name: "r", Match: MatchAny, Message: "x", Kinds: []Kind{"story"}}} }, "kinds"},
		{"bad limit", func(a *Account) { a.Limits = map[Lane]Limit{LanePosts: {}} }, "limits.posts"},
		{"bad public reply", func(a *Account) {
			a.Rules = []Rule{{Name: "r", Match: MatchAny, Message: "x", PublicReplies: []string{" "}}}
		}, "public_replies[0]"},
	}
	for _, tt := range tests {
		a := ok
		tt.edit(&a)
		err := a.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.want)
		}
	}
	if DefaultLimit(LaneLive) != DefaultLiveLimit || (Account{Limits: map[Lane]Limit{LaneLive: {Count: 5, Period: 1}}}).Limit(LaneLive).Count != 5 {
		t.Error("limits")
	}
}
