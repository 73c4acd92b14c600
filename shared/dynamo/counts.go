package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/reply"
)

// Counter items are listed in IndexList under their account's funnel.KeyPrefix, sorted by key,
// which begins with the day: a report of a month reads that month's counter items with one
// Query and never a record. (The list index, not one of their own: an existing table gains no
// index for them, and CloudFormation adds one index per update.)

// CountRetention is how long a day's counter item is kept after its day: counts name no person,
// and a year back lets a report compare seasons.
const CountRetention = 400 * 24 * time.Hour

// CountUpdate is the update that adds t's counts (one each) to its counter item, creating it
// the first time. It goes into the TransactWriteItems of the transition that causes the counts,
// so a transition that is not written counts nothing and one written once counts once.
func CountUpdate(table string, t funnel.Tally) (*types.Update, error) {
	if len(t.Add) == 0 {
		return nil, fmt.Errorf("count %s: nothing to add", t.Key)
	}
	day, err := time.Parse(funnel.DayLayout, t.Day)
	if err != nil {
		return nil, fmt.Errorf("count %s: day %q: %w", t.Key, t.Day, err)
	}
	names := map[string]string{
		"#a": AttrList, "#d": funnel.AttrDay, "#r": funnel.AttrRule,
		"#v": funnel.AttrVariant, "#m": funnel.AttrMedia, "#x": AttrExpiresAt,
	}
	values := map[string]types.AttributeValue{
		":a": str(funnel.KeyPrefix(t.Account)), ":d": str(t.Day), ":r": str(t.Rule),
		":v": str(t.Variant), ":m": str(t.Media), ":x": num(day.Add(CountRetention).Unix()), ":one": num(1),
	}
	expr := "SET #a = :a, #d = :d, #r = :r, #v = :v, #m = :m, #x = :x ADD "
	seen := map[string]bool{}
	for i, n := range t.Add {
		if seen[n] {
			continue // one event adds one to a count, however it was listed
		}
		seen[n] = true
		p := "#c" + strconv.Itoa(i)
		names[p] = n
		if i > 0 {
			expr += ", "
		}
		expr += p + " :one"
	}
	return &types.Update{
		TableName: aws.String(table), Key: pkey(t.Key),
		UpdateExpression: aws.String(expr), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}, nil
}

// withCount adds to a create's transaction the counts of rec, when rec is created terminal (a
// comment skipped at once, say).
func (s *Store) withCount(tx []types.TransactWriteItem, rec reply.Record) ([]types.TransactWriteItem, error) {
	t, ok := funnel.Outcome(rec)
	if !ok {
		return tx, nil
	}
	u, err := CountUpdate(*s.table, t)
	if err != nil {
		return nil, err
	}
	return append(tx, types.TransactWriteItem{Update: u}), nil
}

// putCounted is put for a record's update: a move into a terminal state goes in one
// TransactWriteItems with its counts (the record's put conditioned on its version, the counter's
// update), so the counts are written exactly when the transition is. Other updates stay one
// PutItem.
func (s *Store) putCounted(ctx context.Context, rec reply.Record, item map[string]types.AttributeValue) (map[string]types.AttributeValue, bool, error) {
	t, ok := funnel.Outcome(rec)
	if !ok {
		return s.put(ctx, item, rec.Version-1)
	}
	u, err := CountUpdate(*s.table, t)
	if err != nil {
		return nil, false, err
	}
	canceled, err := s.transact(ctx, []types.TransactWriteItem{
		{Put: &types.Put{
			TableName: s.table, Item: item,
			ConditionExpression:                 aws.String("#v = :v"),
			ExpressionAttributeNames:            map[string]string{"#v": "version"},
			ExpressionAttributeValues:           map[string]types.AttributeValue{":v": num(rec.Version - 1)},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}},
		{Update: u},
	})
	switch {
	case err != nil:
		return nil, false, err
	case canceled == nil:
		return nil, false, nil
	case !canceled.failed(0):
		return nil, false, canceled.verdict("update "+rec.Key, "")
	}
	if stored := canceled.item(0); len(stored) > 0 {
		return stored, true, nil
	}
	stored, err := s.get(ctx, rec.Key) // emulators that leave out ALL_OLD; nil when nothing is stored
	return stored, true, err
}

// AddCounts adds t's counts on their own (a click's: the links route puts CountUpdate in the
// click's own transaction instead when it records the click).
func (s *Store) AddCounts(ctx context.Context, t funnel.Tally) error {
	u, err := CountUpdate(*s.table, t)
	if err != nil {
		return err
	}
	_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: u.TableName, Key: u.Key, UpdateExpression: u.UpdateExpression,
		ExpressionAttributeNames: u.ExpressionAttributeNames, ExpressionAttributeValues: u.ExpressionAttributeValues,
	})
	if err != nil {
		return fmt.Errorf("count %s: %w", t.Key, err)
	}
	return nil
}

// Counts queries IndexList for the account's counter items of the days from `from` to `to`.
func (s *Store) Counts(ctx context.Context, account string, from, to time.Time) ([]funnel.Row, error) {
	lo, hi := from.UTC().Format(funnel.DayLayout), to.UTC().Format(funnel.DayLayout)
	if lo > hi {
		return nil, fmt.Errorf("counts of %s: from %s is after to %s", account, lo, hi)
	}
	prefix := funnel.KeyPrefix(account)
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                aws.String(*s.table),
		IndexName:                aws.String(IndexList),
		KeyConditionExpression:   aws.String("#a = :a AND #k BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{"#a": AttrList, "#k": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":a": str(prefix), ":lo": str(prefix + lo), ":hi": str(prefix + hi + "#\uffff"),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("counts of %s from %s to %s: %w", account, lo, hi, err)
	}
	rows := make([]funnel.Row, 0, len(items))
	for _, it := range items {
		row := funnel.Row{Account: account, Counts: map[string]int64{}}
		for name, av := range it {
			switch v := av.(type) {
			case *types.AttributeValueMemberS:
				switch name {
				case funnel.AttrDay:
					row.Day = v.Value
				case funnel.AttrRule:
					row.Rule = v.Value
				case funnel.AttrVariant:
					row.Variant = v.Value
				case funnel.AttrMedia:
					row.Media = v.Value
				}
			case *types.AttributeValueMemberN:
				if strings.HasPrefix(name, funnel.CountPrefix) {
					n, err := strconv.ParseInt(v.Value, 10, 64)
					if err != nil {
						return nil, fmt.Errorf("counts of %s: %s of %s: %w", account, name, row.Day, err)
					}
					row.Counts[strings.TrimPrefix(name, funnel.CountPrefix)] = n
				}
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}
