package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/reply"
)

// ErrCursor marks a cursor this store did not hand out.
var ErrCursor = errors.New("bad cursor")

// replyKey reports a reply record's key. F# items were reply records before funnel guards
// became items of their own; such records are still read (Get, ByComment) until their TTL.
// S# are follow-ups' records: one automated message of a conversation.
func replyKey(k string) bool {
	return strings.HasPrefix(k, "C#") || strings.HasPrefix(k, "F#") || strings.HasPrefix(k, "S#")
}

func checkRecord(r reply.Record) error {
	switch {
	case !strings.HasPrefix(r.Key, "C#") && !strings.HasPrefix(r.Key, "S#"):
		return fmt.Errorf("key %q is not a reply record key (C#... or S#...)", r.Key)
	case r.Funnel != "" && !strings.HasPrefix(r.Funnel, "F#"):
		return fmt.Errorf("record %s: funnel %q is not a funnel key (F#...)", r.Key, r.Funnel)
	case r.CommentID == "" && strings.HasPrefix(r.Key, "C#"):
		return fmt.Errorf("record %s has no comment id", r.Key)
	}
	return nil
}

// shard is the IndexDue partition of a record: fixed by its key, so a record stays in one shard
// for its whole life.
func shard(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % DueShards)
}

func (s *Store) encodeRecord(r reply.Record) (map[string]types.AttributeValue, error) {
	item, err := marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode record %s: %w", r.Key, err)
	}
	item[AttrPK] = str(r.Key)
	if r.CommentID != "" && r.Key != reply.CommentKey(r.CommentID) {
		// Only records not keyed by their comment go in IndexComment: ByComment reads a
		// comment's own record by its key and skips it in the index, so its entry would be a
		// write unit per comment that nothing reads.
		item[AttrCommentID] = str(r.CommentID)
	}
	if r.State.Terminal() {
		// Terminal records leave the sweeper's index (no due attributes) and expire a while
		// after their window closed.
		base := r.Deadline
		if base.IsZero() {
			base = s.clock.Now()
		}
		item[AttrExpiresAt] = num(base.Add(s.retention).Unix())
	} else {
		item[AttrDueShard] = str(strconv.Itoa(shard(r.Key)))
		item[AttrDue] = num(r.SweepAt().UnixMilli())
	}
	outboxAttrs(r, item)
	if r.Waiting() {
		item[AttrWaitLane] = str(reply.BucketKey(r.AccountID, r.Lane))
		item[AttrWaitAt] = num(r.Deadline.UnixMilli())
	}
	return item, nil
}

func decodeRecord(item map[string]types.AttributeValue) (reply.Record, error) {
	var r reply.Record
	if err := unmarshal(item, &r); err != nil {
		return reply.Record{}, fmt.Errorf("decode record: %w", err)
	}
	return r, nil
}

// Create stores rec (Version 1) unless something is stored under its key.
func (s *Store) Create(ctx context.Context, rec reply.Record) (reply.Record, error) {
	if err := checkRecord(rec); err != nil {
		return reply.Record{}, fmt.Errorf("create: %w", err)
	}
	if rec.Version != 1 {
		return reply.Record{}, fmt.Errorf("create %s: version %d, want 1", rec.Key, rec.Version)
	}
	item, err := s.encodeRecord(rec)
	if err != nil {
		return reply.Record{}, err
	}
	return s.create(ctx, rec, item)
}

// Update stores rec if the stored version is rec.Version-1.
func (s *Store) Update(ctx context.Context, rec reply.Record) (reply.Record, error) {
	if err := checkRecord(rec); err != nil {
		return reply.Record{}, fmt.Errorf("update: %w", err)
	}
	if rec.Version < 2 {
		return reply.Record{}, fmt.Errorf("update %s: version %d, want 2 or more (Create writes version 1)", rec.Key, rec.Version)
	}
	item, err := s.encodeRecord(rec)
	if err != nil {
		return reply.Record{}, err
	}
	stored, lost, err := s.putCounted(ctx, rec, item)
	switch {
	case err != nil:
		return reply.Record{}, fmt.Errorf("update %s: %w", rec.Key, err)
	case !lost:
		return rec, nil
	case stored == nil:
		return reply.Record{}, fmt.Errorf("update %s: %w", rec.Key, reply.ErrNotFound)
	}
	old, err := decodeRecord(stored)
	if err != nil {
		return reply.Record{}, fmt.Errorf("update %s: %w", rec.Key, err)
	}
	return old, fmt.Errorf("update %s to version %d: %w (stored version %d, %s)", rec.Key, rec.Version, reply.ErrConflict, old.Version, old.State)
}

// Get is the reply record under key.
func (s *Store) Get(ctx context.Context, key string) (reply.Record, error) {
	if !replyKey(key) {
		return reply.Record{}, fmt.Errorf("get %s: not a reply key: %w", key, reply.ErrNotFound)
	}
	item, err := s.get(ctx, key)
	if err != nil {
		return reply.Record{}, fmt.Errorf("get %s: %w", key, err)
	}
	if item == nil {
		return reply.Record{}, fmt.Errorf("get %s: %w", key, reply.ErrNotFound)
	}
	r, err := decodeRecord(item)
	if err != nil {
		return reply.Record{}, fmt.Errorf("get %s: %w", key, err)
	}
	return r, nil
}

// SentMessage asks IndexMessage whether a record holds messageID.
func (s *Store) SentMessage(ctx context.Context, messageID string) (bool, error) {
	if messageID == "" {
		return false, nil
	}
	out, err := s.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 s.table,
		IndexName:                 aws.String(IndexMessage),
		KeyConditionExpression:    aws.String("#m = :m"),
		ExpressionAttributeNames:  map[string]string{"#m": AttrMessageID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":m": str(messageID)},
		Limit:                     aws.Int32(1),
	})
	if err != nil {
		return false, fmt.Errorf("find message %s: %w", messageID, err)
	}
	return len(out.Items) > 0, nil
}

// ByComment is the record holding the comment's outcome: its own record when there is one,
// else the funnel record the comment owns (found through IndexComment, then read consistently).
func (s *Store) ByComment(ctx context.Context, commentID string) (reply.Record, error) {
	own := reply.CommentKey(commentID)
	r, err := s.Get(ctx, own)
	if !errors.Is(err, reply.ErrNotFound) {
		return r, err
	}
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 s.table,
		IndexName:                 aws.String(IndexComment),
		KeyConditionExpression:    aws.String("#c = :c"),
		ExpressionAttributeNames:  map[string]string{"#c": AttrCommentID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(commentID)},
	})
	if err != nil {
		return reply.Record{}, fmt.Errorf("find comment %s: %w", commentID, err)
	}
	var keys []string
	for _, it := range items {
		if k, ok := it[AttrPK].(*types.AttributeValueMemberS); ok && k.Value != own {
			keys = append(keys, k.Value)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		r, err := s.Get(ctx, k)
		if errors.Is(err, reply.ErrNotFound) {
			continue
		}
		if err != nil {
			return reply.Record{}, fmt.Errorf("find comment %s: %w", commentID, err)
		}
		// The index lags the table: the record may have moved on to another comment.
		if r.CommentID == commentID {
			return r, nil
		}
	}
	return reply.Record{}, fmt.Errorf("find comment %s: %w", commentID, reply.ErrNotFound)
}

// Delete removes the reply record or funnel guard under key; removing nothing is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if !replyKey(key) {
		return fmt.Errorf("delete %s: not a reply record or funnel key", key)
	}
	if err := s.delete(ctx, key); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// scanCursor is where Scan left off.
type scanCursor struct {
	PK string `json:"k"`
}

// Scan pages through every reply record, in table order.
func (s *Store) Scan(ctx context.Context, cursor string, limit int) ([]reply.Record, string, error) {
	// Follow-ups' records (S#) are reply records too: data deletion finds them here. Legacy F#
	// records carry a comment id; funnel guards do not.
	return scanPages(ctx, s, "scan", cursor, limit, &dynamodb.ScanInput{
		FilterExpression:         aws.String("begins_with(#pk, :c) OR begins_with(#pk, :s) OR (begins_with(#pk, :f) AND attribute_exists(#cid))"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#cid": AttrCommentID},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":c": str("C#"), ":s": str("S#"), ":f": str("F#"),
		},
	}, decodeRecord)
}

// scanPages pages through the items the filter of in keeps, in table order, decoded by decode;
// what starts its errors.
func scanPages[T any](ctx context.Context, s *Store, what, cursor string, limit int, in *dynamodb.ScanInput,
	decode func(map[string]types.AttributeValue) (T, error)) ([]T, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("%s: limit %d, want 1 or more", what, limit)
	}
	var start map[string]types.AttributeValue
	if cursor != "" {
		var c scanCursor
		if err := decodeCursor(cursor, &c); err != nil || c.PK == "" {
			return nil, "", fmt.Errorf("%s: %w", what, ErrCursor)
		}
		start = pkey(c.PK)
	}
	var page []T
	for len(page) < limit {
		// Limit counts items read before the filter, so every item returned fits the page and
		// LastEvaluatedKey is exactly where the next page starts.
		q := *in
		q.TableName, q.ExclusiveStartKey = s.table, start
		q.Limit = aws.Int32(int32(min(limit-len(page), 1000)))
		out, err := s.api.Scan(ctx, &q)
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", what, err)
		}
		for _, it := range out.Items {
			v, err := decode(it)
			if err != nil {
				return nil, "", fmt.Errorf("%s: %w", what, err)
			}
			page = append(page, v)
		}
		start = out.LastEvaluatedKey
		if len(start) == 0 {
			return page, "", nil
		}
	}
	pk, ok := start[AttrPK].(*types.AttributeValueMemberS)
	if !ok {
		return nil, "", fmt.Errorf("%s: last evaluated key without %s", what, AttrPK)
	}
	return page, encodeCursor(scanCursor{PK: pk.Value}), nil
}

// dueCursor holds each shard's position in IndexDue: the last item handed out (or skipped).
type dueCursor struct {
	Shards []shardPos `json:"s"`
}

type shardPos struct {
	Done bool   `json:"x,omitempty"` // nothing more in this shard at or before the page's time
	PK   string `json:"k,omitempty"`
	Due  int64  `json:"d,omitempty"`
}

// dueStream is one shard's part of a Due page.
type dueStream struct {
	shard string
	pos   shardPos
	start map[string]types.AttributeValue // ExclusiveStartKey of the next query; nil after the last page
	buf   []dueItem
}

type dueItem struct {
	rec reply.Record
	due int64
}

func (st *dueStream) exhausted() bool { return len(st.buf) == 0 && st.start == nil }

func (st *dueStream) less(o *dueStream) bool {
	a, b := st.buf[0], o.buf[0]
	if a.due != b.due {
		return a.due < b.due
	}
	return a.rec.Key < b.rec.Key
}

// fetch reads the shard's next n items due by beforeMs.
func (s *Store) fetch(ctx context.Context, st *dueStream, beforeMs int64, n int) error {
	out, err := s.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 s.table,
		IndexName:                 aws.String(IndexDue),
		KeyConditionExpression:    aws.String("#s = :s AND #d <= :b"),
		ExpressionAttributeNames:  map[string]string{"#s": AttrDueShard, "#d": AttrDue},
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(st.shard), ":b": num(beforeMs)},
		ExclusiveStartKey:         st.start,
		Limit:                     aws.Int32(int32(n)),
		ScanIndexForward:          aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("query shard %s: %w", st.shard, err)
	}
	st.start = out.LastEvaluatedKey
	if len(st.start) == 0 {
		st.start = nil
	}
	for _, it := range out.Items {
		r, err := decodeRecord(it)
		if err != nil {
			return err
		}
		d, ok := it[AttrDue].(*types.AttributeValueMemberN)
		if !ok {
			return fmt.Errorf("record %s in %s index without %s", r.Key, IndexDue, AttrDue)
		}
		due, err := strconv.ParseInt(d.Value, 10, 64)
		if err != nil {
			return fmt.Errorf("record %s: %s %q: %w", r.Key, AttrDue, d.Value, err)
		}
		st.buf = append(st.buf, dueItem{rec: r, due: due})
	}
	return nil
}

// fill makes sure the stream's buffer has a head unless the shard is exhausted.
func (s *Store) fill(ctx context.Context, st *dueStream, beforeMs int64, n int) error {
	for len(st.buf) == 0 && st.start != nil {
		if err := s.fetch(ctx, st, beforeMs, n); err != nil {
			return err
		}
	}
	return nil
}

// Due pages through non-terminal records due at or before `before`, oldest first (to the
// millisecond; ties in no particular order). It merges the DueShards partitions of IndexDue:
// each is read in small pages (about twice its share of the page) and read further only when
// the merge runs it dry, so a page reads little more than it returns. The cursor holds every
// shard's position, so records that change between pages are neither lost nor repeated more
// than DynamoDB's own pagination would.
func (s *Store) Due(ctx context.Context, before time.Time, cursor string, limit int) ([]reply.Record, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("due: limit %d, want 1 or more", limit)
	}
	c := dueCursor{Shards: make([]shardPos, DueShards)}
	if cursor != "" {
		if err := decodeCursor(cursor, &c); err != nil || len(c.Shards) != DueShards {
			return nil, "", fmt.Errorf("due: %w", ErrCursor)
		}
	}
	beforeMs := before.UnixMilli()
	per := min(limit, 2*limit/DueShards+8, 1000)

	var streams []*dueStream
	for i, p := range c.Shards {
		if p.Done {
			continue
		}
		st := &dueStream{shard: strconv.Itoa(i), pos: p}
		if p.PK != "" {
			st.start = map[string]types.AttributeValue{AttrPK: str(p.PK), AttrDueShard: str(st.shard), AttrDue: num(p.Due)}
		}
		streams = append(streams, st)
	}
	// The first page of every shard is read at once: they are independent, and the sweeper
	// runs on a time budget.
	errs := make([]error, len(streams))
	var wg sync.WaitGroup
	for i, st := range streams {
		wg.Go(func() { errs[i] = s.fetch(ctx, st, beforeMs, per) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, "", fmt.Errorf("due: %w", err)
	}

	var recs []reply.Record
	for len(recs) < limit {
		var best *dueStream
		for _, st := range streams {
			if err := s.fill(ctx, st, beforeMs, per); err != nil {
				return nil, "", fmt.Errorf("due: %w", err)
			}
			if len(st.buf) > 0 && (best == nil || st.less(best)) {
				best = st
			}
		}
		if best == nil {
			break
		}
		it := best.buf[0]
		best.buf = best.buf[1:]
		best.pos = shardPos{PK: it.rec.Key, Due: it.due}
		// The index holds milliseconds; the record knows better.
		if !it.rec.SweepAt().After(before) {
			recs = append(recs, it.rec)
		}
	}

	more := false
	for _, st := range streams {
		if st.exhausted() {
			st.pos = shardPos{Done: true}
		} else {
			more = true
		}
		i, _ := strconv.Atoi(st.shard)
		c.Shards[i] = st.pos
	}
	if !more {
		return recs, "", nil
	}
	return recs, encodeCursor(c), nil
}

// Waiting is the head of the account lane's line, read from IndexLane, earliest deadline
// first (to the millisecond; ties in key order). The index lags the table a little: a record
// just released may still be listed, and its release then loses its conditional write.
func (s *Store) Waiting(ctx context.Context, account string, lane reply.Lane, limit int) ([]reply.Record, error) {
	k := reply.BucketKey(account, lane)
	if limit < 1 {
		return nil, fmt.Errorf("waiting in %s: limit %d, want 1 or more", k, limit)
	}
	var recs []reply.Record
	var start map[string]types.AttributeValue
	for len(recs) < limit {
		out, err := s.api.Query(ctx, &dynamodb.QueryInput{
			TableName:                 s.table,
			IndexName:                 aws.String(IndexLane),
			KeyConditionExpression:    aws.String("#l = :l"),
			ExpressionAttributeNames:  map[string]string{"#l": AttrWaitLane},
			ExpressionAttributeValues: map[string]types.AttributeValue{":l": str(k)},
			ExclusiveStartKey:         start,
			Limit:                     aws.Int32(int32(min(limit-len(recs), 1000))),
			ScanIndexForward:          aws.Bool(true),
		})
		if err != nil {
			return nil, fmt.Errorf("waiting in %s: %w", k, err)
		}
		for _, it := range out.Items {
			r, err := decodeRecord(it)
			if err != nil {
				return nil, fmt.Errorf("waiting in %s: %w", k, err)
			}
			recs = append(recs, r)
		}
		start = out.LastEvaluatedKey
		if len(start) == 0 {
			break
		}
	}
	// Within one millisecond the index has no order: the key decides, as in the memory store.
	slices.SortStableFunc(recs, func(a, b reply.Record) int {
		if c := a.Deadline.Truncate(time.Millisecond).Compare(b.Deadline.Truncate(time.Millisecond)); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return recs, nil
}

func encodeCursor(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("encode cursor: %v", err)) // plain structs always marshal
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}
