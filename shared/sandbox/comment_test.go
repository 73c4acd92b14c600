package sandbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestCommentLookup: GET /{comment-id}?fields=media,from,timestamp answers what Meta knows of a
// comment on the account's media, and "does not exist" for a deleted one or another account's.
func TestCommentLookup(t *testing.T) {
	e := newEnv(t, sandbox.WithUnknownComments(false))
	made := t0.Add(-3 * time.Hour)
	e.sb.AddComment(sandbox.Comment{ID: comment, AccountID: igID, MediaID: "18000000000000001", FromID: "6200000000000001", FromName: "bea", CreatedAt: made})
	e.sb.AddComment(sandbox.Comment{ID: "17900000000000002", AccountID: igID, CreatedAt: made, Deleted: true})
	e.sb.AddComment(sandbox.Comment{ID: "17900000000000003", AccountID: fbID, CreatedAt: made})
	got, err := e.c.Comment(context.Background(), igAccount, igToken, comment)
	if err != nil {
		t.Fatal(err)
	}
	want := reply.CommentInfo{MediaID: "18000000000000001", FromID: "6200000000000001", FromUsername: "bea", CreatedAt: made}
	if got != want {
		t.Fatalf("comment %+v, want %+v", got, want)
	}
	for _, id := range []string{"17900000000000002", "17900000000000003", "17900000000000404"} {
		_, err := e.c.Comment(context.Background(), igAccount, igToken, id)
		if code := outcome(t, err); code != "100/33" {
			t.Errorf("comment %s: %s, want 100/33", id, code)
		}
		if v := reply.Classify(err); v != reply.VerdictPermanent {
			t.Errorf("comment %s: verdict %v, want permanent", id, v)
		}
	}
}

// TestSecondReplyCode: the mode in which Meta answers a second private reply with its generic
// code 2 (retryable, as a peer saw) instead of 100/2534025.
func TestSecondReplyCode(t *testing.T) {
	e := newEnv(t, sandbox.WithSecondReplyCode(2))
	if got := e.send(t, igAccount, igToken, comment); got != "ok" {
		t.Fatalf("first reply: %s", got)
	}
	_, err := e.c.PrivateReply(context.Background(), igAccount, igToken, comment, reply.Message{Text: "again"})
	if code := outcome(t, err); code != "2" {
		t.Fatalf("second reply: %s, want 2", code)
	}
	if v := reply.Classify(err); v == reply.VerdictAlreadyReplied || v == reply.VerdictSent {
		t.Fatalf("second reply classified %v: the replier would learn it arrived", v)
	}
	if n := e.sb.Delivered(comment); n != 1 {
		t.Fatalf("%d deliveries, want 1", n)
	}
}

// TestBroadcastEndsOnTime: a broadcast set to end at a time is over for every call that arrives
// later, whether or not anyone ended it meanwhile.
func TestBroadcastEndsOnTime(t *testing.T) {
	e := newEnv(t)
	e.sb.StartBroadcast(igID, "L1")
	e.sb.EndBroadcastAt("L1", t0.Add(time.Minute))
	e.sb.AddComment(sandbox.Comment{ID: "live-a", AccountID: igID, MediaID: "L1", Live: true, CreatedAt: t0})
	e.sb.AddComment(sandbox.Comment{ID: "live-b", AccountID: igID, MediaID: "L1", Live: true, CreatedAt: t0})
	if got := e.send(t, igAccount, igToken, "live-a"); got != "ok" {
		t.Fatalf("before the end: %s", got)
	}
	e.clock.Add(time.Minute)
	if got := e.send(t, igAccount, igToken, "live-b"); got != "10/2534022" {
		t.Fatalf("at the end: %s, want 10/2534022", got)
	}
}

// TestCommentLookupWithoutMedia: told to, per comment or per account, the lookup answers the
// comment without `media` (the rest as usual), as Meta's answer sometimes comes.
func TestCommentLookupWithoutMedia(t *testing.T) {
	made := t0.Add(-time.Hour)
	tests := []struct {
		name      string
		set       func(sb *sandbox.Sandbox)
		wantMedia map[string]string // by comment
	}{
		{"as usual", func(*sandbox.Sandbox) {}, map[string]string{"17900000000000011": "M1", "17900000000000012": "M1"}},
		{"one comment", func(sb *sandbox.Sandbox) { sb.SetCommentLookupWithoutMedia("17900000000000011", true) },
			map[string]string{"17900000000000011": "", "17900000000000012": "M1"}},
		{"the whole account", func(sb *sandbox.Sandbox) { sb.SetLookupWithoutMedia(igID, true) },
			map[string]string{"17900000000000011": "", "17900000000000012": ""}},
		{"the account's switch off again", func(sb *sandbox.Sandbox) {
			sb.SetLookupWithoutMedia(igID, true)
			sb.SetLookupWithoutMedia(igID, false)
		}, map[string]string{"17900000000000011": "M1", "17900000000000012": "M1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			for id := range tt.wantMedia {
				e.sb.AddComment(sandbox.Comment{ID: id, AccountID: igID, MediaID: "M1", FromID: "6200000000000001", FromName: "bea", CreatedAt: made})
			}
			tt.set(e.sb)
			for id, media := range tt.wantMedia {
				got, err := e.c.Comment(context.Background(), igAccount, igToken, id)
				if err != nil {
					t.Fatal(err)
				}
				want := reply.CommentInfo{MediaID: media, FromID: "6200000000000001", FromUsername: "bea", CreatedAt: made}
				if got != want {
					t.Errorf("comment %s: %+v, want %+v", id, got, want)
				}
			}
		})
	}
}
