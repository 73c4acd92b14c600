package dynamo

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

var _ lead.Store = (*Store)(nil)

// leadList is a lead's IndexList partition: an account's leads are one Query away, so an export
// never scans the table.
func leadList(account string) string { return "LEAD#" + account }

// CreateLead puts the lead if none of its account, person and kind is stored, in one
// TransactWriteItems with the tombstone checks every item naming a person takes.
func (s *Store) CreateLead(ctx context.Context, l lead.Lead) (lead.Lead, error) {
	if err := l.Validate(); err != nil {
		return lead.Lead{}, err
	}
	item, err := marshal(l)
	if err != nil {
		return lead.Lead{}, fmt.Errorf("encode lead %s: %w", l.Key(), err)
	}
	item[AttrPK] = str(l.Key())
	item[AttrList] = str(leadList(l.AccountID))
	item[AttrExpiresAt] = num(l.ExpiresAt.Unix())
	markAttrs(reply.Mark{Key: l.Key(), At: l.EventsAt}, item) // its LeadCaptured event, when events are on
	tx := []types.TransactWriteItem{{Put: &types.Put{
		TableName: s.table, Item: item,
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": AttrPK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}}
	tx = append(tx, graveChecksAt(s.table, l.AccountID, l.PersonID, l.CapturedAt)...)
	canceled, err := s.transact(ctx, tx)
	switch {
	case err != nil:
		return lead.Lead{}, fmt.Errorf("create lead %s: %w", l.Key(), err)
	case canceled == nil:
		return l, nil
	case canceled.failed(0):
		stored := canceled.item(0)
		if len(stored) == 0 {
			if stored, err = s.get(ctx, l.Key()); err != nil || stored == nil {
				return lead.Lead{}, fmt.Errorf("create lead %s: %w (unreadable since: %v)", l.Key(), reply.ErrExists, err)
			}
		}
		old, err := decodeLead(stored)
		if err != nil {
			return lead.Lead{}, fmt.Errorf("create lead %s: %w", l.Key(), err)
		}
		return old, fmt.Errorf("create lead %s: %w", l.Key(), reply.ErrExists)
	}
	return lead.Lead{}, canceled.verdict("create lead "+l.Key(), "")
}

// Lead is the stored lead.
func (s *Store) Lead(ctx context.Context, account, person string, kind lead.Kind) (lead.Lead, error) {
	key := lead.Key(account, person, kind)
	item, err := s.get(ctx, key)
	switch {
	case err != nil:
		return lead.Lead{}, fmt.Errorf("lead %s: %w", key, err)
	case item == nil:
		return lead.Lead{}, fmt.Errorf("lead %s: %w", key, reply.ErrNotFound)
	}
	return decodeLead(item)
}

// Leads pages through the account's leads with a Query of IndexList, in key order.
func (s *Store) Leads(ctx context.Context, account, cursor string, limit int) ([]lead.Lead, string, error) {
	items, next, err := s.listPage(ctx, leadList(account), "L#"+account+"#", cursor, limit)
	if err != nil {
		return nil, "", fmt.Errorf("leads of %s: %w", account, err)
	}
	page := make([]lead.Lead, 0, len(items))
	for _, it := range items {
		l, err := decodeLead(it)
		if err != nil {
			return nil, "", err
		}
		page = append(page, l)
	}
	return page, next, nil
}

// DeleteLead removes the lead.
func (s *Store) DeleteLead(ctx context.Context, account, person string, kind lead.Kind) error {
	return s.delete(ctx, lead.Key(account, person, kind))
}

func decodeLead(item map[string]types.AttributeValue) (lead.Lead, error) {
	var l lead.Lead
	if err := unmarshal(item, &l); err != nil {
		pk := ""
		if v, ok := item[AttrPK].(*types.AttributeValueMemberS); ok {
			pk = v.Value
		}
		return lead.Lead{}, fmt.Errorf("decode lead %s: %w", pk, err)
	}
	at, err := markOf(item)
	if err != nil {
		return lead.Lead{}, fmt.Errorf("decode lead %s: %w", l.Key(), err)
	}
	l.EventsAt = at
	return l, nil
}
