package replier

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/conversation"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/webhook"
)

// The cases of issue 19, each on the memory store and on DynamoDB (moto).

const (
	ana  = "17841400000000701"
	ben  = "17841400000000702"
	cleo = "17841400000000703"
)

func text(s string) reply.Message { return reply.Message{Text: s} }

func tapStep(name, payload string, msgs ...reply.Message) reply.Step {
	return reply.Step{Name: name, On: reply.Trigger{Payload: payload}, Messages: msgs}
}

func flowRule(name string, steps ...reply.Step) reply.Rule {
	return reply.Rule{Name: name, Match: reply.MatchWord, Keywords: []string{name}, Message: "Tap below", Flow: steps}
}

// tap delivers a postback of person's, as Meta would.
func (e *env) tap(person, payload string) []Decision {
	e.t.Helper()
	_, b := e.sb.Postback(e.acct.ID, person, payload, "Tap")
	return e.deliver(b)
}

// say delivers a DM of person's.
func (e *env) say(person, words string) []Decision {
	e.t.Helper()
	_, b := e.sb.Message(e.acct.ID, person, words)
	return e.deliver(b)
}

// followUpRecords are person's follow-up records, by key.
func (e *env) followUpRecords(person string) map[string]reply.Record {
	e.t.Helper()
	out := map[string]reply.Record{}
	cursor := ""
	for {
		recs, next, err := e.store.Scan(context.Background(), cursor, 100)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, r := range recs {
			if r.Job.FollowUp != nil && r.Job.FollowUp.PersonID == person {
				out[r.Key] = r
			}
		}
		if next == "" {
			return out
		}
		cursor = next
	}
}

// parkedFollowUp is person's one follow-up record parked for reason.
func (e *env) parkedFollowUp(person, reason string) reply.Record {
	e.t.Helper()
	var found []reply.Record
	for _, r := range e.followUpRecords(person) {
		if r.State == reply.StateParked && r.Reason == reason {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		e.t.Fatalf("%s: %d follow-ups parked for %s, want 1: %+v", person, len(found), reason, e.followUpRecords(person))
	}
	return found[0]
}

// release is the sweeper handing a parked follow-up back (whatever its due time) and the
// replier working the job.
func (e *env) release(rec reply.Record) Decision {
	e.t.Helper()
	rec.DueAt = e.clock.Now()
	rel, err := rec.Release(false, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	rec.DueAt = rel.DueAt
	if rel, err = e.store.Update(context.Background(), rel); err != nil {
		e.t.Fatal(err)
	}
	d, err := e.r.Process(context.Background(), rel.Job)
	if err != nil {
		e.t.Fatalf("released %s: %v", rel.Key, err)
	}
	return d
}

func (e *env) wantSent(person string, want ...string) {
	e.t.Helper()
	if got := e.sentTo(person); !same(got, want) {
		e.t.Fatalf("%s got %q, want %q", person, got, want)
	}
}

// TestEachFlowsStepsAreTheirOwn is case 1: two rules' flows both with a step "link", two DM
// rules, a step called "x#gate" beside a gated step "x", and a step renamed under its id.
func TestEachFlowsStepsAreTheirOwn(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(func(a *reply.Account) {
				a.Rules = []reply.Rule{
					flowRule("recipe", tapStep("link", "RECIPE", text("recipe link"))),
					flowRule("guide", tapStep("link", "GUIDE", text("guide link"))),
					flowRule("gated",
						reply.Step{Name: "x", On: reply.Trigger{Payload: "X"}, Messages: []reply.Message{text("x itself")},
							Gate: &reply.Gate{Message: text("follow first"), Unavailable: reply.GateAsk}},
						tapStep("x#gate", "XGATE", text("the step called x#gate"))),
				}
				a.DMRules = []reply.DMRule{
					{Name: "price", Match: reply.MatchWord, Keywords: []string{"price"}, Messages: []reply.Message{text("It is 5 €")}},
					{Name: "hours", Match: reply.MatchWord, Keywords: []string{"hours"}, Messages: []reply.Message{text("9 to 5")}},
				}
			})
			d := "\n\n" + e.acct.Disclosure
			e.tap(ana, "RECIPE")
			e.clock.Add(time.Minute)
			e.tap(ana, "GUIDE")
			e.wantSent(ana, "recipe link"+d, "guide link")

			e.say(ben, "the price?")
			e.clock.Add(time.Minute)
			e.say(ben, "and your hours?")
			e.wantSent(ben, "It is 5 €"+d, "9 to 5")

			e.tap(cleo, "X") // not following: the gate's message
			e.clock.Add(time.Minute)
			e.tap(cleo, "XGATE")
			e.wantSent(cleo, "follow first"+d, "the step called x#gate")

			// Renaming a step under its id resends nothing; the other rule's step is untouched.
			e.put(func(a *reply.Account) { a.Rules[0].Flow[0].ID, a.Rules[0].Flow[0].Name = "link", "the recipe link" })
			e.clock.Add(time.Minute)
			if got := e.tap(ana, "RECIPE"); got[0].Reason != conversation.ReasonAlreadySent {
				t.Fatalf("a tap on the renamed step: %+v, want %s", got, conversation.ReasonAlreadySent)
			}
			e.wantSent(ana, "recipe link"+d, "guide link")
		})
	}
}

// TestStepMessagesArriveInOrder is case 2: a step of [video, text] whose media lane is full
// reaches the person as [video, text], even when the text's release comes first; a heart or
// video first is preceded by the disclosure as its own text (case 4).
func TestStepMessagesArriveInOrder(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(func(a *reply.Account) {
				a.Limits = map[reply.Lane]reply.Limit{reply.LaneMedia: {Count: 1, Period: time.Minute}}
				a.Rules = []reply.Rule{flowRule("recipe", tapStep("link", "VIDEO",
					reply.Message{Kind: reply.MessageVideo, URL: "https://example.com/v.mp4"}, text("the text")))}
			})
			e.tap(ana, "VIDEO") // takes the media lane's one send of the minute
			notice := e.acct.Disclosure
			e.wantSent(ana, notice, "https://example.com/v.mp4", "the text")

			e.tap(ben, "VIDEO")
			e.wantSent(ben, notice)
			video := e.parkedFollowUp(ben, reply.ReasonRateLimited)
			held := e.parkedFollowUp(ben, conversation.ParkHeld)
			if video.Job.FollowUp.Index+1 != held.Job.FollowUp.Index {
				t.Fatalf("held %d behind %d", held.Job.FollowUp.Index, video.Job.FollowUp.Index)
			}
			// The text lane is free: the sweeper may hand the text back first. It waits.
			if d := e.release(held); d.Action != "parked" || d.Reason != conversation.ParkHeld {
				t.Fatalf("the text released before its video: %+v, want it held", d)
			}
			e.wantSent(ben, notice)
			e.clock.Add(2 * time.Minute)
			if d := e.release(e.parkedFollowUp(ben, reply.ReasonRateLimited)); d.Action != "sent" {
				t.Fatalf("the video released: %+v", d)
			}
			e.wantSent(ben, notice, "https://example.com/v.mp4", "the text")
			if got := e.followUpRecords(ben)[held.Key]; got.State != reply.StateSent {
				t.Fatalf("the held text's record: %s (%s), want SENT", got.State, got.Reason)
			}
		})
	}
}

// TestFlowEditNeverShiftsAParkedMessage is case 3: a step [A, B] with A sent and B parked,
// edited to [X, A, B], sends B; edited to drop B, leaves B SKIPPED.
func TestFlowEditNeverShiftsAParkedMessage(t *testing.T) {
	for _, kind := range bothStores {
		for _, tc := range []struct {
			name  string
			edit  []reply.Message
			state reply.State
			want  []string
		}{
			{"X put first", []reply.Message{text("X"), text("A"), text("B")}, reply.StateSent, []string{"B"}},
			{"B removed", []reply.Message{text("X"), text("A")}, reply.StateSkipped, nil},
		} {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t, kind)
				e.put(func(a *reply.Account) {
					a.Limits = map[reply.Lane]reply.Limit{reply.LaneText: {Count: 1, Period: time.Minute}}
					a.Rules = []reply.Rule{flowRule("recipe", tapStep("link", "LINK", text("A"), text("B")))}
				})
				e.tap(ana, "LINK")
				d := "\n\n" + e.acct.Disclosure
				e.wantSent(ana, "A"+d)
				b := e.parkedFollowUp(ana, reply.ReasonRateLimited)
				e.put(func(a *reply.Account) { a.Rules[0].Flow[0].Messages = tc.edit })
				e.clock.Add(2 * time.Minute)
				e.release(b)
				e.wantSent(ana, append([]string{"A" + d}, tc.want...)...)
				if got := e.followUpRecords(ana)[b.Key]; got.State != tc.state {
					t.Fatalf("B's record %s (%s), want %s", got.State, got.Reason, tc.state)
				}
			})
		}
	}
}

// TestDisclosureReachesThePerson is case 4: a step starting with the heart sticker gets the
// disclosure as its own text first; when the first automated message is refused, the next
// one carries it.
func TestDisclosureReachesThePerson(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(func(a *reply.Account) {
				a.Rules = []reply.Rule{flowRule("recipe",
					tapStep("heart", "HEART", reply.Message{Kind: reply.MessageHeart}, text("thanks")),
					tapStep("link", "LINK", text("the link")),
					tapStep("more", "MORE", text("more")))}
			})
			notice := e.acct.Disclosure
			e.tap(ana, "HEART")
			e.wantSent(ana, notice, "♥", "thanks")

			e.sb.QueueCallFault(sandbox.OpSend, ben, sandbox.MetaError(400, 100, 0))
			if got := e.tap(ben, "LINK"); got[0].Action != "failed" {
				t.Fatalf("the refused first message: %+v", got)
			}
			e.clock.Add(time.Minute)
			e.tap(ben, "MORE")
			e.wantSent(ben, "more\n\n"+notice)
			e.clock.Add(time.Minute)
			e.tap(ben, "HEART")
			e.wantSent(ben, "more\n\n"+notice, "♥", "thanks") // delivered once: not again
		})
	}
}

// failingBuckets refuses the rate bucket's writes while down.
type failingBuckets struct {
	reply.Store
	down bool
}

func (f *failingBuckets) SaveBucket(ctx context.Context, b reply.Bucket) (reply.Bucket, error) {
	if f.down {
		return reply.Bucket{}, errors.New("dynamodb PutItem: InternalServerError")
	}
	return f.Store.SaveBucket(ctx, b)
}

// TestFailureBeforeTheCallIsNotAnAttempt is case 5: the Send API lane's bucket failing after
// the claim parks the follow-up without an attempt and without a call; released, it is sent.
func TestFailureBeforeTheCallIsNotAnAttempt(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(func(a *reply.Account) {
				a.Rules = []reply.Rule{flowRule("recipe", tapStep("link", "LINK", text("the link")))}
			})
			fb := &failingBuckets{Store: e.store, down: true}
			e.store = fb
			e.r = e.replier()
			if got := e.tap(ana, "LINK"); got[0].Action != "parked" || got[0].Reason != conversation.ParkBucket {
				t.Fatalf("tap while the bucket fails: %+v, want parked (%s)", got, conversation.ParkBucket)
			}
			rec := e.parkedFollowUp(ana, conversation.ParkBucket)
			if rec.Attempts != 0 || rec.Uncertain || len(e.sb.Messages()) != 0 {
				t.Fatalf("parked with %d attempts (uncertain %v) and %d sends, want none", rec.Attempts, rec.Uncertain, len(e.sb.Messages()))
			}
			fb.down = false
			e.clock.Add(time.Minute)
			if d := e.release(rec); d.Action != "sent" {
				t.Fatalf("released: %+v, want sent", d)
			}
			e.wantSent(ana, "the link\n\n"+e.acct.Disclosure)
		})
	}
}

// TestDeletionStaysADeletion is case 6: after a person is forgotten, a queued echo, a DM no
// step takes, a tap for a step already sent and a tap whose window closed write nothing back.
func TestDeletionStaysADeletion(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(func(a *reply.Account) {
				a.Rules = []reply.Rule{flowRule("recipe", tapStep("link", "LINK", text("the link")))}
			})
			e.tap(ana, "LINK")
			// Queued before the deletion, worked after it.
			_, echo := e.sb.HumanReply(e.acct.ID, ana, "Hi, Ana here")
			_, dm := e.sb.Message(e.acct.ID, ana, "nothing any step takes")
			_, again := e.sb.Postback(e.acct.ID, ana, "LINK", "Tap")
			ctx := context.Background()
			if err := e.store.PutTombstone(ctx, reply.Tombstone{PersonID: ana, At: e.clock.Now()}); err != nil {
				t.Fatal(err)
			}
			if err := e.store.DeleteConversation(ctx, e.acct.ID, ana); err != nil {
				t.Fatal(err)
			}
			for _, rec := range e.followUpRecords(ana) {
				if err := e.store.Delete(ctx, rec.Key); err != nil {
					t.Fatal(err)
				}
			}
			e.clock.Add(time.Minute)
			for i, body := range [][]byte{echo, dm, again} {
				e.deliver(body)
				if c, err := e.store.Conversation(ctx, e.acct.ID, ana); !errors.Is(err, reply.ErrNotFound) {
					t.Fatalf("event %d after the deletion wrote the conversation back: %+v (%v)", i, c, err)
				}
			}
			e.clock.Add(25 * time.Hour) // a tap delivered after its window closed
			e.deliver(again)
			if c, err := e.store.Conversation(ctx, e.acct.ID, ana); !errors.Is(err, reply.ErrNotFound) {
				t.Fatalf("a late tap wrote the conversation back: %+v (%v)", c, err)
			}
			if recs := e.followUpRecords(ana); len(recs) != 0 {
				t.Fatalf("records after the deletion: %v", recs)
			}
			if n := len(e.sentTo(ana)); n != 1 {
				t.Fatalf("%d messages to a forgotten person, want only the one before", n)
			}
		})
	}
}

// TestOwnEchoes is case 12: with no app ids configured and echoes that name no app, our own
// sends are known by the message ids Meta answered them with; a human's echo pauses; an echo
// arriving while one of our messages may still be unrecorded is looked at again later.
func TestOwnEchoes(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind, sandbox.WithoutEchoAppID())
			e.r = New(Config{TableName: "test"}, e.store, e.graph, e.tokens, e.clock, e.m, nil)
			e.r.Converse(e.graph)
			e.put(func(a *reply.Account) {
				a.Rules = []reply.Rule{flowRule("recipe", tapStep("link", "LINK", text("the link")), tapStep("more", "MORE", text("more")))}
			})
			e.tap(ana, "LINK")
			echoes := e.sb.TakeEchoes()
			if len(echoes) != 1 {
				t.Fatalf("%d echoes of our send, want 1", len(echoes))
			}
			if d := e.deliver(echoes[0]); d[0].Reason != conversation.ReasonOwnEcho {
				t.Fatalf("the echo of our own send: %+v, want %s", d, conversation.ReasonOwnEcho)
			}
			e.clock.Add(time.Minute)
			if d := e.tap(ana, "MORE"); d[0].Action != "sent" {
				t.Fatalf("the next tap after our echo: %+v, want sent (not paused)", d)
			}

			// A human answers right after our message: it may be ours, not recorded yet.
			_, human := e.sb.HumanReply(e.acct.ID, ana, "Hi, Ana here")
			parsed, err := webhook.Parse(human, e.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			job := parsed.Jobs[0]
			if _, err := e.r.Process(context.Background(), job); !errors.Is(err, conversation.ErrEchoUnsettled) {
				t.Fatalf("a human's echo 0 s after our message: %v, want it looked at again later", err)
			}
			e.clock.Add(time.Minute) // the queue hands it back
			if dec, err := e.r.Process(context.Background(), job); err != nil || dec.Action != "paused" {
				t.Fatalf("the human's echo again: %+v %v, want paused", dec, err)
			}
		})
	}
}

// TestUsernameInDMRuleAnswers is case 8: a person who started the conversation has no username
// from a comment; the profile API gives it (once per conversation), so {username} is filled.
func TestUsernameInDMRuleAnswers(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(func(a *reply.Account) {
				a.DMRules = []reply.DMRule{
					{Name: "price", Match: reply.MatchWord, Keywords: []string{"price"}, Messages: []reply.Message{text("Hi {username}, it is 5 €")}},
					{Name: "hours", Match: reply.MatchWord, Keywords: []string{"hours"}, Messages: []reply.Message{text("{username}: 9 to 5")}},
				}
			})
			e.sb.SetUsername(ana, "ana.bakes")
			e.say(ana, "price?")
			e.clock.Add(time.Minute)
			e.say(ana, "hours?")
			e.wantSent(ana, "Hi ana.bakes, it is 5 €\n\n"+e.acct.Disclosure, "ana.bakes: 9 to 5")
			if n := e.sb.Stats().Calls[sandbox.OpProfile]; n != 1 {
				t.Fatalf("%d profile calls, want 1 (the username is kept on the conversation)", n)
			}
		})
	}
}
