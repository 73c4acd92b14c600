package sandbox

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// The rules of Meta's reads, as the sandbox serves them:
//
//   - Nothing made after the sandbox's now is listed or counted (a simulation adds its comments
//     ahead of time).
//   - GET /{ig-id}/media lists the account's posts and reels (not its broadcasts), newest first;
//     GET /{ig-id}/live_media its broadcasts on air.
//   - GET /{media-id}/comments lists a media's (or a broadcast's) top-level comments, newest
//     first; hidden and deleted ones are left out, and so are comments on the ads that promote
//     it (Meta: non-organic comments are not supported). A top-level comment's replies come nested
//     when `replies{...}` is among the fields: the newest maxNestedReplies of them, newest first.
//     A reply whose parent is not a listed top-level comment of the media is listed as a
//     top-level one.
//     A broadcast's comments stay readable after it ends. comments_count counts every comment
//     not deleted, replies included.
//   - Only the fields asked for are answered (Meta's defaults otherwise: id for media, id, text
//     and timestamp for comments); an unknown field is 100. Times are Meta's
//     "2006-01-02T15:04:05+0000".
//   - Pages hold `limit` items (default 25, at most 100) and carry paging.cursors.before/after
//     and, when more follow, paging.next; `after` continues after a cursor (a cursor the sandbox
//     did not hand out is 100). Meta's cursors are not to be stored ("your app shouldn't store
//     cursors or assume that they will be valid in the future"): one older than the cursor
//     lifetime (WithCursorLifetime, DefaultCursorLifetime) is refused with 400 and code 2642,
//     "Invalid cursors values", the answer peers report for cursors Meta no longer honours.
//   - A top-level comment with more than maxNestedReplies replies carries paging (cursors and
//     next) in its nested `replies`; GET /{comment-id}/replies lists them all, newest first,
//     paged like the other listings, with the same fields as a comment.
//   - Every read counts against the account's rolling read limit (WithReadLimit) and answers
//     X-Business-Use-Case-Usage with the share used; beyond the limit Meta answers 80002 with
//     estimated_time_to_regain_access.
const (
	defaultPageSize  = 25
	maxPageSize      = 100
	maxNestedReplies = 50
)

// DefaultCursorLifetime is how long a paging cursor the sandbox handed out is honoured.
const DefaultCursorLifetime = 10 * time.Minute

// WithCursorLifetime sets how long a paging cursor is honoured (DefaultCursorLifetime); older
// ones are refused with 2642.
func WithCursorLifetime(d time.Duration) Option { return func(s *Sandbox) { s.cursorLife = d } }

func isRead(op Op) bool {
	return op == OpMedia || op == OpComments || op == OpLiveMedia || op == OpSubscribed || op == OpReplies
}

var (
	mediaFields   = fieldSet{"id": nil, "timestamp": nil, "media_product_type": nil, "comments_count": nil}
	commentFields = fieldSet{"id": nil, "text": nil, "timestamp": nil, "username": nil, "from": nil,
		"parent_id": nil, "hidden": nil, "replies": nil}
	liveFields = fieldSet{"id": nil, "timestamp": nil, "media_product_type": nil}
	appFields  = fieldSet{"id": nil, "name": nil, "subscribed_fields": nil}
)

// read answers a Graph read once the account's read limit admits it; s.mu is held.
func (s *Sandbox) read(a *account, rq request, now time.Time) result {
	asked, err := parseFields(rq.sel)
	if err != nil {
		return errParam("Syntax error in fields: " + err.Error())
	}
	limit := defaultPageSize
	if rq.limit != "" {
		n, err := strconv.Atoi(rq.limit)
		if err != nil || n < 1 {
			return errParam("Param limit must be a positive integer")
		}
		limit = min(n, maxPageSize)
	}
	ok, used, regain := s.admitRead(a, now)
	usage := usageOf(a.id, "instagram", used, s.readLimit, regain)
	if !ok {
		res := refuse(400, 80002, 0, "OAuthException", "(#80002) There have been too many calls to this Instagram account. Wait a bit and try again.")
		res.usage = usage
		return res
	}
	var res result
	switch rq.op {
	case OpMedia:
		res = s.listMedia(a, rq, asked, limit, now)
	case OpComments:
		res = s.listComments(a, rq, asked, limit, now)
	case OpLiveMedia:
		res = s.listLive(a, rq, asked, limit, now)
	case OpSubscribed:
		res = s.listApps(a, rq, asked, limit, now)
	case OpReplies:
		res = s.listReplies(a, rq, asked, limit, now)
	}
	res.usage = usage
	return res
}

// admitRead applies the account's rolling read limit at now, like admit for private replies.
func (s *Sandbox) admitRead(a *account, now time.Time) (ok bool, used int, regain time.Duration) {
	lim := s.readLimit
	from := now.Add(-lim.Period)
	i := 0
	for i < len(a.reads) && !a.reads[i].After(from) {
		i++
	}
	a.reads = a.reads[i:]
	if len(a.reads) >= lim.Count {
		return false, len(a.reads), a.reads[0].Add(lim.Period).Sub(now)
	}
	a.reads = append(a.reads, now)
	return true, len(a.reads), 0
}

func (s *Sandbox) listMedia(a *account, rq request, asked fieldSet, limit int, now time.Time) result {
	if rq.objectID != a.id && rq.objectID != "me" {
		return errNoObject(rq.objectID)
	}
	sel, bad := asked.or(mediaFields, "id")
	if bad != "" {
		return errField(bad, "Media")
	}
	var items []item
	for _, m := range s.media {
		if m.AccountID != a.id || m.CreatedAt.After(now) {
			continue
		}
		items = append(items, item{at: m.CreatedAt, id: m.ID, v: sel.pick(map[string]any{
			"id": m.ID, "timestamp": m.CreatedAt.UTC().Format(metaTime), "media_product_type": m.ProductType,
			"comments_count": s.countLocked(m.ID, now),
		})})
	}
	return s.pageOf(items, rq, limit, now)
}

func (s *Sandbox) listLive(a *account, rq request, asked fieldSet, limit int, now time.Time) result {
	if rq.objectID != a.id {
		return errNoObject(rq.objectID)
	}
	sel, bad := asked.or(liveFields, "id", "media_product_type")
	if bad != "" {
		return errField(bad, "Media")
	}
	var items []item
	for _, id := range s.liveLocked(a.id, now) {
		b := s.broadcasts[id]
		items = append(items, item{at: b.started, id: id, v: sel.pick(map[string]any{
			"id": id, "timestamp": b.started.UTC().Format(metaTime), "media_product_type": "LIVE",
		})})
	}
	return s.pageOf(items, rq, limit, now)
}

// listApps pages the apps subscribed to the account, as Meta does (by app id, `limit` a page):
// a caller reading only the first page misses the apps further on.
func (s *Sandbox) listApps(a *account, rq request, asked fieldSet, limit int, now time.Time) result {
	if rq.objectID != "me" && rq.objectID != a.id && rq.objectID != a.senderID() {
		return errNoObject(rq.objectID)
	}
	sel, bad := asked.or(appFields, "id", "name", "subscribed_fields")
	if bad != "" {
		return errField(bad, "Application")
	}
	var items []item
	for _, app := range s.appsLocked(a) {
		items = append(items, item{at: time.Unix(0, 0), id: app["id"].(string), v: sel.pick(app)}) // ordered by id alone
	}
	return s.pageOf(items, rq, limit, now)
}

func (s *Sandbox) listComments(a *account, rq request, asked fieldSet, limit int, now time.Time) result {
	owner := ""
	if m, ok := s.media[rq.objectID]; ok {
		owner = m.AccountID
	} else if b, ok := s.broadcasts[rq.objectID]; ok {
		owner = b.account
		if owner == "" {
			owner = a.id
		}
	}
	if owner != a.id {
		return errNoObject(rq.objectID)
	}
	sel, bad := asked.or(commentFields, "id", "text", "timestamp")
	if bad != "" {
		return errField(bad, "IGComment")
	}
	var nested fieldSet
	if sub, ok := sel["replies"]; ok {
		if nested, bad = sub.or(commentFields, "id", "text", "timestamp"); bad != "" {
			return errField(bad, "IGComment")
		}
		delete(nested, "replies")
	}
	visible := func(c *comment) bool { return !c.Deleted && !c.Hidden && !c.Ad && !c.CreatedAt.After(now) }
	list := s.byMedia[rq.objectID]
	top := map[string]bool{}
	for _, c := range list {
		if c.ParentID == "" && visible(c) {
			top[c.ID] = true
		}
	}
	replies := map[string][]*comment{}
	var items []item
	for _, c := range list {
		switch {
		case !visible(c):
		case c.ParentID != "" && top[c.ParentID]:
			replies[c.ParentID] = append(replies[c.ParentID], c)
		default:
			items = append(items, item{at: c.CreatedAt, id: c.ID})
		}
	}
	for i := range items {
		c := s.comments[items[i].id]
		v := commentJSON(c, sel)
		if nested != nil {
			var rs []item
			for _, r := range replies[c.ID] {
				rs = append(rs, item{at: r.CreatedAt, id: r.ID, v: commentJSON(r, nested)})
			}
			// The first maxNestedReplies, with the paging of GET /{comment-id}/replies.
			first := rq
			first.after, first.url = "", repliesURL(rq.url, c.ID)
			v["replies"] = s.pageOf(rs, first, maxNestedReplies, now).body
		}
		items[i].v = v
	}
	return s.pageOf(items, rq, limit, now)
}

// repliesURL is the address of GET /{comment-id}/replies on the host and version of u.
func repliesURL(u url.URL, commentID string) url.URL {
	segs := strings.Split(strings.Trim(u.Path, "/"), "/")
	prefix := ""
	if len(segs) > 0 && strings.HasPrefix(segs[0], "v") && strings.Contains(segs[0], ".") {
		prefix = "/" + segs[0]
	}
	u.Path = prefix + "/" + commentID + "/replies"
	q := url.Values{"limit": {strconv.Itoa(maxNestedReplies)}}
	u.RawQuery = q.Encode()
	return u
}

// listReplies answers GET /{comment-id}/replies: the replies to a top-level comment of one of the
// account's media, newest first; hidden and deleted ones left out.
func (s *Sandbox) listReplies(a *account, rq request, asked fieldSet, limit int, now time.Time) result {
	c, ok := s.comments[rq.objectID]
	if !ok || c.AccountID != a.id || c.Deleted || c.CreatedAt.After(now) {
		return errNoObject(rq.objectID)
	}
	sel, bad := asked.or(commentFields, "id", "text", "timestamp")
	if bad != "" {
		return errField(bad, "IGComment")
	}
	delete(sel, "replies")
	var items []item
	for _, r := range s.byMedia[c.MediaID] {
		if r.ParentID == c.ID && !r.Deleted && !r.Hidden && !r.Ad && !r.CreatedAt.After(now) {
			items = append(items, item{at: r.CreatedAt, id: r.ID, v: commentJSON(r, sel)})
		}
	}
	return s.pageOf(items, rq, limit, now)
}

func commentJSON(c *comment, sel fieldSet) map[string]any {
	v := map[string]any{
		"id": c.ID, "text": c.Text, "timestamp": c.CreatedAt.UTC().Format(metaTime), "hidden": c.Hidden,
		"username": c.FromName, "from": map[string]string{"id": c.FromID, "username": c.FromName},
	}
	if c.ParentID != "" {
		v["parent_id"] = c.ParentID
	}
	return sel.pick(v)
}

// countLocked is Meta's comments_count of a media at now: every organic comment made and not
// deleted, replies included.
func (s *Sandbox) countLocked(mediaID string, now time.Time) int {
	n := 0
	for _, c := range s.byMedia[mediaID] {
		if !c.Deleted && !c.Ad && !c.CreatedAt.After(now) {
			n++
		}
	}
	return n
}

func errField(name, node string) result {
	return errParam(fmt.Sprintf("Tried accessing nonexisting field (%s) on node type (%s)", name, node))
}

// item is one entry of a listing: its place in the newest-first order and its JSON.
type item struct {
	at time.Time
	id string
	v  map[string]any
}

func newer(at time.Time, id string, than time.Time, thanID string) bool {
	if !at.Equal(than) {
		return at.After(than)
	}
	return id > thanID
}

// cursorOf is the cursor of an item, handed out at now: where it points and when it was made.
func cursorOf(it item, now time.Time) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(it.at.UnixNano(), 10) + ":" + it.id + ":" + strconv.FormatInt(now.UnixNano(), 10)))
}

func parseCursor(c string) (at time.Time, id string, made time.Time, ok bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", time.Time{}, false
	}
	parts := strings.Split(string(b), ":")
	if len(parts) != 3 || parts[1] == "" {
		return time.Time{}, "", time.Time{}, false
	}
	n, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return time.Time{}, "", time.Time{}, false
	}
	return time.Unix(0, n), parts[1], time.Unix(0, m), true
}

// errCursorExpired is Meta's answer to a cursor it no longer honours.
func errCursorExpired() result {
	return refuse(400, 2642, 0, "OAuthException", "(#2642) Invalid cursors values")
}

// pageOf is Meta's answer for one page of items at now: newest first, from after the request's
// cursor, which must not be older than the cursor lifetime.
func (s *Sandbox) pageOf(items []item, rq request, limit int, now time.Time) result {
	sort.Slice(items, func(i, j int) bool { return newer(items[i].at, items[i].id, items[j].at, items[j].id) })
	start := 0
	if rq.after != "" {
		at, id, made, ok := parseCursor(rq.after)
		switch {
		case !ok:
			return errParam("Invalid cursor: after")
		case now.Sub(made) > s.cursorLife:
			return errCursorExpired()
		}
		for start < len(items) && !newer(at, id, items[start].at, items[start].id) {
			start++
		}
	}
	end := min(start+limit, len(items))
	data := make([]any, 0, end-start)
	for _, it := range items[start:end] {
		data = append(data, it.v)
	}
	body := map[string]any{"data": data}
	if end > start {
		paging := map[string]any{"cursors": map[string]string{"before": cursorOf(items[start], now), "after": cursorOf(items[end-1], now)}}
		if end < len(items) {
			next := rq.url
			q := next.Query()
			q.Set("after", cursorOf(items[end-1], now))
			next.RawQuery = q.Encode()
			paging["next"] = next.String()
		}
		body["paging"] = paging
	}
	return result{status: 200, body: body}
}

// fieldSet is a parsed `fields` parameter: field names, each with its nested fields (nil when
// none were given).
type fieldSet map[string]fieldSet

// parseFields parses Meta's field syntax: "id,text,replies{id,from}".
func parseFields(s string) (fieldSet, error) {
	fs, rest, err := parseFieldList(s)
	if err == nil && rest != "" {
		err = fmt.Errorf("unexpected %q", rest)
	}
	return fs, err
}

func parseFieldList(s string) (fieldSet, string, error) {
	fs := fieldSet{}
	for s != "" && s[0] != '}' {
		i := strings.IndexAny(s, ",{}")
		if i < 0 {
			i = len(s)
		}
		name := strings.TrimSpace(s[:i])
		s = s[i:]
		var sub fieldSet
		if strings.HasPrefix(s, "{") {
			var err error
			if sub, s, err = parseFieldList(s[1:]); err != nil {
				return nil, "", err
			}
			if !strings.HasPrefix(s, "}") {
				return nil, "", errors.New("missing }")
			}
			s = s[1:]
			if sub == nil {
				sub = fieldSet{}
			}
		}
		if name != "" {
			fs[name] = sub
		}
		s = strings.TrimPrefix(s, ",")
	}
	return fs, s, nil
}

// or is the fields asked for, checked against the node's known fields, or the node's defaults
// when none were asked; bad names the first unknown field.
func (f fieldSet) or(known fieldSet, defaults ...string) (fieldSet, string) {
	if len(f) == 0 {
		f = fieldSet{}
		for _, d := range defaults {
			f[d] = nil
		}
		return f, ""
	}
	names := make([]string, 0, len(f))
	for n := range f {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if _, ok := known[n]; !ok {
			return nil, n
		}
	}
	return f, ""
}

// pick keeps the fields asked for.
func (f fieldSet) pick(all map[string]any) map[string]any {
	out := make(map[string]any, len(f))
	for k := range f {
		if v, ok := all[k]; ok {
			out[k] = v
		}
	}
	return out
}

// usageOf is X-Business-Use-Case-Usage the way Meta reports it: the share of the allowance used
// and the minutes until a throttled account may call again.
func usageOf(account, typ string, used int, lim reply.Limit, regain time.Duration) string {
	pct := used * 100 / lim.Count
	mins := int(math.Ceil(regain.Minutes()))
	return fmt.Sprintf(`{%q:[{"type":%q,"call_count":%d,"total_cputime":0,"total_time":0,"estimated_time_to_regain_access":%d}]}`,
		account, typ, pct, mins)
}
