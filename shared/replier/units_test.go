package replier

import (
	"context"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/reply"
)

// unitMeter estimates the base table's write units of the writes it passes on by DynamoDB's
// rule (1 unit per started KB of the item; twice that for an item of a transaction), since
// moto does not size items. An update's item is taken as what its expression writes (the
// counter items are small: one unit, however many counts they gather).
type unitMeter struct {
	dynamo.API
	mu    sync.Mutex
	units float64
	byKey map[string]float64 // units by item key prefix (C#, F#, N#, R#, ...)
}

func itemUnits(item map[string]types.AttributeValue) float64 {
	return math.Ceil(float64(max(1, itemSize(item))) / 1024)
}

func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return (len(strings.TrimLeft(v.Value, "-0"))+1)/2 + 1
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberM:
		return 3 + itemSize(v.Value) + len(v.Value)
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += 1 + valueSize(e)
		}
		return n
	}
	return 1
}

func prefix(key map[string]types.AttributeValue) string {
	if s, ok := key[dynamo.AttrPK].(*types.AttributeValueMemberS); ok && len(s.Value) >= 2 {
		return s.Value[:2]
	}
	return "?"
}

func (m *unitMeter) add(p string, u float64) {
	m.mu.Lock()
	m.units += u
	m.byKey[p] += u
	m.mu.Unlock()
}

func updateItem(key map[string]types.AttributeValue, names map[string]string, values map[string]types.AttributeValue) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{}
	for k, v := range key {
		item[k] = v
	}
	for _, n := range names {
		item[n] = &types.AttributeValueMemberN{Value: "1"}
	}
	for k, v := range values {
		item[strings.TrimPrefix(k, ":")] = v // a value's size, under a name of about its length
	}
	return item
}

func (m *unitMeter) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	m.add(prefix(in.Item), itemUnits(in.Item))
	return m.API.PutItem(ctx, in, o...)
}

func (m *unitMeter) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	m.add(prefix(in.Key), itemUnits(updateItem(in.Key, in.ExpressionAttributeNames, in.ExpressionAttributeValues)))
	return m.API.UpdateItem(ctx, in, o...)
}

func (m *unitMeter) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		switch {
		case it.Put != nil:
			m.add(prefix(it.Put.Item), 2*itemUnits(it.Put.Item))
		case it.Update != nil:
			m.add(prefix(it.Update.Key), 2*itemUnits(updateItem(it.Update.Key, it.Update.ExpressionAttributeNames, it.Update.ExpressionAttributeValues)))
		case it.ConditionCheck != nil:
			m.add(prefix(it.ConditionCheck.Key), 2) // a condition check is billed as a write of its item's size
		case it.Delete != nil:
			m.add(prefix(it.Delete.Key), 2)
		}
	}
	return m.API.TransactWriteItems(ctx, in, o...)
}

// TestWriteUnitsPerSent is TestRequestsPerSent's sibling: the estimated write units of the base
// table per SENT private reply, by item kind, with the funnel counts written in the outcome's
// transaction. Index writes are apart: the counts index adds one unit per counter update.
func TestWriteUnitsPerSent(t *testing.T) {
	meter := &unitMeter{byKey: map[string]float64{}}
	kind := storeKind{"dynamodb", func(t testing.TB, clock reply.Clock) (reply.Store, func() (int, int), func() map[string]int) {
		client := dynamodb.NewFromConfig(awstest.Config(t))
		name := awstest.Name(t, "units")
		if err := dynamo.CreateTable(awstest.Context(t), client, name); err != nil {
			t.Fatalf("create table: %v", err)
		}
		meter.API = client
		c := dynamo.Count(meter)
		return dynamo.New(c, name, dynamo.WithClock(clock)), func() (int, int) { return c.Reads(), c.Writes() }, c.ByOp
	}}
	e := newEnv(t, kind)
	e.put(func(a *reply.Account) { a.Rules[0].PublicReplies = nil })
	e.process(sampleJob(t, 0))
	const n = 10
	meter.mu.Lock()
	meter.units, meter.byKey = 0, map[string]float64{}
	meter.mu.Unlock()
	_, w0 := e.counts()
	for i := 1; i <= n; i++ {
		if d := e.process(sampleJob(t, i)); d.Action != ActionSent {
			t.Fatalf("job %d: %s(%s)", i, d.Action, d.Reason)
		}
	}
	_, w1 := e.counts()
	per := map[string]float64{}
	for k, u := range meter.byKey {
		per[k] = u / n
	}
	t.Logf("per SENT private reply: %.2f write requests, %.2f base-table write units estimated (by item: %v), +1 unit in the counts index",
		float64(w1-w0)/n, meter.units/n, per)
	if per["N#"] != 2 {
		t.Errorf("counter item: %.2f units per SENT, want 2 (one small item in a transaction)", per["N#"])
	}
}
