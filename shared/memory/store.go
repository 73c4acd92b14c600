// Package memory holds in-process adapters: a reply.Store with the same semantics as the
// DynamoDB one, for the local stack and simulations.
package memory

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

// ErrCursor marks a cursor this store did not hand out.
var ErrCursor = errors.New("bad cursor")

var _ reply.Store = (*Store)(nil)

// Store is reply.Store in memory. It is safe for concurrent use, and values never alias: what
// goes in and what comes out are copies. The zero value is ready to use.
type Store struct {
	mu        sync.RWMutex
	replies   map[string]reply.Record
	comments  map[string][]string // comment id -> keys of records holding it
	messages  map[string]string   // Meta's message id of a SENT record -> its key
	due       index               // non-terminal records by (SweepAt, key)
	lanes     map[string]*index   // records waiting in each account lane (BucketKey), by (Deadline, key)
	keys      index               // every record by key, for Scan
	buckets   map[string]reply.Bucket
	accounts  map[string]reply.Account
	deletions map[string]reply.Deletion
	guards    map[string]string // funnel key -> the comment holding it
	graves    map[string]reply.Tombstone
	convs     map[string]reply.Conversation
	clicks    clickBook                       // tracked links' counters and guards (clicks.go)
	leads     map[string]lead.Lead            // by lead.Key; made on the first lead (leads.go)
	seen      map[string]map[string]time.Time // account -> webhook field -> last arrival (webhooks.go)
	tallies   map[string]funnel.Row           // funnel counter items by key (counts.go)
}

// NewStore is an empty store.
func NewStore() *Store {
	s := &Store{}
	s.init()
	return s
}

func (s *Store) init() {
	if s.replies == nil {
		s.replies = map[string]reply.Record{}
		s.comments = map[string][]string{}
		s.messages = map[string]string{}
		s.lanes = map[string]*index{}
		s.buckets = map[string]reply.Bucket{}
		s.accounts = map[string]reply.Account{}
		s.deletions = map[string]reply.Deletion{}
		s.guards = map[string]string{}
		s.graves = map[string]reply.Tombstone{}
		s.convs = map[string]reply.Conversation{}
	}
}

func (s *Store) lock() {
	s.mu.Lock()
	s.init()
}

// replyKey: a comment's reply record (C#) or a follow-up's (S#).
func replyKey(k string) bool { return strings.HasPrefix(k, "C#") || strings.HasPrefix(k, "S#") }

func checkRecord(r reply.Record) error {
	switch {
	case !replyKey(r.Key):
		return fmt.Errorf("key %q is not a reply record key (C#... or S#...)", r.Key)
	case r.Funnel != "" && !strings.HasPrefix(r.Funnel, "F#"):
		return fmt.Errorf("record %s: funnel %q is not a funnel key (F#...)", r.Key, r.Funnel)
	case r.CommentID == "" && strings.HasPrefix(r.Key, "C#"):
		return fmt.Errorf("record %s has no comment id", r.Key)
	}
	return nil
}

// nanos orders times in the due index; times int64 nanoseconds cannot hold sort first or last.
func nanos(t time.Time) int64 {
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		return math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		return math.MaxInt64
	}
	return t.UnixNano()
}

func dueEntry(r reply.Record) entry { return entry{at: nanos(r.SweepAt()), key: r.Key} }

func laneEntry(r reply.Record) entry { return entry{at: nanos(r.Deadline), key: r.Key} }

// put replaces the stored record (old, when had) with r and keeps the indexes in step.
func (s *Store) put(old reply.Record, had bool, r reply.Record) {
	if had {
		s.unindex(old)
	} else {
		s.keys.insert(entry{key: r.Key})
	}
	s.countOutcome(old, had, r)
	s.replies[r.Key] = r
	if !r.State.Terminal() {
		s.due.insert(dueEntry(r))
	}
	if r.Waiting() {
		k := reply.BucketKey(r.AccountID, r.Lane)
		if s.lanes[k] == nil {
			s.lanes[k] = &index{}
		}
		s.lanes[k].insert(laneEntry(r))
	}
	if r.CommentID != "" && (!had || old.CommentID != r.CommentID) {
		s.comments[r.CommentID] = append(s.comments[r.CommentID], r.Key)
	}
	if r.MessageID != "" {
		s.messages[r.MessageID] = r.Key
	}
}

// SentMessage reports whether a record holds messageID.
func (s *Store) SentMessage(_ context.Context, messageID string) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.messages[messageID]
	if ok {
		_, ok = s.replies[k] // deleted since
	}
	return ok, nil
}

// unindex takes old out of the due and lane indexes.
func (s *Store) unindex(old reply.Record) {
	if !old.State.Terminal() {
		s.due.remove(dueEntry(old))
	}
	if old.Waiting() {
		k := reply.BucketKey(old.AccountID, old.Lane)
		if x := s.lanes[k]; x != nil {
			x.remove(laneEntry(old))
			if len(x.chunks) == 0 {
				delete(s.lanes, k)
			}
		}
	}
}

func (s *Store) uncomment(commentID, key string) {
	ks := slices.DeleteFunc(s.comments[commentID], func(k string) bool { return k == key })
	if len(ks) == 0 {
		delete(s.comments, commentID)
	} else {
		s.comments[commentID] = ks
	}
}

// Create stores rec (Version 1) unless something is stored under its key.
func (s *Store) Create(_ context.Context, rec reply.Record) (reply.Record, error) {
	if err := checkRecord(rec); err != nil {
		return reply.Record{}, fmt.Errorf("create: %w", err)
	}
	if rec.Version != 1 {
		return reply.Record{}, fmt.Errorf("create %s: version %d, want 1", rec.Key, rec.Version)
	}
	s.lock()
	defer s.mu.Unlock()
	if old, ok := s.replies[rec.Key]; ok {
		return old, fmt.Errorf("create %s: %w (version %d, %s)", rec.Key, reply.ErrExists, old.Version, old.State)
	}
	if k, ok := s.buried(rec.Job); ok {
		return reply.Record{}, fmt.Errorf("create %s: %w (%s)", rec.Key, reply.ErrForgotten, k)
	}
	if owner, ok := s.guards[rec.Funnel]; rec.Funnel != "" && ok && owner != rec.CommentID {
		return reply.Record{}, fmt.Errorf("create %s: funnel %s: %w (comment %s)", rec.Key, rec.Funnel, reply.ErrOtherOwner, owner)
	}
	if rec.Funnel != "" {
		s.guards[rec.Funnel] = rec.CommentID
	}
	s.put(reply.Record{}, false, rec)
	return rec, nil
}

// buried is the tombstone covering job, if any; s.mu is held.
func (s *Store) buried(job reply.Job) (string, bool) {
	for _, k := range []string{reply.AccountTombstoneKey(job.AccountID), reply.PersonTombstoneKey(job.Person())} {
		if t, ok := s.graves[k]; ok && t.Covers(job) {
			return k, true
		}
	}
	return "", false
}

// buriedAt is the tombstone covering what names account and person at at, if any; s.mu is held.
func (s *Store) buriedAt(account, person string, at time.Time) (string, bool) {
	for _, k := range []string{reply.AccountTombstoneKey(account), reply.PersonTombstoneKey(person)} {
		if t, ok := s.graves[k]; ok && t.CoversAt(account, person, at) {
			return k, true
		}
	}
	return "", false
}

// HoldFunnel takes rec.Funnel for rec's comment unless another comment holds it.
func (s *Store) HoldFunnel(_ context.Context, rec reply.Record) error {
	if !strings.HasPrefix(rec.Funnel, "F#") || rec.CommentID == "" {
		return fmt.Errorf("hold funnel %q for comment %q: not a funnel key and comment", rec.Funnel, rec.CommentID)
	}
	s.lock()
	defer s.mu.Unlock()
	if k, ok := s.buried(rec.Job); ok {
		return fmt.Errorf("hold funnel %s: %w (%s)", rec.Funnel, reply.ErrForgotten, k)
	}
	if owner, ok := s.guards[rec.Funnel]; ok && owner != rec.CommentID {
		return fmt.Errorf("hold funnel %s: %w (comment %s)", rec.Funnel, reply.ErrOtherOwner, owner)
	}
	s.guards[rec.Funnel] = rec.CommentID
	return nil
}

// PutTombstone stores t, replacing an earlier one for the same account or person.
func (s *Store) PutTombstone(_ context.Context, t reply.Tombstone) error {
	if (t.AccountID == "") == (t.PersonID == "") || t.At.IsZero() {
		return fmt.Errorf("tombstone: want exactly one of account and person, and a time")
	}
	s.lock()
	defer s.mu.Unlock()
	s.graves[t.Key()] = t
	return nil
}

// Update stores rec if the stored version is rec.Version-1.
func (s *Store) Update(_ context.Context, rec reply.Record) (reply.Record, error) {
	if err := checkRecord(rec); err != nil {
		return reply.Record{}, fmt.Errorf("update: %w", err)
	}
	if rec.Version < 2 {
		return reply.Record{}, fmt.Errorf("update %s: version %d, want 2 or more (Create writes version 1)", rec.Key, rec.Version)
	}
	s.lock()
	defer s.mu.Unlock()
	old, ok := s.replies[rec.Key]
	switch {
	case !ok:
		return reply.Record{}, fmt.Errorf("update %s: %w", rec.Key, reply.ErrNotFound)
	case old.Version != rec.Version-1:
		return old, fmt.Errorf("update %s to version %d: %w (stored version %d, %s)", rec.Key, rec.Version, reply.ErrConflict, old.Version, old.State)
	}
	if old.CommentID != rec.CommentID {
		s.uncomment(old.CommentID, old.Key)
	}
	s.put(old, true, rec)
	return rec, nil
}

// Get is the reply record under key.
func (s *Store) Get(_ context.Context, key string) (reply.Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, ok := s.replies[key]
	if !ok {
		return reply.Record{}, fmt.Errorf("get %s: %w", key, reply.ErrNotFound)
	}
	return r, nil
}

// ByComment is the comment's own record when there is one, else the funnel record it owns.
func (s *Store) ByComment(_ context.Context, commentID string) (reply.Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if r, ok := s.replies[reply.CommentKey(commentID)]; ok {
		return r, nil
	}
	keys := slices.Sorted(slices.Values(s.comments[commentID]))
	for _, k := range keys {
		if r, ok := s.replies[k]; ok && r.CommentID == commentID {
			return r, nil
		}
	}
	return reply.Record{}, fmt.Errorf("find comment %s: %w", commentID, reply.ErrNotFound)
}

// Delete removes the reply record or funnel guard under key; removing nothing is not an error.
func (s *Store) Delete(_ context.Context, key string) error {
	if strings.HasPrefix(key, "F#") {
		s.lock()
		defer s.mu.Unlock()
		delete(s.guards, key)
		return nil
	}
	if !replyKey(key) {
		return fmt.Errorf("delete %s: not a reply record or funnel key", key)
	}
	s.lock()
	defer s.mu.Unlock()
	old, ok := s.replies[key]
	if !ok {
		return nil
	}
	s.unindex(old)
	s.uncomment(old.CommentID, key)
	s.keys.remove(entry{key: key})
	delete(s.replies, key)
	return nil
}

// Due pages through non-terminal records due at or before `before`, ordered by (SweepAt, key).
// The index is kept sorted on every write, so a page costs O(log n + limit).
func (s *Store) Due(_ context.Context, before time.Time, cursor string, limit int) ([]reply.Record, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("due: limit %d, want 1 or more", limit)
	}
	from, err := decodeEntry(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("due: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	recs := make([]reply.Record, 0, min(limit, 1000))
	var last entry
	more := false
	s.due.ascend(from, cursor != "", func(e entry) bool {
		r := s.replies[e.key]
		if r.SweepAt().After(before) {
			return false
		}
		if len(recs) == limit {
			more = true
			return false
		}
		recs = append(recs, r)
		last = e
		return true
	})
	if !more {
		return recs, "", nil
	}
	return recs, encodeEntry(last), nil
}

// Waiting is the head of the account lane's line, ordered by (Deadline, key).
func (s *Store) Waiting(_ context.Context, account string, lane reply.Lane, limit int) ([]reply.Record, error) {
	if limit < 1 {
		return nil, fmt.Errorf("waiting in %s: limit %d, want 1 or more", reply.BucketKey(account, lane), limit)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	x := s.lanes[reply.BucketKey(account, lane)]
	if x == nil {
		return nil, nil
	}
	var recs []reply.Record
	x.ascend(entry{}, false, func(e entry) bool {
		recs = append(recs, s.replies[e.key])
		return len(recs) < limit
	})
	return recs, nil
}

// Scan pages through every reply record, ordered by key.
func (s *Store) Scan(_ context.Context, cursor string, limit int) ([]reply.Record, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("scan: limit %d, want 1 or more", limit)
	}
	from, err := decodeEntry(cursor)
	if err != nil {
		return nil, "", fmt.Errorf("scan: %w", err)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var recs []reply.Record
	var last entry
	more := false
	s.keys.ascend(from, cursor != "", func(e entry) bool {
		if len(recs) == limit {
			more = true
			return false
		}
		recs = append(recs, s.replies[e.key])
		last = e
		return true
	})
	if !more {
		return recs, "", nil
	}
	return recs, encodeEntry(last), nil
}

func encodeEntry(e entry) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(e.at, 10) + " " + e.key))
}

func decodeEntry(cursor string) (entry, error) {
	if cursor == "" {
		return entry{}, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return entry{}, ErrCursor
	}
	at, key, ok := strings.Cut(string(b), " ")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil {
		return entry{}, ErrCursor
	}
	return entry{at: n, key: key}, nil
}

// Bucket is the account's stored bucket for lane, or a zero bucket (Version 0).
func (s *Store) Bucket(_ context.Context, account string, lane reply.Lane) (reply.Bucket, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if b, ok := s.buckets[reply.BucketKey(account, lane)]; ok {
		return b, nil
	}
	return reply.Bucket{AccountID: account, Lane: lane}, nil
}

// BucketsOf is the stored buckets of lanes, in their order.
func (s *Store) BucketsOf(_ context.Context, lanes []reply.AccountLane) ([]reply.Bucket, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]reply.Bucket, len(lanes))
	for i, l := range lanes {
		b, ok := s.buckets[reply.BucketKey(l.AccountID, l.Lane)]
		if !ok {
			b = reply.Bucket{AccountID: l.AccountID, Lane: l.Lane}
		}
		out[i] = b
	}
	return out, nil
}

// SaveBucket stores b if the stored version is b.Version-1.
func (s *Store) SaveBucket(_ context.Context, b reply.Bucket) (reply.Bucket, error) {
	key := reply.BucketKey(b.AccountID, b.Lane)
	if b.AccountID == "" || b.Lane == "" {
		return reply.Bucket{}, fmt.Errorf("save bucket %s: account and lane are required", key)
	}
	if b.Version < 1 {
		return reply.Bucket{}, fmt.Errorf("save bucket %s: version %d, want 1 or more", key, b.Version)
	}
	s.lock()
	defer s.mu.Unlock()
	old, ok := s.buckets[key]
	if !ok {
		old = reply.Bucket{AccountID: b.AccountID, Lane: b.Lane}
	}
	if err := conflict(ok, old.Version, b.Version, "bucket", key); err != nil {
		return old, err
	}
	s.buckets[key] = b
	return b, nil
}

// conflict is the error of a versioned write of version over a stored one (had says whether
// anything is stored), or nil when the write may go ahead.
func conflict(had bool, stored, version int64, noun, id string) error {
	switch {
	case !had && version != 1:
		return fmt.Errorf("save %s %s version %d: %w (%w)", noun, id, version, reply.ErrConflict, reply.ErrNotFound)
	case had && stored != version-1:
		return fmt.Errorf("save %s %s version %d: %w", noun, id, version, reply.ErrConflict)
	}
	return nil
}

// Account is the stored account.
func (s *Store) Account(_ context.Context, id string) (reply.Account, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.accounts[id]
	if !ok {
		return reply.Account{}, fmt.Errorf("account %s: %w", id, reply.ErrNotFound)
	}
	return copyAccount(a), nil
}

// PutAccount stores a if the stored version is a.Version-1.
func (s *Store) PutAccount(_ context.Context, a reply.Account) (reply.Account, error) {
	if a.ID == "" {
		return reply.Account{}, fmt.Errorf("put account: id is required")
	}
	if a.Version < 1 {
		return reply.Account{}, fmt.Errorf("save account %s: version %d, want 1 or more", a.ID, a.Version)
	}
	s.lock()
	defer s.mu.Unlock()
	old, ok := s.accounts[a.ID]
	if err := conflict(ok, old.Version, a.Version, "account", a.ID); err != nil {
		return copyAccount(old), err
	}
	s.accounts[a.ID] = copyAccount(a)
	return a, nil
}

// ListAccounts is every account, ordered by id.
func (s *Store) ListAccounts(context.Context) ([]reply.Account, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ids := slices.Sorted(maps.Keys(s.accounts))
	accounts := make([]reply.Account, 0, len(ids))
	for _, id := range ids {
		accounts = append(accounts, copyAccount(s.accounts[id]))
	}
	return accounts, nil
}

// DeleteAccount removes the account's configuration; removing nothing is not an error.
func (s *Store) DeleteAccount(_ context.Context, id string) error {
	s.lock()
	defer s.mu.Unlock()
	delete(s.accounts, id)
	return nil
}

// copyAccount is a deep copy: Rules and Limits must not be shared with callers.
func copyAccount(a reply.Account) reply.Account {
	a.Limits = maps.Clone(a.Limits)
	if a.Rules != nil {
		rules := make([]reply.Rule, len(a.Rules))
		for i, r := range a.Rules {
			r.Keywords = slices.Clone(r.Keywords)
			r.Exclude = slices.Clone(r.Exclude)
			r.Media = slices.Clone(r.Media)
			r.Kinds = slices.Clone(r.Kinds)
			r.PublicReplies = slices.Clone(r.PublicReplies)
			rules[i] = r
		}
		a.Rules = rules
	}
	return a
}

// PutDeletion stores d if the stored version is d.Version-1.
func (s *Store) PutDeletion(_ context.Context, d reply.Deletion) (reply.Deletion, error) {
	if d.Code == "" {
		return reply.Deletion{}, fmt.Errorf("put deletion: code is required")
	}
	if d.Version < 1 {
		return reply.Deletion{}, fmt.Errorf("save deletion %s: version %d, want 1 or more", d.Code, d.Version)
	}
	s.lock()
	defer s.mu.Unlock()
	old, ok := s.deletions[d.Code]
	if err := conflict(ok, old.Version, d.Version, "deletion", d.Code); err != nil {
		return old, err
	}
	if d.State == reply.DeletionDone {
		d = d.Closed()
	}
	s.deletions[d.Code] = d
	return d, nil
}

// Deletion is the request with the code.
func (s *Store) Deletion(_ context.Context, code string) (reply.Deletion, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, ok := s.deletions[code]
	if !ok {
		return reply.Deletion{}, fmt.Errorf("deletion %s: %w", code, reply.ErrNotFound)
	}
	return d, nil
}

// PendingDeletions lists requests not yet done, ordered by code.
func (s *Store) PendingDeletions(context.Context) ([]reply.Deletion, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ds []reply.Deletion
	for _, code := range slices.Sorted(maps.Keys(s.deletions)) {
		if d := s.deletions[code]; d.State == reply.DeletionPending {
			ds = append(ds, d)
		}
	}
	return ds, nil
}

// entry is a position in an index: a time (nanoseconds) and a key.
type entry struct {
	at  int64
	key string
}

func (e entry) less(o entry) bool {
	if e.at != o.at {
		return e.at < o.at
	}
	return e.key < o.key
}

// index is an ordered set of entries kept as a list of sorted chunks: an insert or remove moves
// at most chunkMax entries, and a seek is two binary searches.
type index struct {
	chunks [][]entry
}

const chunkMax = 512

// find is the chunk that holds e or would: the first whose last entry is not less than e,
// or the last chunk.
func (x *index) find(e entry) int {
	i := sort.Search(len(x.chunks), func(i int) bool {
		c := x.chunks[i]
		return !c[len(c)-1].less(e)
	})
	if i == len(x.chunks) && i > 0 {
		i--
	}
	return i
}

func (x *index) insert(e entry) {
	if len(x.chunks) == 0 {
		x.chunks = [][]entry{{e}}
		return
	}
	ci := x.find(e)
	c := x.chunks[ci]
	j := sort.Search(len(c), func(j int) bool { return !c[j].less(e) })
	if j < len(c) && c[j] == e {
		return
	}
	c = slices.Insert(c, j, e)
	if len(c) <= chunkMax {
		x.chunks[ci] = c
		return
	}
	half := len(c) / 2
	left, right := slices.Clone(c[:half]), slices.Clone(c[half:])
	x.chunks[ci] = left
	x.chunks = slices.Insert(x.chunks, ci+1, right)
}

func (x *index) remove(e entry) {
	if len(x.chunks) == 0 {
		return
	}
	ci := x.find(e)
	c := x.chunks[ci]
	j := sort.Search(len(c), func(j int) bool { return !c[j].less(e) })
	if j == len(c) || c[j] != e {
		return
	}
	c = slices.Delete(c, j, j+1)
	if len(c) == 0 {
		x.chunks = slices.Delete(x.chunks, ci, ci+1)
	} else {
		x.chunks[ci] = c
	}
}

// ascend calls fn on entries in order, starting after `from` when after is set (else at the
// first entry), until fn returns false.
func (x *index) ascend(from entry, after bool, fn func(entry) bool) {
	ci, j := 0, 0
	if after {
		ci = sort.Search(len(x.chunks), func(i int) bool {
			c := x.chunks[i]
			return from.less(c[len(c)-1])
		})
		if ci < len(x.chunks) {
			c := x.chunks[ci]
			j = sort.Search(len(c), func(j int) bool { return from.less(c[j]) })
		}
	}
	for ; ci < len(x.chunks); ci, j = ci+1, 0 {
		for _, e := range x.chunks[ci][j:] {
			if !fn(e) {
				return
			}
		}
	}
}
