package simulation

import (
	"context"
	"time"

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

func (s *meteredStore) get(ctx context.Context, n int, bytes float64) {
	for range n {
		s.m.charge(ctx, s.m.lat.DynamoGet)
	}
	s.c.add(func(u *Usage) {
		u.DynamoRequests += int64(n)
		u.ReadUnits += float64(n) * readUnits(bytes, true)
	})
}

func (s *meteredStore) query(ctx context.Context, pages int, bytes float64) {
	for range pages {
		s.m.charge(ctx, s.m.lat.DynamoQuery)
	}
	s.c.add(func(u *Usage) {
		u.DynamoRequests += int64(pages)
		// Each page is billed by what it read, at least half a unit.
		u.ReadUnits += float64(pages-1)*0.5 + readUnits(bytes, false)
	})
}

// put bills one conditional PutItem of bytes to key, and the IndexDue writes it makes: a record
// entering, leaving or moving in the index costs one GSI write for each side.
func (s *meteredStore) put(ctx context.Context, key string, bytes, gsi int) {
	s.m.charge(ctx, s.m.lat.DynamoPut)
	now := s.clock.Now()
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.u.DynamoRequests++
	s.c.u.WriteUnits += writeUnits(bytes, false) + float64(gsi)*writeUnits(bytes, false)
	s.c.wrote(now, key)
	if gsi > 0 {
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

// Create is one TransactWriteItems: the record and its funnel guard, each a transactional write
// (twice a write's units), and the condition checks on the account's and the person's
// tombstones, each a transactional read (two read units), plus the new record's IndexComment
// and IndexDue entries.
func (s *meteredStore) Create(ctx context.Context, rec reply.Record) (reply.Record, error) {
	out, err := s.Store.Create(ctx, rec)
	s.m.charge(ctx, s.m.lat.DynamoTransact)
	bytes := recordBytes(rec)
	s.sized(bytes)
	keys := []string{rec.Key}
	if rec.Funnel != "" {
		keys = append(keys, rec.Funnel)
	}
	checks := 1
	if rec.Job.FromID != "" {
		checks++
	}
	now := s.clock.Now()
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.u.DynamoRequests++
	s.c.u.WriteUnits += writeUnits(bytes, true) + float64(len(keys)-1)*writeUnits(0, true)
	s.c.u.ReadUnits += float64(checks) * 2 * readUnits(0, true)
	if err == nil {
		s.c.u.WriteUnits++ // IndexComment, keys only
		if !rec.State.Terminal() {
			s.c.u.WriteUnits += writeUnits(bytes, false)
			keys = append(keys, dueShard(rec.Key))
		}
	}
	s.c.wrote(now, keys...)
	return out, err
}

// HoldFunnel is a TransactWriteItems of the guard and the two tombstone checks.
func (s *meteredStore) HoldFunnel(ctx context.Context, rec reply.Record) error {
	err := s.Store.HoldFunnel(ctx, rec)
	s.m.charge(ctx, s.m.lat.DynamoTransact)
	now := s.clock.Now()
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	s.c.u.DynamoRequests++
	s.c.u.WriteUnits += writeUnits(0, true)
	s.c.u.ReadUnits += 2 * 2 * readUnits(0, true)
	s.c.wrote(now, rec.Funnel)
	return err
}

// Update is a conditional PutItem; the old image comes back with a failed condition at no
// extra read.
func (s *meteredStore) Update(ctx context.Context, rec reply.Record) (reply.Record, error) {
	old, _ := s.Store.Get(ctx, rec.Key)
	out, err := s.Store.Update(ctx, rec)
	bytes := recordBytes(rec)
	s.sized(bytes)
	gsi := 0
	if err == nil {
		inOld, inNew := !old.State.Terminal(), !rec.State.Terminal()
		switch {
		case inOld && inNew && !old.DueAt.Equal(rec.DueAt):
			gsi = 2 // the index entry moves: a delete and a put
		case inOld || inNew:
			gsi = 1
		}
	}
	s.put(ctx, rec.Key, bytes, gsi)
	return out, err
}

// Get is a consistent GetItem.
func (s *meteredStore) Get(ctx context.Context, key string) (reply.Record, error) {
	r, err := s.Store.Get(ctx, key)
	s.get(ctx, 1, float64(recordBytes(r)))
	return r, err
}

// ByComment is the comment's own record (a GetItem), else a query of IndexComment and a GetItem
// of each record found.
func (s *meteredStore) ByComment(ctx context.Context, commentID string) (reply.Record, error) {
	r, err := s.Store.ByComment(ctx, commentID)
	s.get(ctx, 1, float64(recordBytes(r)))
	if err != nil || r.Key != reply.CommentKey(commentID) {
		s.query(ctx, 1, 0)
		if err == nil {
			s.get(ctx, 1, float64(recordBytes(r)))
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
	s.c.add(func(u *Usage) {
		u.DynamoRequests += 8
		u.ReadUnits += 7*0.5 + readUnits(bytes, false)
	})
	return recs, next, err
}

// Waiting is one Query page of the lane index (it projects whole records), billed by what it
// returned, half a unit at least.
func (s *meteredStore) Waiting(ctx context.Context, account string, lane reply.Lane, limit int) ([]reply.Record, error) {
	recs, err := s.Store.Waiting(ctx, account, lane, limit)
	s.query(ctx, 1, float64(len(recs))*s.meanItem())
	return recs, err
}

// Scan is a Scan page (audits, deletion), billed like a query page.
func (s *meteredStore) Scan(ctx context.Context, cursor string, limit int) ([]reply.Record, string, error) {
	recs, next, err := s.Store.Scan(ctx, cursor, limit)
	s.query(ctx, 1, float64(len(recs))*s.meanItem())
	return recs, next, err
}

// Delete is a DeleteItem.
func (s *meteredStore) Delete(ctx context.Context, key string) error {
	err := s.Store.Delete(ctx, key)
	s.put(ctx, key, 0, 1)
	return err
}

// bucketBytes is a bucket item with its grant counts: under a read unit and a write unit.
const bucketBytes = 400

// Bucket is a consistent GetItem.
func (s *meteredStore) Bucket(ctx context.Context, account string, lane reply.Lane) (reply.Bucket, error) {
	b, err := s.Store.Bucket(ctx, account, lane)
	s.get(ctx, 1, bucketBytes)
	return b, err
}

// BucketsOf is an eventually consistent BatchGetItem per hundred lanes, each item half a unit.
func (s *meteredStore) BucketsOf(ctx context.Context, lanes []reply.AccountLane) ([]reply.Bucket, error) {
	bs, err := s.Store.BucketsOf(ctx, lanes)
	requests := (len(lanes) + 99) / 100
	for range requests {
		s.m.charge(ctx, s.m.lat.DynamoBatchGet)
	}
	s.c.add(func(u *Usage) {
		u.DynamoRequests += int64(requests)
		u.ReadUnits += float64(len(lanes)) * readUnits(bucketBytes, false)
	})
	return bs, err
}

// SaveBucket is a conditional PutItem.
func (s *meteredStore) SaveBucket(ctx context.Context, b reply.Bucket) (reply.Bucket, error) {
	out, err := s.Store.SaveBucket(ctx, b)
	s.put(ctx, reply.BucketKey(b.AccountID, b.Lane), bucketBytes, 0)
	return out, err
}

// DeleteBucket is a DeleteItem.
func (s *meteredStore) DeleteBucket(ctx context.Context, account string, lane reply.Lane) error {
	err := s.Store.DeleteBucket(ctx, account, lane)
	s.put(ctx, reply.BucketKey(account, lane), 0, 0)
	return err
}

// Account is a consistent GetItem.
func (s *meteredStore) Account(ctx context.Context, id string) (reply.Account, error) {
	a, err := s.Store.Account(ctx, id)
	s.get(ctx, 1, 1024)
	return a, err
}

// PutAccount is a conditional PutItem (and its IndexList entry).
func (s *meteredStore) PutAccount(ctx context.Context, a reply.Account) (reply.Account, error) {
	out, err := s.Store.PutAccount(ctx, a)
	s.put(ctx, "A#"+a.ID, 1024, 0)
	s.c.add(func(u *Usage) { u.WriteUnits++ })
	return out, err
}

// ListAccounts queries IndexList, a page per megabyte.
func (s *meteredStore) ListAccounts(ctx context.Context) ([]reply.Account, error) {
	as, err := s.Store.ListAccounts(ctx)
	bytes := float64(len(as)) * 1024
	s.query(ctx, 1+int(bytes)/(1<<20), bytes)
	return as, err
}

// PendingDeletions queries IndexList.
func (s *meteredStore) PendingDeletions(ctx context.Context) ([]reply.Deletion, error) {
	ds, err := s.Store.PendingDeletions(ctx)
	s.query(ctx, 1, float64(len(ds))*512)
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
