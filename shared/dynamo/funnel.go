package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/reply"
)

// Attributes of funnel guards and tombstones.
const (
	attrOwner = "owner" // S, the comment holding a funnel guard
	attrAt    = "at"    // N, a tombstone's time in Unix milliseconds (compared in conditions)
)

// errTxConflict is DynamoDB refusing a transaction because another one touched the same item;
// nothing was written, and the caller tries again as after any store error.
var errTxConflict = errors.New("transaction conflict")

// create writes a new reply record in one TransactWriteItems: the record if absent, its funnel
// guard if free or already the comment's, and a condition on each tombstone that could cover the
// comment. One request, whatever the shape; the SDK's retries reuse the same ClientRequestToken,
// so a retry after a lost answer is idempotent.
func (s *Store) create(ctx context.Context, rec reply.Record, item map[string]types.AttributeValue) (reply.Record, error) {
	names := map[string]string{"#pk": AttrPK}
	tx := []types.TransactWriteItem{{Put: &types.Put{
		TableName: s.table, Item: item,
		ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: names,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}}
	guard := -1
	if rec.Funnel != "" {
		guard = len(tx)
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{
			TableName: s.table, Item: s.guardItem(rec),
			ConditionExpression:                 aws.String("attribute_not_exists(#pk) OR #o = :c"),
			ExpressionAttributeNames:            map[string]string{"#pk": AttrPK, "#o": attrOwner},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":c": str(rec.CommentID)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}})
	}
	graves := []string{reply.AccountTombstoneKey(rec.AccountID)}
	if rec.Job.FromID != "" {
		graves = append(graves, reply.PersonTombstoneKey(rec.Job.FromID))
	}
	firstGrave := len(tx)
	for _, k := range graves {
		tx = append(tx, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: s.table, Key: pkey(k),
			// A tombstone forbids comments made at or before it (Tombstone.Covers).
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #at < :t"),
			ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#at": attrAt},
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": num(rec.Job.CommentedAt.UnixMilli())},
		}})
	}
	_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: tx})
	var canceled *types.TransactionCanceledException
	if !errors.As(err, &canceled) {
		if err != nil {
			return reply.Record{}, fmt.Errorf("create %s: %w", rec.Key, err)
		}
		return rec, nil
	}
	failed := func(i int) bool {
		return i >= 0 && i < len(canceled.CancellationReasons) && aws.ToString(canceled.CancellationReasons[i].Code) == "ConditionalCheckFailed"
	}
	switch {
	case failed(0):
		stored := canceled.CancellationReasons[0].Item
		if len(stored) == 0 { // emulators that leave out ALL_OLD
			if stored, err = s.get(ctx, rec.Key); err != nil {
				return reply.Record{}, fmt.Errorf("create %s: read after a lost condition: %w", rec.Key, err)
			}
		}
		if stored == nil {
			return reply.Record{}, fmt.Errorf("create %s: %w (deleted since)", rec.Key, reply.ErrExists)
		}
		old, err := decodeRecord(stored)
		if err != nil {
			return reply.Record{}, fmt.Errorf("create %s: %w", rec.Key, err)
		}
		return old, fmt.Errorf("create %s: %w (version %d, %s)", rec.Key, reply.ErrExists, old.Version, old.State)
	case failed(firstGrave) || failed(firstGrave+1):
		return reply.Record{}, fmt.Errorf("create %s: %w", rec.Key, reply.ErrForgotten)
	case failed(guard):
		owner := ""
		if o, ok := canceled.CancellationReasons[guard].Item[attrOwner].(*types.AttributeValueMemberS); ok {
			owner = o.Value
		}
		return reply.Record{}, fmt.Errorf("create %s: funnel %s: %w (comment %s)", rec.Key, rec.Funnel, reply.ErrOtherOwner, owner)
	}
	return reply.Record{}, fmt.Errorf("create %s: %w: %v", rec.Key, errTxConflict, err)
}

// guardItem is the funnel guard item for rec's comment. It expires with the records: a guard is
// only needed while a comment of that person on that media can still be answered.
func (s *Store) guardItem(rec reply.Record) map[string]types.AttributeValue {
	base := rec.Deadline
	if base.IsZero() {
		base = s.clock.Now()
	}
	return map[string]types.AttributeValue{
		AttrPK: str(rec.Funnel), attrOwner: str(rec.CommentID), "account": str(rec.AccountID),
		AttrExpiresAt: num(base.Add(s.retention).Unix()),
	}
}

// HoldFunnel takes rec.Funnel for rec's comment unless another comment holds it.
func (s *Store) HoldFunnel(ctx context.Context, rec reply.Record) error {
	if !strings.HasPrefix(rec.Funnel, "F#") || rec.CommentID == "" {
		return fmt.Errorf("hold funnel %q for comment %q: not a funnel key and comment", rec.Funnel, rec.CommentID)
	}
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: s.table, Item: s.guardItem(rec),
		ConditionExpression:                 aws.String("attribute_not_exists(#pk) OR #o = :c"),
		ExpressionAttributeNames:            map[string]string{"#pk": AttrPK, "#o": attrOwner},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":c": str(rec.CommentID)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		owner := ""
		if o, ok := failed.Item[attrOwner].(*types.AttributeValueMemberS); ok {
			owner = o.Value
		}
		return fmt.Errorf("hold funnel %s: %w (comment %s)", rec.Funnel, reply.ErrOtherOwner, owner)
	}
	if err != nil {
		return fmt.Errorf("hold funnel %s: %w", rec.Funnel, err)
	}
	return nil
}

// PutTombstone stores t, replacing an earlier one for the same account or person.
func (s *Store) PutTombstone(ctx context.Context, t reply.Tombstone) error {
	if (t.AccountID == "") == (t.PersonID == "") || t.At.IsZero() {
		return fmt.Errorf("tombstone: want exactly one of account and person, and a time")
	}
	item, err := marshal(t)
	if err != nil {
		return fmt.Errorf("encode tombstone %s: %w", t.Key(), err)
	}
	item[AttrPK] = str(t.Key())
	item[attrAt] = num(t.At.UnixMilli())
	item[AttrExpiresAt] = num(t.At.Add(reply.TombstoneRetention).Unix())
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table, Item: item}); err != nil {
		return fmt.Errorf("put tombstone %s: %w", t.Key(), err)
	}
	return nil
}
