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
// item: no condition, it names no person), and a transaction that puts the person's click record
// of the link (KV#<account>#<person>#<link>, attribute_not_exists: their first click), adds 1 to
// the unique-clicks counter (its own item, so the two requests never conflict) and checks the
// account's and the person's tombstones. A repeat click's transaction is refused on the record:
// first is false. The report reads both counters with the funnel's
// other counts; the people export reads the records (ClickedBy).
func (s *Store) RecordClick(ctx context.Context, c reply.Click) (bool, error) {
	if c.Origin.Account == "" || c.Link == "" || c.At.IsZero() {
		return false, fmt.Errorf("record click: account, link and time are required")
	}
	type result struct {
		first bool
		err   error
	}
	done := make(chan result, 1)
	if c.Origin.Person == "" {
		done <- result{} // a link sent to nobody known: no record, no unique count
	} else {
		go func() {
			first, err := s.uniqueClick(ctx, c)
			done <- result{first, err}
		}()
	}
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
	o := c.Origin
	guard := map[string]types.AttributeValue{
		AttrPK: str(reply.ClickGuardKey(o.Account, o.Person, c.Link)), "at": num(c.At.UnixMilli()),
		AttrList: str(clickList(o.Account)), "account": str(o.Account), "person": str(o.Person),
		"link": str(c.Link), "target": str(c.Target), "rule": str(o.Rule),
	}
	if o.Variant != "" {
		guard["variant"] = str(o.Variant)
	}
	if o.Media != "" {
		guard["media"] = str(o.Media)
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
				return false, nil // the person's record of the link exists: not a first click
			}
		}
		if try == clickTxTries {
			return false, fmt.Errorf("unique click on %s: %w: %v", c.Link, errTxConflict, canceled.e)
		}
	}
}

// clickList is the IndexList partition of an account's click records: the people export and a
// deletion find them with a Query, never a scan.
func clickList(account string) string { return "CLICK#" + account }

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

// ClickedBy pages through the account's click records with a Query of IndexList, in key order.
func (s *Store) ClickedBy(ctx context.Context, account, cursor string, limit int) ([]reply.Clicked, string, error) {
	items, next, err := s.listPage(ctx, clickList(account), reply.ClickPersonPrefix(account, ""), cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("click records of %s: %w", account, err)
	}
	page := make([]reply.Clicked, 0, len(items))
	for _, it := range items {
		c, err := decodeClicked(it)
		if err != nil {
			return nil, "", err
		}
		page = append(page, c)
	}
	return page, next, nil
}

// ForgetClicks removes the person's click records of the account, found with a Query of
// IndexList on their key prefix. The index is eventually consistent: a deletion runs this after
// its tombstone and the scans of the records, so a click written before the tombstone has long
// reached it.
func (s *Store) ForgetClicks(ctx context.Context, account, person string) (int, error) {
	if person == "" {
		return 0, fmt.Errorf("forget clicks on %s: no person", account)
	}
	prefix := reply.ClickPersonPrefix(account, person)
	items, err := s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                s.table,
		IndexName:                aws.String(IndexList),
		KeyConditionExpression:   aws.String("#l = :l AND begins_with(#pk, :p)"),
		ExpressionAttributeNames: map[string]string{"#l": AttrList, "#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":l": str(clickList(account)), ":p": str(prefix),
		},
		ProjectionExpression: aws.String("#pk"),
	})
	if err != nil {
		return 0, fmt.Errorf("forget clicks %s: %w", prefix, err)
	}
	for i, it := range items {
		pk, _ := it[AttrPK].(*types.AttributeValueMemberS)
		if pk == nil {
			continue
		}
		if err := s.delete(ctx, pk.Value); err != nil {
			return i, fmt.Errorf("forget clicks: delete %s: %w", pk.Value, err)
		}
	}
	return len(items), nil
}

// decodeClicked is a click record.
func decodeClicked(item map[string]types.AttributeValue) (reply.Clicked, error) {
	var c struct {
		Account string `json:"account"`
		Person  string `json:"person"`
		Link    string `json:"link"`
		Target  string `json:"target"`
		Rule    string `json:"rule"`
		Variant string `json:"variant"`
		Media   string `json:"media"`
		At      int64  `json:"at"`
	}
	pk := ""
	if v, ok := item[AttrPK].(*types.AttributeValueMemberS); ok {
		pk = v.Value
	}
	if err := unmarshal(item, &c); err != nil || c.Account == "" || c.Person == "" || c.Link == "" || c.At == 0 {
		return reply.Clicked{}, fmt.Errorf("decode click record %s: account, person, link and time required (%v)", pk, err)
	}
	return reply.Clicked{Account: c.Account, Person: c.Person, Link: c.Link, Target: c.Target,
		Rule: c.Rule, Variant: c.Variant, Media: c.Media, At: time.UnixMilli(c.At).UTC()}, nil
}
