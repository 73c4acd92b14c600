package dynamo

import (
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

	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/reply"
)

// clickTxTries is how often the unique-click transaction is tried when another click's
// transaction on the same counter made DynamoDB refuse it (TransactionConflict).
const clickTxTries = 3

// RecordClick counts c with two requests sent at once, so the click route waits for one round
// trip: an UpdateItem adding 1 to the link's all-clicks counter (funnel.Click, a funnel counter
// item: no condition, it names no person), and a transaction that writes the link's first click
// into the person's click record (KV#<account>#<person>, conditional on the link's attribute
// being absent), adds 1 to the unique-clicks counter (its own item, so the two requests never
// conflict) and checks the account's and the person's tombstones. A repeat click's transaction
// is refused on the record: first is false. The report reads both counters with the funnel's
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
	unique, err := s.clickCounter(c.Origin, c.Link, c.Target, c.At, true)
	if err != nil {
		return false, err
	}
	items := graveChecksAt(s.table, c.Origin.Account, c.Origin.Person, c.Issued)
	record := len(items)
	items = append(items, types.TransactWriteItem{Update: s.firstClick(c)}, types.TransactWriteItem{Update: unique})
	for try := 1; ; try++ {
		canceled, err := s.transact(ctx, items)
		if err != nil {
			return false, fmt.Errorf("unique click on %s: %w", c.Link, err)
		}
		if canceled == nil {
			return true, nil
		}
		for i := range record {
			if canceled.failed(i) {
				return false, fmt.Errorf("unique click on %s: %w", c.Link, reply.ErrForgotten)
			}
		}
		if canceled.failed(record) {
			return false, nil // the person's record holds the link: not a first click
		}
		if try == clickTxTries {
			return false, fmt.Errorf("unique click on %s: %w: %v", c.Link, errTxConflict, canceled.e)
		}
	}
}

// clickList is the IndexList partition of an account's click records: the people export is one
// Query away, never a scan.
func clickList(account string) string { return "CLICK#" + account }

// clickAttrPrefix starts the attribute of each link in a click record (then the link's id).
const clickAttrPrefix = "click#"

// firstClick is the update writing c as the person's first click on its link, refused when the
// record holds one. The record expires with the link of its latest first click (Until): links are
// honoured for the same lifetime, so that is the last link it still guards, unless the person
// first opens an older link after a newer one, which only ends the record sooner.
func (s *Store) firstClick(c reply.Click) *types.Update {
	o := c.Origin
	click := map[string]types.AttributeValue{"target": str(c.Target), "rule": str(o.Rule), "at": num(c.At.UnixMilli())}
	if o.Variant != "" {
		click["variant"] = str(o.Variant)
	}
	if o.Media != "" {
		click["media"] = str(o.Media)
	}
	set := "SET #list = :list, #account = :account, #person = :person, #link = :click"
	names := map[string]string{"#list": AttrList, "#account": "account", "#person": "person", "#link": clickAttrPrefix + c.Link}
	values := map[string]types.AttributeValue{":list": str(clickList(o.Account)), ":account": str(o.Account),
		":person": str(o.Person), ":click": &types.AttributeValueMemberM{Value: click}}
	if !c.Until.IsZero() {
		set += ", #exp = :exp"
		names["#exp"], values[":exp"] = AttrExpiresAt, num(c.Until.Unix())
	}
	return &types.Update{TableName: s.table, Key: pkey(reply.ClickGuardKey(o.Account, o.Person)),
		UpdateExpression: aws.String(set), ConditionExpression: aws.String("attribute_not_exists(#link)"),
		ExpressionAttributeNames: names, ExpressionAttributeValues: values}
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

// ClickedBy pages through the account's click records with a Query of IndexList, limit people a
// page, in key order.
func (s *Store) ClickedBy(ctx context.Context, account, cursor string, limit int) ([]reply.Clicked, string, error) {
	items, next, err := s.listPage(ctx, clickList(account), reply.ClickGuardKey(account, ""), cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("click records of %s: %w", account, err)
	}
	var page []reply.Clicked
	for _, it := range items {
		cs, err := decodeClicks(it)
		if err != nil {
			return nil, "", err
		}
		page = append(page, cs...)
	}
	return page, next, nil
}

// ForgetClicks removes the person's click record of the account.
func (s *Store) ForgetClicks(ctx context.Context, account, person string) (int, error) {
	key := reply.ClickGuardKey(account, person)
	out, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table, Key: pkey(key), ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return 0, fmt.Errorf("forget clicks %s: %w", key, err)
	}
	n := 0
	for a := range out.Attributes {
		if strings.HasPrefix(a, clickAttrPrefix) {
			n++
		}
	}
	return n, nil
}

// decodeClicks is a click record's first clicks, in link order.
func decodeClicks(item map[string]types.AttributeValue) ([]reply.Clicked, error) {
	pk, _ := item[AttrPK].(*types.AttributeValueMemberS)
	if pk == nil {
		return nil, fmt.Errorf("decode click record: no %s", AttrPK)
	}
	var head struct {
		Account string `json:"account"`
		Person  string `json:"person"`
	}
	if err := unmarshal(item, &head); err != nil || head.Account == "" || head.Person == "" {
		return nil, fmt.Errorf("decode click record %s: account and person required (%v)", pk.Value, err)
	}
	var out []reply.Clicked
	for a, v := range item {
		link, ok := strings.CutPrefix(a, clickAttrPrefix)
		if !ok {
			continue
		}
		var c struct {
			Target  string `json:"target"`
			Rule    string `json:"rule"`
			Variant string `json:"variant"`
			Media   string `json:"media"`
			At      int64  `json:"at"`
		}
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			return nil, fmt.Errorf("decode click record %s: %s is not a map", pk.Value, a)
		}
		if err := unmarshal(m.Value, &c); err != nil || c.At == 0 {
			return nil, fmt.Errorf("decode click record %s: %s: a time is required (%v)", pk.Value, a, err)
		}
		out = append(out, reply.Clicked{Account: head.Account, Person: head.Person, Link: link, Target: c.Target,
			Rule: c.Rule, Variant: c.Variant, Media: c.Media, At: time.UnixMilli(c.At).UTC()})
	}
	slices.SortFunc(out, func(a, b reply.Clicked) int { return strings.Compare(a.Link, b.Link) })
	return out, nil
}
