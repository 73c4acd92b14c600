package dynamo

import (
	"context"
	"errors"
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

// clickTxTries is how often the unique-click transaction is tried when another click's
// transaction on the same counter made DynamoDB refuse it (TransactionConflict).
const clickTxTries = 3

// RecordClick counts c with two requests sent at once, so the click route waits for one round
// trip: an UpdateItem adding 1 to the link's all-clicks counter (funnel.Click, a funnel counter
// item: no condition, it names no person), and a transaction taking the visitor's guard (KV#,
// attribute_not_exists), adding 1 to the unique-clicks counter (its own item, so the two requests
// never conflict) and checking the account's and the person's tombstones. A repeat click's
// transaction is refused on the guard: first is false. The report reads both counters with the
// funnel's other counts.
func (s *Store) RecordClick(ctx context.Context, c reply.Click) (bool, error) {
	if c.Origin.Account == "" || c.Link == "" || c.Visitor == "" || c.At.IsZero() {
		return false, fmt.Errorf("record click: account, link, visitor and time are required")
	}
	type result struct {
		first bool
		err   error
	}
	done := make(chan result, 1)
	go func() {
		first, err := s.uniqueClick(ctx, c)
		done <- result{first, err}
	}()
	all, err := s.clickCounter(c.Origin, c.Link, c.Target, c.At, false)
	if err != nil {
		return false, err
	}
	_, errAll := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: all.TableName, Key: all.Key,
		UpdateExpression: all.UpdateExpression, ExpressionAttributeNames: all.ExpressionAttributeNames,
		ExpressionAttributeValues: all.ExpressionAttributeValues})
	u := <-done
	if errAll != nil {
		errAll = fmt.Errorf("count click on %s: %w", c.Link, errAll)
	}
	return u.first, errors.Join(errAll, u.err)
}

func (s *Store) uniqueClick(ctx context.Context, c reply.Click) (bool, error) {
	guard := map[string]types.AttributeValue{
		AttrPK: str(reply.ClickGuardKey(c.Origin.Account, c.Visitor)), "at": num(c.At.UnixMilli()),
	}
	if !c.Until.IsZero() {
		guard[AttrExpiresAt] = num(c.Until.Unix())
	}
	if c.Events {
		clickEventAttrs(c, guard)
	}
	unique, err := s.clickCounter(c.Origin, c.Link, c.Target, c.At, true)
	if err != nil {
		return false, err
	}
	items := append(graveChecksAt(s.table, c.Origin.Account, c.Origin.Person, c.Issued),
		types.TransactWriteItem{Put: &types.Put{
			TableName: s.table, Item: guard,
			ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
		}},
		types.TransactWriteItem{Update: unique})
	for try := 1; ; try++ {
		canceled, err := s.transact(ctx, items)
		if err != nil {
			return false, fmt.Errorf("unique click on %s: %w", c.Link, err)
		}
		if canceled == nil {
			return true, nil
		}
		for i, it := range items {
			switch {
			case it.ConditionCheck != nil && canceled.failed(i):
				return false, fmt.Errorf("unique click on %s: %w", c.Link, reply.ErrForgotten)
			case it.Put != nil && canceled.failed(i):
				return false, nil // the visitor's guard is taken: not a first click
			}
		}
		if try == clickTxTries {
			return false, fmt.Errorf("unique click on %s: %w: %v", c.Link, errTxConflict, canceled.e)
		}
	}
}

// clickCounter is the update adding a click to its all-clicks or unique-clicks counter item
// (funnel.Click), with the link's target beside the counts for `ClickCounts`.
func (s *Store) clickCounter(o reply.Origin, link, target string, at time.Time, unique bool) (*types.Update, error) {
	u, err := CountUpdate(*s.table, funnel.Click(o.Account, o.Rule, o.Variant, o.Media, link, at, unique))
	if err != nil {
		return nil, fmt.Errorf("count click on %s: %w", link, err)
	}
	*u.UpdateExpression = strings.Replace(*u.UpdateExpression, "SET ", "SET #target = :target, ", 1)
	u.ExpressionAttributeNames["#target"] = "target"
	u.ExpressionAttributeValues[":target"] = str(target)
	return u, nil
}

// ClickCounts reads the two counters of o's link on day.
func (s *Store) ClickCounts(ctx context.Context, o reply.Origin, link string, day time.Time) (reply.ClickCounts, error) {
	d := reply.ClickDay(day)
	out := reply.ClickCounts{Origin: o, Link: link, Day: d}
	all, unique := funnel.Click(o.Account, o.Rule, o.Variant, o.Media, link, day, false), funnel.Click(o.Account, o.Rule, o.Variant, o.Media, link, day, true)
	out.Origin.Person = ""
	found := false
	for _, k := range []struct {
		key, attr string
		n         *int64
	}{{all.Key, funnel.Clicks, &out.All}, {unique.Key, funnel.UniqueClicks, &out.Unique}} {
		res, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: pkey(k.key), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return reply.ClickCounts{}, fmt.Errorf("click counts %s: %w", k.key, err)
		}
		if len(res.Item) == 0 {
			continue
		}
		found = true
		if v, ok := res.Item[k.attr].(*types.AttributeValueMemberN); ok {
			if *k.n, err = strconv.ParseInt(v.Value, 10, 64); err != nil {
				return reply.ClickCounts{}, fmt.Errorf("click counts %s: %s: %w", k.key, k.attr, err)
			}
		}
		if v, ok := res.Item["target"].(*types.AttributeValueMemberS); ok {
			out.Target = v.Value
		}
	}
	if !found {
		return reply.ClickCounts{}, fmt.Errorf("click counts of %s on %s: %w", link, d, reply.ErrNotFound)
	}
	return out, nil
}
