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

	"github.com/replywindow/replywindow/shared/reply"
)

var _ reply.Webhooks = (*Store)(nil)

// seenPrefix starts the attribute of a webhook field's last arrival (epoch seconds) on W# items.
const seenPrefix = "seen_"

// WebhooksRetention is how long an account's W# item outlives its last write (TTL): an account
// Meta stopped delivering for longer has nothing left to say.
const WebhooksRetention = 90 * 24 * time.Hour

// SawWebhooks sets each field's last arrival to at with one conditional UpdateItem, written only
// when one of the fields was last recorded in an earlier reply.SeenEvery slot (or never).
func (s *Store) SawWebhooks(ctx context.Context, account string, fields []string, at time.Time) error {
	if account == "" || len(fields) == 0 {
		return nil
	}
	slot := at.Truncate(reply.SeenEvery).Unix()
	u := newUpdate()
	var cond []string
	for _, f := range fields {
		u.set(seenPrefix+f, num(at.Unix()))
		n := u.name(seenPrefix + f)
		cond = append(cond, fmt.Sprintf("attribute_not_exists(%s) OR %s < :slot", n, n))
	}
	u.set(AttrExpiresAt, num(at.Add(WebhooksRetention).Unix()))
	u.values[":slot"] = num(slot)
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 s.table,
		Key:                       pkey(reply.WebhooksKey(account)),
		UpdateExpression:          aws.String(u.expr()),
		ConditionExpression:       aws.String(strings.Join(cond, " OR ")),
		ExpressionAttributeNames:  u.names,
		ExpressionAttributeValues: u.values,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return nil // recorded in this slot already
	}
	if err != nil {
		return fmt.Errorf("record webhooks of %s: %w", account, err)
	}
	return nil
}

// LastWebhooks reads the account's W# item.
func (s *Store) LastWebhooks(ctx context.Context, account string) (map[string]time.Time, error) {
	item, err := s.get(ctx, reply.WebhooksKey(account))
	if err != nil {
		return nil, fmt.Errorf("last webhooks of %s: %w", account, err)
	}
	out := map[string]time.Time{}
	for k, v := range item {
		f, ok := strings.CutPrefix(k, seenPrefix)
		n, isNum := v.(*types.AttributeValueMemberN)
		if !ok || !isNum {
			continue
		}
		sec, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("last webhooks of %s: %s: %w", account, k, err)
		}
		out[f] = time.Unix(sec, 0).UTC()
	}
	return out, nil
}
