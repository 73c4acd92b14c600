package replier

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/conversation"
	"github.com/replywindow/replywindow/shared/deletion"
	"github.com/replywindow/replywindow/shared/reply"
)

// Issue 25: every way into the conversation, each through Meta's webhook (the sandbox's), the
// real webhook parser and the replier, on the memory store and on DynamoDB (moto).

const (
	dora  = "17841400000000704"
	emil  = "17841400000000705"
	fritz = "17841400000000706"
	greta = "17841400000000707"
	hanna = "17841400000000708"
	ines  = "17841400000000709"
)

// entries stores the account with a mention rule, a ref rule for "recipe-*", an ice breaker and
// a menu item, and sets its messenger profile on Meta, as `accounts put` does.
func (e *env) entries() {
	e.t.Helper()
	e.put(func(a *reply.Account) {
		a.MentionRules = []reply.MentionRule{{Name: "mention", Messages: []reply.Message{text("Thanks for the mention!")},
			Flow: []reply.Step{tapStep("menu", "MENU_RECIPES", text("all recipes"))}}}
		a.RefRules = []reply.RefRule{{Name: "qr", Ref: "recipe-*", Messages: []reply.Message{text("Welcome from the QR code"), {Kind: reply.MessageHeart}},
			Flow: []reply.Step{tapStep("ask", "ASK_RECIPE", text("today: soup"))}}}
		a.IceBreakers = []reply.IceBreaker{{Question: "What's cooking?", Payload: "ASK_RECIPE"}}
		a.PersistentMenu = []reply.MenuItem{{Type: reply.ButtonPostback, Title: "Recipes", Payload: "MENU_RECIPES"}}
	})
	if err := e.graph.SetMessengerProfile(context.Background(), e.acct, token, e.acct.MessengerProfile(), reply.MessengerProfile{}); err != nil {
		e.t.Fatal(err)
	}
}

// wantTexts checks what person got: each message starts with the text given (the first of a
// conversation carries the disclosure after it).
func (e *env) wantTexts(person string, want ...string) {
	e.t.Helper()
	got := e.sentTo(person)
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(got[i], want[i])
	}
	if !ok {
		e.t.Fatalf("%s got %q, want %q", person, got, want)
	}
}

func TestEntryPoints(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		{"story mention: answered once a day, duplicates send nothing", func(t *testing.T, e *env) {
			_, b := e.sb.StoryMention(e.acct.ID, dora, "18000000000000099")
			e.deliver(b)
			e.deliver(b) // Meta's retry
			e.wantTexts(dora, "Thanks for the mention!")
			c, err := e.store.Conversation(context.Background(), e.acct.ID, dora)
			if err != nil || !c.WindowEnd.Equal(e.sb.WindowEnd(e.acct.ID, dora)) {
				t.Fatalf("window %v (%v), Meta's %v", c.WindowEnd, err, e.sb.WindowEnd(e.acct.ID, dora))
			}
			e.clock.Add(time.Hour)
			_, b2 := e.sb.StoryMention(e.acct.ID, dora, "18000000000000100")
			if d := e.deliver(b2); len(d) != 1 || d[0].Reason != conversation.ReasonAlreadySent {
				t.Fatalf("second mention within a day: %+v", d)
			}
			e.clock.Add(24 * time.Hour)
			_, b3 := e.sb.StoryMention(e.acct.ID, dora, "18000000000000101")
			e.deliver(b3)
			e.wantTexts(dora, "Thanks for the mention!", "Thanks for the mention!")
			if n := e.m.Get("StoryMentionsAnswered"); n != 2 {
				t.Errorf("StoryMentionsAnswered = %v, want 2", n)
			}
		}},
		{"ref in an existing thread (messaging_referral), redelivered and out of order", func(t *testing.T, e *env) {
			e.deliver(one(e.sb.Message(e.acct.ID, emil, "hello")))
			e.clock.Add(time.Minute)
			b := e.sb.OpenLink(e.acct.ID, emil, "recipe-bio")
			e.clock.Add(time.Minute)
			later := one(e.sb.Message(e.acct.ID, emil, "and?"))
			e.deliver(later) // arrives before the referral
			e.deliver(b)
			e.deliver(b)
			e.wantTexts(emil, "Welcome from the QR code", "♥")
			// the later message opened the window furthest: the referral moves it no earlier
			c, _ := e.store.Conversation(context.Background(), e.acct.ID, emil)
			if !c.WindowEnd.Equal(e.sb.WindowEnd(e.acct.ID, emil)) {
				t.Fatalf("window %v, Meta's %v", c.WindowEnd, e.sb.WindowEnd(e.acct.ID, emil))
			}
		}},
		{"ref on the first message", func(t *testing.T, e *env) {
			_, b := e.sb.RefMessage(e.acct.ID, fritz, "recipe-print", "hi")
			e.deliver(b)
			e.deliver(b)
			e.wantTexts(fritz, "Welcome from the QR code", "♥")
			if n := e.m.Get("RefsAnswered"); n != 1 {
				t.Errorf("RefsAnswered = %v, want 1", n)
			}
		}},
		{"a new thread: the ref comes with the ice breaker tap and starts its flow", func(t *testing.T, e *env) {
			if b := e.sb.OpenLink(e.acct.ID, greta, "recipe-qr"); b != nil {
				t.Fatalf("Meta sends nothing for a new thread: %s", b)
			}
			_, b, _ := e.sb.IceBreaker(e.acct.ID, greta, "ASK_RECIPE")
			e.deliver(b)
			e.wantTexts(greta, "Welcome from the QR code", "♥")
			// the ice breaker asked again, without a link: its step answers
			_, b2, _ := e.sb.IceBreaker(e.acct.ID, greta, "ASK_RECIPE")
			e.deliver(b2)
			e.wantTexts(greta, "Welcome from the QR code", "♥", "today: soup")
		}},
		{"ice breaker and menu taps run their steps", func(t *testing.T, e *env) {
			_, b, _ := e.sb.IceBreaker(e.acct.ID, hanna, "ASK_RECIPE")
			e.deliver(b)
			_, b2, _ := e.sb.MenuTap(e.acct.ID, hanna, "MENU_RECIPES")
			e.deliver(b2)
			e.deliver(b2)
			e.wantTexts(hanna, "today: soup", "all recipes")
			if e.m.Get("IceBreakersAnswered") != 1 || e.m.Get("MenuTapsAnswered") != 1 {
				t.Errorf("ice breakers %v, menu taps %v; want 1, 1", e.m.Get("IceBreakersAnswered"), e.m.Get("MenuTapsAnswered"))
			}
		}},
		{"a ref no rule takes: counted, logged, nothing sent", func(t *testing.T, e *env) {
			e.deliver(one(e.sb.Message(e.acct.ID, ines, "hello")))
			e.clock.Add(time.Second)
			b := e.sb.OpenLink(e.acct.ID, ines, "summer")
			d := e.deliver(b)
			e.deliver(b)
			if len(d) != 1 || d[0].Reason != conversation.ReasonUnknownRef {
				t.Fatalf("decision %+v, want %s", d, conversation.ReasonUnknownRef)
			}
			e.wantTexts(ines)
			if n := e.m.Get(conversation.MetricRefUnmapped); n != 1 {
				t.Errorf("RefsUnmapped = %v, want 1 (a redelivery counts nothing)", n)
			}
		}},
	}
	for _, kind := range bothStores {
		for _, tt := range tests {
			t.Run(kind.name+"/"+tt.name, func(t *testing.T) {
				e := newEnv(t, kind)
				e.entries()
				tt.run(t, e)
			})
		}
	}
}

func one(_ string, b []byte) []byte { return b }

// TestRequestsPerEntry counts what the first answer of each entry point costs a person who has no
// conversation yet, with warm caches: DynamoDB write requests and reads, and Graph calls. Each
// answer is one text message carrying the disclosure: the Touch that creates the conversation,
// the step's claim, the bucket, the outcome, the disclosure's delivery; one Send API call.
func TestRequestsPerEntry(t *testing.T) {
	const n = 5
	entries := []struct {
		name string
		body func(e *env, person string) []byte
	}{
		{"story mention", func(e *env, p string) []byte { _, b := e.sb.StoryMention(e.acct.ID, p, "18000000000000099"); return b }},
		{"ref on the first message", func(e *env, p string) []byte { _, b := e.sb.RefMessage(e.acct.ID, p, "recipe-x", "hi"); return b }},
		{"ref on an ice breaker tap", func(e *env, p string) []byte {
			e.sb.OpenLink(e.acct.ID, p, "recipe-x")
			_, b, _ := e.sb.IceBreaker(e.acct.ID, p, "ASK_RECIPE")
			return b
		}},
		{"ice breaker", func(e *env, p string) []byte { _, b, _ := e.sb.IceBreaker(e.acct.ID, p, "ASK_RECIPE"); return b }},
		{"menu", func(e *env, p string) []byte { _, b, _ := e.sb.MenuTap(e.acct.ID, p, "MENU_RECIPES"); return b }},
	}
	for _, kind := range bothStores {
		for _, en := range entries {
			t.Run(kind.name+"/"+en.name, func(t *testing.T) {
				e := newEnv(t, kind)
				e.entries()
				// The ref rule answers with one text here, like the others.
				e.put(func(a *reply.Account) { a.RefRules[0].Messages = a.RefRules[0].Messages[:1] })
				e.deliver(en.body(e, "17841400000000900")) // warms the caches
				r0, w0 := e.counts()
				var ops0 map[string]int
				if e.ops != nil {
					ops0 = e.ops()
				}
				c0, m0 := e.sb.Stats().Calls, len(e.sb.Messages())
				for i := range n {
					e.deliver(en.body(e, "1784140000000091"+string(rune('0'+i))))
				}
				r1, w1 := e.counts()
				calls := 0
				for op, c := range e.sb.Stats().Calls {
					calls += c - c0[op]
				}
				if sent := len(e.sb.Messages()) - m0; sent != n {
					t.Fatalf("%d answers sent, want %d", sent, n)
				}
				ops := map[string]int{}
				if e.ops != nil {
					for op, c := range e.ops() {
						if c != ops0[op] {
							ops[op] = c - ops0[op]
						}
					}
				}
				t.Logf("%s %s: per first answer: %.2f writes, %.2f reads, %.2f Graph calls; requests %v",
					kind.name, en.name, float64(w1-w0)/n, float64(r1-r0)/n, float64(calls)/n, ops)
				// DynamoDB: the conversation's first write is a transaction with the tombstones'
				// condition checks, after an UpdateItem that found no conversation (and a read
				// of what failed): one write and one read more than the memory store counts.
				wantW, wantR := 5*n, 0
				if kind.name != "memory" {
					wantW, wantR = 6*n, n
				}
				if w1-w0 != wantW || r1-r0 != wantR || calls != n {
					t.Fatalf("%d writes, %d reads, %d Graph calls for %d answers; want %d, %d, %d", w1-w0, r1-r0, calls, n, wantW, wantR, n)
				}
			})
		}
	}
}

// TestEntryDeletion: a data deletion for a person removes what their entry points made (the
// conversation and its follow-ups' records), and a mention redelivered after it brings nothing
// back.
func TestEntryDeletion(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.entries()
			ctx := context.Background()
			_, mention := e.sb.StoryMention(e.acct.ID, dora, "18000000000000099")
			e.deliver(mention)
			_, ref := e.sb.RefMessage(e.acct.ID, dora, "recipe-x", "hi")
			e.deliver(ref)
			if len(e.followUpRecords(dora)) != 3 {
				t.Fatalf("records %v", e.followUpRecords(dora))
			}
			e.clock.Add(time.Minute)
			d, err := e.store.OpenDeletion(ctx, reply.Deletion{Code: "entrydel", Kind: reply.DeletionPerson, UserID: dora,
				State: reply.DeletionPending, RequestedAt: e.clock.Now(), Version: 1})
			if err != nil {
				t.Fatal(err)
			}
			w := &deletion.Worker{Store: e.store, Params: noParams{}, Clock: e.clock}
			if _, err := w.Run(ctx, time.Minute); err != nil {
				t.Fatal(err)
			}
			if d, _ = e.store.Deletion(ctx, d.Code); d.State != reply.DeletionDone {
				t.Fatalf("deletion %+v", d)
			}
			if recs := e.followUpRecords(dora); len(recs) != 0 {
				t.Errorf("records left: %v", recs)
			}
			if _, err := e.store.Conversation(ctx, e.acct.ID, dora); !errors.Is(err, reply.ErrNotFound) {
				t.Errorf("conversation left: %v", err)
			}
			e.deliver(mention) // Meta's retry of the mention made before the deletion
			if recs := e.followUpRecords(dora); len(recs) != 0 {
				t.Errorf("a redelivered mention brought back %v", recs)
			}
			e.wantTexts(dora, "Thanks for the mention!", "Welcome from the QR code", "♥")
		})
	}
}
