package simulation

import (
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/funnel"
)

// TestReportCostOnDynamo checks the size estimate against the items the DynamoDB adapter really
// writes (on moto): the report's bytes are the sum of the stored items' attribute names and
// values, sized as DynamoDB sizes them, and the report reads as many items as the index holds.
func TestReportCostOnDynamo(t *testing.T) {
	ctx := awstest.Context(t)
	api := dynamodb.NewFromConfig(awstest.Config(t))
	table := awstest.Name(t, "report")
	if err := dynamo.CreateTable(ctx, api, table); err != nil {
		t.Fatal(err)
	}
	store := dynamo.New(api, table)
	now := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	tallies := []funnel.Tally{
		funnel.NewTally(Account, "recipe", "", "reel-1", now).With(funnel.Matched, funnel.Sent),
		funnel.NewTally(Account, "recipe", "short", "reel-1", now.AddDate(0, 0, -3)).With(funnel.Matched, funnel.WithReason(funnel.Skipped, "no_rule")),
		funnel.NewTally(Account, "guide#2", "long", "reel-2", now.AddDate(0, 0, -29)).With(funnel.Taps, funnel.FollowUps),
		funnel.Click(Account, "recipe", "", "reel-1", "l1abc", now, false),
		funnel.Click(Account, "recipe", "", "reel-1", "l1abc", now, true),
		funnel.NewTally(Account, "recipe", "", "reel-1", now.AddDate(0, 0, -30)).With(funnel.Sent), // a day before the month
	}
	for _, tl := range tallies {
		for range 12 {
			if err := store.AddCounts(ctx, tl); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, err := reportCost(ctx, store, Account, now)
	if err != nil {
		t.Fatal(err)
	}

	prefix := funnel.KeyPrefix(Account)
	str := func(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }
	out, err := api.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(table), IndexName: aws.String(dynamo.IndexList),
		KeyConditionExpression:   aws.String("#a = :a AND #k BETWEEN :lo AND :hi"),
		ExpressionAttributeNames: map[string]string{"#a": dynamo.AttrList, "#k": dynamo.AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":a":  str(prefix),
			":lo": str(prefix + now.AddDate(0, 0, -(ReportDays-1)).Format(funnel.DayLayout)),
			":hi": str(prefix + now.Format(funnel.DayLayout) + "#\uffff"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	stored := 0
	for _, it := range out.Items {
		stored += itemBytes(t, it)
	}
	if got.Items != len(out.Items) || got.Items != len(tallies)-1 || got.Bytes != stored {
		t.Errorf("report cost %+v; the index holds %d items of the month, %d bytes as stored", got, len(out.Items), stored)
	}
}

// itemBytes sizes a stored item as DynamoDB does: names, strings by their bytes, numbers by
// their significant digits.
func itemBytes(t *testing.T, it map[string]types.AttributeValue) int {
	t.Helper()
	b := 0
	for name, av := range it {
		b += len(name)
		switch v := av.(type) {
		case *types.AttributeValueMemberS:
			b += len(v.Value)
		case *types.AttributeValueMemberN:
			n, err := strconv.ParseInt(v.Value, 10, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			b += numberBytes(n)
		default:
			t.Fatalf("%s: a %T, not sized here", name, av)
		}
	}
	return b
}
