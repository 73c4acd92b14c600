package conversation

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/telemetry"
	"github.com/replywindow/replywindow/shared/webhook"
)

const (
	account = "17841400000000001"
	person  = "17841400000000901"
	token   = "sbx-conv-token"
	payload = "LINK"
)

var start = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// bucketPacer is the GCRA the replier keeps in the store, kept here in memory: the conversation
// package cannot import the replier that wires it.
type bucketPacer struct {
	mu      sync.Mutex
	clock   *memory.Clock
	buckets map[reply.Lane]reply.Bucket
}

func (p *bucketPacer) Take(_ context.Context, a reply.Account, lane reply.Lane) (bool, time.Time, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.buckets[lane]
	b.AccountID, b.Lane = a.ID, lane
	g, next, retryAt := a.Limit(lane).Take(b, p.clock.Now(), 1)
	if g == 0 {
		return false, retryAt, nil
	}
	p.buckets[lane] = next
	return true, time.Time{}, nil
}

// env is a conversation service on real parts: the memory store, the Graph client over HTTP to
// the sandbox, one fake clock.
type env struct {
	t     testing.TB
	clock *memory.Clock
	store *memory.Store
	sb    *sandbox.Sandbox
	m     *telemetry.Metrics
	s     *Service
	g     *graph.Client
	acct  reply.Account
	// tokens is SSM; ssmDown makes every read fail.
	tokens tokens
}

type tokens struct{ ssmDown bool }

func (t *tokens) Token(_ context.Context, a reply.Account) (string, error) {
	if t.ssmDown {
		return "", errors.New("ssm GetParameter: ServiceUnavailable")
	}
	return memory.Tokens{account: token}.Token(context.Background(), a)
}

func newEnv(t testing.TB, edit func(*reply.Account)) *env {
	t.Helper()
	e := &env{t: t, clock: memory.NewClock(start), store: memory.NewStore(), m: telemetry.NewMetrics("replier")}
	e.sb = sandbox.New(sandbox.WithClock(e.clock.Now))
	srv := httptest.NewServer(e.sb)
	t.Cleanup(func() { e.sb.Close(); srv.Close() })
	g := graph.New(graph.WithBaseURL(srv.URL), graph.WithTimeout(300*time.Millisecond), graph.WithReserve(0))
	e.g = g
	e.sb.AddAccount(account, token, reply.LoginInstagram, "")
	e.acct = reply.Account{ID: account, Login: reply.LoginInstagram, TokenParam: "/t/" + account, Disclosure: "Automated.",
		Rules: []reply.Rule{{Name: "recipe", Match: reply.MatchAny, Message: "Tap below",
			Buttons: []reply.Button{{Type: reply.ButtonPostback, Title: "Link", Payload: payload}},
			Flow:    []reply.Step{{Name: "link", On: reply.Trigger{Payload: payload}, Messages: []reply.Message{{Text: "https://example.com/r"}}}}}},
		Version: 1}
	if edit != nil {
		edit(&e.acct)
	}
	if err := e.acct.Validate(); err != nil {
		t.Fatalf("account: %v", err)
	}
	if _, err := e.store.PutAccount(context.Background(), e.acct); err != nil {
		t.Fatal(err)
	}
	pacer := &bucketPacer{clock: e.clock, buckets: map[reply.Lane]reply.Bucket{}}
	accounts := func(ctx context.Context, id string) (reply.Account, error) { return e.store.Account(ctx, id) }
	e.s = New(e.store, g, &e.tokens, pacer, accounts, []string{sandbox.DefaultAppID}, e.clock, e.m, nil)
	return e
}

func parse(t testing.TB, body []byte, now time.Time) []reply.Job {
	t.Helper()
	d, err := webhook.Parse(body, now)
	if err != nil {
		t.Fatal(err)
	}
	return d.Jobs
}

// handle runs a sandbox webhook body's jobs through the service, as the replier would.
func (e *env) handle(body []byte) []Result {
	e.t.Helper()
	var out []Result
	for _, j := range parse(e.t, body, e.clock.Now()) {
		r, err := e.s.Handle(context.Background(), j, Lease{Owner: "test", Until: e.clock.Now().Add(time.Minute)})
		if err != nil {
			e.t.Fatalf("handle %s: %v", j.Key(), err)
		}
		out = append(out, r)
	}
	return out
}

func (e *env) tap() Result {
	e.t.Helper()
	_, b := e.sb.Postback(account, person, payload, "Link")
	return e.handle(b)[0]
}

// texts is what the person got, in order.
func (e *env) texts() []string {
	var out []string
	for _, m := range e.sb.Messages() {
		if m.PersonID == person {
			out = append(out, m.Text)
		}
	}
	return out
}

// followUps are the person's follow-up records.
func (e *env) followUps() []reply.Record {
	recs, _, err := e.store.Scan(context.Background(), "", 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []reply.Record
	for _, r := range recs {
		if r.Job.FollowUp != nil {
			out = append(out, r)
		}
	}
	return out
}

// release is the sweeper releasing a parked follow-up and the replier working the job.
func (e *env) release(rec reply.Record) (Result, error) {
	e.t.Helper()
	rel, err := rec.Release(false, e.clock.Now())
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.store.Update(context.Background(), rel); err != nil {
		e.t.Fatal(err)
	}
	return e.s.Handle(context.Background(), rel.Job, Lease{Owner: "w2", Until: e.clock.Now().Add(time.Minute)})
}
