package graph_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestMediaPages pages through an account's media: 25 a page, newest first, the last page
// without a cursor.
func TestMediaPages(t *testing.T) {
	e := newEnv(t, time.Second)
	start := e.clock.Now().Add(-30 * time.Hour)
	for i := range 30 {
		e.sb.AddMedia(sandbox.Media{ID: fmt.Sprintf("m%02d", i), AccountID: igID, ProductType: "REELS", CreatedAt: start.Add(time.Duration(i) * time.Hour)})
	}
	e.sb.AddComment(sandbox.Comment{ID: "c", AccountID: igID, MediaID: "m29"})
	ctx := context.Background()
	p1, err := e.c.Media(ctx, igAccount, igToken, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Items) != graph.MediaPageSize || p1.After == "" || p1.Items[0].ID != "m29" || p1.Items[0].CommentsCount != 1 ||
		p1.Items[0].ProductType != "REELS" || !p1.Items[0].CreatedAt.Equal(start.Add(29*time.Hour)) {
		t.Fatalf("first page: %d items, after %q, first %+v", len(p1.Items), p1.After, p1.Items[0])
	}
	p2, err := e.c.Media(ctx, igAccount, igToken, p1.After)
	if err != nil || len(p2.Items) != 5 || p2.After != "" || p2.Items[4].ID != "m00" {
		t.Fatalf("second page: %+v, %v", p2, err)
	}
	if _, err := e.c.Media(ctx, fbAccount, fbToken, ""); err != nil {
		t.Errorf("media of a Facebook Login account: %v", err)
	}
}

// TestComments reads a media's comments with their replies, through the sandbox and from Meta's
// documented answer (times with +0000, replies nested, paging.next with a token that must not
// be followed).
func TestComments(t *testing.T) {
	e := newEnv(t, time.Second)
	t0 := e.clock.Now()
	e.sb.AddComment(sandbox.Comment{ID: "top", AccountID: igID, MediaID: "M", FromID: "p1", FromName: "ana", Text: "RECIPE", CreatedAt: t0.Add(-time.Hour)})
	e.sb.AddComment(sandbox.Comment{ID: "re", AccountID: igID, MediaID: "M", FromID: "p2", FromName: "ben", Text: "me too", ParentID: "top", CreatedAt: t0})
	p, err := e.c.Comments(context.Background(), igAccount, igToken, "M", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := reply.Comment{ID: "top", Text: "RECIPE", FromID: "p1", Username: "ana", CreatedAt: t0.Add(-time.Hour),
		Replies: []reply.Comment{{ID: "re", Text: "me too", FromID: "p2", Username: "ben", ParentID: "top", CreatedAt: t0}}}
	if len(p.Items) != 1 || fmt.Sprint(p.Items[0]) != fmt.Sprint(want) || p.After != "" {
		t.Fatalf("comments %+v, want %+v", p, want)
	}

	body, err := os.ReadFile(filepath.Join("testdata", "answers", "comments_page.json"))
	if err != nil {
		t.Fatal(err)
	}
	var asked string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = r.URL.String()
		w.Header().Set("X-App-Usage", `{"call_count":91,"total_time":3,"total_cputime":2}`)
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	c := graph.New(graph.WithBaseURL(srv.URL))
	p, err = c.Comments(context.Background(), igAccount, igToken, "17895695668004550", "QVFIUkJ", 10)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(asked, "after=QVFIUkJ") || !strings.Contains(asked, "limit=10") || !strings.Contains(asked, "replies%7B") || strings.Contains(asked, igToken) {
		t.Errorf("asked %s", asked)
	}
	first := p.Items[0]
	if len(p.Items) != 2 || p.After != "QVFIUmRn" || p.Usage != 91 || first.FromID != "17841405309211844" ||
		!first.CreatedAt.Equal(time.Date(2026, 3, 1, 18, 10, 30, 0, time.UTC)) || len(first.Replies) != 1 ||
		first.Replies[0].ParentID != first.ID || first.Replies[0].Username != "ben" || p.Items[1].Username != "cleo" {
		t.Errorf("decoded %+v", p)
	}
}

// TestReadErrors: Meta's read limit is a throttle with the time to regain access; a media of
// another account is Meta's 100/33; a bad token is 190.
func TestReadErrors(t *testing.T) {
	e := newEnv(t, time.Second, sandbox.WithReadLimit(reply.Limit{Count: 2, Period: time.Hour}))
	e.sb.AddMedia(sandbox.Media{ID: "F", AccountID: fbID})
	ctx := context.Background()
	_, err := e.c.Comments(ctx, igAccount, igToken, "F", "", 0)
	if reply.Classify(err) != reply.VerdictPermanent || !strings.Contains(err.Error(), "100") {
		t.Errorf("another account's media: %v", err)
	}
	p, err := e.c.Media(ctx, igAccount, igToken, "")
	if err != nil || p.Usage != 100 {
		t.Fatalf("second read: usage %d, %v", p.Usage, err)
	}
	_, err = e.c.Media(ctx, igAccount, igToken, "")
	var ge *reply.GraphError
	if reply.Classify(err) != reply.VerdictThrottled || !errors.As(err, &ge) || ge.Code != 80002 || ge.RetryAfter != time.Hour {
		t.Errorf("over the read limit: %v", err)
	}
	if _, err := e.c.SubscribedApps(ctx, fbAccount, "bad"); reply.Classify(err) != reply.VerdictAuth {
		t.Errorf("bad token: %v", err)
	}
}

// TestSubscribedApps reads every app's subscription, on the account with Instagram Login and on
// the Page with Facebook Login, each app under its own id, before and after Meta unsubscribed
// ours.
func TestSubscribedApps(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := context.Background()
	e.sb.SubscribeOtherApp(igID, "3000000000000003", []string{"messages"})
	for _, a := range []struct {
		acct  reply.Account
		token string
		want  string
	}{
		{igAccount, igToken, "3000000000000003:messages " + sandbox.DefaultAppID + ":comments,live_comments,messages,messaging_postbacks,messaging_reactions,messaging_referral"},
		{fbAccount, fbToken, sandbox.DefaultAppID + ":comments,live_comments,messages,messaging_postbacks,messaging_reactions,messaging_referral"},
	} {
		got, err := e.c.SubscribedApps(ctx, a.acct, a.token)
		if err != nil || apps(got) != a.want {
			t.Errorf("%s: %q, %v; want %q", a.acct.ID, apps(got), err, a.want)
		}
	}
	e.sb.UnsubscribeApp("")
	if got, err := e.c.SubscribedApps(ctx, igAccount, igToken); err != nil || apps(got) != "3000000000000003:messages" {
		t.Errorf("after the unsubscription: %q, %v", apps(got), err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !strings.Contains(strings.Join(e.urls, " "), "/"+pageID+"/subscribed_apps") {
		t.Errorf("Facebook Login did not ask the Page: %v", e.urls)
	}
}

// TestRepliesPages: a comment's nested replies come with the cursor of those that follow when
// Meta nests only a page of them; Replies goes on from it to the oldest, each naming its parent.
func TestRepliesPages(t *testing.T) {
	for _, n := range []int{0, 50, 51, 120} {
		t.Run(fmt.Sprint(n, " replies"), func(t *testing.T) {
			e := newEnv(t, time.Second)
			now := e.clock.Now()
			e.sb.AddComment(sandbox.Comment{ID: "top", AccountID: igID, MediaID: "M", CreatedAt: now.Add(-time.Hour)})
			for i := range n {
				e.sb.AddComment(sandbox.Comment{ID: fmt.Sprintf("r%03d", i), AccountID: igID, MediaID: "M", ParentID: "top", FromID: "p", CreatedAt: now.Add(time.Duration(i-n) * time.Second)})
			}
			ctx := context.Background()
			p, err := e.c.Comments(ctx, igAccount, igToken, "M", "", 0)
			if err != nil || len(p.Items) != 1 {
				t.Fatalf("comments: %+v, %v", p, err)
			}
			top := p.Items[0]
			got := top.Replies
			if (top.RepliesAfter != "") != (n > 50) {
				t.Fatalf("%d nested, RepliesAfter %q", len(got), top.RepliesAfter)
			}
			for after := top.RepliesAfter; after != ""; {
				rp, err := e.c.Replies(ctx, igAccount, igToken, "top", after, 0)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, rp.Items...)
				after = rp.After
			}
			if len(got) != n {
				t.Fatalf("%d replies, want %d", len(got), n)
			}
			for i, r := range got {
				if want := fmt.Sprintf("r%03d", n-1-i); r.ID != want || r.ParentID != "top" || r.FromID != "p" {
					t.Fatalf("reply %d: %+v, want %s under top", i, r, want)
				}
			}
		})
	}
}

func apps(list []reply.SubscribedApp) string {
	var out []string
	for _, a := range list {
		out = append(out, a.ID+":"+strings.Join(a.Fields, ","))
	}
	return strings.Join(out, " ")
}
