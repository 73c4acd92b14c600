package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/reply"
)

// save writes item (the encoding of a value at version) if the stored version is version-1 and
// decodes the stored value into old when the condition fails. noun and id name it in errors.
func (s *Store) save(ctx context.Context, item map[string]types.AttributeValue, version int64, old any, noun, id string) error {
	if version < 1 {
		return fmt.Errorf("save %s %s: version %d, want 1 or more", noun, id, version)
	}
	stored, lost, err := s.put(ctx, item, version-1)
	switch {
	case err != nil:
		return fmt.Errorf("save %s %s: %w", noun, id, err)
	case !lost:
		return nil
	case stored == nil:
		return fmt.Errorf("save %s %s version %d: %w (%w)", noun, id, version, reply.ErrConflict, reply.ErrNotFound)
	}
	if err := unmarshal(stored, old); err != nil {
		return fmt.Errorf("save %s %s: decode stored: %w", noun, id, err)
	}
	return fmt.Errorf("save %s %s version %d: %w", noun, id, version, reply.ErrConflict)
}

// load decodes the item under pk into v; found is false when nothing is stored.
func (s *Store) load(ctx context.Context, pk string, v any) (found bool, err error) {
	item, err := s.get(ctx, pk)
	if err != nil || item == nil {
		return false, err
	}
	return true, unmarshal(item, v)
}

// Bucket is the account's stored bucket for lane, or a zero bucket (Version 0).
func (s *Store) Bucket(ctx context.Context, account string, lane reply.Lane) (reply.Bucket, error) {
	b := reply.Bucket{AccountID: account, Lane: lane}
	if _, err := s.load(ctx, reply.BucketKey(account, lane), &b); err != nil {
		return reply.Bucket{}, fmt.Errorf("bucket %s: %w", reply.BucketKey(account, lane), err)
	}
	return b, nil
}

// SaveBucket stores b if the stored version is b.Version-1.
func (s *Store) SaveBucket(ctx context.Context, b reply.Bucket) (reply.Bucket, error) {
	key := reply.BucketKey(b.AccountID, b.Lane)
	if b.AccountID == "" || b.Lane == "" {
		return reply.Bucket{}, fmt.Errorf("save bucket %s: account and lane are required", key)
	}
	item, err := marshal(b)
	if err != nil {
		return reply.Bucket{}, fmt.Errorf("encode bucket %s: %w", key, err)
	}
	item[AttrPK] = str(key)
	old := reply.Bucket{AccountID: b.AccountID, Lane: b.Lane}
	if err := s.save(ctx, item, b.Version, &old, "bucket", key); err != nil {
		return old, err
	}
	return b, nil
}

// attrCode is the code a deletion subject's item names.
const attrCode = "code"

// DeleteBucket removes the account's bucket for lane; removing none is not an error.
func (s *Store) DeleteBucket(ctx context.Context, account string, lane reply.Lane) error {
	if err := s.delete(ctx, reply.BucketKey(account, lane)); err != nil {
		return fmt.Errorf("delete bucket %s: %w", reply.BucketKey(account, lane), err)
	}
	return nil
}

// AccountKey is the partition key of an account's configuration.
func AccountKey(id string) string { return "A#" + id }

// Account is the stored account.
func (s *Store) Account(ctx context.Context, id string) (reply.Account, error) {
	var a reply.Account
	found, err := s.load(ctx, AccountKey(id), &a)
	switch {
	case err != nil:
		return reply.Account{}, fmt.Errorf("account %s: %w", id, err)
	case !found:
		return reply.Account{}, fmt.Errorf("account %s: %w", id, reply.ErrNotFound)
	}
	return a, nil
}

// PutAccount stores a if the stored version is a.Version-1.
func (s *Store) PutAccount(ctx context.Context, a reply.Account) (reply.Account, error) {
	if a.ID == "" {
		return reply.Account{}, fmt.Errorf("put account: id is required")
	}
	item, err := marshal(a)
	if err != nil {
		return reply.Account{}, fmt.Errorf("encode account %s: %w", a.ID, err)
	}
	item[AttrPK] = str(AccountKey(a.ID))
	item[AttrList] = str(ListAccount)
	var old reply.Account
	if err := s.save(ctx, item, a.Version, &old, "account", a.ID); err != nil {
		return old, err
	}
	return a, nil
}

// ListAccounts is every account, ordered by id, read from IndexList (no table scan). The index
// is eventually consistent: an account saved a moment ago may be missing.
func (s *Store) ListAccounts(ctx context.Context) ([]reply.Account, error) {
	items, err := s.list(ctx, ListAccount)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	accounts := make([]reply.Account, 0, len(items))
	for _, it := range items {
		var a reply.Account
		if err := unmarshal(it, &a); err != nil {
			return nil, fmt.Errorf("list accounts: decode: %w", err)
		}
		accounts = append(accounts, a)
	}
	return accounts, nil
}

// DeleteAccount removes the account's configuration; removing nothing is not an error.
func (s *Store) DeleteAccount(ctx context.Context, id string) error {
	if err := s.delete(ctx, AccountKey(id)); err != nil {
		return fmt.Errorf("delete account %s: %w", id, err)
	}
	return nil
}

// DeletionKey is the partition key of a data-deletion request (template.yaml lets the webhook
// reach these items and no others).
func DeletionKey(code string) string { return "D#" + code }

// subjectKey is the item that names the pending request of a subject (kind and user): an
// "s" never starts a code (hex), and the subject appears only as a hash.
func subjectKey(d reply.Deletion) string {
	sum := sha256.Sum256([]byte(d.Subject()))
	return DeletionKey("s" + hex.EncodeToString(sum[:16]))
}

// encodeDeletion is d's item. Pending requests are listed in IndexList; done ones leave it and
// expire reply.DeletionRetention after they were done.
func encodeDeletion(d reply.Deletion) (map[string]types.AttributeValue, error) {
	item, err := marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encode deletion %s: %w", d.Code, err)
	}
	item[AttrPK] = str(DeletionKey(d.Code))
	switch d.State {
	case reply.DeletionPending:
		item[AttrList] = str(ListDeletionPending)
	case reply.DeletionDone:
		item[AttrExpiresAt] = num(d.DoneAt.Add(reply.DeletionRetention).Unix())
	}
	return item, nil
}

// OpenDeletion writes the request and its subject's item in one transaction, each only if
// absent; a subject item that names a request no longer pending (done, or expired) is taken over.
func (s *Store) OpenDeletion(ctx context.Context, d reply.Deletion) (reply.Deletion, error) {
	if d.Code == "" || d.UserID == "" || d.Version != 1 || d.State != reply.DeletionPending {
		return reply.Deletion{}, fmt.Errorf("open deletion %q: want a code, a user, version 1 and state pending", d.Code)
	}
	item, err := encodeDeletion(d)
	if err != nil {
		return reply.Deletion{}, err
	}
	subject := subjectKey(d)
	stale := "" // the code a stale subject item names, to take it over
	for range 3 {
		slot := &types.Put{TableName: s.table,
			Item:                                map[string]types.AttributeValue{AttrPK: str(subject), attrCode: str(d.Code)},
			ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames:            map[string]string{"#pk": AttrPK},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		}
		if stale != "" {
			slot.ConditionExpression = aws.String("#c = :c")
			slot.ExpressionAttributeNames = map[string]string{"#c": attrCode}
			slot.ExpressionAttributeValues = map[string]types.AttributeValue{":c": str(stale)}
		}
		canceled, err := s.transact(ctx, []types.TransactWriteItem{
			{Put: &types.Put{TableName: s.table, Item: item,
				ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
			}},
			{Put: slot},
		})
		switch {
		case err != nil:
			return reply.Deletion{}, fmt.Errorf("open deletion %s: %w", d.Code, err)
		case canceled == nil:
			return d, nil
		case canceled.failed(0):
			old, err := s.Deletion(ctx, d.Code)
			if err != nil {
				return reply.Deletion{}, fmt.Errorf("open deletion %s: read the stored one: %w", d.Code, err)
			}
			return old, fmt.Errorf("open deletion %s: %w", d.Code, reply.ErrExists)
		case canceled.failed(1):
			code := ""
			if c, ok := canceled.item(1)[attrCode].(*types.AttributeValueMemberS); ok {
				code = c.Value
			} else if it, err := s.get(ctx, subject); err == nil && it != nil { // emulators without ALL_OLD
				if c, ok := it[attrCode].(*types.AttributeValueMemberS); ok {
					code = c.Value
				}
			}
			old, err := s.Deletion(ctx, code)
			if err == nil && old.State == reply.DeletionPending {
				return old, fmt.Errorf("open deletion %s: %w (pending: %s)", d.Code, reply.ErrExists, code)
			}
			if err != nil && !errors.Is(err, reply.ErrNotFound) {
				return reply.Deletion{}, fmt.Errorf("open deletion %s: %w", d.Code, err)
			}
			stale = code
		}
	}
	return reply.Deletion{}, fmt.Errorf("open deletion %s: %w three times in a row", d.Code, reply.ErrConflict)
}

// PutDeletion stores d if the stored version is d.Version-1. A done request is stored closed,
// and its subject item goes if it still names d (a leftover is harmless: OpenDeletion takes it
// over).
func (s *Store) PutDeletion(ctx context.Context, d reply.Deletion) (reply.Deletion, error) {
	if d.Code == "" {
		return reply.Deletion{}, fmt.Errorf("put deletion: code is required")
	}
	subject := subjectKey(d)
	if d.State == reply.DeletionDone {
		d = d.Closed()
	}
	item, err := encodeDeletion(d)
	if err != nil {
		return reply.Deletion{}, err
	}
	var old reply.Deletion
	if err := s.save(ctx, item, d.Version, &old, "deletion", d.Code); err != nil {
		return old, err
	}
	if d.State == reply.DeletionDone {
		_, err := s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table, Key: pkey(subject),
			ConditionExpression:       aws.String("#c = :c"),
			ExpressionAttributeNames:  map[string]string{"#c": attrCode},
			ExpressionAttributeValues: map[string]types.AttributeValue{":c": str(d.Code)},
		})
		var failed *types.ConditionalCheckFailedException
		if err != nil && !errors.As(err, &failed) {
			return d, fmt.Errorf("deletion %s done; its subject item stays: %w", d.Code, err)
		}
	}
	return d, nil
}

// Deletion is the request with the code.
func (s *Store) Deletion(ctx context.Context, code string) (reply.Deletion, error) {
	var d reply.Deletion
	found, err := s.load(ctx, DeletionKey(code), &d)
	switch {
	case err != nil:
		return reply.Deletion{}, fmt.Errorf("deletion %s: %w", code, err)
	case !found:
		return reply.Deletion{}, fmt.Errorf("deletion %s: %w", code, reply.ErrNotFound)
	}
	return d, nil
}

// PendingDeletions lists requests not yet done, ordered by code.
func (s *Store) PendingDeletions(ctx context.Context) ([]reply.Deletion, error) {
	items, err := s.list(ctx, ListDeletionPending)
	if err != nil {
		return nil, fmt.Errorf("pending deletions: %w", err)
	}
	ds := make([]reply.Deletion, 0, len(items))
	for _, it := range items {
		var d reply.Deletion
		if err := unmarshal(it, &d); err != nil {
			return nil, fmt.Errorf("pending deletions: decode: %w", err)
		}
		ds = append(ds, d)
	}
	return ds, nil
}
