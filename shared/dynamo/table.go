package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute and index names of the one table. Items carry the domain's JSON field names plus
// these; none of them collides with a JSON tag of reply.Record, Bucket, Account or Deletion.
const (
	AttrPK        = "pk"         // S, the table's hash key
	AttrDueShard  = "due_shard"  // S, "0".."7": hash key of IndexDue, only on non-terminal reply records
	AttrDue       = "due"        // N, DueAt in Unix milliseconds: range key of IndexDue
	AttrCommentID = "cid"        // S, hash key of IndexComment, on reply records not keyed by their comment (records written before 2026-12-06 carry it on all)
	AttrList      = "list"       // S, hash key of IndexList: ListAccount or ListDeletionPending
	AttrExpiresAt = "expires_at" // N, epoch seconds: the table's TTL attribute, on terminal reply records and cursors
	AttrWaitLane  = "wait_lane"  // S, the account lane (reply.BucketKey): hash key of IndexLane, only on records waiting for a token
	AttrWaitAt    = "wait_at"    // N, Deadline in Unix milliseconds: range key of IndexLane
	AttrMessageID = "message_id" // S, the Meta message id of a SENT record (its JSON field): hash key of IndexMessage

	IndexDue     = "due"
	IndexComment = "comment"
	IndexList    = "list"
	IndexLane    = "lane"
	IndexMessage = "message"

	ListAccount         = "ACCOUNT"
	ListDeletionPending = "DELETION_PENDING"
)

// DueShards is how many partitions IndexDue is spread over. One constant partition key would
// take every write of every pending reply and throttle (a GSI partition takes about 1,000 writes
// a second, and GSI throttling back-pressures the table); Due merges the shards in order.
// Changing it strands records already written under other shards: it is part of the schema.
const DueShards = 8

// TableInput is the table's one schema: the tests, the local stack and template.yaml all follow it.
// On-demand billing; hash key pk only; four sparse GSIs.
func TableInput(name string) *dynamodb.CreateTableInput {
	attr := func(n string, t types.ScalarAttributeType) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: t}
	}
	key := func(n string, t types.KeyType) types.KeySchemaElement {
		return types.KeySchemaElement{AttributeName: aws.String(n), KeyType: t}
	}
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			attr(AttrPK, types.ScalarAttributeTypeS),
			attr(AttrDueShard, types.ScalarAttributeTypeS),
			attr(AttrDue, types.ScalarAttributeTypeN),
			attr(AttrCommentID, types.ScalarAttributeTypeS),
			attr(AttrList, types.ScalarAttributeTypeS),
			attr(AttrWaitLane, types.ScalarAttributeTypeS),
			attr(AttrWaitAt, types.ScalarAttributeTypeN),
			attr(AttrMessageID, types.ScalarAttributeTypeS),
			attr(AttrOutboxShard, types.ScalarAttributeTypeS),
			attr(AttrOutboxAt, types.ScalarAttributeTypeN),
		},
		KeySchema: []types.KeySchemaElement{key(AttrPK, types.KeyTypeHash)},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{
				// The sweeper's work list: full records, so a page costs no further reads.
				IndexName:  aws.String(IndexDue),
				KeySchema:  []types.KeySchemaElement{key(AttrDueShard, types.KeyTypeHash), key(AttrDue, types.KeyTypeRange)},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			},
			{
				// Keys only: cid never changes, so the index is written once per record instead
				// of on every state change; ByComment (operators, rare) pays one GetItem more.
				IndexName:  aws.String(IndexComment),
				KeySchema:  []types.KeySchemaElement{key(AttrCommentID, types.KeyTypeHash)},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
			},
			{
				IndexName:  aws.String(IndexList),
				KeySchema:  []types.KeySchemaElement{key(AttrList, types.KeyTypeHash), key(AttrPK, types.KeyTypeRange)},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			},
			{
				// Each account lane's line of records waiting for a token, earliest deadline
				// first: the sweeper reads its head, as many as it may release. One partition
				// per lane: a viral account parks tens a second, far below a partition's limit.
				IndexName:  aws.String(IndexLane),
				KeySchema:  []types.KeySchemaElement{key(AttrWaitLane, types.KeyTypeHash), key(AttrWaitAt, types.KeyTypeRange)},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			},
			{
				// Meta's message id of each SENT record, keys only and written once: an echo
				// is ours when a record holds its id, whether or not Meta names the app.
				IndexName:  aws.String(IndexMessage),
				KeySchema:  []types.KeySchemaElement{key(AttrMessageID, types.KeyTypeHash)},
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
			},
			outboxIndex(key),
		},
	}
}

// CreateTable creates the table (an existing one is fine), waits until it is active and enables
// TTL on expires_at.
func CreateTable(ctx context.Context, api API, name string) error {
	_, err := api.CreateTable(ctx, TableInput(name))
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(api, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 10*time.Second
	})
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 5*time.Minute); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}
	ttl, err := api.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe ttl of %s: %w", name, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil {
		switch d.TimeToLiveStatus {
		case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
			// DynamoDB refuses to enable TTL twice.
			return nil
		}
	}
	_, err = api.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(AttrExpiresAt),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable ttl on %s: %w", name, err)
	}
	return nil
}
