package conversation

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/eventbridge"
	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// TestLeadFigures (DynamoDB and EventBridge on moto) prints what a lead costs: DynamoDB
// requests, Graph API calls and EventBridge PutEvents calls for the tap that asks, an invalid
// answer and the valid answer, each per person, over people who each give one invalid answer
// first (the demo's path), with events off and on. The counts are the conversation service's
// own; the replier's rate lanes (a conditional write of the lane's bucket per message) come on
// top. Run with -v to see them; it fails when a lead is lost or duplicated, a phase costs more
// than the bounds below, or events cost more than one write request (the clear) and one
// PutEvents call per change that has an event.
func TestLeadFigures(t *testing.T) {
	var off, on [3][4]int
	t.Run("events off", func(t *testing.T) { off = leadFigures(t, false) })
	t.Run("events on", func(t *testing.T) { on = leadFigures(t, true) })
	// With events on, every phase publishes each message's FollowUpSent; the tap adds its
	// ButtonTapped (it rides on the claim's put, cleared with one more write), the valid answer
	// its LeadCaptured. Each change with events is one write request more (the clear) and one
	// PutEvents call.
	wantEvents := [3]int{2, 1, 3} // per person: tap + question sent; retry sent; lead + confirmation + next step
	for i := range off {
		if on[i][0] != off[i][0]+wantEvents[i]*leadPeople || on[i][3] != wantEvents[i]*leadPeople || off[i][3] != 0 {
			t.Errorf("phase %d: events add %d write requests and %d PutEvents calls for %d people; want %d of each",
				i, on[i][0]-off[i][0], on[i][3], leadPeople, wantEvents[i]*leadPeople)
		}
	}
}

const leadPeople = 10

// leadFigures runs the lead's phases and returns, per phase, the write requests, reads, Graph
// calls and PutEvents calls for leadPeople people.
func leadFigures(t *testing.T, eventsOn bool) [3][4]int {
	clock := memory.NewClock(start)
	sb := sandbox.New(sandbox.WithClock(clock.Now))
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { sb.Close(); srv.Close() })
	g := graph.New(graph.WithBaseURL(srv.URL), graph.WithTimeout(time.Second), graph.WithReserve(0))
	sb.AddAccount(account, token, reply.LoginInstagram, "")
	client := dynamodb.NewFromConfig(awstest.Config(t))
	name := awstest.Name(t, "leads")
	if err := dynamo.CreateTable(awstest.Context(t), client, name); err != nil {
		t.Fatal(err)
	}
	c := dynamo.Count(client)
	store := dynamo.New(c, name, dynamo.WithClock(clock))
	acct := reply.Account{ID: account, Login: reply.LoginInstagram, TokenParam: "/t/" + account, Disclosure: "Automated.",
		Rules: []reply.Rule{{Name: "recipe", Match: reply.MatchAny, Message: "Tap below",
			Buttons: []reply.Button{{Type: reply.ButtonPostback, Title: "Link", Payload: payload}}}}, Version: 1}
	asking(reply.AskEmail, 2)(&acct)
	if err := acct.Validate(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := store.PutAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	pacer := &bucketPacer{clock: clock, buckets: map[reply.Lane]reply.Bucket{}}
	accounts := func(ctx context.Context, id string) (reply.Account, error) { return acct, nil }
	var through reply.Store = store
	bus := &eventstest.Counting{}
	if eventsOn {
		l := eventstest.Listen(t)
		bus.API = l.Put
		through = &events.OutboxStore{Store: store, Outbox: store, Bus: eventbridge.New(bus, l.Bus), Clock: clock,
			Metrics: telemetry.NewMetrics("replier"), Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Timeout: 30 * time.Second}
	}
	svc := New(through, g, &tokens{}, pacer, accounts, []string{sandbox.DefaultAppID}, clock, telemetry.NewMetrics("replier"), nil)

	const people = leadPeople
	person := func(i int) string { return fmt.Sprintf("1784140%010d", 500+i) }
	type phase struct {
		name string
		act  func(p string) []byte
		max  [2]int // write requests, Graph calls per person
	}
	phases := []phase{
		// The first tap creates the conversation (a transaction with tombstone checks) and records
		// the disclosure it delivered: as any first tap, asking or not.
		{"tap: the question", func(p string) []byte { _, b := sb.Postback(account, p, payload, "Link"); return b }, [2]int{5, 1}},
		{"an invalid answer: the retry", func(p string) []byte { _, b := sb.Message(account, p, "not an email"); return b }, [2]int{3, 1}},
		{"the valid answer: lead, confirmation, next step", func(p string) []byte { _, b := sb.Message(account, p, p+"@example.com"); return b }, [2]int{5, 2}},
	}
	total := [3]int{}
	var out [3][4]int
	for p, ph := range phases {
		c.Reset()
		sent, puts := len(sb.Messages()), bus.Calls
		for i := range people {
			clock.Add(10 * time.Millisecond)
			for _, j := range parse(t, ph.act(person(i)), clock.Now()) {
				if r, err := svc.Handle(ctx, j, Lease{Owner: "fig", Until: clock.Now().Add(time.Minute)}); err != nil || r.Action != "sent" {
					t.Fatalf("%s, person %d: %+v, %v", ph.name, i, r, err)
				}
			}
		}
		w, r, calls, pe := c.Writes(), c.Reads(), len(sb.Messages())-sent, bus.Calls-puts
		out[p] = [4]int{w, r, calls, pe}
		total[0], total[1], total[2] = total[0]+w, total[1]+r, total[2]+calls
		t.Logf("%-48s per person: %.1f write requests, %.1f reads, %.1f Graph calls, %.1f PutEvents  %v", ph.name,
			float64(w)/people, float64(r)/people, float64(calls)/people, float64(pe)/people, c.ByOp())
		if !eventsOn && (w > ph.max[0]*people || calls > ph.max[1]*people) {
			t.Errorf("%s: %d writes and %d Graph calls for %d people, want at most %v each", ph.name, w, calls, people, ph.max)
		}
	}
	leads, _, err := store.Leads(ctx, account, "", 100)
	if err != nil || len(leads) != people {
		t.Fatalf("%d leads (%v), want %d", len(leads), err, people)
	}
	t.Logf("per lead captured (tap, one invalid answer, the valid one): %.1f write requests, %.1f reads, %.1f Graph calls, %.1f PutEvents",
		float64(total[0])/people, float64(total[1])/people, float64(total[2])/people, float64(bus.Calls)/people)
	return out
}
