package conversation

import (
	"bytes"
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

const (
	questionMsg = "What's your email? The book goes there."
	consent     = "We only use it to send you the book."
	retryMsg    = "That doesn't look like an email address. Try again?"
	confirm     = "Thanks! Here it comes."
	bookLink    = "The book: https://example.com/book"
	fallback    = "No worries, here it is anyway: https://example.com/book"
)

// asking makes the rule's flow a question: the tap asks for an email, and the book follows.
func asking(kind string, retries int) func(*reply.Account) {
	return func(a *reply.Account) {
		a.Leads = reply.LeadSettings{Consent: consent, PhoneRegion: "DE"}
		a.Rules[0].Flow = []reply.Step{
			{Name: "email", On: reply.Trigger{Payload: payload}, Messages: []reply.Message{{Text: questionMsg}},
				Ask: &reply.Ask{Kind: kind, Consent: true, Retries: retries, Next: "book",
					Confirm: []reply.Message{{Text: confirm}}, Retry: reply.Message{Text: retryMsg}, Fallback: reply.Message{Text: fallback}}},
			{Name: "book", On: reply.Trigger{Keywords: []string{"book"}}, Messages: []reply.Message{{Text: bookLink}}},
		}
	}
}

// say is the person typing text; it returns the result of its one job.
func (e *env) say(text string) Result {
	e.t.Helper()
	_, b := e.sb.Message(account, person, text)
	return e.handle(b)[0]
}

func (e *env) leads() []lead.Lead {
	e.t.Helper()
	ls, _, err := e.store.Leads(context.Background(), account, "", 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return ls
}

// logs makes the service log into a buffer, to look for what must never be there.
func (e *env) logs() *bytes.Buffer {
	var b bytes.Buffer
	e.s.log = slog.New(slog.NewJSONHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug}))
	return &b
}

// TestAskEmail: the question with the consent line, one invalid answer (the retry), a valid one
// (kept, confirmed, and the flow goes on with the book), nothing after.
func TestAskEmail(t *testing.T) {
	e := newEnv(t, asking(reply.AskEmail, 2))
	logs := e.logs()
	if r := e.tap(); r.Action != "sent" {
		t.Fatalf("tap: %+v", r)
	}
	e.clock.Add(time.Minute)
	if r := e.say("it's ana at example dot com"); r.Action != "sent" {
		t.Fatalf("invalid answer: %+v", r)
	}
	if len(e.leads()) != 0 {
		t.Fatal("an invalid answer was kept")
	}
	e.clock.Add(time.Minute)
	if r := e.say("  Ana@Example.COM "); r.Action != "sent" || r.Sent != 2 {
		t.Fatalf("valid answer: %+v, want the confirmation and the book sent", r)
	}
	want := []string{questionMsg + "\n\n" + consent + "\n\nAutomated.", retryMsg, confirm, bookLink}
	if got := e.texts(); !slices.Equal(got, want) {
		t.Fatalf("the person got\n%q\nwant\n%q", got, want)
	}
	ls := e.leads()
	if len(ls) != 1 {
		t.Fatalf("%d leads, want 1", len(ls))
	}
	l := ls[0]
	if l.Value != "Ana@example.com" || l.Kind != lead.KindEmail || l.Rule != "recipe" || l.Step != "email" ||
		l.Consent != consent || l.PersonID != person || !l.ExpiresAt.Equal(l.CapturedAt.Add(lead.DefaultRetention)) {
		t.Errorf("lead %+v", l)
	}
	// The step after the question went with the confirmation: its own trigger sends nothing.
	if r := e.say("book"); r.Action != "ignored" || r.Reason != ReasonAlreadySent {
		t.Errorf("the next step's keyword after the confirmation: %+v", r)
	}
	// Answered: a later message is no answer.
	if r := e.say("bob@example.com"); r.Action != "ignored" || len(e.leads()) != 1 {
		t.Errorf("after the answer: %+v", r)
	}
	if c, i := e.m.Get(MetricLeadCaptured+"|Kind=email"), e.m.Get(MetricLeadInvalid+"|Kind=email"); c != 1 || i != 1 {
		t.Errorf("metrics: captured %v, invalid %v", c, i)
	}
	for _, secret := range []string{"ana@example.com", "Ana@example.com", "ana at example"} {
		if strings.Contains(strings.ToLower(logs.String()), strings.ToLower(secret)) {
			t.Errorf("the logs hold the answer %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs.String(), "lead captured") {
		t.Errorf("no log line with the lead's ids:\n%s", logs)
	}
}

// TestAskRetryLimit: every kind of bad answer gets the retry, at most Retries times, then the
// fallback; nothing is kept, and the question is over.
func TestAskRetryLimit(t *testing.T) {
	for _, tt := range []struct {
		name    string
		kind    string
		retries int
		answers []string
	}{
		{"email, default retries", reply.AskEmail, 0, []string{"no", "ana@", "ana@example"}},
		{"email, one retry", reply.AskEmail, 1, []string{"ana\x00@example.com", strings.Repeat("a", 10<<10)}},
		{"phone, three retries", reply.AskPhone, 3, []string{"call me", "+1 555", "٠١٥١٢٣٤٥٦٧٨٩", "0151 2345\u200b6789"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, asking(tt.kind, tt.retries))
			logs := e.logs()
			e.tap()
			limit := tt.retries
			if limit == 0 {
				limit = reply.DefaultAskRetries
			}
			if len(tt.answers) != limit+1 {
				t.Fatalf("the case needs %d answers", limit+1)
			}
			for i, a := range tt.answers {
				e.clock.Add(time.Minute)
				if r := e.say(a); r.Action != "sent" {
					t.Fatalf("answer %d: %+v", i, r)
				}
			}
			got := e.texts()
			want := []string{questionMsg + "\n\n" + consent + "\n\nAutomated."}
			for range limit {
				want = append(want, retryMsg)
			}
			want = append(want, fallback)
			if !slices.Equal(got, want) {
				t.Fatalf("the person got\n%q\nwant\n%q", got, want)
			}
			// The question is over: a valid answer now is no answer, and nothing is kept.
			valid := map[string]string{reply.AskEmail: "ana@example.com", reply.AskPhone: "+4915123456789"}[tt.kind]
			if r := e.say(valid); r.Action != "ignored" {
				t.Errorf("an answer after the fallback: %+v", r)
			}
			if ls := e.leads(); len(ls) != 0 {
				t.Errorf("leads %+v, want none", ls)
			}
			if n := e.m.Get(MetricLeadFallback + "|Kind=" + tt.kind); n != 1 {
				t.Errorf("fallback metric %v", n)
			}
			for _, a := range tt.answers[:1] {
				if strings.Contains(logs.String(), a) {
					t.Errorf("the logs hold an answer %q", a)
				}
			}
		})
	}
}

// TestAskPhone: a national number is read in the account's region and kept in E.164.
func TestAskPhone(t *testing.T) {
	e := newEnv(t, asking(reply.AskPhone, 0))
	e.tap()
	if r := e.say("0151 23456789"); r.Action != "sent" {
		t.Fatalf("answer: %+v", r)
	}
	if ls := e.leads(); len(ls) != 1 || ls[0].Value != "+4915123456789" || ls[0].Kind != lead.KindPhone {
		t.Fatalf("leads %+v", ls)
	}
}

// TestAskDuplicates: Meta delivering an answer twice, and two answers handled at the same time
// by two instances: one lead, one confirmation, and one retry for one invalid answer.
func TestAskDuplicates(t *testing.T) {
	t.Run("the same answer delivered twice", func(t *testing.T) {
		e := newEnv(t, asking(reply.AskEmail, 2))
		e.tap()
		_, bad := e.sb.Message(account, person, "nope")
		e.handle(bad)
		if r := e.handle(bad)[0]; r.Action != "done" || r.Reason != "duplicate" {
			t.Errorf("the invalid answer again: %+v, want a duplicate", r)
		}
		_, good := e.sb.Message(account, person, "ana@example.com")
		e.handle(good)
		e.handle(good)
		want := []string{questionMsg + "\n\n" + consent + "\n\nAutomated.", retryMsg, confirm, bookLink}
		if got := e.texts(); !slices.Equal(got, want) {
			t.Fatalf("the person got\n%q\nwant\n%q", got, want)
		}
		if ls := e.leads(); len(ls) != 1 {
			t.Fatalf("%d leads", len(ls))
		}
	})
	t.Run("answers at once on many instances", func(t *testing.T) {
		e := newEnv(t, asking(reply.AskEmail, 2))
		e.tap()
		var jobs []reply.Job
		for _, a := range []string{"ana@example.com", "ana.two@example.com", "ana@example.com", "bad"} {
			_, b := e.sb.Message(account, person, a)
			jobs = append(jobs, parse(t, b, e.clock.Now())...)
		}
		var wg sync.WaitGroup
		for i, j := range jobs {
			for range 2 { // each delivered twice, too
				wg.Add(1)
				go func() {
					defer wg.Done()
					l := Lease{Owner: string(rune('a' + i)), Until: e.clock.Now().Add(time.Minute)}
					if _, err := e.s.Handle(context.Background(), j, l); err != nil {
						t.Errorf("handle: %v", err)
					}
				}()
			}
		}
		wg.Wait()
		if ls := e.leads(); len(ls) != 1 {
			t.Fatalf("%d leads, want 1", len(ls))
		}
		n := map[string]int{}
		for _, s := range e.texts() {
			n[s]++
		}
		// The lead's answer is confirmed once; the invalid answer got one retry at most (none
		// when the confirmation was claimed before it was handled: the question was over).
		if n[confirm] != 1 || n[bookLink] != 1 || n[retryMsg] > 1 {
			t.Errorf("the person got %v: want one confirmation and the book once, at most one retry", n)
		}
	})
}

// TestAskOutsideWindow: an answer (or the tap that asks) whose 24 hours are over when it is
// handled sends nothing and keeps nothing.
func TestAskOutsideWindow(t *testing.T) {
	e := newEnv(t, asking(reply.AskEmail, 2))
	_, b := e.sb.Postback(account, person, payload, "Link")
	e.clock.Add(25 * time.Hour)
	if r := e.handle(b)[0]; r.Action != "expired" {
		t.Fatalf("a late tap: %+v", r)
	}
	e.clock.Set(start)
	e2 := newEnv(t, asking(reply.AskEmail, 2))
	e2.tap()
	_, ans := e2.sb.Message(account, person, "ana@example.com")
	e2.clock.Add(25 * time.Hour)
	if r := e2.handle(ans)[0]; r.Action != "expired" {
		t.Fatalf("a late answer: %+v", r)
	}
	if len(e.sb.Messages()) != 0 || len(e2.texts()) != 1 || len(e2.leads()) != 0 {
		t.Errorf("sent %d and %d messages, kept %d leads", len(e.sb.Messages()), len(e2.texts()), len(e2.leads()))
	}
}

// TestAskConsentSeen: the lead records the consent line the question carried, even when the
// account's line changed before the person answered.
func TestAskConsentSeen(t *testing.T) {
	e := newEnv(t, asking(reply.AskEmail, 2))
	e.tap()
	e.acct.Leads.Consent, e.acct.Version = "A new line, never shown to this person.", 2
	if _, err := e.store.PutAccount(context.Background(), e.acct); err != nil {
		t.Fatal(err)
	}
	e.say("ana@example.com")
	if ls := e.leads(); len(ls) != 1 || ls[0].Consent != consent {
		t.Fatalf("leads %+v, want one with the line the question carried, %q", ls, consent)
	}
}
