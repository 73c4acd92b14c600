package simulation

import (
	"context"
	"time"

	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/reply"
)

// meteredStore is a reply.Store that bills each call as the dynamo adapter makes it (which
// DynamoDB requests, how many units), charges its latency to the caller's meter and counts the
// writes to every partition key, table and GSI alike, by second of the fake clock.
type meteredStore struct {
	reply.Store
	m     *model
	c     *counters
	clock reply.Clock
}

var _ reply.Store = (*meteredStore)(nil)

func (s *meteredStore) get(ctx context.Context, kind string, n int, bytes float64) {
	for range n {
		s.m.charge(ctx, s.m.lat.DynamoGet)
	}
	s.c.mu.Lock()
	s.c.bill(kind, "GetItem", int64(n), float64(n)*readUnits(bytes, true), 0)
	s.c.mu.Unlock()
}

func (s *meteredStore) query(ctx context.Context, kind, op string, pages int, bytes float64) {
	for range pages {
		s.m.charge(ctx, s.m.lat.DynamoQuery)
	}
	s.c.mu.Lock()
	// Each page is billed by what it read, at least half a unit.
	s.c.bill(kind, op, int64(pages), float64(pages-1)*0.5+readUnits(bytes, false), 0)
	s.c.mu.Unlock()
}

// put bills one conditional PutItem (op) of bytes to key, and the IndexDue writes it makes: a
// record entering, leaving or moving in the index costs one GSI write for each side.
func (s *meteredStore) put(ctx context.Context, op, key string, bytes, gsi int) {
	s.m.charge(ctx, s.m.lat.DynamoPut)
	now := s.clock.Now()
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.bill(kindOf(key), op, 1, 0, writeUnits(bytes, false))
	s.c.wrote(now, key)
	if gsi > 0 {
		s.c.bill(kindIndexDue, op, 0, 0, float64(gsi)*writeUnits(bytes, false))
		s.c.wrote(now, dueShard(key))
	}
}

func (s *meteredStore) sized(bytes int) {
	s.c.mu.Lock()
	s.c.itemBytes += float64(bytes)
	s.c.items++
	s.c.mu.Unlock()
}

func (s *meteredStore) meanItem() float64 {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if s.c.items == 0 {
		return 512
	}
	return s.c.itemBytes / s.c.items
}

// guardItemBytes, counterItemBytes and checkItemBytes are a funnel guard, a funnel counter and a tombstone
// check: each under 1 KB, so a transactional write of one is two units.
const guardItemBytes, counterItemBytes, checkItemBytes = 200, 300, 0

// graves bills the ConditionChecks on the account's tombstone and, when the job names one, the
// person's: in a TransactWriteItems each is billed like a transactional write of its item
// (two units under 1 KB), whether a tombstone is stored or not; c.mu is held.
func (s *meteredStore) graves(op string, job reply.Job) {
	checks := 1
	if job.Person() != "" {
		checks++
	}
	s.c.bill(kindTombstone, op, 0, 0, float64(checks)*writeUnits(checkItemBytes, true))
}

// counted bills the funnel counter update that goes in the transaction of a terminal
// transition (dynamo.CountUpdate), and the IndexList entry it keeps (the counter item holds the
// index's hash key, and an update of an indexed item rewrites its entry); c.mu is held.
func (s *meteredStore) counted(op string, rec reply.Record, now time.Time) bool {
	t, ok := funnel.Outcome(rec)
	if !ok {
		return false
	}
	s.c.bill(kindCounter, op, 0, 0, writeUnits(counterItemBytes, true))
	s.c.bill(kindIndexList, op, 0, 0, writeUnits(counterItemBytes, false))
	s.c.wrote(now, t.Key)
	return true
}

// indexes bills the writes to IndexDue, IndexLane and IndexMessage that a record moving from
// old to rec makes (old zero for a new record); c.mu is held.
func (s *meteredStore) indexes(op string, old, rec reply.Record, bytes int, now time.Time) {
	u := writeUnits(bytes, false)
	inOld, inNew := old.Key != "" && !old.State.Terminal(), !rec.State.Terminal()
	switch {
	case inOld && inNew && !old.SweepAt().Equal(rec.SweepAt()):
		s.c.bill(kindIndexDue, op, 0, 0, 2*u) // the entry moves: a delete and a put
	case inOld && inNew:
		s.c.bill(kindIndexDue, op, 0, 0, u) // rewritten in place: the index projects it all
	case inOld || inNew:
		s.c.bill(kindIndexDue, op, 0, 0, u)
	}
	if inOld || inNew {
		s.c.wrote(now, dueShard(rec.Key))
	}
	waitOld, waitNew := old.Key != "" && old.Waiting(), rec.Waiting()
	if waitOld || waitNew { // entering, leaving or rewritten in place: one entry write
		s.c.bill(kindIndexLane, op, 0, 0, u)
	}
	if rec.MessageID != "" && old.MessageID == "" {
		s.c.bill(kindIndexMsg, op, 0, 0, 1) // keys only, written once
	}
}

// Create is one TransactWriteItems: the record and its funnel guard, each a transactional
// write, the condition checks on the account's and the person's tombstones, the funnel counter
// when the record is born terminal, plus the new record's index entries.
func (s *meteredStore) Create(ctx context.Context, rec reply.Record) (reply.Record, error) {
	out, err := s.Store.Create(ctx, rec)
	s.m.charge(ctx, s.m.lat.DynamoTransact)
	bytes := recordBytes(rec)
	s.sized(bytes)
	const op = "TransactWriteItems"
	now := s.clock.Now()
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.bill(kindRecord, op, 1, 0, writeUnits(bytes, true))
	s.c.wrote(now, rec.Key)
	if rec.Funnel != "" {
		s.c.bill(kindGuard, op, 0, 0, writeUnits(guardItemBytes, true))
		s.c.wrote(now, rec.Funnel)
	}
	s.graves(op, rec.Job)
	if err == nil {
		s.counted(op, rec, now)
		if rec.CommentID != "" && rec.Key != reply.CommentKey(rec.CommentID) {
			s.c.bill(kindIndexCID, op, 0, 0, 1) // keys only, and only off the comment's own key
		}
		s.indexes(op, reply.Record{}, rec, bytes, now)
	}
	return out, err
}

// HoldFunnel is a TransactWriteItems of the guard and the tombstone checks.
func (s *meteredStore) HoldFunnel(ctx context.Context, rec reply.Record) error {
	err := s.Store.HoldFunnel(ctx, rec)
	s.m.charge(ctx, s.m.lat.DynamoTransact)
	const op = "TransactWriteItems"
	now := s.clock.Now()
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.bill(kindGuard, op, 1, 0, writeUnits(guardItemBytes, true))
	s.graves(op, rec.Job)
	s.c.wrote(now, rec.Funnel)
	return err
}

// Update is a conditional PutItem, or, for a move into a terminal state, a TransactWriteItems of
// that put and the funnel counter's update (dynamo's putCounted); the old image comes back with
// a failed condition at no extra read.
func (s *meteredStore) Update(ctx context.Context, rec reply.Record) (reply.Record, error) {
	old, _ := s.Store.Get(ctx, rec.Key)
	out, err := s.Store.Update(ctx, rec)
	bytes := recordBytes(rec)
	s.sized(bytes)
	_, terminal := funnel.Outcome(rec)
	op, lat := "PutItem", s.m.lat.DynamoPut
	if terminal {
		op, lat = "TransactWriteItems", s.m.lat.DynamoTransact
	}
	s.m.charge(ctx, lat)
	now := s.clock.Now()
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.bill(kindRecord, op, 1, 0, writeUnits(bytes, terminal))
	s.c.wrote(now, rec.Key)
	if err == nil {
		if terminal {
			s.counted(op, rec, now)
		}
		s.indexes(op, old, rec, bytes, now)
	}
	return out, err
}

// Get is a consistent GetItem.
func (s *meteredStore) Get(ctx context.Context, key string) (reply.Record, error) {
	r, err := s.Store.Get(ctx, key)
	s.get(ctx, kindRecord, 1, float64(recordBytes(r)))
	return r, err
}

// ByComment is the comment's own record (a GetItem), else a query of IndexComment and a GetItem
// of each record found.
func (s *meteredStore) ByComment(ctx context.Context, commentID string) (reply.Record, error) {
	r, err := s.Store.ByComment(ctx, commentID)
	s.get(ctx, kindRecord, 1, float64(recordBytes(r)))
	if err != nil || r.Key != reply.CommentKey(commentID) {
		s.query(ctx, kindIndexCID, "Query", 1, 0)
		if err == nil {
			s.get(ctx, kindRecord, 1, float64(recordBytes(r)))
		}
	}
	return r, err
}

// Due merges the dynamo adapter's DueShards queries; each shard's first page is read at once,
// so the page takes one query's time, and is billed by what it returned.
func (s *meteredStore) Due(ctx context.Context, before time.Time, cursor string, limit int) ([]reply.Record, string, error) {
	recs, next, err := s.Store.Due(ctx, before, cursor, limit)
	s.m.charge(ctx, s.m.lat.DynamoQuery)
	bytes := float64(len(recs)) * s.meanItem()
	s.c.mu.Lock()
	s.c.bill(kindIndexDue, "Query", 8, 7*0.5+readUnits(bytes, false), 0)
	s.c.mu.Unlock()
	return recs, next, err
}

// Waiting is one Query page of the lane index (it projects whole records), billed by what it
// returned, half a unit at least.
func (s *meteredStore) Waiting(ctx context.Context, account string, lane reply.Lane, limit int) ([]reply.Record, error) {
	recs, err := s.Store.Waiting(ctx, account, lane, limit)
	s.query(ctx, kindIndexLane, "Query", 1, float64(len(recs))*s.meanItem())
	return recs, err
}

// Scan is a Scan page (audits, deletion), billed like a query page.
func (s *meteredStore) Scan(ctx context.Context, cursor string, limit int) ([]reply.Record, string, error) {
	recs, next, err := s.Store.Scan(ctx, cursor, limit)
	s.query(ctx, "table", "Scan", 1, float64(len(recs))*s.meanItem())
	return recs, next, err
}

// Delete is a DeleteItem.
func (s *meteredStore) Delete(ctx context.Context, key string) error {
	err := s.Store.Delete(ctx, key)
	s.put(ctx, "DeleteItem", key, 0, 1)
	return err
}

// bucketBytes is a bucket item with its grant counts: under a read unit and a write unit.
const bucketBytes = 400

// Bucket is a consistent GetItem.
func (s *meteredStore) Bucket(ctx context.Context, account string, lane reply.Lane) (reply.Bucket, error) {
	b, err := s.Store.Bucket(ctx, account, lane)
	s.get(ctx, kindBucket, 1, bucketBytes)
	return b, err
}

// BucketsOf is an eventually consistent BatchGetItem per hundred lanes, each item half a unit.
func (s *meteredStore) BucketsOf(ctx context.Context, lanes []reply.AccountLane) ([]reply.Bucket, error) {
	bs, err := s.Store.BucketsOf(ctx, lanes)
	requests := (len(lanes) + 99) / 100
	for range requests {
		s.m.charge(ctx, s.m.lat.DynamoBatchGet)
	}
	s.c.mu.Lock()
	s.c.bill(kindBucket, "BatchGetItem", int64(requests), float64(len(lanes))*readUnits(bucketBytes, false), 0)
	s.c.mu.Unlock()
	return bs, err
}

// SaveBucket is a conditional PutItem.
func (s *meteredStore) SaveBucket(ctx context.Context, b reply.Bucket) (reply.Bucket, error) {
	out, err := s.Store.SaveBucket(ctx, b)
	s.put(ctx, "PutItem", reply.BucketKey(b.AccountID, b.Lane), bucketBytes, 0)
	return out, err
}

// DeleteBucket is a DeleteItem.
func (s *meteredStore) DeleteBucket(ctx context.Context, account string, lane reply.Lane) error {
	err := s.Store.DeleteBucket(ctx, account, lane)
	s.put(ctx, "DeleteItem", reply.BucketKey(account, lane), 0, 0)
	return err
}

// Account is a consistent GetItem.
func (s *meteredStore) Account(ctx context.Context, id string) (reply.Account, error) {
	a, err := s.Store.Account(ctx, id)
	s.get(ctx, kindAccount, 1, 1024)
	return a, err
}

// PutAccount is a conditional PutItem (and its IndexList entry).
func (s *meteredStore) PutAccount(ctx context.Context, a reply.Account) (reply.Account, error) {
	out, err := s.Store.PutAccount(ctx, a)
	s.put(ctx, "PutItem", "A#"+a.ID, 1024, 0)
	s.c.mu.Lock()
	s.c.bill(kindIndexList, "PutItem", 0, 0, 1)
	s.c.mu.Unlock()
	return out, err
}

// ListAccounts queries IndexList, a page per megabyte.
func (s *meteredStore) ListAccounts(ctx context.Context) ([]reply.Account, error) {
	as, err := s.Store.ListAccounts(ctx)
	bytes := float64(len(as)) * 1024
	s.query(ctx, kindIndexList+" accounts", "Query", 1+int(bytes)/(1<<20), bytes)
	return as, err
}

// PendingDeletions queries IndexList.
func (s *meteredStore) PendingDeletions(ctx context.Context) ([]reply.Deletion, error) {
	ds, err := s.Store.PendingDeletions(ctx)
	s.query(ctx, kindIndexList+" deletions", "Query", 1, float64(len(ds))*512)
	return ds, err
}

// meteredQueue bills SQS: SendMessageBatch per ten jobs (a batch of small jobs is one 64 KB
// chunk), and charges the send's latency.
type meteredQueue struct {
	q reply.Queue
	m *model
	c *counters
}

// Enqueue sends the jobs in batches of ten, as the sqs adapter does.
func (q *meteredQueue) Enqueue(ctx context.Context, jobs []reply.Job) error {
	batches := (len(jobs) + 9) / 10
	// The webhook's and the sweeper's batches go out concurrently; one round trip each way is
	// the least they take.
	q.m.charge(ctx, q.m.lat.SQSSend)
	q.c.add(func(u *Usage) { u.SQSRequests += int64(batches) })
	return q.q.Enqueue(ctx, jobs)
}

// meteredGraph counts Graph calls, charges their latency and notes when each private reply
// left: the invocation's start on the fake clock plus what its meter shows at the answer.
type meteredGraph struct {
	reply.Graph
	m     *model
	c     *counters
	clock reply.Clock

	sent func(commentID string, at time.Time)
}

func (g *meteredGraph) call(ctx context.Context, d time.Duration) time.Duration {
	g.c.add(func(u *Usage) { u.GraphCalls++ })
	return g.m.charge(ctx, d)
}

// PrivateReply is POST /{id}/messages.
func (g *meteredGraph) PrivateReply(ctx context.Context, a reply.Account, token, commentID string, m reply.Message) (reply.SendResult, error) {
	res, err := g.Graph.PrivateReply(ctx, a, token, commentID, m)
	at := g.clock.Now().Add(g.call(ctx, g.m.lat.GraphSend))
	if err == nil {
		g.sent(commentID, at)
	}
	return res, err
}

// PublicReply is POST /{comment-id}/replies.
func (g *meteredGraph) PublicReply(ctx context.Context, a reply.Account, token, commentID, text string) error {
	g.call(ctx, g.m.lat.GraphSend)
	return g.Graph.PublicReply(ctx, a, token, commentID, text)
}

// LiveMedia is GET /{ig-id}/live_media.
func (g *meteredGraph) LiveMedia(ctx context.Context, a reply.Account, token string) ([]string, error) {
	g.call(ctx, g.m.lat.GraphRead)
	return g.Graph.LiveMedia(ctx, a, token)
}

// Comment is GET /{comment-id}.
func (g *meteredGraph) Comment(ctx context.Context, a reply.Account, token, commentID string) (reply.CommentInfo, error) {
	g.call(ctx, g.m.lat.GraphRead)
	return g.Graph.Comment(ctx, a, token, commentID)
}
