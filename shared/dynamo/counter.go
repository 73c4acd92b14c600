package dynamo

import (
	"context"
	"maps"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Counter is an API that counts the requests it passes on, by operation, so callers can report
// what a reply costs ("DynamoDB requests per SENT reply"). It is safe for concurrent use.
type Counter struct {
	api   API
	mu    sync.Mutex
	ops   map[string]int
	units float64 // write units DynamoDB reported consuming (ReturnConsumedCapacity TOTAL)
}

// Count wraps api.
func Count(api API) *Counter { return &Counter{api: api, ops: map[string]int{}} }

var (
	readOps  = []string{"GetItem", "BatchGetItem", "Query", "Scan"}
	writeOps = []string{"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems"}
)

func (c *Counter) sum(ops []string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, op := range ops {
		n += c.ops[op]
	}
	return n
}

// Reads is the number of GetItem, BatchGetItem, Query and Scan requests.
func (c *Counter) Reads() int { return c.sum(readOps) }

// Writes is the number of PutItem, DeleteItem and TransactWriteItems requests.
func (c *Counter) Writes() int { return c.sum(writeOps) }

// ByOp is a copy of the counts by operation name (table management included).
func (c *Counter) ByOp() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.ops)
}

// WriteUnits is the write capacity the table reported for the writes passed on: the figure
// DynamoDB bills on demand (a transaction's items at two units a KB each, a condition check
// included). The Counter asks for it on every write it passes on; for a transaction whose answer
// reports none (moto does not), it counts two units an item.
func (c *Counter) WriteUnits() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.units
}

// measured adds the consumed capacity of a write's answer, which it passes on.
func measured[O any](c *Counter, capacity func(*O) *types.ConsumedCapacity) func(*O, error) (*O, error) {
	return func(out *O, err error) (*O, error) {
		if out != nil {
			c.consumed(capacity(out))
		}
		return out, err
	}
}

// consumed adds what DynamoDB reported.
func (c *Counter) consumed(cs ...*types.ConsumedCapacity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, cc := range cs {
		if cc != nil {
			c.units += aws.ToFloat64(cc.CapacityUnits)
		}
	}
}

// Reset sets every count to zero.
func (c *Counter) Reset() {
	c.mu.Lock()
	clear(c.ops)
	c.units = 0
	c.mu.Unlock()
}

func (c *Counter) add(op string) {
	c.mu.Lock()
	c.ops[op]++
	c.mu.Unlock()
}

// UpdateItem counts and calls the wrapped API.
func (c *Counter) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.add("UpdateItem")
	asked := *in // the caller's input stays as it was
	asked.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	return measured(c, func(o *dynamodb.UpdateItemOutput) *types.ConsumedCapacity { return o.ConsumedCapacity })(c.api.UpdateItem(ctx, &asked, o...))
}

// GetItem counts and calls the wrapped API.
func (c *Counter) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.add("GetItem")
	return c.api.GetItem(ctx, in, o...)
}

// BatchGetItem counts and calls the wrapped API.
func (c *Counter) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	c.add("BatchGetItem")
	return c.api.BatchGetItem(ctx, in, o...)
}

// PutItem counts and calls the wrapped API.
func (c *Counter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.add("PutItem")
	asked := *in // the caller's input stays as it was
	asked.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	return measured(c, func(o *dynamodb.PutItemOutput) *types.ConsumedCapacity { return o.ConsumedCapacity })(c.api.PutItem(ctx, &asked, o...))
}

// TransactWriteItems counts and calls the wrapped API; it also counts the transaction's items
// ("TransactItems"), the figure its write units follow.
func (c *Counter) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.add("TransactWriteItems")
	c.mu.Lock()
	c.ops["TransactItems"] += len(in.TransactItems)
	c.mu.Unlock()
	asked := *in // the caller's input stays as it was
	asked.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.api.TransactWriteItems(ctx, &asked, o...)
	switch {
	case out != nil && len(out.ConsumedCapacity) > 0:
		for i := range out.ConsumedCapacity {
			c.consumed(&out.ConsumedCapacity[i])
		}
	case err == nil:
		// An API that reports none (moto): DynamoDB's price, two units an item under 1 KB,
		// condition checks included.
		c.consumed(&types.ConsumedCapacity{CapacityUnits: aws.Float64(float64(2 * len(in.TransactItems)))})
	}
	return out, err
}

// DeleteItem counts and calls the wrapped API.
func (c *Counter) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.add("DeleteItem")
	asked := *in // the caller's input stays as it was
	asked.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	return measured(c, func(o *dynamodb.DeleteItemOutput) *types.ConsumedCapacity { return o.ConsumedCapacity })(c.api.DeleteItem(ctx, &asked, o...))
}

// Query counts and calls the wrapped API.
func (c *Counter) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.add("Query")
	return c.api.Query(ctx, in, o...)
}

// Scan counts and calls the wrapped API.
func (c *Counter) Scan(ctx context.Context, in *dynamodb.ScanInput, o ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	c.add("Scan")
	return c.api.Scan(ctx, in, o...)
}

// CreateTable counts and calls the wrapped API.
func (c *Counter) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, o ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	c.add("CreateTable")
	return c.api.CreateTable(ctx, in, o...)
}

// DescribeTable counts and calls the wrapped API.
func (c *Counter) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, o ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	c.add("DescribeTable")
	return c.api.DescribeTable(ctx, in, o...)
}

// DescribeTimeToLive counts and calls the wrapped API.
func (c *Counter) DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, o ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	c.add("DescribeTimeToLive")
	return c.api.DescribeTimeToLive(ctx, in, o...)
}

// UpdateTimeToLive counts and calls the wrapped API.
func (c *Counter) UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error) {
	c.add("UpdateTimeToLive")
	return c.api.UpdateTimeToLive(ctx, in, o...)
}
