package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// testOpenDeletion: one request per code, and one pending request per subject; once that one is
// done the subject may ask again, and the done one keeps only what its status page shows.
func testOpenDeletion(t *testing.T, s reply.Store) {
	open := func(code, kind, user string) (reply.Deletion, error) {
		return s.OpenDeletion(ctx(t), reply.Deletion{Code: code, Kind: kind, UserID: user, State: reply.DeletionPending, RequestedAt: T0, Version: 1})
	}
	first, err := open("aaaa0000000000000001", reply.DeletionUser, "26000000000000001")
	if err != nil {
		t.Fatal(err)
	}
	// The same code again, and another code for the same user while the first is pending.
	for _, code := range []string{"aaaa0000000000000001", "aaaa0000000000000002"} {
		got, err := open(code, reply.DeletionUser, "26000000000000001")
		if !errors.Is(err, reply.ErrExists) || got.Code != first.Code {
			t.Errorf("open %s: %+v, %v; want the pending %s and ErrExists", code, got, err, first.Code)
		}
	}
	// Another subject, and the same id as a person (another kind): requests of their own.
	if _, err := open("aaaa0000000000000003", reply.DeletionUser, "26000000000000002"); err != nil {
		t.Errorf("another user: %v", err)
	}
	if _, err := open("aaaa0000000000000004", reply.DeletionPerson, "26000000000000001"); err != nil {
		t.Errorf("the same id as a person: %v", err)
	}
	if _, err := s.Deletion(ctx(t), "aaaa0000000000000002"); !errors.Is(err, reply.ErrNotFound) {
		t.Errorf("the refused request was stored: %v", err)
	}
	pending, err := s.PendingDeletions(ctx(t))
	if err != nil || len(pending) != 3 {
		t.Errorf("pending %d, %v; want 3", len(pending), err)
	}
	// Done: it keeps only what its status page shows, and the user may ask again.
	done := first
	done.Accounts, done.Cursor = []string{"17841400000000001"}, "somewhere"
	done.State, done.DoneAt, done.Removed, done.Version = reply.DeletionDone, T0.Add(time.Minute), 4, 2
	stored, err := s.PutDeletion(ctx(t), done)
	if err != nil {
		t.Fatal(err)
	}
	read, err := s.Deletion(ctx(t), first.Code)
	for _, d := range []reply.Deletion{stored, read} {
		if err != nil || d.UserID != "" || d.Accounts != nil || d.Cursor != "" || d.State != reply.DeletionDone || d.Removed != 4 || !d.DoneAt.Equal(T0.Add(time.Minute)) {
			t.Errorf("done request %+v, %v; want it closed", d, err)
		}
	}
	again, err := open("aaaa0000000000000005", reply.DeletionUser, "26000000000000001")
	if err != nil || again.Code != "aaaa0000000000000005" {
		t.Errorf("open after done: %+v, %v", again, err)
	}
	for _, bad := range []reply.Deletion{
		{Code: "", UserID: "u", State: reply.DeletionPending, Version: 1},
		{Code: "c", UserID: "", State: reply.DeletionPending, Version: 1},
		{Code: "c", UserID: "u", State: reply.DeletionDone, Version: 1},
		{Code: "c", UserID: "u", State: reply.DeletionPending, Version: 2},
	} {
		if _, err := s.OpenDeletion(ctx(t), bad); err == nil || errors.Is(err, reply.ErrExists) {
			t.Errorf("open %+v: %v, want refused", bad, err)
		}
	}
}

// testDeleteBucket: a bucket is gone after DeleteBucket, the other lane's stays, and deleting
// none is no error.
func testDeleteBucket(t *testing.T, s reply.Store) {
	for _, lane := range reply.Lanes {
		if _, err := s.SaveBucket(ctx(t), reply.Bucket{AccountID: "17841400000000001", Lane: lane, TAT: T0, Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteBucket(ctx(t), "17841400000000001", reply.LanePosts); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Bucket(ctx(t), "17841400000000001", reply.LanePosts); err != nil || b.Version != 0 {
		t.Errorf("posts bucket after delete: %+v, %v", b, err)
	}
	if b, err := s.Bucket(ctx(t), "17841400000000001", reply.LaneLive); err != nil || b.Version != 1 {
		t.Errorf("live bucket: %+v, %v", b, err)
	}
	if err := s.DeleteBucket(ctx(t), "17841499999999999", reply.LaneLive); err != nil {
		t.Errorf("deleting nothing: %v", err)
	}
}
