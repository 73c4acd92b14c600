package sandbox_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestCursorsExpire: a paging cursor is honoured for the cursor lifetime; an older one is Meta's
// 400 with code 2642 ("Invalid cursors values"), which the client classifies as permanent. The
// listing itself, started over, answers as before.
func TestCursorsExpire(t *testing.T) {
	tests := []struct {
		name   string
		opts   []sandbox.Option
		wait   time.Duration
		status int
		code   int
	}{
		{name: "fresh", wait: time.Minute, status: 200},
		{name: "at the default lifetime", wait: sandbox.DefaultCursorLifetime, status: 200},
		{name: "past the default lifetime", wait: sandbox.DefaultCursorLifetime + time.Second, status: 400, code: 2642},
		{name: "a shorter lifetime", opts: []sandbox.Option{sandbox.WithCursorLifetime(30 * time.Second)}, wait: time.Minute, status: 400, code: 2642},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts...)
			for i := range 5 {
				e.sb.AddComment(sandbox.Comment{ID: fmt.Sprintf("c%d", i), AccountID: igID, MediaID: "M", CreatedAt: t0.Add(time.Duration(i-10) * time.Second)})
			}
			_, first, _ := e.get(t, "M/comments", url.Values{"limit": {"2"}})
			e.clock.Add(tt.wait)
			status, l, _ := e.get(t, "M/comments", url.Values{"limit": {"2"}, "after": {first.Paging.Cursors.After}})
			if status != tt.status || l.Error.Code != tt.code {
				t.Fatalf("HTTP %d %+v, want %d code %d", status, l.Error, tt.status, tt.code)
			}
			if tt.code != 0 {
				if !strings.Contains(l.Error.Message, "Invalid cursors values") {
					t.Errorf("message %q", l.Error.Message)
				}
				ge := &reply.GraphError{Status: status, Code: l.Error.Code}
				if v := reply.Classify(ge); v != reply.VerdictPermanent {
					t.Errorf("verdict %v, want permanent", v)
				}
				if _, again, _ := e.get(t, "M/comments", url.Values{"limit": {"2"}}); ids(again) != "c4,c3" {
					t.Errorf("started over: %s", ids(again))
				}
				return
			}
			if ids(l) != "c2,c1" {
				t.Errorf("second page %s", ids(l))
			}
		})
	}
}

// TestNestedRepliesPage: a comment with more than 50 replies carries the newest 50 nested, with
// paging; GET /{comment-id}/replies continues from the nested cursor to the oldest, newest first.
// A comment with fewer has no next page.
func TestNestedRepliesPage(t *testing.T) {
	for _, n := range []int{3, 50, 51, 130} {
		t.Run(fmt.Sprint(n, " replies"), func(t *testing.T) {
			e := newEnv(t)
			e.sb.AddComment(sandbox.Comment{ID: "top", AccountID: igID, MediaID: "M", CreatedAt: t0.Add(-time.Hour)})
			var want []string
			for i := range n {
				id := fmt.Sprintf("r%03d", i)
				e.sb.AddComment(sandbox.Comment{ID: id, AccountID: igID, MediaID: "M", ParentID: "top", CreatedAt: t0.Add(time.Duration(i-n) * time.Second)})
				want = append([]string{id}, want...)
			}
			e.sb.AddComment(sandbox.Comment{ID: "hidden", AccountID: igID, MediaID: "M", ParentID: "top", Hidden: true, CreatedAt: t0.Add(-time.Second)})
			status, l, _ := e.get(t, "M/comments", url.Values{"fields": {"id,replies{id,parent_id}"}})
			if status != 200 || ids(l) != "top" {
				t.Fatalf("HTTP %d, ids %s", status, ids(l))
			}
			nested := l.Data[0]["replies"].(map[string]any)
			var got []string
			for _, r := range nested["data"].([]any) {
				got = append(got, r.(map[string]any)["id"].(string))
			}
			if len(got) != min(n, 50) {
				t.Fatalf("%d nested replies, want %d", len(got), min(n, 50))
			}
			paging, _ := nested["paging"].(map[string]any)
			next, _ := paging["next"].(string)
			if (next != "") != (n > 50) {
				t.Fatalf("nested paging %v with %d replies", paging, n)
			}
			after, _ := paging["cursors"].(map[string]any)["after"].(string)
			if n > 50 && !strings.Contains(next, "/top/replies") {
				t.Errorf("next %q is not the comment's replies", next)
			}
			for after != "" && next != "" {
				status, page, _ := e.get(t, "top/replies", url.Values{"fields": {"id,parent_id"}, "limit": {"25"}, "after": {after}})
				if status != 200 {
					t.Fatalf("replies page: HTTP %d %+v", status, page.Error)
				}
				for _, r := range page.Data {
					if r["parent_id"] != "top" {
						t.Errorf("reply %v", r)
					}
					got = append(got, r["id"].(string))
				}
				after, next = page.Paging.Cursors.After, page.Paging.Next
			}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("replies\n%s\nwant\n%s", strings.Join(got, ","), strings.Join(want, ","))
			}
		})
	}
	t.Run("replies of a comment Meta does not know", func(t *testing.T) {
		e := newEnv(t)
		if status, l, _ := e.get(t, "nope/replies", nil); status != 400 || l.Error.Code != 100 {
			t.Errorf("HTTP %d %+v", status, l.Error)
		}
	})
}
