package links

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

func TestTrack(t *testing.T) {
	on, off := true, false
	acct := reply.Account{ID: "17841400000000001", Tracking: &reply.Tracking{Enabled: &on, Links: map[string]bool{"https://off.example/": false}},
		Rules: []reply.Rule{
			{Name: "recipe", Tracking: &reply.Tracking{UTM: map[string]string{"utm_source": "instagram", "utm_campaign": "recipe"}}},
			{Name: "quiet", Tracking: &reply.Tracking{Enabled: &off}},
		}}
	keys := &SecretKeys{Secret: testSecret, MaxAge: 30 * 24 * time.Hour}
	tr := &Tracker{Base: "https://api.example/", Keys: keys, Clock: fixedClock{sentAt}, Metrics: telemetry.NewMetrics("replier")}
	tr.Base = strings.TrimRight(tr.Base, "/")
	sealer, _ := keys.Sealer(context.Background())
	msg := reply.Message{Text: "Here: https://shop.example/book. And https://off.example/ too",
		Buttons: []reply.Button{{Type: reply.ButtonURL, Title: "Buy", URL: "https://shop.example/book"}, {Type: reply.ButtonPostback, Title: "More", Payload: "more"}}}
	o := reply.Origin{Account: acct.ID, Rule: "recipe", Media: "18000000000000001", Person: "9000000000000001"}

	got := tr.Track(context.Background(), acct, o, msg)
	btn := got.Buttons[0].URL
	if !strings.HasPrefix(btn, "https://api.example/l/") {
		t.Fatalf("button link %q is not tracked", btn)
	}
	l, err := sealer.Open(strings.TrimPrefix(btn, "https://api.example/l/"), sentAt)
	if err != nil || l.Target != "https://shop.example/book?utm_campaign=recipe&utm_source=instagram" || l.Origin != o {
		t.Errorf("button code opens to %+v (%v), want the target with UTM and the origin", l, err)
	}
	if !strings.Contains(got.Text, "Here: https://api.example/l/") || !strings.Contains(got.Text, ". And https://off.example/?utm_campaign=recipe&utm_source=instagram too") {
		t.Errorf("text %q: want the first link tracked (sentence's dot kept) and the link turned off untracked with UTM", got.Text)
	}
	if msg.Buttons[0].URL != "https://shop.example/book" {
		t.Error("Track changed the account's message")
	}
	if got.Buttons[1] != msg.Buttons[1] {
		t.Error("a postback button changed")
	}

	o.Rule = "quiet"
	if got := tr.Track(context.Background(), acct, o, msg); got.Buttons[0].URL != "https://shop.example/book" || got.Text != msg.Text {
		t.Errorf("a rule with tracking off: %+v", got)
	}

	o.Rule = "recipe"
	long := reply.Message{Text: strings.Repeat("x", reply.MaxTextBytes-100) + " https://shop.example/book"}
	if got := tr.Track(context.Background(), acct, o, long); strings.Contains(got.Text, "/l/") || len(got.Text) > reply.MaxTextBytes {
		t.Errorf("a text the code would push past Meta's limit: %d bytes, tracked %v", len(got.Text), strings.Contains(got.Text, "/l/"))
	}
	if tr.Metrics.Get(MetricNotTracked+"|Reason=long") != 1 {
		t.Error("the untracked long link was not counted")
	}

	broken := &Tracker{Base: "https://api.example", Keys: &SecretKeys{Params: failingParams{}, Param: "/rw/links"}, Metrics: telemetry.NewMetrics("replier")}
	if got := broken.Track(context.Background(), acct, o, msg); strings.Contains(got.Buttons[0].URL, "/l/") {
		t.Error("tracked without a key")
	} else if broken.Metrics.Get(MetricNotTracked+"|Reason=key") != 1 {
		t.Error("the untracked links were not counted")
	}
}

func TestTrackingValidation(t *testing.T) {
	on := true
	base := func() reply.Account {
		return reply.Account{ID: "17841400000000001", Login: reply.LoginInstagram, TokenParam: "/t",
			Rules: []reply.Rule{{Name: "r", Match: reply.MatchAny, Message: "hi",
				Buttons: []reply.Button{{Type: reply.ButtonURL, Title: "Go", URL: "https://shop.example/"}}}}}
	}
	for _, c := range []struct {
		name string
		edit func(a *reply.Account)
		want string // "" valid
	}{
		{"tracking on", func(a *reply.Account) { a.Tracking = &reply.Tracking{Enabled: &on} }, ""},
		{"link not http", func(a *reply.Account) {
			a.Tracking = &reply.Tracking{Links: map[string]bool{"ftp://shop.example/": true}}
		}, `tracking.links: tracked link "ftp://shop.example/" is not an http(s) URL`},
		{"utm on the account", func(a *reply.Account) {
			a.Tracking = &reply.Tracking{UTM: map[string]string{"utm_source": "ig"}}
		}, "tracking.utm: set it on a rule"},
		{"unknown utm", func(a *reply.Account) {
			a.Rules[0].Tracking = &reply.Tracking{UTM: map[string]string{"utm_sauce": "ig"}}
		}, `rules[0] "r": tracking.utm: "utm_sauce" is not one of`},
		{"tracked button not http", func(a *reply.Account) {
			a.Rules[0].Tracking = &reply.Tracking{Enabled: &on}
			a.Rules[0].Buttons[0].URL = "mailto:x@shop.example"
		}, `rules[0] "r": buttons[0]: url: "mailto:x@shop.example" is not a well-formed http(s) URL`},
	} {
		a := base()
		c.edit(&a)
		err := a.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
