// Package graph is replywindow's client of Meta's Graph API: private replies, public comment
// replies and Live broadcasts for accounts connected with Instagram Login (graph.instagram.com)
// or Facebook Login (graph.facebook.com), plus the operator's webhook subscription and token
// refresh. Every answer other than 2xx becomes a *reply.GraphError for reply.Classify.
package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// Environment variables a function may read to configure the client (see OptionsFromEnv).
const (
	EnvURL     = "GRAPH_API_URL"     // replaces scheme and host of every call (local sandbox, tests)
	EnvVersion = "GRAPH_API_VERSION" // API version, e.g. v24.0
)

// Env lists the environment variables OptionsFromEnv reads.
var Env = []string{EnvURL, EnvVersion}

const (
	// DefaultVersion is the Graph API version called unless WithVersion says otherwise.
	DefaultVersion = "v24.0"
	// DefaultTimeout bounds one call. Meta answers a send in well under a second; a call that
	// takes longer is stuck, and the reply is retried as uncertain.
	DefaultTimeout = 10 * time.Second
	// DefaultReserve is the part of the caller's context deadline a call leaves unused, so the
	// caller still has time to record what happened (a Lambda's deadline is final).
	DefaultReserve = 2 * time.Second

	instagramHost = "graph.instagram.com"
	facebookHost  = "graph.facebook.com"
	maxBody       = 1 << 20
	maxPages      = 10
)

// DefaultFields are the webhook fields Subscribe asks for when given none: every field
// replywindow handles (reply.WebhookFields), button taps' messaging_postbacks included.
var DefaultFields = reply.WebhookFields

// ErrNotSent is reply.ErrNotSent: the call never reached Meta.
var ErrNotSent = reply.ErrNotSent

// Client calls the Graph API. It is safe for concurrent use.
type Client struct {
	base    *url.URL // replaces scheme and host (and prefixes its path) when set
	baseErr error
	version string
	http    *http.Client
	timeout time.Duration
	reserve time.Duration
}

var _ reply.Graph = (*Client)(nil)

// Option configures a Client.
type Option func(*Client)

// WithBaseURL replaces the scheme and host of every call with those of raw (GRAPH_API_URL);
// a path in raw prefixes every call's path. Empty keeps Meta's hosts. Calls carry access tokens,
// so plain http is refused except to a host on this machine (see LocalHost).
func WithBaseURL(raw string) Option {
	return func(c *Client) {
		if raw == "" {
			c.base, c.baseErr = nil, nil
			return
		}
		u, err := url.Parse(raw)
		switch {
		case err != nil:
		case u.Scheme != "http" && u.Scheme != "https" || u.Host == "":
			err = errors.New("want http(s)://host[:port]")
		case u.Scheme == "http" && !LocalHost(u.Hostname()):
			err = errors.New("want https: tokens would travel in clear text (http is for a sandbox on this machine)")
		}
		if err != nil {
			c.baseErr = fmt.Errorf("graph api base url %q: %w", raw, err)
			return
		}
		c.base, c.baseErr = u, nil
	}
}

// LocalHost reports whether host names this machine as seen from here or from a local container:
// a loopback address, localhost, host.docker.internal (the Docker host, for sam local invoke), or
// a name under .invalid, which never resolves (in-process transports use such names).
func LocalHost(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return host == "localhost" || strings.HasSuffix(host, ".localhost") || host == "host.docker.internal" ||
		host == "invalid" || strings.HasSuffix(host, ".invalid")
}

// WithVersion sets the API version ("v24.0"; "24.0" is accepted). Empty keeps the default.
func WithVersion(v string) Option {
	return func(c *Client) {
		if v == "" {
			return
		}
		if !strings.HasPrefix(v, "v") {
			v = "v" + v
		}
		c.version = v
	}
}

// WithHTTPClient makes calls through h (its Timeout, if set, still applies).
func WithHTTPClient(h *http.Client) Option { return func(c *Client) { c.http = h } }

// WithTimeout bounds each call (DefaultTimeout unless set).
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithReserve sets how much of the caller's deadline a call leaves unused (DefaultReserve).
func WithReserve(d time.Duration) Option { return func(c *Client) { c.reserve = d } }

// OptionsFromEnv are the options named by GRAPH_API_URL and GRAPH_API_VERSION.
func OptionsFromEnv(getenv func(string) string) []Option {
	return []Option{WithBaseURL(getenv(EnvURL)), WithVersion(getenv(EnvVersion))}
}

// New is a client of Meta's Graph API.
func New(opts ...Option) *Client {
	c := &Client{version: DefaultVersion, timeout: DefaultTimeout, reserve: DefaultReserve}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = &http.Client{Transport: newTransport()}
	} else {
		h := *c.http
		c.http = &h
	}
	// Meta's API does not redirect. A redirect would carry the refresh call's token (in the
	// query) to wherever Location points, and net/http quotes a Location it cannot parse in its
	// error: a 3xx is an answer like any other error answer, never followed.
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		TLSHandshakeTimeout:   3 * time.Second,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   32, // a replier sends a batch's replies concurrently
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

func host(a reply.Account) string {
	if a.Login == reply.LoginFacebook {
		return facebookHost
	}
	return instagramHost
}

// url is the call's address: Meta's host (or the base URL's), the version, then the segments.
func (c *Client) url(h string, versioned bool, segs ...string) *url.URL {
	u := &url.URL{Scheme: "https", Host: h}
	var path, raw strings.Builder
	if c.base != nil {
		u.Scheme, u.Host = c.base.Scheme, c.base.Host
		p := strings.TrimRight(c.base.Path, "/")
		path.WriteString(p)
		raw.WriteString(strings.TrimRight(c.base.EscapedPath(), "/"))
	}
	if versioned {
		segs = append([]string{c.version}, segs...)
	}
	for _, s := range segs {
		path.WriteString("/" + s)
		raw.WriteString("/" + url.PathEscape(s))
	}
	u.Path, u.RawPath = path.String(), raw.String()
	return u
}

// redact is u without its query, the only form of a URL that may reach an error or a log.
func redact(u *url.URL) string {
	return u.Scheme + "://" + u.Host + u.EscapedPath()
}

type request struct {
	method string
	u      *url.URL
	token  string // sent as Authorization: Bearer
	body   []byte
	ctype  string
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func notSent(method string, u *url.URL, err error) *reply.GraphError {
	return &reply.GraphError{Err: fmt.Errorf("%s %s: %w: %w", method, redact(u), ErrNotSent, err)}
}

// do makes one call. Every failure is a *reply.GraphError: Status 0 without an answer.
func (c *Client) do(ctx context.Context, rq request) (answer, error) {
	if c.baseErr != nil {
		return answer{}, notSent(rq.method, rq.u, c.baseErr)
	}
	d := c.timeout
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl) - c.reserve
		if left <= 0 {
			return answer{}, notSent(rq.method, rq.u, fmt.Errorf("less than %s left before the deadline", c.reserve))
		}
		if left < d {
			d = left
		}
	}
	if err := ctx.Err(); err != nil {
		return answer{}, notSent(rq.method, rq.u, err)
	}
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	// Whether the request was written decides whether Meta can have acted on it.
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				wrote.Store(true)
			}
		},
	})
	var body io.Reader
	if rq.body != nil {
		body = bytes.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, rq.u.String(), body)
	if err != nil {
		// The URL may hold a token (refresh): never let it into the error.
		return answer{}, notSent(rq.method, rq.u, errors.New("cannot build request"))
	}
	if rq.ctype != "" {
		req.Header.Set("Content-Type", rq.ctype)
	}
	if rq.token != "" {
		req.Header.Set("Authorization", "Bearer "+rq.token)
	}
	secrets := []string{rq.token, rq.u.Query().Get("access_token")}
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error prints the whole URL; keep only its cause, which may still quote what the
		// answer said (a Location header net/http could not parse).
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		err = redactErr(err, secrets)
		if !wrote.Load() {
			return answer{}, notSent(rq.method, rq.u, err)
		}
		return answer{}, &reply.GraphError{Err: fmt.Errorf("%s %s: %w", rq.method, redact(rq.u), err)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		// The answer was cut off: whatever Meta decided, we do not know it.
		return answer{}, &reply.GraphError{Err: fmt.Errorf("%s %s: read answer (HTTP %d): %w", rq.method, redact(rq.u), resp.StatusCode, err)}
	}
	a := answer{status: resp.StatusCode, header: resp.Header, body: b}
	if resp.StatusCode < 200 || resp.StatusCode > 299 ||
		// Graph API occasionally answers an error with 200.
		bytes.HasPrefix(bytes.TrimSpace(b), []byte(`{"error"`)) {
		// The body may echo the request (an HTML error page quoting the request line, with the
		// refresh call's token in the query): nothing of the token may go on into an error.
		return a, parseError(a, secrets...)
	}
	return a, nil
}

type metaError struct {
	Error *struct {
		Message   string `json:"message"`
		Type      string `json:"type"`
		Code      int    `json:"code"`
		Subcode   int    `json:"error_subcode"`
		FBTraceID string `json:"fbtrace_id"`
	} `json:"error"`
}

// redactErr is err, or, when its text holds a secret, an error with that text redacted (and
// nothing to unwrap: what it wrapped would print the secret).
func redactErr(err error, secrets []string) error {
	msg := err.Error()
	if r := reply.RedactSecrets(msg, secrets...); r != msg {
		return errors.New(r)
	}
	return err
}

// parseError turns Meta's error answer into a *reply.GraphError. RetryAfter is the longer of
// Retry-After and Meta's estimated_time_to_regain_access. Every string kept from the answer is
// redacted of secrets (the call's tokens) once decoded: redacting the raw bytes misses a token
// that JSON spells with \u escapes, which decoding brings back in clear. Nothing of the
// headers is kept but the numbers of Retry-After and the usage headers.
func parseError(a answer, secrets ...string) *reply.GraphError {
	ge := &reply.GraphError{Status: a.status}
	var m metaError
	if err := json.Unmarshal(a.body, &m); err == nil && m.Error != nil {
		ge.Code, ge.Subcode = m.Error.Code, m.Error.Subcode
		ge.Type = reply.RedactSecrets(m.Error.Type, secrets...)
		ge.Message = reply.RedactSecrets(m.Error.Message, secrets...)
		ge.TraceID = reply.RedactSecrets(m.Error.FBTraceID, secrets...)
	} else {
		// Not Meta's JSON (a proxy's error page): its title, never the page, which may quote
		// the request.
		ge.Message = fmt.Sprintf("answer is not Meta's JSON (%d bytes)", len(a.body))
		if a.status >= 300 && a.status <= 399 {
			// Its Location may name the token: the error says there was one, never where.
			ge.Message = "redirect not followed: " + ge.Message
		}
		if t := pageTitle(a.body, secrets); t != "" {
			ge.Message = t + ": " + ge.Message
		}
	}
	ge.RetryAfter = retryAfter(a.header.Get("Retry-After"), time.Now())
	if _, regain := Usage(a.header); regain > ge.RetryAfter {
		ge.RetryAfter = regain
	}
	return ge
}

// Errors built from Meta's answers carry codes, types and field names, never the answer's values:
// a profile answer holds the person's name and username, an error page may quote the request,
// and every error may end in a WARN line or on a record (design.md §4.10).

// shape names what an answer holds without any of its values: the names of a JSON object's
// fields, sorted ("fields id, name, username"), or the kind and size of anything else.
func shape(b []byte) string {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Sprintf("no JSON object (%d bytes)", len(b))
	}
	if len(obj) == 0 {
		return "no fields"
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, fieldName(k))
	}
	sort.Strings(keys)
	return "fields " + strings.Join(keys, ", ")
}

// fieldName is a field's name as an error may quote it: Meta's names are short snake_case; any
// other key (a proxy's, or data used as a key) is only counted.
func fieldName(k string) string {
	if len(k) > 40 {
		return "(a long name)"
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return "(an unusual name)"
		}
	}
	return k
}

// pageTitle is what a people-facing error page (a proxy's "502 Bad Gateway") says in its title,
// and only that: the rest of such a page may quote the request. Empty when there is none.
func pageTitle(b []byte, secrets []string) string {
	s := string(b)
	i := strings.Index(strings.ToLower(s), "<title>")
	if i < 0 {
		return ""
	}
	s = s[i+len("<title>"):]
	j := strings.Index(strings.ToLower(s), "</title>")
	if j < 0 {
		return ""
	}
	// Redacted once decoded, and before it is cut to size, or a cut could leave part of a token.
	s = reply.RedactSecrets(strings.Join(strings.Fields(html.UnescapeString(s[:j])), " "), secrets...)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

// retryAfter reads Retry-After, in seconds or as an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// PrivateReply sends the comment's one private reply: POST /{sender-id}/messages on the
// account's host. On error the result still carries the usage headers of Meta's answer.
func (c *Client) PrivateReply(ctx context.Context, a reply.Account, token, commentID string, m reply.Message) (reply.SendResult, error) {
	res, err := c.send(ctx, a, token, recipient{CommentID: commentID}, wireMessage(m))
	if err != nil {
		return res, fmt.Errorf("private reply to comment %s: %w", commentID, err)
	}
	return res, nil
}

// recipient is the Send API's recipient: a comment (private reply) or a person (IGSID).
type recipient struct {
	CommentID string `json:"comment_id,omitempty"`
	ID        string `json:"id,omitempty"`
}

// send is POST /{sender-id}/messages with body fields besides the recipient (message, or
// sender_action and payload for reactions).
func (c *Client) send(ctx context.Context, a reply.Account, token string, to recipient, fields map[string]any) (reply.SendResult, error) {
	fields["recipient"] = to
	b, err := json.Marshal(fields)
	if err != nil {
		return reply.SendResult{}, err
	}
	u := c.url(host(a), true, a.SenderID(), "messages")
	if a.SenderID() == "" {
		return reply.SendResult{}, notSent(http.MethodPost, u, fmt.Errorf("account %s has no sender id", a.ID))
	}
	ans, err := c.do(ctx, request{method: http.MethodPost, u: u, token: token, body: b, ctype: "application/json"})
	var res reply.SendResult
	if ans.header != nil {
		res.Usage, res.RegainAfter = Usage(ans.header)
	}
	if err != nil {
		return res, err
	}
	var out struct {
		RecipientID string `json:"recipient_id"`
		MessageID   string `json:"message_id"`
	}
	// A 2xx means Meta accepted the reply; an unreadable body does not undo that.
	_ = json.Unmarshal(ans.body, &out)
	res.MessageID, res.RecipientID = out.MessageID, out.RecipientID
	return res, nil
}

// wireMessage is a text message as the Send API takes it: plain text, text with quick replies,
// or a button template.
func wireMessage(m reply.Message) map[string]any {
	msg := map[string]any{}
	switch {
	case len(m.Buttons) > 0:
		buttons := make([]map[string]string, len(m.Buttons))
		for i, b := range m.Buttons {
			buttons[i] = map[string]string{"type": string(b.Type), "title": b.Title}
			if b.Type == reply.ButtonURL {
				buttons[i]["url"] = b.URL
			} else {
				buttons[i]["payload"] = b.Payload
			}
		}
		msg["attachment"] = map[string]any{"type": "template", "payload": map[string]any{
			"template_type": "button", "text": m.Text, "buttons": buttons}}
	default:
		msg["text"] = m.Text
	}
	if qs := quickReplies(m.QuickReplies); qs != nil {
		msg["quick_replies"] = qs
	}
	return map[string]any{"message": msg}
}

// quickReplies is the Send API's quick_replies, nil for none.
func quickReplies(qr []reply.QuickReply) []map[string]string {
	if len(qr) == 0 {
		return nil
	}
	qs := make([]map[string]string, len(qr))
	for i, q := range qr {
		qs[i] = map[string]string{"content_type": "text", "title": q.Title, "payload": q.Payload}
	}
	return qs
}

// PublicReply answers the comment publicly: POST /{comment-id}/replies with message=text.
func (c *Client) PublicReply(ctx context.Context, a reply.Account, token, commentID, text string) error {
	u := c.url(host(a), true, commentID, "replies")
	form := url.Values{"message": {text}}
	_, err := c.do(ctx, request{method: http.MethodPost, u: u, token: token,
		body: []byte(form.Encode()), ctype: "application/x-www-form-urlencoded"})
	if err != nil {
		return fmt.Errorf("public reply to comment %s: %w", commentID, err)
	}
	return nil
}

// LiveMedia is the ids of the account's broadcasts that are live now: GET /{ig-id}/live_media.
func (c *Client) LiveMedia(ctx context.Context, a reply.Account, token string) ([]string, error) {
	var ids []string
	after := ""
	for range maxPages {
		var p page[struct {
			ID string `json:"id"`
		}]
		q := url.Values{"fields": {"id"}}
		if after != "" {
			q.Set("after", after)
		}
		if _, _, err := c.get(ctx, a, token, q, &p, a.ID, "live_media"); err != nil {
			return nil, fmt.Errorf("live media of account %s: %w", a.ID, err)
		}
		for _, d := range p.Data {
			ids = append(ids, d.ID)
		}
		if after = p.after(); after == "" {
			break
		}
	}
	return ids, nil
}

// Comment is what Meta knows of a comment: GET /{comment-id}?fields=media,from,timestamp.
func (c *Client) Comment(ctx context.Context, a reply.Account, token, commentID string) (reply.CommentInfo, error) {
	u := c.url(host(a), true, commentID)
	u.RawQuery = url.Values{"fields": {"media,from,timestamp"}}.Encode()
	ans, err := c.do(ctx, request{method: http.MethodGet, u: u, token: token})
	if err != nil {
		return reply.CommentInfo{}, fmt.Errorf("comment %s: %w", commentID, err)
	}
	var out struct {
		Timestamp string `json:"timestamp"`
		Media     struct {
			ID string `json:"id"`
		} `json:"media"`
		From struct {
			ID       string `json:"id"`
			Username string `json:"username"`
		} `json:"from"`
	}
	if err := json.Unmarshal(ans.body, &out); err != nil {
		return reply.CommentInfo{}, fmt.Errorf("comment %s: decode answer: %w", commentID, err)
	}
	info := reply.CommentInfo{MediaID: out.Media.ID, FromID: out.From.ID, FromUsername: out.From.Username}
	if out.Timestamp != "" {
		t, err := time.Parse("2006-01-02T15:04:05-0700", out.Timestamp)
		if err != nil {
			return reply.CommentInfo{}, fmt.Errorf("comment %s: timestamp %q: %w", commentID, out.Timestamp, err)
		}
		info.CreatedAt = t.UTC()
	}
	return info, nil
}

// Subscribe subscribes the account to the app's webhook fields (DefaultFields when none):
// POST /me/subscribed_apps?subscribed_fields=... on the account's host, which Meta requires
// once per account.
func (c *Client) Subscribe(ctx context.Context, a reply.Account, token string, fields []string) error {
	if len(fields) == 0 {
		fields = DefaultFields
	}
	u := c.url(host(a), true, "me", "subscribed_apps")
	u.RawQuery = url.Values{"subscribed_fields": {strings.Join(fields, ",")}}.Encode()
	ans, err := c.do(ctx, request{method: http.MethodPost, u: u, token: token})
	if err != nil {
		if f := refusedField(err, fields); f != "" {
			err = &reply.FieldRefusedError{Field: f, Err: err}
		}
		return fmt.Errorf("subscribe account %s: %w", a.ID, err)
	}
	var out struct {
		Success bool `json:"success"`
	}
	if err := json.Unmarshal(ans.body, &out); err != nil || !out.Success {
		return fmt.Errorf("subscribe account %s: Meta did not confirm: its answer holds %s", a.ID, shape(ans.body))
	}
	return nil
}

// refusedField is the field of asked that Meta's refusal of a subscription names: code 100 with
// `got "name"` (how Graph answers a value outside a parameter's enum), else the parameter's index
// (`subscribed_fields[2]`), else the one asked field the message quotes. "" when it names none:
// the refusal is not about a field.
func refusedField(err error, asked []string) string {
	var ge *reply.GraphError
	if !errors.As(err, &ge) || ge.Code != 100 {
		return ""
	}
	if f, ok := between(ge.Message, `got "`, `"`); ok && slices.Contains(asked, f) {
		return f
	}
	if n, ok := between(ge.Message, "subscribed_fields[", "]"); ok {
		if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < len(asked) {
			return asked[i]
		}
	}
	var named []string
	for _, f := range asked {
		if strings.Contains(ge.Message, `"`+f+`"`) || strings.Contains(ge.Message, "'"+f+"'") {
			named = append(named, f)
		}
	}
	if len(named) == 1 {
		return named[0]
	}
	return ""
}

// between is what s holds after the first open and before the next close.
func between(s, open, close string) (string, bool) {
	_, rest, ok := strings.Cut(s, open)
	if !ok {
		return "", false
	}
	v, _, ok := strings.Cut(rest, close)
	return v, ok
}

// Me is who an Instagram Login token belongs to.
type Me struct {
	// AppUserID is the app-scoped id of the person who granted the token: the user_id of that
	// person's data-deletion request.
	AppUserID string `json:"id"`
	AccountID string `json:"user_id"` // the Instagram professional account's id
	Username  string `json:"username"`
}

// ErrNoAppUser says Meta does not tell who granted a Facebook Login Page token: /me is the Page.
var ErrNoAppUser = errors.New("a Facebook Login Page token does not name the person who granted it")

// Me asks Meta whose token this is: GET /me?fields=id,user_id,username on graph.instagram.com.
// Facebook Login accounts hold Page tokens, for which it returns ErrNoAppUser without a call.
func (c *Client) Me(ctx context.Context, a reply.Account, token string) (Me, error) {
	if a.Login != reply.LoginInstagram {
		return Me{}, fmt.Errorf("who granted the token of account %s: %w", a.ID, ErrNoAppUser)
	}
	u := c.url(instagramHost, true, "me")
	u.RawQuery = url.Values{"fields": {"id,user_id,username"}}.Encode()
	ans, err := c.do(ctx, request{method: http.MethodGet, u: u, token: token})
	if err != nil {
		return Me{}, fmt.Errorf("who granted the token of account %s: %w", a.ID, err)
	}
	// Meta's examples show the node itself and, in places, a one-element data list.
	var out struct {
		Me
		Data []Me `json:"data"`
	}
	if err := json.Unmarshal(ans.body, &out); err != nil {
		return Me{}, fmt.Errorf("who granted the token of account %s: decode answer: %w", a.ID, err)
	}
	me := out.Me
	if me.AppUserID == "" && len(out.Data) == 1 {
		me = out.Data[0]
	}
	if !reply.ValidID(me.AppUserID) {
		return Me{}, fmt.Errorf("who granted the token of account %s: Meta's answer holds no app-scoped id (it holds %s)", a.ID, shape(ans.body))
	}
	return me, nil
}

// RefreshToken exchanges a long-lived Instagram Login token for a new one: GET
// graph.instagram.com/refresh_access_token?grant_type=ig_refresh_token. Meta takes the token only
// in the query, so that URL never appears in an error.
func (c *Client) RefreshToken(ctx context.Context, token string) (string, time.Duration, error) {
	u := c.url(instagramHost, false, "refresh_access_token")
	u.RawQuery = url.Values{"grant_type": {"ig_refresh_token"}, "access_token": {token}}.Encode()
	ans, err := c.do(ctx, request{method: http.MethodGet, u: u})
	if err != nil {
		return "", 0, fmt.Errorf("refresh token: %w", err)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := json.Unmarshal(ans.body, &out); err != nil || out.AccessToken == "" {
		return "", 0, errors.New("refresh token: Meta's answer holds no access_token")
	}
	return out.AccessToken, time.Duration(out.ExpiresIn) * time.Second, nil
}
