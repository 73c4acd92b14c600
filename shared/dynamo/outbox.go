package dynamo

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/reply"
)

// The outbox of funnel events (shared/events): a record whose event may not be on the bus yet
// carries these two attributes, written in the same conditional write as its change, and is
// listed in IndexOutbox until its event was put.
const (
	AttrOutboxShard = "outbox_shard" // S, "0".."7" (the record's due shard): hash key of IndexOutbox
	AttrOutboxAt    = "outbox_at"    // N, EventsAt in Unix milliseconds: range key of IndexOutbox
	IndexOutbox     = "outbox"
)

// outboxIndex is IndexOutbox: keys only, so marking and clearing a record costs the index a
// small write each, and only the sweeper's drain (rare: a put failed) reads the records.
func outboxIndex(key func(string, types.KeyType) types.KeySchemaElement) types.GlobalSecondaryIndex {
	return types.GlobalSecondaryIndex{
		IndexName:  aws.String(IndexOutbox),
		KeySchema:  []types.KeySchemaElement{key(AttrOutboxShard, types.KeyTypeHash), key(AttrOutboxAt, types.KeyTypeRange)},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
	}
}

func outboxAttrs(r reply.Record, item map[string]types.AttributeValue) {
	if r.EventsAt.IsZero() {
		return
	}
	item[AttrOutboxShard] = str(strconv.Itoa(shard(r.Key)))
	item[AttrOutboxAt] = num(r.EventsAt.UnixMilli())
}

// ClearEvents removes the outbox mark of the record under key at version: one UpdateItem, the
// record's version unchanged (the mark is no state of the reply).
func (s *Store) ClearEvents(ctx context.Context, key string, version int64) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       pkey(key),
		UpdateExpression:          aws.String("REMOVE events_at, " + AttrOutboxShard + ", " + AttrOutboxAt),
		ConditionExpression:       aws.String("version = :v"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": num(version)},
	})
	var lost *types.ConditionalCheckFailedException
	if errors.As(err, &lost) {
		return nil // gone, or moved on: nothing of ours to clear
	}
	if err != nil {
		return fmt.Errorf("clear outbox of %s: %w", key, err)
	}
	return nil
}

// PendingEvents is at most limit records whose outbox mark is older than before, oldest first:
// each shard's head from IndexOutbox, then the records themselves (consistent reads, so a mark
// cleared since the index was read is seen cleared and left out).
func (s *Store) PendingEvents(ctx context.Context, before time.Time, limit int) ([]reply.Record, error) {
	if limit < 1 {
		return nil, fmt.Errorf("pending events: limit %d, want 1 or more", limit)
	}
	type mark struct {
		key string
		at  int64
	}
	var marks []mark
	for i := range DueShards {
		out, err := s.api.Query(ctx, &dynamodb.QueryInput{
			TableName:                 s.table,
			IndexName:                 aws.String(IndexOutbox),
			KeyConditionExpression:    aws.String("#s = :s AND #a <= :b"),
			ExpressionAttributeNames:  map[string]string{"#s": AttrOutboxShard, "#a": AttrOutboxAt},
			ExpressionAttributeValues: map[string]types.AttributeValue{":s": str(strconv.Itoa(i)), ":b": num(before.UnixMilli())},
			Limit:                     aws.Int32(int32(limit)),
		})
		if err != nil {
			return nil, fmt.Errorf("pending events: query shard %d: %w", i, err)
		}
		for _, it := range out.Items {
			pk, ok1 := it[AttrPK].(*types.AttributeValueMemberS)
			at, ok2 := it[AttrOutboxAt].(*types.AttributeValueMemberN)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("pending events: shard %d item without %s or %s", i, AttrPK, AttrOutboxAt)
			}
			ms, err := strconv.ParseInt(at.Value, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("pending events: %s %s %q: %w", pk.Value, AttrOutboxAt, at.Value, err)
			}
			marks = append(marks, mark{pk.Value, ms})
		}
	}
	slices.SortFunc(marks, func(a, b mark) int {
		return cmp.Or(cmp.Compare(a.at, b.at), strings.Compare(a.key, b.key))
	})
	var recs []reply.Record
	for _, m := range marks[:min(limit, len(marks))] {
		item, err := s.get(ctx, m.key)
		if err != nil {
			return nil, fmt.Errorf("pending events: get %s: %w", m.key, err)
		}
		if item == nil {
			continue
		}
		r, err := decodeRecord(item)
		if err != nil {
			return nil, fmt.Errorf("pending events: %w", err)
		}
		if !r.EventsAt.IsZero() {
			recs = append(recs, r)
		}
	}
	return recs, nil
}
