package dynamo

import (
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/funnel"
)

// IndexCounts is the sparse index of funnel counter items: one partition per account
// (funnel.AttrAccount), sorted by day, rule, variant and media (funnel.AttrSort), so a report of
// a month reads that month's counter items with one Query and never a record.
const IndexCounts = "counts"

// CountRetention is how long a day's counter item is kept after its day: counts name no person,
// and a year back lets a report compare seasons.
const CountRetention = 400 * 24 * time.Hour

// CountUpdate is the update that adds t's counts (one each) to its counter item, creating it
// the first time. It goes into the TransactWriteItems of the transition that causes the counts,
// so a transition that is not written counts nothing and one written once counts once.
func CountUpdate(table string, t funnel.Tally) (*types.Update, error) {
	if len(t.Add) == 0 {
		return nil, fmt.Errorf("count %s: nothing to add", t.Key)
	}
	day, err := time.Parse(funnel.DayLayout, t.Day)
	if err != nil {
		return nil, fmt.Errorf("count %s: day %q: %w", t.Key, t.Day, err)
	}
	names := map[string]string{
		"#a": funnel.AttrAccount, "#s": funnel.AttrSort, "#d": funnel.AttrDay, "#r": funnel.AttrRule,
		"#v": funnel.AttrVariant, "#m": funnel.AttrMedia, "#x": AttrExpiresAt,
	}
	values := map[string]types.AttributeValue{
		":a": str(t.Account), ":s": str(t.Sort()), ":d": str(t.Day), ":r": str(t.Rule),
		":v": str(t.Variant), ":m": str(t.Media), ":x": num(day.Add(CountRetention).Unix()), ":one": num(1),
	}
	expr := "SET #a = :a, #s = :s, #d = :d, #r = :r, #v = :v, #m = :m, #x = :x ADD "
	seen := map[string]bool{}
	for i, n := range t.Add {
		if seen[n] {
			continue // one event adds one to a count, however it was listed
		}
		seen[n] = true
		p := "#c" + strconv.Itoa(i)
		names[p] = n
		if i > 0 {
			expr += ", "
		}
		expr += p + " :one"
	}
	return &types.Update{
		TableName: aws.String(table), Key: pkey(t.Key),
		UpdateExpression: aws.String(expr), ExpressionAttributeNames: names, ExpressionAttributeValues: values,
	}, nil
}
