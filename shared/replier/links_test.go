package replier

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/links"
	"github.com/replywindow/replywindow/shared/reply"
)

// TestTrackedLinks: with a tracker wired (as functions/replier does when LINK_BASE_URL is set),
// a rule that tracks its links sends them as click-route links, in its private reply's buttons
// and in its flow's follow-ups, each code naming the rule, the media (private reply) and the
// person, and the target with the rule's UTM parameters.
func TestTrackedLinks(t *testing.T) {
	e := newEnv(t, memoryStore)
	e.funnel()
	on := true
	e.put(func(a *reply.Account) {
		a.Rules[0].Buttons = append(a.Rules[0].Buttons, reply.Button{Type: reply.ButtonURL, Title: "Shop", URL: "https://example.com/shop"})
		a.Rules[0].Tracking = &reply.Tracking{Enabled: &on, UTM: map[string]string{"utm_source": "instagram"}}
	})
	keys := &links.SecretKeys{Secret: strings.Repeat("k", 32), MaxAge: 30 * 24 * time.Hour}
	e.r.TrackLinks(&links.Tracker{Base: "https://api.example", Keys: keys, Clock: e.clock, Metrics: e.m})
	sealer, err := keys.Sealer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	open := func(what, link string) links.Link {
		t.Helper()
		code, ok := strings.CutPrefix(link, "https://api.example/l/")
		if !ok {
			t.Fatalf("%s: %q is not a tracked link", what, link)
		}
		l, err := sealer.Open(code, e.clock.Now())
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return l
	}

	job := sampleJob(t, 1)
	job.Text = "recipe please"
	if d := e.process(job); d.Action != ActionSent {
		t.Fatalf("private reply: %+v", d)
	}
	pr := e.sb.Deliveries()[0]
	l := open("private reply's button", pr.Buttons[1].URL)
	want := reply.Origin{Account: e.acct.ID, Rule: "recipe", Media: job.FunnelMedia(), Person: job.FromID}
	if l.Origin != want || l.Target != "https://example.com/shop?utm_source=instagram" {
		t.Errorf("private reply's link opens to %+v, want %+v and the target with UTM", l, want)
	}
	if pr.Buttons[0].Type != reply.ButtonPostback || pr.Buttons[0].Payload != "RECIPE_LINK" {
		t.Errorf("the postback button changed: %+v", pr.Buttons[0])
	}

	e.sb.SetFollows(e.acct.ID, job.FromID, true)
	_, b := e.sb.Postback(e.acct.ID, job.FromID, "RECIPE_LINK", "Send me the link")
	e.deliver(b)
	msgs := e.sb.Messages()
	if len(msgs) == 0 {
		t.Fatal("no follow-up sent")
	}
	text := msgs[0].Text
	i := strings.Index(text, "https://api.example/l/")
	if i < 0 {
		t.Fatalf("follow-up %q carries no tracked link", text)
	}
	l = open("follow-up", strings.Fields(text[i:])[0])
	want.Media = "" // a conversation's message names no media
	if l.Origin != want || l.Target != "https://example.com/r/lasagna?utm_source=instagram" {
		t.Errorf("follow-up's link opens to %+v, want %+v", l, want)
	}
}
