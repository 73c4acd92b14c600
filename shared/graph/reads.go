package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// What reconciliation reads (design.md §2, "reading comments"): one page per call, newest first,
// so the caller decides after each page whether to go on and counts every call against its
// budget. Meta's paging.next URL is never followed: it may carry the token in its query.
const (
	mediaFields   = "id,timestamp,media_product_type,comments_count"
	commentFields = "id,text,timestamp,from,username,parent_id"
	// MediaPageSize and CommentPageSize are the `limit` of each page.
	MediaPageSize   = 25
	CommentPageSize = 50
	// metaTime is how Meta writes times: ISO 8601 with a numeric zone and no colon.
	metaTime = "2006-01-02T15:04:05-0700"
)

// page is a Graph listing's envelope.
type page[T any] struct {
	Data   []T `json:"data"`
	Paging struct {
		Cursors struct {
			After string `json:"after"`
		} `json:"cursors"`
		Next string `json:"next"`
	} `json:"paging"`
}

// after is the cursor of the next page, "" on the last one (Meta leaves out next there).
func (p *page[T]) after() string {
	if p.Paging.Next == "" {
		return ""
	}
	return p.Paging.Cursors.After
}

// get makes one GET of a listing and decodes it into out; the usage headers of Meta's answer
// are returned whatever happened.
func (c *Client) get(ctx context.Context, a reply.Account, token string, q url.Values, out any, segs ...string) (int, time.Duration, error) {
	u := c.url(host(a), true, segs...)
	u.RawQuery = q.Encode()
	ans, err := c.do(ctx, request{method: http.MethodGet, u: u, token: token})
	var usage int
	var regain time.Duration
	if ans.header != nil {
		usage, regain = Usage(ans.header)
	}
	if err != nil {
		return usage, regain, err
	}
	if err := json.Unmarshal(ans.body, out); err != nil {
		return usage, regain, fmt.Errorf("decode answer: %w", err)
	}
	return usage, regain, nil
}

func pageQuery(fields string, limit int, after string) url.Values {
	q := url.Values{"fields": {fields}, "limit": {strconv.Itoa(limit)}}
	if after != "" {
		q.Set("after", after)
	}
	return q
}

// parseTime reads one of Meta's times; a missing or unreadable one is zero.
func parseTime(s string) time.Time {
	for _, layout := range []string{metaTime, time.RFC3339} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// Media is one page of the account's posts and reels, newest first: GET /{ig-id}/media.
func (c *Client) Media(ctx context.Context, a reply.Account, token, after string) (reply.Page[reply.Media], error) {
	var p page[struct {
		ID            string `json:"id"`
		Timestamp     string `json:"timestamp"`
		ProductType   string `json:"media_product_type"`
		CommentsCount int    `json:"comments_count"`
	}]
	usage, regain, err := c.get(ctx, a, token, pageQuery(mediaFields, MediaPageSize, after), &p, a.ID, "media")
	out := reply.Page[reply.Media]{Usage: usage, RegainAfter: regain}
	if err != nil {
		return out, fmt.Errorf("media of account %s: %w", a.ID, err)
	}
	for _, m := range p.Data {
		out.Items = append(out.Items, reply.Media{ID: m.ID, ProductType: m.ProductType, CommentsCount: m.CommentsCount, CreatedAt: parseTime(m.Timestamp)})
	}
	out.After = p.after()
	return out, nil
}

// comment is a comment as Meta answers it.
type comment struct {
	ID        string `json:"id"`
	Text      string `json:"text"`
	Timestamp string `json:"timestamp"`
	Username  string `json:"username"`
	ParentID  string `json:"parent_id"`
	From      struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"from"`
	Replies *page[comment] `json:"replies"`
}

func (m comment) domain() reply.Comment {
	c := reply.Comment{ID: m.ID, Text: m.Text, FromID: m.From.ID, Username: m.From.Username, ParentID: m.ParentID, CreatedAt: parseTime(m.Timestamp)}
	if c.Username == "" {
		c.Username = m.Username
	}
	if m.Replies != nil {
		for _, r := range m.Replies.Data {
			c.Replies = append(c.Replies, r.reply(c.ID))
		}
		c.RepliesAfter = m.Replies.after()
	}
	return c
}

// reply is a reply to the comment parent as Meta answers it.
func (m comment) reply(parent string) reply.Comment {
	rc := m.domain()
	if rc.ParentID == "" {
		rc.ParentID = parent
	}
	return rc
}

// Comments is one page of a media's (or a broadcast's) top-level comments, newest first, each
// with the replies made to it: GET /{media-id}/comments with replies{...} expanded. A page holds
// up to limit of them (CommentPageSize when 0 or more).
func (c *Client) Comments(ctx context.Context, a reply.Account, token, mediaID, after string, limit int) (reply.Page[reply.Comment], error) {
	out, err := c.comments(ctx, a, token, commentFields+",replies{"+commentFields+"}", "", after, limit, mediaID, "comments")
	if err != nil {
		return out, fmt.Errorf("comments of media %s: %w", mediaID, err)
	}
	return out, nil
}

// Replies is one page of the replies to a top-level comment, newest first: GET
// /{comment-id}/replies, going on from Comment.RepliesAfter. A page holds up to limit of them
// (CommentPageSize when 0 or more).
func (c *Client) Replies(ctx context.Context, a reply.Account, token, commentID, after string, limit int) (reply.Page[reply.Comment], error) {
	out, err := c.comments(ctx, a, token, commentFields, commentID, after, limit, commentID, "replies")
	if err != nil {
		return out, fmt.Errorf("replies of comment %s: %w", commentID, err)
	}
	return out, nil
}

// comments reads one page of comments at segs; parent, when set, is the comment they reply to.
func (c *Client) comments(ctx context.Context, a reply.Account, token, fields, parent, after string, limit int, segs ...string) (reply.Page[reply.Comment], error) {
	var p page[comment]
	if limit <= 0 || limit > CommentPageSize {
		limit = CommentPageSize
	}
	usage, regain, err := c.get(ctx, a, token, pageQuery(fields, limit, after), &p, segs...)
	out := reply.Page[reply.Comment]{Usage: usage, RegainAfter: regain}
	if err != nil {
		return out, err
	}
	for _, m := range p.Data {
		if parent != "" {
			out.Items = append(out.Items, m.reply(parent))
		} else {
			out.Items = append(out.Items, m.domain())
		}
	}
	out.After = p.after()
	return out, nil
}

// SubscribedApps is every app subscribed to the account's webhooks, each with its id and fields
// (none once Meta unsubscribed them all): GET /{ig-id}/subscribed_apps with Instagram Login, the
// Page's with Facebook Login, every page of it (Meta pages the list, so our app may be on a
// later one), at most maxAppPages. Meta lists other tools' apps too: which entry is ours is for
// the caller to tell by the app id.
func (c *Client) SubscribedApps(ctx context.Context, a reply.Account, token string) ([]reply.SubscribedApp, error) {
	var out []reply.SubscribedApp
	after := ""
	for n := 1; n <= maxAppPages; n++ {
		var p page[reply.SubscribedApp]
		q := url.Values{"fields": {"id,name,subscribed_fields"}}
		if after != "" {
			q.Set("after", after)
		}
		if _, _, err := c.get(ctx, a, token, q, &p, a.SenderID(), "subscribed_apps"); err != nil {
			return nil, fmt.Errorf("subscribed apps of account %s (page %d): %w", a.ID, n, err)
		}
		out = append(out, p.Data...)
		if after = p.after(); after == "" {
			return out, nil
		}
	}
	return nil, fmt.Errorf("subscribed apps of account %s: more than %d pages: Meta's paging does not end", a.ID, maxAppPages)
}

// maxAppPages bounds the pages of subscribed_apps read: an account has a handful of apps, so a
// list that goes on is Meta's paging going round.
const maxAppPages = 20
