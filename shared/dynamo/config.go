package dynamo

import (
	"context"
	"fmt"

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

// PutDeletion stores d if the stored version is d.Version-1. Pending requests are listed in
// IndexList; done ones leave it.
func (s *Store) PutDeletion(ctx context.Context, d reply.Deletion) (reply.Deletion, error) {
	if d.Code == "" {
		return reply.Deletion{}, fmt.Errorf("put deletion: code is required")
	}
	item, err := marshal(d)
	if err != nil {
		return reply.Deletion{}, fmt.Errorf("encode deletion %s: %w", d.Code, err)
	}
	item[AttrPK] = str(DeletionKey(d.Code))
	if d.State == reply.DeletionPending {
		item[AttrList] = str(ListDeletionPending)
	}
	var old reply.Deletion
	if err := s.save(ctx, item, d.Version, &old, "deletion", d.Code); err != nil {
		return old, err
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
