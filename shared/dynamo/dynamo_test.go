package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/storetest"
)

func testRecord(t *testing.T) reply.Record {
	t.Helper()
	b, err := os.ReadFile("testdata/record.json")
	if err != nil {
		t.Fatal(err)
	}
	var r reply.Record
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	if z := storetest.ZeroFields(r); len(z) > 0 {
		t.Fatalf("testdata/record.json leaves fields zero: %v", z)
	}
	return r
}

func rawItem(t *testing.T, api API, table, pk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := api.GetItem(awstest.Context(t), &dynamodb.GetItemInput{TableName: aws.String(table), Key: pkey(pk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func numAttr(t *testing.T, item map[string]types.AttributeValue, name string) (int64, bool) {
	t.Helper()
	av, ok := item[name]
	if !ok {
		return 0, false
	}
	n, ok := av.(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("%s is %T, want a number", name, av)
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v, true
}

// TestItemAttributes checks the index and TTL attributes of each kind of record as stored.
func TestItemAttributes(t *testing.T) {
	api, table := newTable(t)
	base := testRecord(t)
	tests := []struct {
		name      string
		state     reply.State
		retention time.Duration // 0: the default
	}{
		{"parked", reply.StateParked, 0},
		{"leased", reply.StateLeased, 0},
		{"queued", reply.StateQueued, 0},
		{"sent", reply.StateSent, 0},
		{"skipped with a short retention", reply.StateSkipped, 48 * time.Hour},
		{"expired", reply.StateExpired, 0},
		{"failed", reply.StateFailed, 0},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []Option
			wantTTL := base.Deadline.Add(DefaultRetention).Unix()
			if tc.retention > 0 {
				opts = append(opts, WithRetention(tc.retention))
				wantTTL = base.Deadline.Add(tc.retention).Unix()
			}
			s := New(api, table, opts...)
			r := base
			r.Key, r.CommentID, r.State, r.Version = fmt.Sprintf("C#%d", i), fmt.Sprint(i), tc.state, 1
			r.Funnel = fmt.Sprintf("%s#%d", base.Funnel, i)
			if _, err := s.Create(awstest.Context(t), r); err != nil {
				t.Fatal(err)
			}
			item := rawItem(t, api, table, r.Key)
			// The guard is an item of its own, outside the comment index, expiring with the record.
			guard := rawItem(t, api, table, r.Funnel)
			if !equalAV(guard[attrOwner], str(r.CommentID)) {
				t.Errorf("guard %s: owner %v, want %s", r.Funnel, guard[attrOwner], r.CommentID)
			}
			if _, ok := guard[AttrCommentID]; ok {
				t.Errorf("guard %s carries %s: it would be in the comment index", r.Funnel, AttrCommentID)
			}
			if gttl, ok := numAttr(t, guard, AttrExpiresAt); !ok || gttl != wantTTL {
				t.Errorf("guard %s: %s = %d (present %v), want %d", r.Funnel, AttrExpiresAt, gttl, ok, wantTTL)
			}

			// Keyed by its comment: ByComment reads it by key, so it stays out of the comment
			// index (a write unit a comment that nothing would read).
			if got, ok := item[AttrCommentID]; ok {
				t.Errorf("%s = %v on a record keyed by its comment, want none", AttrCommentID, got)
			}
			due, hasDue := numAttr(t, item, AttrDue)
			_, hasShard := item[AttrDueShard]
			ttl, hasTTL := numAttr(t, item, AttrExpiresAt)
			if tc.state.Terminal() {
				if hasDue || hasShard {
					t.Errorf("terminal record in the due index: %s=%v %s=%v", AttrDue, item[AttrDue], AttrDueShard, item[AttrDueShard])
				}
				if !hasTTL || ttl != wantTTL {
					t.Errorf("%s = %d (present %v), want %d", AttrExpiresAt, ttl, hasTTL, wantTTL)
				}
			} else {
				if !hasDue || due != r.DueAt.UnixMilli() {
					t.Errorf("%s = %d (present %v), want %d", AttrDue, due, hasDue, r.DueAt.UnixMilli())
				}
				if want := str(strconv.Itoa(shard(r.Key))); !equalAV(item[AttrDueShard], want) {
					t.Errorf("%s = %v, want %v", AttrDueShard, item[AttrDueShard], want)
				}
				if hasTTL {
					t.Errorf("pending record has %s = %d", AttrExpiresAt, ttl)
				}
			}
			got, err := s.Get(awstest.Context(t), r.Key)
			if err != nil {
				t.Fatal(err)
			}
			storetest.Same(t, "record", got, r)
		})
	}
}

func equalAV(a, b types.AttributeValue) bool {
	as, ok1 := a.(*types.AttributeValueMemberS)
	bs, ok2 := b.(*types.AttributeValueMemberS)
	return ok1 && ok2 && as.Value == bs.Value
}

// TestTerminalLeavesIndex moves one record through its life and watches the index attributes.
func TestTerminalLeavesIndex(t *testing.T) {
	api, table := newTable(t)
	s := New(api, table)
	ctx := awstest.Context(t)
	now := storetest.T0
	r := storetest.Parked(1, now)
	steps := []func(reply.Record) (reply.Record, error){
		func(r reply.Record) (reply.Record, error) { return r.Claim(r.Job, "w", now, now.Add(time.Minute)) },
		func(r reply.Record) (reply.Record, error) { return r.Park(now.Add(time.Hour), "rate", false, now) },
		func(r reply.Record) (reply.Record, error) { return r.Release(true, now.Add(time.Hour)) },
		func(r reply.Record) (reply.Record, error) {
			return r.Claim(r.Job, "w2", now.Add(time.Hour), now.Add(time.Hour+time.Minute))
		},
		func(r reply.Record) (reply.Record, error) {
			return r.Finish(reply.Sent("mid", "rid"), true, now.Add(time.Hour))
		},
	}
	if _, err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	for i, step := range steps {
		next, err := step(r)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if _, err := s.Update(ctx, next); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		r = next
		item := rawItem(t, api, table, r.Key)
		_, inIndex := item[AttrDue]
		if inIndex == r.State.Terminal() {
			t.Fatalf("step %d (%s): in the due index: %v", i, r.State, inIndex)
		}
	}
}

// TestConflictCostsOneRequest: a lost condition hands back the stored record from the same
// PutItem (ALL_OLD), so losing a race costs no read.
func TestConflictCostsOneRequest(t *testing.T) {
	raw, table := newTable(t)
	api := Count(raw)
	s := New(api, table)
	ctx := awstest.Context(t)
	v1 := storetest.Parked(1, storetest.T0)
	if _, err := s.Create(ctx, v1); err != nil {
		t.Fatal(err)
	}
	v2, _ := v1.Claim(v1.Job, "a", storetest.T0, storetest.T0.Add(time.Minute))
	if _, err := s.Update(ctx, v2); err != nil {
		t.Fatal(err)
	}
	stale, _ := v1.Claim(v1.Job, "b", storetest.T0, storetest.T0.Add(time.Minute))

	tests := []struct {
		name string
		call func() (reply.Record, error)
		want error
		ops  map[string]int
	}{
		// One transaction: the record, and the tombstones of its account and person.
		{"create over a stored record", func() (reply.Record, error) { return s.Create(ctx, v1) }, reply.ErrExists,
			map[string]int{"TransactWriteItems": 1, "TransactItems": 3}},
		{"stale update", func() (reply.Record, error) { return s.Update(ctx, stale) }, reply.ErrConflict,
			map[string]int{"PutItem": 1}},
	}
	for _, tc := range tests {
		api.Reset()
		got, err := tc.call()
		if !errors.Is(err, tc.want) {
			t.Fatalf("%s: err %v, want %v", tc.name, err, tc.want)
		}
		storetest.Same(t, tc.name, got, v2)
		if ops := api.ByOp(); !maps.Equal(ops, tc.ops) {
			t.Fatalf("%s: requests %v, want %v", tc.name, ops, tc.ops)
		}
	}
}

// noOldItem is DynamoDB as emulators like dynalite answer: a failed condition without the item.
type noOldItem struct{ API }

func (n noOldItem) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := n.API.PutItem(ctx, in, o...)
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		failed.Item = nil
	}
	return out, err
}

func (n noOldItem) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	out, err := n.API.TransactWriteItems(ctx, in, o...)
	var canceled *types.TransactionCanceledException
	if errors.As(err, &canceled) {
		for i := range canceled.CancellationReasons {
			canceled.CancellationReasons[i].Item = nil
		}
	}
	return out, err
}

func TestConflictWithoutOldItem(t *testing.T) {
	raw, table := newTable(t)
	api := Count(noOldItem{raw})
	s := New(api, table)
	ctx := awstest.Context(t)
	v1 := storetest.Parked(1, storetest.T0)
	if _, err := s.Create(ctx, v1); err != nil {
		t.Fatal(err)
	}
	api.Reset()
	got, err := s.Create(ctx, v1)
	if !errors.Is(err, reply.ErrExists) {
		t.Fatalf("err %v, want ErrExists", err)
	}
	storetest.Same(t, "stored record", got, v1)
	if ops := api.ByOp(); !maps.Equal(ops, map[string]int{"TransactWriteItems": 1, "TransactItems": 3, "GetItem": 1}) {
		t.Fatalf("requests %v, want one TransactWriteItems and one GetItem", ops)
	}
	missing := storetest.Parked(2, storetest.T0)
	missing.Version = 2
	if _, err := s.Update(ctx, missing); !errors.Is(err, reply.ErrNotFound) {
		t.Fatalf("update of a missing record: err %v, want ErrNotFound", err)
	}
}

func TestCounter(t *testing.T) {
	raw, table := newTable(t)
	c := Count(raw)
	s := New(c, table)
	ctx := awstest.Context(t)
	r := storetest.Parked(1, storetest.T0)
	if _, err := s.Create(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, r.Key); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Due(ctx, storetest.T0, "", 10); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, r.Key); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"TransactWriteItems": 1, "TransactItems": 3, "GetItem": 1, "Query": DueShards, "DeleteItem": 1}
	if got := c.ByOp(); !maps.Equal(got, want) {
		t.Fatalf("by op %v, want %v", got, want)
	}
	if c.Reads() != 1+DueShards || c.Writes() != 2 {
		t.Fatalf("reads %d writes %d, want %d and 2", c.Reads(), c.Writes(), 1+DueShards)
	}
	c.Reset()
	if c.Reads()+c.Writes() != 0 || len(c.ByOp()) != 0 {
		t.Fatalf("after reset: %v", c.ByOp())
	}
}

// TestTable checks the created table against TableInput and that CreateTable may run twice.
func TestTable(t *testing.T) {
	api, table := newTable(t)
	ctx := awstest.Context(t)
	if err := CreateTable(ctx, api, table); err != nil {
		t.Fatalf("second CreateTable: %v", err)
	}
	out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	want := TableInput(table)
	d := out.Table
	if d.TableStatus != types.TableStatusActive {
		t.Errorf("status %s", d.TableStatus)
	}
	if got := keySchema(d.KeySchema); !slices.Equal(got, keySchema(want.KeySchema)) {
		t.Errorf("key schema %v", got)
	}
	gsis := map[string][]string{}
	for _, g := range d.GlobalSecondaryIndexes {
		gsis[*g.IndexName] = append(keySchema(g.KeySchema), string(g.Projection.ProjectionType))
	}
	for _, g := range want.GlobalSecondaryIndexes {
		w := append(keySchema(g.KeySchema), string(g.Projection.ProjectionType))
		if got := gsis[*g.IndexName]; !slices.Equal(got, w) {
			t.Errorf("index %s: %v, want %v", *g.IndexName, got, w)
		}
	}
	if len(gsis) != len(want.GlobalSecondaryIndexes) {
		t.Errorf("indexes %v", gsis)
	}
	ttl, err := api.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != AttrExpiresAt {
		t.Errorf("ttl %s on %s", d.TimeToLiveStatus, aws.ToString(d.AttributeName))
	}
}

func keySchema(ks []types.KeySchemaElement) []string {
	var s []string
	for _, k := range ks {
		s = append(s, *k.AttributeName+":"+string(k.KeyType))
	}
	return s
}

// seed writes n parked records due one millisecond apart (in shuffled key order) with
// BatchWriteItem, which is faster on moto than one conditional PutItem each.
func seed(t testing.TB, client *dynamodb.Client, s *Store, n int) {
	t.Helper()
	ctx := awstest.Context(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Go(func() {
			for lo := w * 25; lo < n; lo += 8 * 25 {
				var reqs []types.WriteRequest
				for i := lo; i < min(lo+25, n); i++ {
					r := storetest.Parked(i, storetest.T0.Add(time.Duration(i*7919%n)*time.Millisecond))
					item, err := s.encodeRecord(r)
					if err != nil {
						errs <- err
						return
					}
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
				}
				for len(reqs) > 0 {
					out, err := client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{*s.table: reqs}})
					if err != nil { // unconditional puts: the SDK retries a cut-off answer
						errs <- err
						return
					}
					reqs = out.UnprocessedItems[*s.table]
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// TestDueLarge pages through a large backlog the way the sweeper does and checks that every
// record comes exactly once, oldest first. REPLYWINDOW_DUE_N sets the size (default 1,000):
// moto reads and sorts the whole table for every Query, so 50,000 would take over an hour there.
func TestDueLarge(t *testing.T) {
	n := 1000
	if v := os.Getenv("REPLYWINDOW_DUE_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatal(err)
		}
	}
	if testing.Short() {
		n = 300
	}
	api, table := newTable(t)
	c := Count(api)
	s := New(c, table)
	start := time.Now()
	seed(t, api, s, n)
	seeded := time.Since(start)

	const page = 250
	c.Reset()
	start = time.Now()
	ctx := awstest.Context(t)
	var last time.Time
	seen := make(map[string]bool, n)
	cursor, pages := "", 0
	for {
		recs, next, err := s.Due(ctx, storetest.T0.Add(time.Hour), cursor, page)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range recs {
			if seen[r.Key] {
				t.Fatalf("%s twice", r.Key)
			}
			if r.DueAt.Before(last) {
				t.Fatalf("%s due %s after one due %s", r.Key, r.DueAt, last)
			}
			seen[r.Key], last = true, r.DueAt
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != n {
		t.Fatalf("%d records due, want %d", len(seen), n)
	}
	t.Logf("%d records: seeded in %s; %d pages of %d in %s (%.0f ms/page), %d queries (%.2f per page)",
		n, seeded.Round(time.Millisecond), pages, page, time.Since(start).Round(time.Millisecond),
		float64(time.Since(start).Milliseconds())/float64(pages), c.ByOp()["Query"], float64(c.ByOp()["Query"])/float64(pages))
}
