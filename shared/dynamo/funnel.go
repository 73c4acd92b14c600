package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/reply"
)

// Attributes of funnel guards and tombstones.
const (
	attrOwner = "owner"        // S, the comment holding a funnel guard
	attrAt    = "covers_until" // N, Unix milliseconds: a tombstone covers comments made up to then
)

// errTxConflict is DynamoDB refusing a transaction because another one touched the same item;
// nothing was written, and the caller tries again as after any store error.
var errTxConflict = errors.New("transaction conflict")

// create writes a new reply record in one TransactWriteItems: the record if absent, its funnel
// guard if free or already the comment's, and a condition on each tombstone that could cover the
// comment. One request, whatever the shape; the SDK's retries reuse the same ClientRequestToken,
// so a retry after a lost answer is idempotent.
func (s *Store) create(ctx context.Context, rec reply.Record, item map[string]types.AttributeValue) (reply.Record, error) {
	tx := []types.TransactWriteItem{{Put: &types.Put{
		TableName: s.table, Item: item,
		ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}}
	if rec.Funnel != "" {
		tx = append(tx, s.guardPut(rec))
	}
	tx, err := s.withCount(append(tx, graveChecks(s.table, rec.Job)...), rec)
	if err != nil {
		return reply.Record{}, fmt.Errorf("create %s: %w", rec.Key, err)
	}
	canceled, err := s.transact(ctx, tx)
	switch {
	case err != nil:
		return reply.Record{}, fmt.Errorf("create %s: %w", rec.Key, err)
	case canceled == nil:
		return rec, nil
	case canceled.failed(0):
		stored := canceled.item(0)
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
	}
	return reply.Record{}, canceled.verdict("create "+rec.Key, rec.Funnel)
}

// HoldFunnel takes rec.Funnel for rec's comment unless another comment holds it or a tombstone
// covers the comment: the guard and the tombstone checks in one transaction.
func (s *Store) HoldFunnel(ctx context.Context, rec reply.Record) error {
	if !strings.HasPrefix(rec.Funnel, "F#") || rec.CommentID == "" {
		return fmt.Errorf("hold funnel %q for comment %q: not a funnel key and comment", rec.Funnel, rec.CommentID)
	}
	canceled, err := s.transact(ctx, append([]types.TransactWriteItem{s.guardPut(rec)}, graveChecks(s.table, rec.Job)...))
	switch {
	case err != nil:
		return fmt.Errorf("hold funnel %s: %w", rec.Funnel, err)
	case canceled == nil:
		return nil
	}
	return canceled.verdict("hold funnel "+rec.Funnel, rec.Funnel)
}

// transact runs a transaction; a cancellation is returned apart from other errors.
func (s *Store) transact(ctx context.Context, items []types.TransactWriteItem) (*cancellation, error) {
	_, err := s.api.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		return &cancellation{items: items, e: canceled}, nil
	}
	return nil, err
}

// cancellation is a transaction DynamoDB refused, with the items it was given.
type cancellation struct {
	items []types.TransactWriteItem
	e     *types.TransactionCanceledException
}

func (c *cancellation) failed(i int) bool {
	return i < len(c.e.CancellationReasons) && aws.ToString(c.e.CancellationReasons[i].Code) == "ConditionalCheckFailed"
}

func (c *cancellation) item(i int) map[string]types.AttributeValue {
	if i < len(c.e.CancellationReasons) {
		return c.e.CancellationReasons[i].Item
	}
	return nil
}

// verdict is the error for a refused guard or tombstone condition: ErrForgotten before
// ErrOtherOwner (a forgotten person's comment is not merely a duplicate), else a conflict with
// another transaction, which the caller retries like any store error.
func (c *cancellation) verdict(what, funnel string) error {
	for i, it := range c.items {
		if it.ConditionCheck != nil && c.failed(i) {
			return fmt.Errorf("%s: %w", what, reply.ErrForgotten)
		}
	}
	for i, it := range c.items {
		if it.Put != nil && c.failed(i) {
			owner := ""
			if o, ok := c.item(i)[attrOwner].(*types.AttributeValueMemberS); ok {
				owner = o.Value
			}
			return fmt.Errorf("%s: funnel %s: %w (comment %s)", what, funnel, reply.ErrOtherOwner, owner)
		}
	}
	return fmt.Errorf("%s: %w: %v", what, errTxConflict, c.e)
}

// guardPut takes rec's funnel guard if it is free or already the comment's.
func (s *Store) guardPut(rec reply.Record) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: s.table, Item: s.guardItem(rec),
		ConditionExpression:                 aws.String("attribute_not_exists(#pk) OR #o = :c"),
		ExpressionAttributeNames:            map[string]string{"#pk": AttrPK, "#o": attrOwner},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":c": str(rec.CommentID)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// graveChecks are the conditions that no tombstone of the job's account or person covers it
// (reply.Tombstone.Covers: a tombstone forbids comments made at or before it).
func graveChecks(table *string, job reply.Job) []types.TransactWriteItem {
	at := job.CommentedAt
	if job.FollowUp != nil {
		at = job.FollowUp.Deadline.Add(-reply.ConversationWindow) // as reply.Tombstone.Covers
	}
	return graveChecksAt(table, job.AccountID, job.Person(), at)
}

// graveChecksAt are the conditions that no tombstone of the account or the person (when
// given) covers what happened at at (reply.Tombstone.CoversAt).
func graveChecksAt(table *string, account, person string, at time.Time) []types.TransactWriteItem {
	graves := []string{reply.AccountTombstoneKey(account)}
	if person != "" {
		graves = append(graves, reply.PersonTombstoneKey(person))
	}
	var out []types.TransactWriteItem
	for _, k := range graves {
		out = append(out, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: table, Key: pkey(k),
			ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #at < :t"),
			ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#at": attrAt},
			ExpressionAttributeValues: map[string]types.AttributeValue{":t": num(at.UnixMilli())},
		}})
	}
	return out
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
	// The conditions compare comment times with the end of what the tombstone covers.
	item[attrAt] = num(t.At.Add(reply.DeliveryHorizon).UnixMilli())
	item[AttrExpiresAt] = num(t.At.Add(reply.TombstoneRetention).Unix())
	if _, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table, Item: item}); err != nil {
		return fmt.Errorf("put tombstone %s: %w", t.Key(), err)
	}
	return nil
}
