package replier

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/deletion"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// The tests of this file are the cases of the exactly-once promise: one record, one terminal
// state and at most one private reply per comment, whatever the shape, the settings or the
// outage. Each runs on the memory store and on DynamoDB (moto).

// shapes are the forms one comment takes in Meta's deliveries.
var shapes = []struct {
	name string
	edit func(*reply.Job)
}{
	{"with media and from", func(*reply.Job) {}},
	{"without media", func(j *reply.Job) { j.MediaID, j.ProductType = "", "" }},
	{"without from", func(j *reply.Job) { j.FromID, j.FromUsername = "", "" }},
	{"as an ad with another media id", func(j *reply.Job) {
		j.OriginalMediaID, j.MediaID, j.AdID, j.ProductType, j.Kind = j.MediaID, "120200000000000077", "120200000000000001", "AD", reply.KindAd
	}},
}

// known registers job's comment with the sandbox as Meta knows it: on its media, by its person.
func known(e *env, job reply.Job) {
	e.sb.AddComment(sandbox.Comment{ID: job.CommentID, AccountID: job.AccountID, MediaID: job.FunnelMedia(),
		FromID: job.FromID, FromName: job.FromUsername, CreatedAt: job.CommentedAt})
}

// records is every reply record of the comment in the store.
func records(t *testing.T, e *env, commentID string) []reply.Record {
	t.Helper()
	var out []reply.Record
	cursor := ""
	for {
		page, next, err := e.store.Scan(context.Background(), cursor, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			if r.CommentID == commentID {
				out = append(out, r)
			}
		}
		if next == "" {
			return out
		}
		cursor = next
	}
}

func TestOneRecordWhateverTheShape(t *testing.T) {
	for _, kind := range bothStores {
		for _, first := range shapes {
			t.Run(kind.name+"/first "+first.name, func(t *testing.T) {
				e := newEnv(t, kind)
				e.put(nil)
				job := sampleJob(t, 1)
				known(e, job)
				j := job
				first.edit(&j)
				if d := e.process(j); d.Action != ActionSent {
					t.Fatalf("first delivery: %s(%s), want sent", d.Action, d.Reason)
				}
				for _, s := range shapes {
					j := job
					s.edit(&j)
					if d := e.process(j); d.Action != ActionDone {
						t.Fatalf("again %s: %s(%s), want done", s.name, d.Action, d.Reason)
					}
				}
				if n := e.sb.Attempts(job.CommentID); n != 1 {
					t.Fatalf("%d private-reply calls, want 1", n)
				}
				recs := records(t, e, job.CommentID)
				if len(recs) != 1 || recs[0].State != reply.StateSent {
					t.Fatalf("records %v, want one SENT", recs)
				}
				if e.m.Get(MetricSent) != 1 || e.m.Get(MetricFailed) != 0 {
					t.Fatalf("Sent %v Failed %v, want 1 and 0", e.m.Get(MetricSent), e.m.Get(MetricFailed))
				}
			})
		}
	}
}

// TestOneDMPerPersonWithoutMediaID: the person's second comment on the post arrives without a
// media id (or person, or as the ad's other shape): Meta is asked whose comment it is and on
// what, and the funnel guard turns it away.
func TestOneDMPerPersonWithoutMediaID(t *testing.T) {
	for _, kind := range bothStores {
		for _, s := range shapes[1:] {
			t.Run(kind.name+"/"+s.name, func(t *testing.T) {
				e := newEnv(t, kind)
				e.put(nil)
				first := sampleJob(t, 1)
				second := first
				second.CommentID = first.CommentID + "2"
				known(e, first)
				known(e, second)
				if d := e.process(first); d.Action != ActionSent {
					t.Fatalf("first comment: %s(%s)", d.Action, d.Reason)
				}
				s.edit(&second)
				if d := e.process(second); d.Action != ActionSkipped || d.Reason != reply.SkipDuplicatePerson {
					t.Fatalf("second comment %s: %s(%s), want skipped(%s)", s.name, d.Action, d.Reason, reply.SkipDuplicatePerson)
				}
				if n := len(e.sb.Deliveries()); n != 1 {
					t.Fatalf("%d DMs to one person on one post, want 1", n)
				}
				want := 1
				if second.OriginalMediaID != "" {
					want = 0 // the ad's shape names its original post: nothing to ask
				}
				if n := e.sb.Stats().Calls[sandbox.OpComment]; n != want {
					t.Fatalf("%d comment lookups, want %d", n, want)
				}
			})
		}
	}
}

// TestLookupGivesTheWindowStart: the comment's creation time from Meta replaces the delivery's.
func TestLookupGivesTheWindowStart(t *testing.T) {
	e := newEnv(t, memoryStore)
	e.put(nil)
	job := sampleJob(t, 1)
	made := job.CommentedAt.Add(-8 * 24 * time.Hour) // older than the window
	e.sb.AddComment(sandbox.Comment{ID: job.CommentID, AccountID: job.AccountID, MediaID: job.MediaID, FromID: job.FromID, CreatedAt: made})
	job.MediaID = ""
	d := e.process(job)
	if d.Action != ActionExpired || e.sb.Attempts(job.CommentID) != 0 {
		t.Fatalf("%s(%s) after %d calls, want expired without a call", d.Action, d.Reason, e.sb.Attempts(job.CommentID))
	}
	if rec := e.record(job); !rec.Deadline.Equal(made.Add(reply.Window)) {
		t.Fatalf("deadline %s, want %s", rec.Deadline, made.Add(reply.Window))
	}
}

func TestSettingsChangeBetweenDeliveries(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name+"/rule added after a skip", func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(func(a *reply.Account) { a.Rules[0].Keywords = []string{"nothing-matches"} })
			job := sampleJob(t, 1)
			if d := e.process(job); d.Action != ActionSkipped || d.Reason != reply.SkipNoRule {
				t.Fatalf("first: %s(%s)", d.Action, d.Reason)
			}
			e.put(func(a *reply.Account) { *a = loadAccount(t); a.Version = e.acct.Version + 1 })
			e.r = e.replier()
			if d := e.process(job); d.Action != ActionDone {
				t.Fatalf("after the rule edit: %s(%s), want done", d.Action, d.Reason)
			}
			if recs := records(t, e, job.CommentID); len(recs) != 1 || recs[0].State != reply.StateSkipped {
				t.Fatalf("records %v, want one SKIPPED", recs)
			}
			if n := e.sb.Attempts(job.CommentID); n != 0 {
				t.Fatalf("%d calls", n)
			}
		})
		t.Run(kind.name+"/repeat_per_person flipped", func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(nil)
			job := sampleJob(t, 1)
			if d := e.process(job); d.Action != ActionSent {
				t.Fatalf("first: %s(%s)", d.Action, d.Reason)
			}
			e.put(func(a *reply.Account) { a.RepeatPerPerson = true })
			e.r = e.replier()
			if d := e.process(job); d.Action != ActionDone {
				t.Fatalf("after the flip: %s(%s), want done", d.Action, d.Reason)
			}
			if recs := records(t, e, job.CommentID); len(recs) != 1 || e.sb.Attempts(job.CommentID) != 1 {
				t.Fatalf("%d records, %d calls; want 1 and 1", len(recs), e.sb.Attempts(job.CommentID))
			}
		})
		t.Run(kind.name+"/two instances, two cached configs", func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(nil)
			withRule := e.replier()
			withRule.remember(e.acct.ID, e.acct, nil, start) // warm with the rule
			e.put(func(a *reply.Account) { a.Rules[0].Keywords = []string{"nothing-matches"} })
			without := e.replier()
			job := sampleJob(t, 1)
			// A backlog parks the comment under the first instance's view; the second sees no rule.
			e.put(func(a *reply.Account) {
				a.Rules = loadAccount(t).Rules
				a.Limits = map[reply.Lane]reply.Limit{reply.LanePosts: {Count: 1, Period: time.Hour}}
			})
			withRule.remember(e.acct.ID, e.acct, nil, start)
			if d, err := withRule.Process(context.Background(), sampleJob(t, 0)); err != nil || d.Action != ActionSent {
				t.Fatalf("warm-up: %v %s", err, d.Action)
			}
			if d, err := withRule.Process(context.Background(), job); err != nil || d.Action != ActionParked {
				t.Fatalf("with the rule: %v %s(%s), want parked", err, d.Action, d.Reason)
			}
			if d, err := without.Process(context.Background(), job); err != nil || d.Action != ActionBusy {
				t.Fatalf("without the rule, while parked: %v %s(%s), want busy", err, d.Action, d.Reason)
			}
			if recs := records(t, e, job.CommentID); len(recs) != 1 || recs[0].State != reply.StateParked {
				t.Fatalf("records %v, want one PARKED", recs)
			}
		})
	}
}

// failingAccounts is a store whose account reads fail, as DynamoDB does in an outage.
type failingAccounts struct{ reply.Store }

func (failingAccounts) Account(context.Context, string) (reply.Account, error) {
	return reply.Account{}, errors.New("dynamodb: service unavailable")
}

// TestFailureBeforeFirstWriteParks: what fails before anything is decided leaves a PARKED record
// with its reason, which the sweeper releases; once the cause is gone the comment is answered once.
func TestFailureBeforeFirstWriteParks(t *testing.T) {
	for _, kind := range bothStores {
		for _, tc := range []struct {
			name   string
			break_ func(e *env) *Replier
			reason string
		}{
			{"account read fails", func(e *env) *Replier {
				return New(Config{TableName: "test"}, failingAccounts{e.store}, e.graph, e.tokens, e.clock, e.m, nil)
			}, ParkAccountUnavailable},
			{"token parameter missing", func(e *env) *Replier {
				return New(Config{TableName: "test"}, e.store, e.graph, failingTokens{}, e.clock, e.m, nil)
			}, ParkTokenUnavailable},
		} {
			t.Run(kind.name+"/"+tc.name, func(t *testing.T) {
				e := newEnv(t, kind)
				e.put(nil)
				job := sampleJob(t, 1)
				d, err := tc.break_(e).Process(context.Background(), job)
				if err != nil || d.Action != ActionParked || d.Reason != tc.reason {
					t.Fatalf("%v %s(%s), want parked(%s)", err, d.Action, d.Reason, tc.reason)
				}
				rec := e.record(job)
				if rec.State != reply.StateParked || rec.Reason != tc.reason || !rec.DueAt.After(start) {
					t.Fatalf("record %s %q due %s", rec.State, rec.Reason, rec.DueAt)
				}
				// The sweeper's release: due, QUEUED, back on the queue as a requeued job.
				e.clock.Add(rec.DueAt.Sub(start))
				released, err := rec.Release(false, e.clock.Now())
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.store.Update(context.Background(), released); err != nil {
					t.Fatal(err)
				}
				job.Requeued = true
				if d := e.process(job); d.Action != ActionSent {
					t.Fatalf("after recovery: %s(%s), want sent", d.Action, d.Reason)
				}
				if n := e.sb.Attempts(job.CommentID); n != 1 {
					t.Fatalf("%d calls", n)
				}
			})
		}
	}
}

type failingTokens struct{}

func (failingTokens) Token(context.Context, reply.Account) (string, error) {
	return "", errors.New("ssm: ParameterNotFound")
}

// TestDeletionWinsOverQueuedWork: after a finished data deletion, a job still queued, requeued by
// the sweeper or redriven from the dead-letter queue sends nothing and writes nothing that names
// the person.
func TestDeletionWinsOverQueuedWork(t *testing.T) {
	for _, kind := range bothStores {
		for _, requeued := range []bool{true, false} {
			name := kind.name + "/redriven from the DLQ"
			if requeued {
				name = kind.name + "/requeued by the sweeper"
			}
			t.Run(name, func(t *testing.T) {
				e := newEnv(t, kind)
				e.put(func(a *reply.Account) {
					a.Limits = map[reply.Lane]reply.Limit{reply.LanePosts: {Count: 1, Period: time.Hour}}
				})
				e.process(sampleJob(t, 0)) // takes the hour's one token
				job := sampleJob(t, 1)
				if d := e.process(job); d.Action != ActionParked {
					t.Fatalf("first: %s(%s), want parked", d.Action, d.Reason)
				}
				rec := e.record(job)
				released, err := rec.Release(true, rec.DueAt)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.store.Update(context.Background(), released); err != nil {
					t.Fatal(err)
				}
				if _, err := e.store.PutDeletion(context.Background(), reply.Deletion{Code: "d1", Kind: reply.DeletionPerson, UserID: job.FromID,
					State: reply.DeletionPending, RequestedAt: e.clock.Now(), Version: 1}); err != nil {
					t.Fatal(err)
				}
				w := &deletion.Worker{Store: e.store, Params: noParams{}, Clock: e.clock}
				if res, err := w.Run(context.Background(), time.Minute); err != nil || res.Done != 1 {
					t.Fatalf("deletion: %+v %v", res, err)
				}
				job.Requeued = requeued
				e.clock.Add(2 * time.Hour)
				if d := e.process(job); d.Action != ActionSkipped || d.Reason != reply.SkipForgotten {
					t.Fatalf("after the deletion: %s(%s), want skipped(%s)", d.Action, d.Reason, reply.SkipForgotten)
				}
				if recs := records(t, e, job.CommentID); len(recs) != 0 {
					t.Fatalf("records after the deletion: %v", recs)
				}
				if n := e.sb.Attempts(job.CommentID); n != 0 {
					t.Fatalf("%d calls after the deletion", n)
				}
				// The person's next comment, made after Meta's delivery horizon, is a new one.
				e.clock.Add(reply.DeliveryHorizon)
				later := sampleJob(t, 1)
				later.CommentID, later.MediaID, later.CommentedAt = later.CommentID+"9", "18000000000000009", e.clock.Now()
				if d := e.process(later); d.Action != ActionSent {
					t.Fatalf("a comment after the deletion: %s(%s), want sent", d.Action, d.Reason)
				}
			})
		}
	}
}

type noParams struct{}

func (noParams) Delete(context.Context, string) error { return nil }

// TestLiveUncertainThenBroadcastEnds: a Live send that may have been delivered, then the
// broadcast ends: AMBIGUOUS, never EXPIRED.
func TestLiveUncertainThenBroadcastEnds(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(nil)
			job := sampleJob(t, 1)
			job.Kind, job.MediaID, job.ProductType = reply.KindLive, "17900000000000777", "LIVE"
			job.CommentedAt = start
			e.sb.AddComment(sandbox.Comment{ID: job.CommentID, AccountID: job.AccountID, MediaID: job.MediaID, FromID: job.FromID, Live: true, CreatedAt: start})
			e.sb.QueueFault(job.CommentID, sandbox.TimeoutAfter())
			d := e.process(job)
			if d.Action != ActionParked || d.Reason != ParkUncertain {
				t.Fatalf("first: %s(%s), want parked(uncertain)", d.Action, d.Reason)
			}
			e.sb.EndBroadcast(job.MediaID)
			e.clock.Add(d.RetryAt.Sub(start) + DefaultLiveCacheTTL)
			d = e.process(job)
			if d.Action != ActionAmbiguous || d.Reason != reply.AmbiguousBroadcast {
				t.Fatalf("after the broadcast: %s(%s), want ambiguous(%s)", d.Action, d.Reason, reply.AmbiguousBroadcast)
			}
			if got := e.m.Get(MetricAmbiguous + "|Reason=" + reply.AmbiguousBroadcast); got != 1 {
				t.Fatalf("Ambiguous = %v, want 1", got)
			}
			if e.m.Get(MetricExpired) != 0 {
				t.Fatal("counted as Expired")
			}
		})
	}
}

// lostOutcome applies the SENT write and then loses its answer, once, and the SDK's retry too.
type lostOutcome struct {
	reply.Store
	lost int
}

func (s *lostOutcome) Update(ctx context.Context, r reply.Record) (reply.Record, error) {
	stored, err := s.Store.Update(ctx, r)
	if err == nil && r.State == reply.StateSent && s.lost == 0 {
		s.lost++
		return reply.Record{}, errors.New("dynamodb: connection reset by peer")
	}
	return stored, err
}

// TestSentCountedOnce: an outcome write that landed without an answer is read back and counted
// once; a later redelivery finds the record terminal and counts nothing.
func TestSentCountedOnce(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(nil)
			e.r = New(Config{TableName: "test"}, &lostOutcome{Store: e.store}, e.graph, e.tokens, e.clock, e.m, nil)
			job := sampleJob(t, 1)
			if d := e.process(job); d.Action != ActionSent {
				t.Fatalf("%s(%s), want sent", d.Action, d.Reason)
			}
			if d := e.process(job); d.Action != ActionDone {
				t.Fatalf("redelivery: %s, want done", d.Action)
			}
			if got := e.m.Get(MetricSent); got != 1 {
				t.Fatalf("Sent = %v, want 1", got)
			}
		})
	}
}

// slowTokens takes real time to answer, as SSM may.
type slowTokens struct {
	reply.Tokens
	d time.Duration
}

func (s slowTokens) Token(ctx context.Context, a reply.Account) (string, error) {
	time.Sleep(s.d)
	return s.Tokens.Token(ctx, a)
}

// TestLeaseFromClaimTime: time spent before the claim shortens the lease; it never ends after
// the Lambda deadline less the margin.
func TestLeaseFromClaimTime(t *testing.T) {
	e := newEnv(t, memoryStore)
	e.put(nil)
	const slow = 1500 * time.Millisecond
	e.r = New(Config{TableName: "test"}, e.store, e.graph, slowTokens{e.tokens, slow}, e.clock, e.m, nil)
	var lease time.Time
	e.sb.SetFault(func(c sandbox.Call) sandbox.Fault {
		if c.Op == sandbox.OpPrivateReply {
			rec, err := e.store.Get(context.Background(), reply.CommentKey(c.CommentID))
			if err == nil {
				lease = rec.LeaseUntil
			}
		}
		return sandbox.Fault{}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.r.Process(ctx, sampleJob(t, 1)); err != nil {
		t.Fatal(err)
	}
	if max := start.Add(10*time.Second - DefaultLeaseMargin - slow); lease.After(max) {
		t.Fatalf("lease until %s, after %s: computed before the slow token read", lease, max)
	}
}

// TestUncertainRetriesBounded: Meta answers the retries of a delivered reply with code 2, never
// 2534025: the record ends AMBIGUOUS after UncertainAttempts calls, not after a week of them.
func TestUncertainRetriesBounded(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind, sandbox.WithSecondReplyCode(2))
			e.put(nil)
			e.r = New(Config{TableName: "test", UncertainAttempts: 3}, e.store, e.graph, e.tokens, e.clock, e.m, nil)
			job := sampleJob(t, 1)
			e.sb.QueueFault(job.CommentID, sandbox.TimeoutAfter())
			var d Decision
			for i := range 10 {
				d = e.process(job)
				if d.Action != ActionParked {
					break
				}
				if d.Reason != ParkUncertain || i >= 3 {
					t.Fatalf("attempt %d: %s(%s)", i+1, d.Action, d.Reason)
				}
				e.clock.Add(d.RetryAt.Sub(e.clock.Now()))
			}
			if d.Action != ActionAmbiguous || d.Reason != reply.AmbiguousRetries {
				t.Fatalf("%s(%s), want ambiguous(%s)", d.Action, d.Reason, reply.AmbiguousRetries)
			}
			if n := e.sb.Attempts(job.CommentID); n != 3 {
				t.Fatalf("%d calls, want 3", n)
			}
			if rec := e.record(job); rec.State != reply.StateAmbiguous || rec.Attempts != 3 {
				t.Fatalf("record %s with %d attempts", rec.State, rec.Attempts)
			}
			if e.m.Get(MetricSent) != 0 || e.m.Get("Failed|Code=2") != 0 {
				t.Fatal("an ambiguous reply counted as Sent or Failed")
			}
		})
	}
}

// TestForgottenPersonKnownLate: a record written before its person was known (the webhook left
// `from` out and the account could not be read) meets the person's tombstone once Meta names
// the person: the record is removed and nothing is sent.
func TestForgottenPersonKnownLate(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(nil)
			job := sampleJob(t, 1)
			known(e, job)
			anonymous := job
			anonymous.FromID, anonymous.FromUsername = "", ""
			broken := New(Config{TableName: "test"}, failingAccounts{e.store}, e.graph, e.tokens, e.clock, e.m, nil)
			if d, err := broken.Process(context.Background(), anonymous); err != nil || d.Action != ActionParked {
				t.Fatalf("%v %s(%s), want parked", err, d.Action, d.Reason)
			}
			if err := e.store.PutTombstone(context.Background(), reply.Tombstone{PersonID: job.FromID, At: e.clock.Now()}); err != nil {
				t.Fatal(err)
			}
			e.clock.Add(time.Minute)
			anonymous.Requeued = true
			if d := e.process(anonymous); d.Action != ActionSkipped || d.Reason != reply.SkipForgotten {
				t.Fatalf("%s(%s), want skipped(%s)", d.Action, d.Reason, reply.SkipForgotten)
			}
			if recs := records(t, e, job.CommentID); len(recs) != 0 || e.sb.Attempts(job.CommentID) != 0 {
				t.Fatalf("%d records, %d calls; want none", len(recs), e.sb.Attempts(job.CommentID))
			}
		})
	}
}

// TestRefusalAfterUncertainSend: Meta's refusal of a retry says nothing of the first attempt,
// which may have arrived: AMBIGUOUS with Meta's code, never EXPIRED or FAILED.
func TestRefusalAfterUncertainSend(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer sandbox.Fault
		reason string
	}{
		{"window closed", sandbox.MetaError(400, 10, 2534022), reply.AmbiguousWindow},
		{"person unavailable", sandbox.MetaError(400, 551, 1545041), reply.AmbiguousRefused},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, memoryStore)
			e.put(nil)
			job := sampleJob(t, 1)
			e.sb.QueueFault(job.CommentID, sandbox.TimeoutAfter(), tc.answer)
			d := e.process(job)
			e.clock.Add(d.RetryAt.Sub(start))
			if d = e.process(job); d.Action != ActionAmbiguous || d.Reason != tc.reason {
				t.Fatalf("%s(%s), want ambiguous(%s)", d.Action, d.Reason, tc.reason)
			}
			if rec := e.record(job); rec.State != reply.StateAmbiguous || rec.Detail == "" {
				t.Fatalf("record %s, detail %q", rec.State, rec.Detail)
			}
		})
	}
}

// TestForgottenPersonWithoutFrom: the chaos run's seed 18 (issue 19). An account that allows a
// DM per comment needs no funnel guard, and a redelivery without `from` was sent without asking
// whose comment it is: the person's tombstone went unchecked and a forgotten person got a second
// DM. A comment whose person is unknown is looked up before anything names them.
func TestForgottenPersonWithoutFrom(t *testing.T) {
	for _, kind := range bothStores {
		t.Run(kind.name, func(t *testing.T) {
			e := newEnv(t, kind)
			e.put(func(a *reply.Account) { a.RepeatPerPerson = true })
			job := sampleJob(t, 1)
			known(e, job)
			if d := e.process(job); d.Action != ActionSent {
				t.Fatalf("first delivery: %s(%s), want sent", d.Action, d.Reason)
			}
			ctx := context.Background()
			if err := e.store.PutTombstone(ctx, reply.Tombstone{PersonID: job.FromID, At: e.clock.Now()}); err != nil {
				t.Fatal(err)
			}
			for _, r := range records(t, e, job.CommentID) {
				if err := e.store.Delete(ctx, r.Key); err != nil {
					t.Fatal(err)
				}
			}
			e.clock.Add(time.Minute)
			anonymous := job
			anonymous.FromID, anonymous.FromUsername = "", ""
			if d := e.process(anonymous); d.Action != ActionSkipped || d.Reason != reply.SkipForgotten {
				t.Fatalf("redelivery without from: %s(%s), want skipped(%s)", d.Action, d.Reason, reply.SkipForgotten)
			}
			if n := e.sb.Delivered(job.CommentID); n != 1 {
				t.Fatalf("%d DMs to the comment, want the one before the deletion", n)
			}
		})
	}
}

// TestOldDeliveriesReplayForeverCostNoGraphRead is issue 24's finding 3 on the replier's side: a
// comment whose delivery left out the media (or the person) is completed from GET /{comment-id},
// but once its record is terminal a replay of that delivery is decided from the record, with no
// call to Meta at all (the read allowance is the account's).
func TestOldDeliveriesReplayForeverCostNoGraphRead(t *testing.T) {
	for _, kind := range bothStores {
		for _, s := range shapes[1:3] { // without media, without from
			t.Run(kind.name+"/"+s.name, func(t *testing.T) {
				e := newEnv(t, kind)
				e.put(nil)
				job := sampleJob(t, 1)
				known(e, job)
				j := job
				s.edit(&j)
				if d := e.process(j); d.Action != ActionSent {
					t.Fatalf("first delivery: %s(%s), want sent", d.Action, d.Reason)
				}
				var calls []sandbox.Call
				e.sb.SetFault(func(c sandbox.Call) sandbox.Fault {
					calls = append(calls, c)
					return sandbox.Fault{}
				})
				lookups := e.m.Get(MetricCommentLookups)
				for range 3 {
					if d := e.process(j); d.Action != ActionDone {
						t.Fatalf("replay: %s(%s), want done", d.Action, d.Reason)
					}
				}
				if len(calls) != 0 {
					t.Fatalf("replays of a finished comment made %d Graph calls (%+v), want 0", len(calls), calls)
				}
				if got := e.m.Get(MetricCommentLookups); got != lookups {
					t.Errorf("CommentLookups went from %v to %v on replays", lookups, got)
				}
				if n := e.sb.Attempts(job.CommentID); n != 1 {
					t.Fatalf("%d private-reply calls, want 1", n)
				}
			})
		}
	}
}
