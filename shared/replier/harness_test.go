package replier

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// start is the fake clock's first reading: an hour after the sample job's comment.
var start = time.Date(2026, 3, 1, 13, 0, 0, 0, time.UTC)

// countingStore passes every call to a real store and counts them, so the memory store's runs
// report requests per reply the way dynamo.Counter does for DynamoDB.
type countingStore struct {
	reply.Store
	reads, writes atomic.Int64
	// units are the write units the DynamoDB adapter is billed for the same calls (items under
	// 1 KB): Create is a transaction of the record, its funnel guard and a check of each
	// tombstone that could cover the comment, at two units an item; an Update into a terminal
	// state is a transaction of the record and its funnel counter item (funnel.Outcome), any
	// other Update and SaveBucket one unit.
	units atomic.Int64
}

func (c *countingStore) Create(ctx context.Context, r reply.Record) (reply.Record, error) {
	c.writes.Add(1)
	items := 2 // the record and the account's tombstone
	if r.Funnel != "" {
		items++
	}
	if r.Job.Person() != "" {
		items++
	}
	c.units.Add(int64(2 * items))
	return c.Store.Create(ctx, r)
}

func (c *countingStore) Update(ctx context.Context, r reply.Record) (reply.Record, error) {
	c.writes.Add(1)
	if _, counted := funnel.Outcome(r); counted {
		c.units.Add(2 * 2)
	} else {
		c.units.Add(1)
	}
	return c.Store.Update(ctx, r)
}

func (c *countingStore) HoldFunnel(ctx context.Context, r reply.Record) error {
	c.writes.Add(1)
	return c.Store.HoldFunnel(ctx, r)
}

func (c *countingStore) Get(ctx context.Context, key string) (reply.Record, error) {
	c.reads.Add(1)
	return c.Store.Get(ctx, key)
}

func (c *countingStore) Bucket(ctx context.Context, a string, l reply.Lane) (reply.Bucket, error) {
	c.reads.Add(1)
	return c.Store.Bucket(ctx, a, l)
}

func (c *countingStore) SaveBucket(ctx context.Context, b reply.Bucket) (reply.Bucket, error) {
	c.writes.Add(1)
	c.units.Add(1)
	return c.Store.SaveBucket(ctx, b)
}

func (c *countingStore) Touch(ctx context.Context, t reply.Touch) (reply.Conversation, error) {
	c.writes.Add(1)
	return c.Store.Touch(ctx, t)
}

func (c *countingStore) ClaimStep(ctx context.Context, recs []reply.Record, claim reply.StepClaim) (reply.Record, error) {
	c.writes.Add(1)
	return c.Store.ClaimStep(ctx, recs, claim)
}

func (c *countingStore) Disclosed(ctx context.Context, account, person string, at time.Time) error {
	c.writes.Add(1)
	return c.Store.Disclosed(ctx, account, person, at)
}

func (c *countingStore) Conversation(ctx context.Context, account, person string) (reply.Conversation, error) {
	c.reads.Add(1)
	return c.Store.Conversation(ctx, account, person)
}

func (c *countingStore) Account(ctx context.Context, id string) (reply.Account, error) {
	c.reads.Add(1)
	return c.Store.Account(ctx, id)
}

func (c *countingStore) PutAccount(ctx context.Context, a reply.Account) (reply.Account, error) {
	c.writes.Add(1)
	return c.Store.PutAccount(ctx, a)
}

// storeKind builds one of the two real stores.
type storeKind struct {
	name string
	make func(t testing.TB, clock reply.Clock) (reply.Store, func() (reads, writes int), func() map[string]int)
}

var memoryStore = storeKind{"memory", func(_ testing.TB, _ reply.Clock) (reply.Store, func() (int, int), func() map[string]int) {
	s := &countingStore{Store: memory.NewStore()}
	return s, func() (int, int) { return int(s.reads.Load()), int(s.writes.Load()) },
		func() map[string]int { return map[string]int{"WriteUnits": int(s.units.Load())} }
}}

var dynamoStore = storeKind{"dynamodb", func(t testing.TB, clock reply.Clock) (reply.Store, func() (int, int), func() map[string]int) {
	// awstest's client retries, as in Lambda, a request whose answer was lost: the replier must
	// take its own landed write as done.
	client := dynamodb.NewFromConfig(awstest.Config(t))
	name := awstest.Name(t, "replier")
	if err := dynamo.CreateTable(awstest.Context(t), client, name); err != nil {
		t.Fatalf("create table: %v", err)
	}
	c := dynamo.Count(client)
	ops := func() map[string]int {
		m := c.ByOp()
		m["WriteUnits"] = int(c.WriteUnits()) // as DynamoDB (moto) reported them
		return m
	}
	return dynamo.New(c, name, dynamo.WithClock(clock)), func() (int, int) { return c.Reads(), c.Writes() }, ops
}}

// bothStores is where the conditional flows run: the in-memory double and DynamoDB (moto).
var bothStores = []storeKind{memoryStore, dynamoStore}

// env is one replier wired to real parts: a store, the Graph client over HTTP to the sandbox,
// static tokens, and one fake clock for all of them.
type env struct {
	t      testing.TB
	clock  *memory.Clock
	store  reply.Store
	counts func() (reads, writes int)
	ops    func() map[string]int // DynamoDB requests by operation (the memory store: none), and WriteUnits
	sb     *sandbox.Sandbox
	graph  *graph.Client
	sbURL  string
	tokens memory.Tokens
	m      *telemetry.Metrics
	r      *Replier
	acct   reply.Account
	stored bool // acct is in the store
}

const token = "sbx-token-1"

func newEnv(t testing.TB, kind storeKind, sbxOpts ...sandbox.Option) *env {
	t.Helper()
	e := &env{t: t, clock: memory.NewClock(start)}
	e.store, e.counts, e.ops = kind.make(t, e.clock)
	e.sb = sandbox.New(append([]sandbox.Option{sandbox.WithClock(e.clock.Now)}, sbxOpts...)...)
	srv := httptest.NewServer(e.sb)
	t.Cleanup(func() { e.sb.Close(); srv.Close() })
	// A short client timeout keeps hanging faults quick; the lease is far longer.
	e.sbURL = srv.URL
	e.graph = graph.New(graph.WithBaseURL(srv.URL), graph.WithTimeout(300*time.Millisecond), graph.WithReserve(0))
	e.acct = loadAccount(t)
	e.tokens = memory.Tokens{e.acct.ID: token}
	e.sb.AddAccount(e.acct.ID, token, reply.LoginInstagram, "")
	e.m = telemetry.NewMetrics("replier")
	e.r = e.replier()
	return e
}

// replier is another replier instance (another Lambda environment) on the same parts.
func (e *env) replier() *Replier {
	log := slog.New(slog.NewJSONHandler(testWriter{e.t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := New(Config{TableName: "test", AppIDs: []string{sandbox.DefaultAppID}}, e.store, e.graph, e.tokens, e.clock, e.m, log)
	r.Converse(e.graph)
	return r
}

// put stores the account (changed by edit) and returns it.
func (e *env) put(edit func(*reply.Account)) reply.Account {
	e.t.Helper()
	a := e.acct
	if e.stored {
		a.Version++
	}
	if edit != nil {
		edit(&a)
	}
	if err := a.Validate(); err != nil {
		e.t.Fatalf("account: %v", err)
	}
	stored, err := e.store.PutAccount(context.Background(), a)
	if err != nil {
		e.t.Fatalf("put account: %v", err)
	}
	e.acct, e.stored = stored, true
	return stored
}

func (e *env) record(job reply.Job) reply.Record {
	e.t.Helper()
	rec, err := e.store.ByComment(context.Background(), job.CommentID)
	if err != nil {
		e.t.Fatalf("record of comment %s: %v", job.CommentID, err)
	}
	return rec
}

func (e *env) process(job reply.Job) Decision {
	e.t.Helper()
	d, err := e.r.Process(context.Background(), job)
	if err != nil {
		e.t.Fatalf("process %s: %v", job.CommentID, err)
	}
	return d
}

func loadAccount(t testing.TB) reply.Account {
	t.Helper()
	var a reply.Account
	readJSON(t, "testdata/account.json", &a)
	return a
}

// sampleJob is testdata/job.json with comment, person and media made unique by n.
func sampleJob(t testing.TB, n int) reply.Job {
	t.Helper()
	var j reply.Job
	readJSON(t, "testdata/job.json", &j)
	j.CommentID = fmt.Sprintf("%s%d", j.CommentID, n)
	j.FromID = fmt.Sprintf("%s%d", j.FromID, n)
	return j
}

func readJSON(t testing.TB, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// testWriter sends the replier's log lines to the test's log (shown on failure or -v).
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-1]))
	return len(p), nil
}
