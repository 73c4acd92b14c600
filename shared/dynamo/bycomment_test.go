package dynamo

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/storetest"
)

// TestByCommentIndexOnlyOffKey: a record keyed by its comment stays out of IndexComment and is
// found by its key; items written in the old layouts (a C# record carrying cid, a legacy F#
// reply record found only through the index) are found all the same.
func TestByCommentIndexOnlyOffKey(t *testing.T) {
	api, table := newTable(t)
	s := New(api, table)
	ctx := awstest.Context(t)
	base := testRecord(t)
	base.Version = 1

	now := base
	now.Key, now.CommentID, now.Funnel = reply.CommentKey("17900000000000001"), "17900000000000001", base.Funnel+"#1"
	if _, err := s.Create(ctx, now); err != nil {
		t.Fatal(err)
	}
	if _, ok := rawItem(t, api, table, now.Key)[AttrCommentID]; ok {
		t.Errorf("%s carries %s", now.Key, AttrCommentID)
	}

	// Written before the cut: the same item with cid, as every record was.
	old := base
	old.Key, old.CommentID, old.Funnel = reply.CommentKey("17900000000000002"), "17900000000000002", base.Funnel+"#2"
	item, err := s.encodeRecord(old)
	if err != nil {
		t.Fatal(err)
	}
	item[AttrCommentID] = str(old.CommentID)
	// A reply record under its funnel key, from before funnel guards were items of their own.
	legacy := base
	legacy.Key, legacy.CommentID, legacy.Funnel = "F#17841400000000001#18000000000000009#9000000000000009", "17900000000000003", ""
	legacyItem, err := s.encodeRecord(legacy)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := legacyItem[AttrCommentID]; !ok {
		t.Fatalf("a record not keyed by its comment lost %s", AttrCommentID)
	}
	for _, it := range []map[string]types.AttributeValue{item, legacyItem} {
		if _, err := api.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it}); err != nil {
			t.Fatal(err)
		}
	}

	for _, want := range []reply.Record{now, old, legacy} {
		got, err := s.ByComment(ctx, want.CommentID)
		if err != nil {
			t.Fatalf("ByComment(%s): %v", want.CommentID, err)
		}
		storetest.Same(t, "ByComment("+want.CommentID+")", got, want)
	}

	// The old record's next write takes it out of the index; it is still found by its key.
	next := old
	next.Version = 2
	if _, err := s.Update(ctx, next); err != nil {
		t.Fatal(err)
	}
	if _, ok := rawItem(t, api, table, old.Key)[AttrCommentID]; ok {
		t.Errorf("%s kept %s after its update", old.Key, AttrCommentID)
	}
	if got, err := s.ByComment(ctx, old.CommentID); err != nil || got.Version != 2 {
		t.Errorf("ByComment(%s) after the update: version %d, %v", old.CommentID, got.Version, err)
	}
}
