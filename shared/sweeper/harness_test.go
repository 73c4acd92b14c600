package sweeper

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/sqs"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// t0 is "now" at the start of every test.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// backend is a store and a queue of one kind: in memory, or DynamoDB and SQS on moto.
type backend struct {
	name  string
	store reply.Store
	queue reply.Queue
	drain func(t *testing.T) []reply.Job // every job enqueued since the last drain
}

type backendMaker struct {
	name string
	make func(t *testing.T, c *memory.Clock) backend
}

var backends = []backendMaker{
	{"memory", memoryBackend},
	{"moto", motoBackend},
}

func memoryBackend(t *testing.T, c *memory.Clock) backend {
	q := memory.NewQueue(memory.QueueOptions{Clock: c, Visibility: time.Hour})
	return backend{
		name: "memory", store: memory.NewStore(), queue: q,
		drain: func(t *testing.T) []reply.Job {
			var jobs []reply.Job
			for {
				msgs, err := q.Receive(context.Background(), memory.MaxBatch, 0)
				if err != nil {
					t.Fatalf("receive: %v", err)
				}
				if len(msgs) == 0 {
					return jobs
				}
				for _, m := range msgs {
					jobs = append(jobs, decodeJob(t, m.Body))
					if err := q.Delete(context.Background(), m.ReceiptHandle); err != nil {
						t.Fatalf("delete: %v", err)
					}
				}
			}
		},
	}
}

// motoBackend is the real DynamoDB store and SQS queue adapters against moto server.
func motoBackend(t *testing.T, c *memory.Clock) backend {
	cfg := awstest.Config(t)
	ctx := awstest.Context(t)
	ddb := dynamodb.NewFromConfig(cfg)
	table := awstest.Name(t, "replies")
	if err := dynamo.CreateTable(ctx, ddb, table); err != nil {
		t.Fatalf("create table: %v", err)
	}
	sq := awssqs.NewFromConfig(cfg)
	url := awstest.Queue(t, sq, "jobs")
	return backend{
		name:  "moto",
		store: dynamo.New(ddb, table, dynamo.WithClock(c)),
		queue: sqs.NewQueue(sq, url),
		drain: func(t *testing.T) []reply.Job {
			var jobs []reply.Job
			for empty := 0; empty < 2; {
				o, err := sq.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: &url, MaxNumberOfMessages: 10, VisibilityTimeout: 600})
				if err != nil {
					t.Fatalf("receive: %v", err)
				}
				if len(o.Messages) == 0 {
					empty++
					continue
				}
				for _, m := range o.Messages {
					jobs = append(jobs, decodeJob(t, aws.ToString(m.Body)))
					if _, err := sq.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: &url, ReceiptHandle: m.ReceiptHandle}); err != nil {
						t.Fatalf("delete: %v", err)
					}
				}
			}
			return jobs
		},
	}
}

func decodeJob(t *testing.T, body string) reply.Job {
	t.Helper()
	var j reply.Job
	if err := json.Unmarshal([]byte(body), &j); err != nil {
		t.Fatalf("decode job %q: %v", body, err)
	}
	return j
}

// env is a backend, a clock, the Graph sandbox behind the real client, and accounts.
type env struct {
	backend
	clock   *memory.Clock
	sandbox *sandbox.Sandbox
	graph   *graph.Client
	tokens  memory.Tokens
	m       *telemetry.Metrics
}

func newEnv(t *testing.T, mk backendMaker) *env {
	t.Helper()
	c := memory.NewClock(t0)
	sb := sandbox.New(sandbox.WithClock(c.Now))
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close)
	return &env{
		backend: mk.make(t, c), clock: c, sandbox: sb,
		graph:  graph.New(graph.WithBaseURL(srv.URL)),
		tokens: memory.Tokens{},
		m:      telemetry.NewMetrics("sweeper"),
	}
}

func (e *env) sweeper(cfg Config) *Sweeper {
	return New(cfg, e.store, e.queue, e.graph, e.tokens, e.clock, e.m, nil)
}

// account stores a healthy Instagram Login account (change edits it first) with a token the
// sandbox knows.
func (e *env) account(t *testing.T, id string, change func(*reply.Account)) reply.Account {
	t.Helper()
	a := reply.Account{
		ID: id, Login: reply.LoginInstagram, TokenParam: "/replywindow/tokens/" + id, Version: 1,
		Rules: []reply.Rule{{Name: "all", Match: reply.MatchAny, Message: "Here is the link"}},
	}
	if change != nil {
		change(&a)
	}
	if _, err := e.store.PutAccount(context.Background(), a); err != nil {
		t.Fatalf("put account %s: %v", id, err)
	}
	tok := "token-" + id
	e.tokens[id] = tok
	e.sandbox.AddAccount(id, tok, reply.LoginInstagram, "")
	return a
}

// job is a comment made at `at`.
func job(account, comment string, kind reply.Kind, media string, at time.Time) reply.Job {
	return reply.Job{
		V: reply.JobVersion, AccountID: account, CommentID: comment, MediaID: media,
		Text: "link please", Kind: kind, CommentedAt: at, DeliveredAt: at,
	}
}

// seed stores a record through the versions of its history: the first is created, the others
// are updates, as the replier would have written them; a record left waiting in its line has
// its bucket written (refused): the sweeper reads a line after its cold start only when it was.
func seed(t *testing.T, s reply.Store, versions ...reply.Record) reply.Record {
	t.Helper()
	ctx := context.Background()
	if _, err := s.Create(ctx, versions[0]); err != nil {
		t.Fatalf("create %s: %v", versions[0].Key, err)
	}
	for _, v := range versions[1:] {
		if _, err := s.Update(ctx, v); err != nil {
			t.Fatalf("update %s to %s: %v", v.Key, v.State, err)
		}
	}
	last := versions[len(versions)-1]
	refused(t, s, last)
	return last
}

// refused writes the bucket of a record waiting in its lane's line, unless it is written: the
// bucket refused the record, with the TAT it had then.
func refused(t *testing.T, s reply.Store, rec reply.Record) {
	t.Helper()
	if !rec.Waiting() {
		return
	}
	b, err := s.Bucket(context.Background(), rec.AccountID, rec.Lane)
	if err != nil {
		t.Fatal(err)
	}
	if b.Version == 0 {
		b.TAT, b.Version = rec.UpdatedAt, 1
		if _, err := s.SaveBucket(context.Background(), b); err != nil {
			t.Fatalf("bucket of %s: %v", rec.Key, err)
		}
	}
}

// must is the record a domain transition returned, failing the test on an error.
func must(t *testing.T) func(reply.Record, error) reply.Record {
	return func(r reply.Record, err error) reply.Record {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

// parked is j's record waiting in its lane for a token of the account's bucket (the replier's
// most common park): the sweeper releases it from the lane's head, due or not.
func parked(j reply.Job, at, until time.Time) reply.Record {
	return reply.NewParked(j, until, reply.ReasonRateLimited, at)
}

// parkedFor is j's record parked until `until` for reason: in the due index, released once due.
func parkedFor(j reply.Job, at, until time.Time, reason string) reply.Record {
	return reply.NewParked(j, until, reason, at)
}

func leased(t *testing.T, j reply.Job, at, leaseUntil time.Time) reply.Record {
	r := reply.NewRecord(j, at)
	return must(t)(r.Claim(j, "replier-test/1", at, leaseUntil))
}

// states reads every record named and returns them by comment id.
func states(t *testing.T, s reply.Store, comments []string) map[string]reply.Record {
	t.Helper()
	out := map[string]reply.Record{}
	for _, c := range comments {
		r, err := s.Get(context.Background(), reply.CommentKey(c))
		if err != nil {
			t.Fatalf("get %s: %v", c, err)
		}
		out[c] = r
	}
	return out
}

func ids(jobs []reply.Job) []string {
	out := make([]string, 0, len(jobs))
	for _, j := range jobs {
		out = append(out, j.CommentID)
	}
	sort.Strings(out)
	return out
}

// seedMany stores n records made by mk, several at a time (moto answers each in milliseconds),
// and writes the buckets of those waiting in a line (refused).
func seedMany(t *testing.T, s reply.Store, n int, mk func(i int) reply.Record) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				if _, err := s.Create(context.Background(), mk(i)); err != nil {
					select {
					case errs <- fmt.Errorf("create %d: %w", i, err):
					default:
					}
				}
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	for i := range n { // after the records, as the replier parks after the refusal
		refused(t, s, mk(i))
	}
}
