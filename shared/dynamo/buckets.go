package dynamo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/reply"
)

// batchGetMax is how many keys one BatchGetItem may name.
const batchGetMax = 100

// unprocessedRounds bounds the retries of keys DynamoDB left unprocessed (throttling): the
// waits double from 10 ms, about 2.5 s in all.
const unprocessedRounds = 8

// BucketsOf reads the lanes' buckets a hundred to a BatchGetItem, eventually consistent (half a
// read unit each, against Bucket's one), retrying what DynamoDB leaves unprocessed.
func (s *Store) BucketsOf(ctx context.Context, lanes []reply.AccountLane) ([]reply.Bucket, error) {
	out := make([]reply.Bucket, len(lanes))
	at := make(map[string][]int, len(lanes)) // key -> positions in lanes (a lane may repeat)
	for i, l := range lanes {
		out[i] = reply.Bucket{AccountID: l.AccountID, Lane: l.Lane}
		k := reply.BucketKey(l.AccountID, l.Lane)
		at[k] = append(at[k], i)
	}
	keys := make([]string, 0, len(at))
	for k := range at {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for len(keys) > 0 {
		n := min(len(keys), batchGetMax)
		items, err := s.batchGet(ctx, keys[:n])
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			pk, _ := item[AttrPK].(*types.AttributeValueMemberS)
			if pk == nil {
				continue
			}
			for _, i := range at[pk.Value] {
				if err := unmarshal(item, &out[i]); err != nil {
					return nil, fmt.Errorf("decode bucket %s: %w", pk.Value, err)
				}
			}
		}
		keys = keys[n:]
	}
	return out, nil
}

// batchGet is the items of keys (at most batchGetMax) that exist.
func (s *Store) batchGet(ctx context.Context, keys []string) ([]map[string]types.AttributeValue, error) {
	ks := make([]map[string]types.AttributeValue, len(keys))
	for i, k := range keys {
		ks[i] = pkey(k)
	}
	req := map[string]types.KeysAndAttributes{*s.table: {Keys: ks}}
	var items []map[string]types.AttributeValue
	wait := 10 * time.Millisecond
	for round := 0; ; round++ {
		res, err := s.api.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
		if err != nil {
			return nil, fmt.Errorf("read %d buckets from %s: %w", len(keys), keys[0], err)
		}
		items = append(items, res.Responses[*s.table]...)
		req = res.UnprocessedKeys
		if len(req) == 0 || len(req[*s.table].Keys) == 0 {
			return items, nil
		}
		if round == unprocessedRounds {
			return nil, fmt.Errorf("read %d buckets from %s: %d left unprocessed after %d rounds", len(keys), keys[0], len(req[*s.table].Keys), round+1)
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, fmt.Errorf("read buckets: %w", ctx.Err())
		}
		wait *= 2
	}
}
