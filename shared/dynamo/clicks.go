package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/reply"
)

// clickTxTries is how often the unique-click transaction is tried when another click's
// transaction on the same counter made DynamoDB refuse it (TransactionConflict).
const clickTxTries = 3

// RecordClick counts c with two requests sent at once, so the click route waits for one round
// trip: an UpdateItem adding 1 to the link's counter (K#, no condition: it names no person), and
// a transaction taking the visitor's guard (KV#, attribute_not_exists), adding 1 to the unique
// counter (KU#, its own item so the two requests never conflict) and checking the account's and
// the person's tombstones. A repeat click's transaction is refused on the guard: first is false.
func (s *Store) RecordClick(ctx context.Context, c reply.Click) (bool, error) {
	if c.Origin.Account == "" || c.Link == "" || c.Visitor == "" || c.At.IsZero() {
		return false, fmt.Errorf("record click: account, link, visitor and time are required")
	}
	day := reply.ClickDay(c.At)
	type result struct {
		first bool
		err   error
	}
	done := make(chan result, 1)
	go func() {
		first, err := s.uniqueClick(ctx, c, day)
		done <- result{first, err}
	}()
	_, errAll := s.api.UpdateItem(ctx, s.clickCounter(reply.ClickCounterKey(c.Origin, c.Link, day), "all", c, day))
	u := <-done
	if errAll != nil {
		errAll = fmt.Errorf("count click on %s: %w", c.Link, errAll)
	}
	return u.first, errors.Join(errAll, u.err)
}

func (s *Store) uniqueClick(ctx context.Context, c reply.Click, day string) (bool, error) {
	guard := map[string]types.AttributeValue{
		AttrPK: str(reply.ClickGuardKey(c.Origin.Account, c.Visitor)), "at": num(c.At.UnixMilli()),
	}
	if !c.Until.IsZero() {
		guard[AttrExpiresAt] = num(c.Until.Unix())
	}
	unique := s.clickCounter(reply.ClickUniqueKey(c.Origin, c.Link, day), "unique", c, day)
	items := append(graveChecksAt(s.table, c.Origin.Account, c.Origin.Person, c.Issued),
		types.TransactWriteItem{Put: &types.Put{
			TableName: s.table, Item: guard,
			ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
		}},
		types.TransactWriteItem{Update: &types.Update{
			TableName: s.table, Key: unique.Key, UpdateExpression: unique.UpdateExpression,
			ExpressionAttributeNames: unique.ExpressionAttributeNames, ExpressionAttributeValues: unique.ExpressionAttributeValues,
		}})
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

// clickCounter adds 1 to attr of the counter item key, with what the counter is of.
func (s *Store) clickCounter(key, attr string, c reply.Click, day string) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName:        s.table,
		Key:              pkey(key),
		UpdateExpression: aws.String("ADD #n :one SET #acct = :acct, #rule = :rule, #variant = :variant, #media = :media, #link = :link, #target = :target, #day = :day"),
		ExpressionAttributeNames: map[string]string{"#n": attr, "#acct": "account", "#rule": "rule", "#variant": "variant",
			"#media": "media", "#link": "link", "#target": "target", "#day": "day"},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":one": num(1), ":acct": str(c.Origin.Account), ":rule": str(c.Origin.Rule), ":variant": str(c.Origin.Variant),
			":media": str(c.Origin.Media), ":link": str(c.Link), ":target": str(c.Target), ":day": str(day),
		},
	}
}

// ClickCounts reads the two counters of o's link on day.
func (s *Store) ClickCounts(ctx context.Context, o reply.Origin, link string, day time.Time) (reply.ClickCounts, error) {
	d := reply.ClickDay(day)
	out := reply.ClickCounts{Origin: o, Link: link, Day: d}
	out.Origin.Person = ""
	found := false
	for _, k := range []struct {
		key, attr string
		n         *int64
	}{{reply.ClickCounterKey(o, link, d), "all", &out.All}, {reply.ClickUniqueKey(o, link, d), "unique", &out.Unique}} {
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
