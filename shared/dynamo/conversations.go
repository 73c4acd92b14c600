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

// A conversation (V#<account>#<person>) is stored flat, times as Unix milliseconds, so that one
// UpdateItem can move a time only later (a condition on the attribute) and answer with the item
// as it was: an inbound event costs one write and no read. Each step's last send is an attribute
// of its own (stepPrefix + name), so that claiming a step conditions on it alone.
const (
	convAccount       = "account"
	convPerson        = "person"
	convRule          = "rule"
	convUsername      = "username"
	convWindowEnd     = "window_end"
	convLastInbound   = "last_inbound"
	convLastAutomated = "last_automated"
	convPausedUntil   = "paused_until"
	convPausedBy      = "paused_by"
	convUpdatedAt     = "updated_at"
	convDisclosedAt   = "disclosed_at"
	convOwed          = "disclosure_owed"
	stepPrefix        = "step:"
)

// Touch applies t and returns the conversation as it was.
func (s *Store) Touch(ctx context.Context, t reply.Touch) (reply.Conversation, error) {
	if t.AccountID == "" || t.PersonID == "" {
		return reply.Conversation{}, fmt.Errorf("touch conversation: account and person required")
	}
	key := reply.ConversationKey(t.AccountID, t.PersonID)
	u := newUpdate()
	u.set(convAccount, str(t.AccountID))
	u.set(convPerson, str(t.PersonID))
	u.set(convUpdatedAt, ms(t.Now))
	after := reply.Conversation{}.Touched(t)
	var moved string // the time attribute the touch moves, only ever later
	switch {
	case t.Pause > 0:
		moved = convPausedUntil
		u.set(convPausedUntil, ms(after.PausedUntil))
		if t.Echo != "" {
			u.set(convPausedBy, str(t.Echo))
		}
		if !t.EventsAt.IsZero() { // the pause's event, marked in the write that pauses
			u.set(AttrOutboxShard, str(strconv.Itoa(shard(key))))
			u.set(AttrOutboxAt, ms(t.EventsAt))
		}
	case !t.At.IsZero():
		moved = convWindowEnd
		u.set(convWindowEnd, ms(after.WindowEnd))
		u.set(convLastInbound, ms(after.LastInbound))
	}
	if t.Rule != "" {
		u.set(convRule, str(t.Rule))
	}
	if t.Username != "" {
		u.set(convUsername, str(t.Username))
	}
	u.set(AttrExpiresAt, num(after.ExpiresAt().Unix()))
	exists := "attribute_exists(" + u.name(convAccount) + ")"
	cond := exists
	if moved != "" {
		cond += fmt.Sprintf(" AND (attribute_not_exists(%s) OR %s < %s)", u.name(moved), u.name(moved), u.value(moved))
	}
	// Most touches find the conversation: one UpdateItem that answers with it as it was. Only
	// its first write (or one after a deletion) pays the transaction that checks tombstones.
	for range 3 {
		out, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: s.table, Key: pkey(key),
			UpdateExpression:                    aws.String(u.expr()),
			ConditionExpression:                 aws.String(cond),
			ExpressionAttributeNames:            u.names,
			ExpressionAttributeValues:           u.values,
			ReturnValues:                        types.ReturnValueAllOld,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		var ccf *types.ConditionalCheckFailedException
		switch {
		case errors.As(err, &ccf) && len(ccf.Item) > 0:
			// An older or repeated event: the window (or pause) already reaches further; nothing
			// to write. What was there is the answer.
			return decodeConversation(ccf.Item)
		case errors.As(err, &ccf):
			// No item came back: the conversation is not there (or the store did not say).
			item, err := s.get(ctx, key)
			switch {
			case err != nil:
				return reply.Conversation{}, fmt.Errorf("touch %s: %w", key, err)
			case item != nil:
				c, err := decodeConversation(item)
				if err != nil || !c.Moves(t) {
					return c, err // there, and the touch an older one
				}
				continue // created meanwhile: update it
			}
			created, err := s.createConversation(ctx, t, u)
			if err != nil || created {
				return reply.Conversation{}, err
			}
			continue // another event created it meanwhile: update that one
		case err != nil:
			return reply.Conversation{}, fmt.Errorf("touch %s: %w", key, err)
		}
		return decodeConversation(out.Attributes)
	}
	return reply.Conversation{}, fmt.Errorf("touch %s: %w", key, errTxConflict)
}

// createConversation writes a conversation's first item if no tombstone covers the touch;
// created is false when another write created it first.
func (s *Store) createConversation(ctx context.Context, t reply.Touch, u *update) (bool, error) {
	key := reply.ConversationKey(t.AccountID, t.PersonID)
	tx := []types.TransactWriteItem{{Update: &types.Update{
		TableName: s.table, Key: pkey(key),
		UpdateExpression:          aws.String(u.expr()),
		ConditionExpression:       aws.String("attribute_not_exists(" + u.name(convAccount) + ")"),
		ExpressionAttributeNames:  u.names,
		ExpressionAttributeValues: u.values,
	}}}
	tx = append(tx, graveChecksAt(s.table, t.AccountID, t.PersonID, t.TouchTime())...)
	canceled, err := s.transact(ctx, tx)
	switch {
	case err != nil:
		return false, fmt.Errorf("create %s: %w", key, err)
	case canceled == nil:
		return true, nil
	case canceled.failed(0):
		return false, nil
	}
	return false, canceled.verdict("create "+key, "")
}

// Disclosed moves the conversation's disclosed_at later, never creating it.
func (s *Store) Disclosed(ctx context.Context, account, person string, at time.Time) error {
	key := reply.ConversationKey(account, person)
	_, err := s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: s.table, Key: pkey(key),
		UpdateExpression:          aws.String("SET #d = :d"),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND (attribute_not_exists(#d) OR #d < :d)"),
		ExpressionAttributeNames:  map[string]string{"#d": convDisclosedAt, "#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": ms(at)},
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case errors.As(err, &ccf):
		return nil // gone (deleted on request), or a later disclosure already recorded
	case err != nil:
		return fmt.Errorf("disclosed %s: %w", key, err)
	}
	return nil
}

// Conversation is the stored conversation.
func (s *Store) Conversation(ctx context.Context, account, person string) (reply.Conversation, error) {
	key := reply.ConversationKey(account, person)
	item, err := s.get(ctx, key)
	switch {
	case err != nil:
		return reply.Conversation{}, fmt.Errorf("get %s: %w", key, err)
	case item == nil:
		return reply.Conversation{}, fmt.Errorf("conversation %s: %w", key, reply.ErrNotFound)
	}
	return decodeConversation(item)
}

// ClaimStep creates recs and moves the step in one TransactWriteItems.
func (s *Store) ClaimStep(ctx context.Context, recs []reply.Record, claim reply.StepClaim) (reply.Record, error) {
	if len(recs) == 0 || len(recs) > 90 {
		return reply.Record{}, fmt.Errorf("claim step %s: %d records, want 1 to 90", claim.Key(), len(recs))
	}
	var tx []types.TransactWriteItem
	for _, rec := range recs {
		if err := checkRecord(rec); err != nil {
			return reply.Record{}, fmt.Errorf("claim step: %w", err)
		}
		if rec.Version != 1 {
			return reply.Record{}, fmt.Errorf("claim step %s: version %d, want 1", rec.Key, rec.Version)
		}
		item, err := s.encodeRecord(rec)
		if err != nil {
			return reply.Record{}, err
		}
		tx = append(tx, types.TransactWriteItem{Put: &types.Put{
			TableName: s.table, Item: item,
			ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}})
	}
	conv := len(tx)
	tx = append(tx, s.stepUpdate(claim))
	tx = append(tx, graveChecks(s.table, recs[0].Job)...)
	canceled, err := s.transact(ctx, tx)
	switch {
	case err != nil:
		return reply.Record{}, fmt.Errorf("claim step %s for %s: %w", claim.Key(), recs[0].Key, err)
	case canceled == nil:
		return recs[0], nil
	}
	for i := range conv {
		if !canceled.failed(i) {
			continue
		}
		key := recs[i].Key
		stored := canceled.item(i)
		if len(stored) == 0 {
			if stored, err = s.get(ctx, key); err != nil || stored == nil {
				return reply.Record{}, fmt.Errorf("claim step %s: %w (unreadable since: %v)", key, reply.ErrExists, err)
			}
		}
		old, err := decodeRecord(stored)
		if err != nil {
			return reply.Record{}, fmt.Errorf("claim step %s: %w", key, err)
		}
		return old, fmt.Errorf("claim step %s: %w (version %d, %s)", key, reply.ErrExists, old.Version, old.State)
	}
	if canceled.failed(conv) {
		return reply.Record{}, fmt.Errorf("claim step %s of %s: %w (sent since)", claim.Key(), reply.ConversationKey(claim.AccountID, claim.PersonID), reply.ErrConflict)
	}
	return reply.Record{}, canceled.verdict("claim step "+recs[0].Key, "")
}

// stepUpdate moves the step's send time, if the step is still due (reply.Conversation.Due).
func (s *Store) stepUpdate(claim reply.StepClaim) types.TransactWriteItem {
	after := reply.Conversation{}.Claimed(claim)
	u := newUpdate()
	u.set(convAccount, str(claim.AccountID))
	u.set(convPerson, str(claim.PersonID))
	u.set(stepPrefix+claim.Key(), ms(claim.At))
	if next := claim.NextKey(); next != "" {
		u.set(stepPrefix+next, ms(claim.At))
	}
	u.set(convLastAutomated, ms(claim.At))
	u.set(convUpdatedAt, ms(claim.At))
	if claim.Rule != "" {
		u.set(convRule, str(claim.Rule))
	}
	if claim.Disclose {
		u.set(convOwed, ms(claim.At))
	}
	if claim.Username != "" {
		u.set(convUsername, str(claim.Username))
	}
	u.set(AttrExpiresAt, num(after.ExpiresAt().Unix()))
	step := u.name(stepPrefix + claim.Key())
	cond := "attribute_not_exists(" + step + ")"
	if claim.Step.Resend || claim.Gate {
		u.values[":due"] = ms(claim.At.Add(-claim.Cooldown()))
		cond += " OR " + step + " <= :due"
	}
	if claim.Answer != "" {
		// An answer part is due once per question: not sent since the question went out.
		u.values[":since"] = ms(claim.Since)
		cond += " OR " + step + " < :since"
	}
	return types.TransactWriteItem{Update: &types.Update{
		TableName: s.table, Key: pkey(reply.ConversationKey(claim.AccountID, claim.PersonID)),
		UpdateExpression: aws.String(u.expr()), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames: u.names, ExpressionAttributeValues: u.values,
	}}
}

// DeleteConversation removes the conversation.
func (s *Store) DeleteConversation(ctx context.Context, account, person string) error {
	return s.delete(ctx, reply.ConversationKey(account, person))
}

// Conversations pages through every conversation, in table order.
func (s *Store) Conversations(ctx context.Context, cursor string, limit int) ([]reply.Conversation, string, error) {
	return scanPages(ctx, s, "conversations", cursor, limit, &dynamodb.ScanInput{
		FilterExpression:          aws.String("begins_with(#pk, :v)"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":v": str("V#")},
	}, decodeConversation)
}

func decodeConversation(item map[string]types.AttributeValue) (reply.Conversation, error) {
	var c reply.Conversation
	for k, av := range item {
		switch v := av.(type) {
		case *types.AttributeValueMemberS:
			switch k {
			case convAccount:
				c.AccountID = v.Value
			case convPerson:
				c.PersonID = v.Value
			case convRule:
				c.Rule = v.Value
			case convUsername:
				c.Username = v.Value
			case convPausedBy:
				c.PausedBy = v.Value
			}
		case *types.AttributeValueMemberN:
			n, err := strconv.ParseInt(v.Value, 10, 64)
			if err != nil {
				return reply.Conversation{}, fmt.Errorf("decode conversation: %s: %w", k, err)
			}
			t := time.UnixMilli(n).UTC()
			switch {
			case k == convWindowEnd:
				c.WindowEnd = t
			case k == convLastInbound:
				c.LastInbound = t
			case k == convLastAutomated:
				c.LastAutomated = t
			case k == convPausedUntil:
				c.PausedUntil = t
			case k == convDisclosedAt:
				c.DisclosedAt = t
			case k == convOwed:
				c.DisclosureOwed = t
			case k == convUpdatedAt:
				c.UpdatedAt = t
			case k == AttrOutboxAt:
				c.EventsAt = t
			case strings.HasPrefix(k, stepPrefix):
				if c.Steps == nil {
					c.Steps = map[string]time.Time{}
				}
				c.Steps[strings.TrimPrefix(k, stepPrefix)] = t
			}
		}
	}
	return c, nil
}

func ms(t time.Time) types.AttributeValue { return num(t.UnixMilli()) }
