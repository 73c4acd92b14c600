package sandbox

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
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
//     did not hand out is 100).
//   - Every read counts against the account's rolling read limit (WithReadLimit) and answers
//     X-Business-Use-Case-Usage with the share used; beyond the limit Meta answers 80002 with
//     estimated_time_to_regain_access.
const (
	defaultPageSize  = 25
	maxPageSize      = 100
	maxNestedReplies = 50
)

func isRead(op Op) bool {
	return op == OpMedia || op == OpComments || op == OpLiveMedia || op == OpSubscribed
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
		res = s.listApps(a, rq, asked)
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
	return pageOf(items, rq, limit)
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
	return pageOf(items, rq, limit)
}

func (s *Sandbox) listApps(a *account, rq request, asked fieldSet) result {
	if rq.objectID != "me" && rq.objectID != a.id && rq.objectID != a.senderID() {
		return errNoObject(rq.objectID)
	}
	sel, bad := asked.or(appFields, "id", "name", "subscribed_fields")
	if bad != "" {
		return errField(bad, "Application")
	}
	data := []any{}
	for _, app := range s.appsLocked(a) {
		data = append(data, sel.pick(app))
	}
	return result{status: 200, body: map[string]any{"data": data}}
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
			rs := replies[c.ID]
			sort.Slice(rs, func(i, j int) bool { return newer(rs[i].CreatedAt, rs[i].ID, rs[j].CreatedAt, rs[j].ID) })
			data := []any{}
			for _, r := range rs[:min(len(rs), maxNestedReplies)] {
				data = append(data, commentJSON(r, nested))
			}
			v["replies"] = map[string]any{"data": data}
		}
		items[i].v = v
	}
	return pageOf(items, rq, limit)
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

func cursorOf(it item) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(it.at.UnixNano(), 10) + ":" + it.id))
}

func parseCursor(c string) (time.Time, string, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", false
	}
	ns, id, ok := strings.Cut(string(b), ":")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || id == "" {
		return time.Time{}, "", false
	}
	return time.Unix(0, n), id, true
}

// pageOf is Meta's answer for one page of items: newest first, from after the request's cursor.
func pageOf(items []item, rq request, limit int) result {
	sort.Slice(items, func(i, j int) bool { return newer(items[i].at, items[i].id, items[j].at, items[j].id) })
	start := 0
	if rq.after != "" {
		at, id, ok := parseCursor(rq.after)
		if !ok {
			return errParam("Invalid cursor: after")
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
		paging := map[string]any{"cursors": map[string]string{"before": cursorOf(items[start]), "after": cursorOf(items[end-1])}}
		if end < len(items) {
			next := rq.url
			q := next.Query()
			q.Set("after", cursorOf(items[end-1]))
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
