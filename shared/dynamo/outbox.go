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
	markAttrs(reply.Mark{Key: r.Key, At: r.EventsAt}, item)
}

// markAttrs writes mark m into item, any item kind; a zero mark writes nothing.
func markAttrs(m reply.Mark, item map[string]types.AttributeValue) {
	if m.At.IsZero() {
		return
	}
	item[AttrOutboxShard] = str(strconv.Itoa(shard(m.Key)))
	item[AttrOutboxAt] = num(m.At.UnixMilli())
}

// markOf is the outbox mark item carries (a zero time when none): the attribute is the mark
// for item kinds whose decoding knows no outbox.
func markOf(item map[string]types.AttributeValue) (time.Time, error) {
	v, ok := item[AttrOutboxAt].(*types.AttributeValueMemberN)
	if !ok {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: %w", AttrOutboxAt, v.Value, err)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// ClearEvents removes mark m from its item: one UpdateItem, conditioned on the item carrying
// that very mark, the item otherwise unchanged (a record's version stays: the mark is no state).
func (s *Store) ClearEvents(ctx context.Context, m reply.Mark) error {
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       pkey(m.Key),
		UpdateExpression:          aws.String("REMOVE events_at, start_events, " + AttrOutboxShard + ", " + AttrOutboxAt),
		ConditionExpression:       aws.String(AttrOutboxAt + " = :at"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": num(m.At.UnixMilli())},
	})
	var lost *types.ConditionalCheckFailedException
	if errors.As(err, &lost) {
		return nil // gone, or cleared or marked anew since: nothing of ours to clear
	}
	if err != nil {
		return fmt.Errorf("clear outbox of %s: %w", m.Key, err)
	}
	return nil
}

// PendingEvents is at most limit outbox marks older than before, oldest first, of every item
// kind: each shard's head from IndexOutbox (keys only, eventually consistent: the drain reads
// each item, consistently, before it publishes).
func (s *Store) PendingEvents(ctx context.Context, before time.Time, limit int) ([]reply.Mark, error) {
	if limit < 1 {
		return nil, fmt.Errorf("pending events: limit %d, want 1 or more", limit)
	}
	var marks []reply.Mark
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
			pk, ok := it[AttrPK].(*types.AttributeValueMemberS)
			at, err := markOf(it)
			if !ok || err != nil || at.IsZero() {
				return nil, fmt.Errorf("pending events: shard %d item without %s or %s (%v)", i, AttrPK, AttrOutboxAt, err)
			}
			marks = append(marks, reply.Mark{Key: pk.Value, At: at})
		}
	}
	slices.SortFunc(marks, func(a, b reply.Mark) int {
		return cmp.Or(a.At.Compare(b.At), strings.Compare(a.Key, b.Key))
	})
	return marks[:min(limit, len(marks))], nil
}
