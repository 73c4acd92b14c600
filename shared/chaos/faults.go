package chaos

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/reply"
)

// dice is the simulation's one source of chance: seeded, and shared by every fault point so a
// seed replays the same run.
type dice struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func newDice(seed uint64) *dice {
	return &dice{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// roll reports true with probability p.
func (d *dice) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.Float64() < p
}

func (d *dice) intN(n int) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.IntN(n)
}

func (d *dice) perm(n int) []int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.rng.Perm(n)
}

func (d *dice) duration(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	return lo + time.Duration(d.rng.Int64N(int64(hi-lo)))
}

// Fault kinds, the keys of Result.Faults.
const (
	FaultCrashAfterClaim   = "replier_crash_after_claim"
	FaultCrashAfterSend    = "replier_crash_after_send"
	FaultSweeperCrash      = "sweeper_crash_after_release"
	FaultGraph5xx          = "graph_5xx"
	FaultTimeoutDelivered  = "graph_timeout_delivered"
	FaultTimeoutNotSent    = "graph_timeout_not_delivered"
	FaultThrottle          = "graph_throttle"
	FaultUnavailable       = "graph_551_person_unavailable"
	FaultCommentDeleted    = "comment_deleted_by_person"
	FaultTokenRevoked      = "token_revoked"
	FaultStoreThrottle     = "dynamodb_throttle"
	FaultStoreLostAnswer   = "dynamodb_write_applied_answer_lost"
	FaultWebhookDuplicate  = "webhook_duplicate_delivery"
	FaultEnqueueFailed     = "sqs_enqueue_failed"
	FaultSQSDuplicate      = "sqs_duplicate_receive"
	FaultSQSDeleteLost     = "sqs_delete_lost"
	FaultConcurrentSweep   = "concurrent_sweep"
	FaultConcurrentReplier = "concurrent_replier"
	// Conversations.
	FaultCrashAfterFollowUp = "replier_crash_after_follow_up_sent"
	FaultSend5xx            = "send_api_5xx"
	FaultSendTimeout        = "send_api_timeout_delivered"
	FaultSendNotSent        = "send_api_timeout_not_delivered"
	FaultSendThrottle       = "send_api_throttle"
	FaultProfileUnavailable = "profile_api_unavailable"
	FaultLateTap            = "messaging_webhook_after_window"
	FaultBucketUnavailable  = "dynamodb_bucket_write_failed"
	FaultFlowEdited         = "settings_flow_edited"
)

// errCrashed is what every call of an invocation gets after it died: nothing it does afterwards
// reaches the world.
var errCrashed = errors.New("chaos: the invocation crashed")

// invocation is one Lambda invocation's fate: once it crashes, its store, queue and Graph calls
// all fail, as if the process were gone.
type invocation struct {
	mu      sync.Mutex
	crashed bool
	nested  bool // a concurrent invocation started inside this one does not start another
}

func (i *invocation) dead() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.crashed
}

func (i *invocation) crash() {
	i.mu.Lock()
	i.crashed = true
	i.mu.Unlock()
}

func (i *invocation) reset() {
	i.mu.Lock()
	i.crashed = false
	i.mu.Unlock()
}

// faultyStore is the store as one function sees it: DynamoDB throttling (nothing written),
// writes that land but whose answer is lost, and crash points after a claim or a release.
type faultyStore struct {
	reply.Store
	s    *sim
	inv  *invocation
	role string // "replier" or "sweeper"
	// before runs before a write (a concurrent worker slipping in); nil for none.
	before func(ctx context.Context, rec reply.Record)
}

func throttled(op string) error {
	return fmt.Errorf("dynamodb %s: %w", op, &types.ProvisionedThroughputExceededException{
		Message: aws.String("The level of configured provisioned throughput for the table was exceeded."),
	})
}

// pre decides the fate of a call before it reaches the store.
func (f *faultyStore) pre(op, comment string) error {
	if f.inv.dead() {
		return errCrashed
	}
	if f.s.dice.roll(f.s.cfg.Rates.StoreThrottle) {
		f.s.fault(FaultStoreThrottle, comment)
		return throttled(op)
	}
	return nil
}

// post decides the fate of a write that landed.
func (f *faultyStore) post(op string, rec reply.Record, err error) error {
	if err != nil {
		return err
	}
	switch {
	case f.role == "replier" && rec.State == reply.StateLeased && f.s.dice.roll(f.s.cfg.Rates.CrashAfterClaim):
		f.s.fault(FaultCrashAfterClaim, rec.CommentID)
		f.inv.crash()
		return errCrashed
	case f.role == "sweeper" && rec.State == reply.StateQueued && f.s.dice.roll(f.s.cfg.Rates.SweeperCrash):
		f.s.fault(FaultSweeperCrash, rec.CommentID)
		f.inv.crash()
		return errCrashed
	case f.s.dice.roll(f.s.cfg.Rates.StoreLostAnswer):
		f.s.fault(FaultStoreLostAnswer, rec.CommentID)
		return fmt.Errorf("dynamodb %s: %w", op, context.DeadlineExceeded)
	}
	return nil
}

func (f *faultyStore) Create(ctx context.Context, rec reply.Record) (reply.Record, error) {
	if err := f.pre("PutItem", rec.CommentID); err != nil {
		return reply.Record{}, err
	}
	if f.before != nil {
		f.before(ctx, rec)
	}
	stored, err := f.Store.Create(ctx, rec)
	return stored, f.post("PutItem", rec, err)
}

func (f *faultyStore) Update(ctx context.Context, rec reply.Record) (reply.Record, error) {
	if err := f.pre("PutItem", rec.CommentID); err != nil {
		return reply.Record{}, err
	}
	if f.before != nil {
		f.before(ctx, rec)
	}
	stored, err := f.Store.Update(ctx, rec)
	if err == nil && rec.State == reply.StateSent {
		if _, ok := f.s.sentAt[rec.CommentID]; !ok {
			f.s.sentAt[rec.CommentID] = f.s.clock.Now()
		}
		if f.s.dice.roll(f.s.cfg.Sabotage.LoseRecords) {
			_ = f.Store.Delete(ctx, rec.Key)
		}
	}
	return stored, f.post("PutItem", rec, err)
}

func (f *faultyStore) HoldFunnel(ctx context.Context, rec reply.Record) error {
	if err := f.pre("TransactWriteItems", rec.CommentID); err != nil {
		return err
	}
	return f.Store.HoldFunnel(ctx, rec)
}

func (f *faultyStore) Get(ctx context.Context, key string) (reply.Record, error) {
	if err := f.pre("GetItem", ""); err != nil {
		return reply.Record{}, err
	}
	return f.Store.Get(ctx, key)
}

func (f *faultyStore) Due(ctx context.Context, before time.Time, cursor string, limit int) ([]reply.Record, string, error) {
	if err := f.pre("Query", ""); err != nil {
		return nil, "", err
	}
	recs, next, err := f.Store.Due(ctx, before, cursor, limit)
	if err == nil && f.role == "sweeper" && f.s.concurrentSweep != nil {
		// Another sweep runs while this one holds the page it just read.
		f.s.concurrentSweep(ctx, f.inv)
	}
	return recs, next, err
}

func (f *faultyStore) SaveBucket(ctx context.Context, b reply.Bucket) (reply.Bucket, error) {
	if err := f.pre("PutItem", ""); err != nil {
		return reply.Bucket{}, err
	}
	if f.role == "replier" && (b.Lane == reply.LaneText || b.Lane == reply.LaneMedia) && f.s.dice.roll(f.s.cfg.Rates.BucketFaults) {
		// The lane's bucket cannot be written after the claim: no call may follow.
		f.s.fault(FaultBucketUnavailable, "")
		return reply.Bucket{}, fmt.Errorf("dynamodb PutItem: %w", errors.New("InternalServerError: Internal server error"))
	}
	return f.Store.SaveBucket(ctx, b)
}

func (f *faultyStore) Bucket(ctx context.Context, account string, lane reply.Lane) (reply.Bucket, error) {
	if err := f.pre("GetItem", ""); err != nil {
		return reply.Bucket{}, err
	}
	return f.Store.Bucket(ctx, account, lane)
}

func (f *faultyStore) BucketsOf(ctx context.Context, lanes []reply.AccountLane) ([]reply.Bucket, error) {
	if err := f.pre("BatchGetItem", ""); err != nil {
		return nil, err
	}
	return f.Store.BucketsOf(ctx, lanes)
}

func (f *faultyStore) Waiting(ctx context.Context, account string, lane reply.Lane, limit int) ([]reply.Record, error) {
	if err := f.pre("Query", ""); err != nil {
		return nil, err
	}
	return f.Store.Waiting(ctx, account, lane, limit)
}

func (f *faultyStore) Account(ctx context.Context, id string) (reply.Account, error) {
	if err := f.pre("GetItem", ""); err != nil {
		return reply.Account{}, err
	}
	return f.Store.Account(ctx, id)
}

func (f *faultyStore) PutAccount(ctx context.Context, a reply.Account) (reply.Account, error) {
	if err := f.pre("PutItem", ""); err != nil {
		return reply.Account{}, err
	}
	return f.Store.PutAccount(ctx, a)
}

func (f *faultyStore) Touch(ctx context.Context, t reply.Touch) (reply.Conversation, error) {
	if err := f.pre("UpdateItem", ""); err != nil {
		return reply.Conversation{}, err
	}
	before, err := f.Store.Touch(ctx, t)
	if err == nil && t.Pause > 0 {
		k := t.AccountID + "#" + t.PersonID
		f.s.pauses[k] = append(f.s.pauses[k], pause{at: f.s.clock.Now(), until: t.At.Add(t.Pause)})
	}
	return before, f.post("UpdateItem", reply.Record{}, err)
}

// ClaimStep is the claim of a follow-up: the crash after a claim applies to it as to a comment's.
func (f *faultyStore) ClaimStep(ctx context.Context, recs []reply.Record, c reply.StepClaim) (reply.Record, error) {
	if err := f.pre("TransactWriteItems", ""); err != nil {
		return reply.Record{}, err
	}
	for _, r := range recs {
		// Check reads follow-ups by key: a DynamoDB Scan lists only comments' records.
		f.s.followUpKeys[r.Key] = true
	}
	rec, err := f.Store.ClaimStep(ctx, recs, c)
	if err != nil || len(recs) == 0 {
		return rec, err
	}
	return rec, f.post("TransactWriteItems", recs[0], nil)
}

func (f *faultyStore) Conversation(ctx context.Context, account, person string) (reply.Conversation, error) {
	if err := f.pre("GetItem", ""); err != nil {
		return reply.Conversation{}, err
	}
	return f.Store.Conversation(ctx, account, person)
}

// faultyGraph is the Graph API as the replier sees it: the crash point between a delivered send
// and its record. Meta's own faults come from the sandbox's hook.
type faultyGraph struct {
	reply.Graph
	msgr reply.Messenger // the Send API and the user profile API
	s    *sim
	inv  *invocation
}

func (g *faultyGraph) SendMessage(ctx context.Context, a reply.Account, token, personID string, m reply.Message, replyTo string) (reply.SendResult, error) {
	if g.inv.dead() {
		return reply.SendResult{}, errCrashed
	}
	g.s.latency("")
	res, err := g.msgr.SendMessage(ctx, a, token, personID, m, replyTo)
	if err == nil && g.s.dice.roll(g.s.cfg.Sabotage.SendTwice) {
		_, _ = g.msgr.SendMessage(ctx, a, token, personID, m, replyTo)
	}
	if err == nil && g.s.dice.roll(g.s.cfg.Rates.CrashAfterSend) {
		g.s.fault(FaultCrashAfterFollowUp, "")
		g.inv.crash()
		return reply.SendResult{}, errCrashed
	}
	return res, err
}

func (g *faultyGraph) Profile(ctx context.Context, a reply.Account, token, personID string) (reply.Profile, error) {
	if g.inv.dead() {
		return reply.Profile{}, errCrashed
	}
	g.s.latency("")
	return g.msgr.Profile(ctx, a, token, personID)
}

func (g *faultyGraph) PrivateReply(ctx context.Context, a reply.Account, token, commentID string, m reply.Message) (reply.SendResult, error) {
	if g.inv.dead() {
		return reply.SendResult{}, errCrashed
	}
	g.s.latency(commentID)
	res, err := g.Graph.PrivateReply(ctx, a, token, commentID, m)
	g.s.delivered(commentID)
	if err == nil && g.s.dice.roll(g.s.cfg.Rates.CrashAfterSend) {
		g.s.fault(FaultCrashAfterSend, commentID)
		g.inv.crash()
		return reply.SendResult{}, errCrashed
	}
	return res, err
}

func (g *faultyGraph) PublicReply(ctx context.Context, a reply.Account, token, commentID, text string) error {
	if g.inv.dead() {
		return errCrashed
	}
	return g.Graph.PublicReply(ctx, a, token, commentID, text)
}

func (g *faultyGraph) Comment(ctx context.Context, a reply.Account, token, commentID string) (reply.CommentInfo, error) {
	if g.inv.dead() {
		return reply.CommentInfo{}, errCrashed
	}
	g.s.latency(commentID)
	return g.Graph.Comment(ctx, a, token, commentID)
}

func (g *faultyGraph) LiveMedia(ctx context.Context, a reply.Account, token string) ([]string, error) {
	if g.inv.dead() {
		return nil, errCrashed
	}
	return g.Graph.LiveMedia(ctx, a, token)
}

// faultyQueue is the jobs queue as the webhook and the sweeper send to it: SendMessageBatch may
// accept only part of a call and fail.
type faultyQueue struct {
	q   reply.Queue
	s   *sim
	inv *invocation
}

func (f *faultyQueue) Enqueue(ctx context.Context, jobs []reply.Job) error {
	if f.inv != nil && f.inv.dead() {
		return errCrashed
	}
	if len(jobs) > 0 && f.s.dice.roll(f.s.cfg.Rates.EnqueueFailed) {
		n := f.s.dice.intN(len(jobs))
		f.s.fault(FaultEnqueueFailed, jobs[n].CommentID)
		if err := f.q.Enqueue(ctx, jobs[:n]); err != nil {
			return err
		}
		return fmt.Errorf("enqueue: %d of %d jobs not accepted by SQS: InternalError", len(jobs)-n, len(jobs))
	}
	return f.q.Enqueue(ctx, jobs)
}

// timeoutError is what the HTTP client reports when the sandbox never answers.
type timeoutError struct{}

func (timeoutError) Error() string   { return "read tcp 127.0.0.1:443: i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// inProcess carries HTTP requests to the sandbox's handler without sockets, so a seed replays
// exactly and thousands of calls take milliseconds. It tells the client's trace that the request
// was written, as a real transport does: whether Meta can have acted on a call depends on it.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (resp *http.Response, err error) {
	var body []byte
	if req.Body != nil {
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	if tr := httptrace.ContextClientTrace(req.Context()); tr != nil && tr.WroteRequest != nil {
		tr.WroteRequest(httptrace.WroteRequestInfo{})
	}
	in := req.Clone(req.Context())
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.RequestURI = req.URL.RequestURI()
	rec := httptest.NewRecorder()
	aborted := false
	func() {
		defer func() {
			if p := recover(); p != nil {
				if p != http.ErrAbortHandler {
					panic(p)
				}
				aborted = true
			}
		}()
		t.h.ServeHTTP(rec, in)
	}()
	if aborted {
		// The sandbox dropped the call (after delivering, or not): no answer ever comes.
		return nil, timeoutError{}
	}
	return rec.Result(), nil
}
