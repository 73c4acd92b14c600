// Package eventstest has one event of every kind, as the code makes them, for the tests of the
// events' schemas and of the buses that carry them.
package eventstest

import (
	"context"
	"time"

	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

// T0 is when the samples' changes happened.
var T0 = time.Date(2026, 12, 6, 14, 0, 0, 123_000_000, time.UTC)

const (
	Account = "17841400000000001"
	Person  = "6200000000000042"
)

// Comment is a reel comment's job by Person.
func Comment() reply.Job {
	return reply.Job{V: reply.JobVersion, AccountID: Account, CommentID: "17900000000000042", MediaID: "18000000000000001",
		FromID: Person, FromUsername: "ana", Text: "RECIPE", Kind: reply.KindReel, CommentedAt: T0.Add(-time.Minute), DeliveredAt: T0.Add(-time.Minute)}
}

// FollowUp is the job of the second message of step "link" of rule "recipe".
func FollowUp() reply.Job {
	return reply.Job{V: reply.JobVersion, AccountID: Account, FollowUp: &reply.FollowUp{PersonID: Person, Rule: "recipe", Step: "link",
		Index: 1, Of: 2, Trigger: "aWdfZAG1faXRlbTox", Lane: reply.LaneText, Deadline: T0.Add(23 * time.Hour)}}
}

// TapTurn is the first record of the turn a tap on button RECIPE_LINK ran: step "link" of rule
// "recipe", whose follow gate found the person following, claimed at T0.
func TapTurn() reply.Record {
	job := FollowUp()
	f := *job.FollowUp
	f.Index, f.Of, f.Trigger, f.Variant = 0, 2, "aWdfZAG1faXRlbToy", "b"
	f.Tap, f.Payload, f.Gated, f.Followed = true, "RECIPE_LINK", true, true
	job.FollowUp = &f
	r, err := reply.NewRecord(job, T0).Claim(job, "w", T0, T0.Add(time.Minute))
	if err != nil {
		panic(err)
	}
	return r
}

// Finished is job's record ended with o at T0 (claimed and finished: version 3).
func Finished(job reply.Job, o reply.Outcome) reply.Record {
	r, err := reply.NewRecord(job, T0.Add(-time.Second)).Claim(job, "w", T0.Add(-time.Second), T0.Add(time.Minute))
	if err != nil {
		panic(err)
	}
	if r, err = r.Finish(o, true, T0); err != nil {
		panic(err)
	}
	return r
}

// Failed is the outcome of a send Meta refused for good with 551.
var Failed = reply.Outcome{State: reply.StateFailed, Reason: "551/1545041"}

// Ambiguous is the outcome of a send whose uncertain retries ran out.
var Ambiguous = reply.Outcome{State: reply.StateAmbiguous, Reason: reply.AmbiguousRetries}

// All is one event of every kind (events.Kinds' order), and the record states they come from
// where a record is their source.
func All() []events.Event {
	of := func(r reply.Record) events.Event {
		e, ok := events.OfRecord(r)
		if !ok {
			panic("no event of " + r.Key)
		}
		return e
	}
	return []events.Event{
		of(Finished(Comment(), reply.Sent("aWdfZAG1faXRlbToxOjE2", Person))),
		events.Started(TapTurn())[0],
		events.Started(TapTurn())[1],
		of(Finished(FollowUp(), reply.Sent("aWdfZAG1faXRlbToxOjE3", Person))),
		events.OfClick(reply.MarkedClick{Key: reply.ClickGuardKey(Account, Person, Click(T0, true).Link), Origin: Click(T0, true).Origin,
			Link: Click(T0, true).Link, At: T0, EventsAt: T0}),
		events.OfLead(Lead("ana@example.com")),
		events.OfPause(reply.Conversation{}.Touched(reply.Touch{AccountID: Account, PersonID: Person, At: T0, Pause: time.Hour,
			Echo: "aWdfZAG1faXRlbToz", EventsAt: T0, Now: T0})),
		of(Finished(Comment(), Failed)),
		of(Finished(FollowUp(), Ambiguous)),
	}
}

// Lead is Person's email lead, as the conversation keeps it (the question carried a consent line).
func Lead(value string) lead.Lead {
	return lead.Lead{AccountID: Account, PersonID: Person, Kind: lead.KindEmail, Value: value, Rule: "recipe", Step: "email",
		Variant: "b", Consent: "We only send you the recipe.", CapturedAt: T0, ExpiresAt: T0.Add(lead.DefaultRetention)}
}

// Click is Person's click at `at` on the recipe rule's tracked link, marked for its event when
// eventsOn (at zero: T0).
func Click(at time.Time, eventsOn bool) reply.Click {
	if at.IsZero() {
		at = T0
	}
	return reply.Click{Origin: reply.Origin{Account: Account, Rule: "recipe", Variant: "b", Person: Person}, Link: "3f1c2a9b0d4e5f60",
		Target: "https://example.com/r", At: at, Issued: T0.Add(-time.Hour), Until: T0.Add(30 * 24 * time.Hour),
		Events: eventsOn}
}

// Reply claims job's record in store at now (created as a replier creates it) and finishes it
// with o: the writes of one reply. It returns the finished record as stored.
func Reply(ctx context.Context, store reply.Replies, job reply.Job, o reply.Outcome, now time.Time) (reply.Record, error) {
	rec, err := reply.NewRecord(job, now).Claim(job, "w", now, now.Add(time.Minute))
	if err != nil {
		return reply.Record{}, err
	}
	if rec, err = store.Create(ctx, rec); err != nil {
		return reply.Record{}, err
	}
	if rec, err = rec.Finish(o, true, now); err != nil {
		return reply.Record{}, err
	}
	return store.Update(ctx, rec)
}
