// Package dynamo is replywindow's store in one DynamoDB table (reply.Store). Every write is a
// versioned conditional PutItem; a lost condition hands back the stored item from the same
// request (ReturnValuesOnConditionCheckFailure=ALL_OLD), so losing a race costs no extra read.
//
// Items, by hash key pk:
//
//	C#<comment>                                 reply records (reply.Job.Key): one per comment
//	F#<account>#<media>#<person>                funnel guards (reply.Job.Funnel): the comment holding it
//	T#A#<account> / T#P#<person>                tombstones of deleted accounts and people
//	R#<account>#<lane>                          rate buckets (reply.BucketKey; lane "reads" is the
//	                                            reconciler's budget of Graph reads)
//	A#<account>                                 account configuration
//	D#<code>                                    data-deletion requests
//	KV#<account>#<person>#<link>                a person's click record: their first click on a
//	                                            tracked link (its unique-click guard), listed in
//	                                            IndexList under CLICK#<account>, TTL with the link
//	P#<account>                                 reconcile cursor: the account's media and how far
//	                                            each was read (reply.CursorKey), TTL 30 days after
//	                                            its last write
//
// Each item holds the domain type's JSON fields plus the index attributes named in table.go.
package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/reply"
)

// API is the part of *dynamodb.Client the store and CreateTable use.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	BatchGetItem(context.Context, *dynamodb.BatchGetItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	TransactWriteItems(context.Context, *dynamodb.TransactWriteItemsInput, ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(context.Context, *dynamodb.QueryInput, ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(context.Context, *dynamodb.ScanInput, ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	CreateTable(context.Context, *dynamodb.CreateTableInput, ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(context.Context, *dynamodb.UpdateTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
}

var _ API = (*dynamodb.Client)(nil)
var _ API = (*Counter)(nil)
var _ reply.Store = (*Store)(nil)
var _ reply.ClickRecords = (*Store)(nil)

// DefaultRetention is how long terminal reply records are kept after their deadline.
const DefaultRetention = 30 * 24 * time.Hour

// Store is reply.Store in one DynamoDB table. It is safe for concurrent use.
type Store struct {
	api       API
	table     *string
	retention time.Duration
	clock     reply.Clock
}

// Option changes a Store.
type Option func(*Store)

// WithRetention keeps terminal reply records for d after their deadline (TTL attribute expires_at).
func WithRetention(d time.Duration) Option { return func(s *Store) { s.retention = d } }

// WithClock replaces the system clock (used for the TTL of records without a deadline).
func WithClock(c reply.Clock) Option { return func(s *Store) { s.clock = c } }

// New is the store in table.
func New(api API, table string, opts ...Option) *Store {
	s := &Store{api: api, table: aws.String(table), retention: DefaultRetention, clock: reply.SystemClock{}}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Table is the table's name.
func (s *Store) Table() string { return *s.table }

// zeroTime is how attributevalue writes a zero time.Time (it ignores the domain's omitzero);
// such attributes are dropped, and a missing attribute decodes to the zero time again.
const zeroTime = "0001-01-01T00:00:00Z"

func marshal(v any) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMapWithOptions(v, func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
	if err != nil {
		return nil, err
	}
	for k, av := range item {
		if s, ok := av.(*types.AttributeValueMemberS); ok && s.Value == zeroTime {
			delete(item, k)
		}
	}
	return item, nil
}

func unmarshal(item map[string]types.AttributeValue, v any) error {
	return attributevalue.UnmarshalMapWithOptions(item, v, func(o *attributevalue.DecoderOptions) { o.TagKey = "json" })
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}

func pkey(pk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrPK: str(pk)}
}

// put writes item if the stored version is prev (nothing stored when prev is 0). When the
// condition fails it returns the stored item (nil when there is none) and lost == true.
func (s *Store) put(ctx context.Context, item map[string]types.AttributeValue, prev int64) (stored map[string]types.AttributeValue, lost bool, err error) {
	in := &dynamodb.PutItemInput{
		TableName:                           s.table,
		Item:                                item,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if prev == 0 {
		in.ConditionExpression = aws.String("attribute_not_exists(#pk)")
		in.ExpressionAttributeNames = map[string]string{"#pk": AttrPK}
	} else {
		in.ConditionExpression = aws.String("#v = :v")
		in.ExpressionAttributeNames = map[string]string{"#v": "version"}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(prev)}
	}
	_, err = s.api.PutItem(ctx, in)
	var failed *types.ConditionalCheckFailedException
	if !errors.As(err, &failed) {
		return nil, false, err
	}
	if len(failed.Item) > 0 {
		return failed.Item, true, nil
	}
	// Emulators such as dynalite ignore ALL_OLD; real DynamoDB returns no item only when nothing
	// is stored, and then this read finds nothing too.
	stored, err = s.get(ctx, item[AttrPK].(*types.AttributeValueMemberS).Value)
	return stored, true, err
}

// get is the item under pk, nil when there is none. Reads are strongly consistent: callers
// decide on versions.
func (s *Store) get(ctx context.Context, pk string) (map[string]types.AttributeValue, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: pkey(pk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

func (s *Store) delete(ctx context.Context, pk string) error {
	_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table, Key: pkey(pk)})
	return err
}

// queryAll gathers every page of a query.
func (s *Store) queryAll(ctx context.Context, in *dynamodb.QueryInput) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	for {
		out, err := s.api.Query(ctx, in)
		if err != nil {
			return nil, err
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// list is every item in IndexList under name, ordered by pk.
func (s *Store) list(ctx context.Context, name string) ([]map[string]types.AttributeValue, error) {
	return s.queryAll(ctx, &dynamodb.QueryInput{
		TableName:                 s.table,
		IndexName:                 aws.String(IndexList),
		KeyConditionExpression:    aws.String("#l = :l"),
		ExpressionAttributeNames:  map[string]string{"#l": AttrList},
		ExpressionAttributeValues: map[string]types.AttributeValue{":l": str(name)},
	})
}

// listPage is one page of IndexList under name, in key order: at most limit items after cursor
// (the last key of the page before, under prefix; ErrCursor otherwise) and the next page's
// cursor ("" when the listing is done).
func (s *Store) listPage(ctx context.Context, name, prefix, cursor string, limit int) ([]map[string]types.AttributeValue, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("limit %d, want 1 or more", limit)
	}
	in := &dynamodb.QueryInput{
		TableName:                 s.table,
		IndexName:                 aws.String(IndexList),
		KeyConditionExpression:    aws.String("#l = :l"),
		ExpressionAttributeNames:  map[string]string{"#l": AttrList},
		ExpressionAttributeValues: map[string]types.AttributeValue{":l": str(name)},
		Limit:                     aws.Int32(int32(min(limit, 1000))),
	}
	if cursor != "" {
		var c scanCursor
		if err := decodeCursor(cursor, &c); err != nil || !strings.HasPrefix(c.PK, prefix) {
			return nil, "", ErrCursor
		}
		in.ExclusiveStartKey = map[string]types.AttributeValue{AttrPK: str(c.PK), AttrList: str(name)}
	}
	out, err := s.api.Query(ctx, in)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if n := len(out.Items); len(out.LastEvaluatedKey) > 0 && n > 0 {
		if pk, ok := out.Items[n-1][AttrPK].(*types.AttributeValueMemberS); ok {
			next = encodeCursor(scanCursor{PK: pk.Value})
		}
	}
	return out.Items, next, nil
}
