package sandbox

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/replywindow/replywindow/shared/reply"
)

// version matches the optional version prefix of a Graph API path ("v24.0").
var version = regexp.MustCompile(`^v\d+(\.\d+)?$`)

// apiError is the error object of Meta's answers.
type apiError struct {
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode,omitempty"`
	FBTraceID string `json:"fbtrace_id"`
}

// result is the rules' answer to a call.
type result struct {
	status   int
	body     any
	err      *apiError
	usage    string // X-Business-Use-Case-Usage
	delivery int    // 1 + index in the ledger of the delivery this call made; 0 for none
	message  int    // 1 + index in the ledger of the Send API message this call made; 0 for none
}

func refuse(status, code, subcode int, typ, msg string) result {
	return result{status: status, err: &apiError{Code: code, Subcode: subcode, Type: typ, Message: msg}}
}

func (r result) code() string {
	if r.err == nil {
		return ""
	}
	if r.err.Subcode == 0 {
		return strconv.Itoa(r.err.Code)
	}
	return fmt.Sprintf("%d/%d", r.err.Code, r.err.Subcode)
}

var (
	errBadToken = func() result {
		return refuse(400, 190, 0, "OAuthException", "Invalid OAuth access token - Cannot parse access token")
	}
	errRevoked = func() result {
		return refuse(400, 190, 460, "OAuthException", "Error validating access token: The session has been invalidated.")
	}
	errNoObject = func(id string) result {
		return refuse(400, 100, 33, "GraphMethodException", fmt.Sprintf(
			"Unsupported request. Object with ID '%s' does not exist, cannot be loaded due to missing permissions, or does not support this operation.", id))
	}
	errParam = func(msg string) result { return refuse(400, 100, 0, "OAuthException", "(#100) "+msg) }
)

// request is what the handler read from an HTTP request.
type request struct {
	op        Op
	objectID  string
	token     string
	commentID string
	personID  string    // the Send API's recipient
	send      *wireSend // a POST /{id}/messages body
	text      string
	fields    string // subscribed_fields
	grantType string
	input     string // debug_token's input_token
	bad       string // why the parameters are unusable
	// The messenger profile API (entries.go): the method, the JSON body, the platform parameter.
	method   string
	raw      []byte
	platform string
	// Reads: the fields asked for, Meta's page size and cursor, and the request's URL (for
	// paging.next).
	sel   string
	limit string
	after string
	url   url.URL
}

func parse(r *http.Request) request {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(segs) > 0 && version.MatchString(segs[0]) {
		segs = segs[1:]
	}
	q := r.URL.Query()
	form := url.Values{}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	isJSON := strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
	if !isJSON && len(body) > 0 {
		form, _ = url.ParseQuery(string(body))
	}
	param := func(k string) string {
		if v := form.Get(k); v != "" {
			return v
		}
		return q.Get(k)
	}
	rq := request{op: OpUnknown}
	// Meta takes the token from the Authorization header or an access_token parameter.
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			rq.token = t
		} else if t, ok := strings.CutPrefix(h, "OAuth "); ok {
			rq.token = t
		}
	}
	if rq.token == "" {
		rq.token = param("access_token")
	}
	switch {
	case len(segs) == 1 && segs[0] == "refresh_access_token" && r.Method == http.MethodGet:
		rq.op, rq.grantType = OpRefresh, param("grant_type")
	case len(segs) == 1 && segs[0] == "debug_token" && r.Method == http.MethodGet:
		rq.op, rq.input = OpInspect, param("input_token")
	case len(segs) == 1 && segs[0] == "me" && r.Method == http.MethodGet:
		rq.op, rq.objectID, rq.fields = OpMe, "me", param("fields")
	case len(segs) == 2 && segs[1] == "messages" && r.Method == http.MethodPost:
		rq.objectID = segs[0]
		rq.send, rq.bad = parseSend(body, isJSON, param)
		rq.op, rq.commentID, rq.personID = OpPrivateReply, rq.send.Recipient.CommentID, rq.send.Recipient.ID
		if rq.commentID == "" && rq.personID != "" {
			rq.op = OpSend
		}
		if m := rq.send.Message; m != nil {
			rq.text = m.Text
			if m.Attachment != nil && m.Attachment.Payload.Text != "" {
				rq.text = m.Attachment.Payload.Text
			}
		}
	case len(segs) == 2 && segs[1] == "replies" && r.Method == http.MethodPost:
		rq.op, rq.objectID, rq.commentID, rq.text = OpPublicReply, segs[0], segs[0], param("message")
	case len(segs) == 2 && segs[1] == "live_media" && r.Method == http.MethodGet:
		rq.op, rq.objectID = OpLiveMedia, segs[0]
	case len(segs) == 2 && segs[1] == "subscribed_apps" && r.Method == http.MethodPost:
		rq.op, rq.objectID, rq.fields = OpSubscribe, segs[0], param("subscribed_fields")
	case len(segs) == 1 && segs[0] != "" && r.Method == http.MethodGet && isProfileRead(param("fields")):
		rq.op, rq.objectID, rq.personID, rq.fields = OpProfile, segs[0], segs[0], param("fields")
	case len(segs) == 1 && segs[0] != "" && r.Method == http.MethodGet:
		rq.op, rq.objectID, rq.commentID, rq.fields = OpComment, segs[0], segs[0], param("fields")
	case len(segs) == 2 && segs[1] == "subscribed_apps" && r.Method == http.MethodGet:
		rq.op, rq.objectID = OpSubscribed, segs[0]
	case len(segs) == 2 && segs[1] == "media" && r.Method == http.MethodGet:
		rq.op, rq.objectID = OpMedia, segs[0]
	case len(segs) == 2 && segs[1] == "comments" && r.Method == http.MethodGet:
		rq.op, rq.objectID = OpComments, segs[0]
	case len(segs) == 2 && segs[1] == "replies" && r.Method == http.MethodGet:
		rq.op, rq.objectID = OpReplies, segs[0]
	case len(segs) == 2 && segs[1] == "messenger_profile":
		rq.op, rq.objectID, rq.method, rq.raw, rq.fields = OpMessengerProfile, segs[0], r.Method, body, param("fields")
		rq.platform = param("platform")
	default:
		rq.objectID = strings.Join(segs, "/")
	}
	if isRead(rq.op) {
		rq.sel, rq.limit, rq.after = param("fields"), param("limit"), param("after")
		rq.url = *r.URL
		rq.url.Host, rq.url.Scheme = r.Host, "http"
		if r.TLS != nil {
			rq.url.Scheme = "https"
		}
	}
	return rq
}

// parseSend reads a POST /{id}/messages body: JSON, or a form whose recipient, message and
// payload are JSON strings. The text is checked for UTF-8 before decoding, which would replace
// what is not.
func parseSend(body []byte, isJSON bool, param func(string) string) (*wireSend, string) {
	var w wireSend
	const bad = "Invalid parameter: recipient, message and payload must be JSON objects"
	if isJSON {
		if !utf8.Valid(body) {
			return &w, "Invalid parameter: the body is not valid UTF-8"
		}
		if json.Unmarshal(body, &w) != nil {
			return &wireSend{}, bad
		}
		return &w, ""
	}
	for k, dst := range map[string]any{"recipient": &w.Recipient, "message": &w.Message, "payload": &w.Payload} {
		v := param(k)
		if v == "" {
			continue
		}
		if !utf8.ValidString(v) {
			return &wireSend{}, "Invalid parameter: " + k + " is not valid UTF-8"
		}
		if json.Unmarshal([]byte(v), dst) != nil {
			return &wireSend{}, bad
		}
	}
	w.SenderAction = param("sender_action")
	return &w, ""
}

// ServeHTTP answers a Graph API call (with or without the version prefix, for either host) or,
// under /_sandbox/, the ledger and the people's actions (people.go).
func (s *Sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sandbox/people/") || r.URL.Path == "/_sandbox/echoes" {
		s.servePeople(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/_sandbox/") {
		s.serveLedger(w, r)
		return
	}
	rq := parse(r)

	s.mu.Lock()
	// GET /{id} asking for no field only a profile has is a profile read when the id is a person.
	if _, isComment := s.comments[rq.objectID]; rq.op == OpComment && !isComment && s.persons[rq.objectID] != nil {
		rq.op, rq.commentID, rq.personID = OpProfile, "", rq.objectID
	}
	s.seq++
	now := s.now()
	call := Call{Seq: s.seq, Op: rq.op, ObjectID: rq.objectID, CommentID: rq.commentID, PersonID: rq.personID, Text: rq.text, At: now}
	if id, ok := s.tokens[rq.token]; ok && !s.revoked[rq.token] {
		call.AccountID = id
	}
	s.stats.Calls[rq.op]++
	var fault Fault
	if rq.op == OpPrivateReply {
		s.attempts[rq.commentID]++
		call.Attempt = s.attempts[rq.commentID]
		fault = s.popFault(rq.commentID)
	}
	if rq.op == OpSend || rq.op == OpProfile {
		fault = s.popCallFault(rq.op, rq.personID)
	}
	hook := s.hook
	s.mu.Unlock()
	if fault.None() && hook != nil {
		fault = hook(call)
	}

	var res result
	s.mu.Lock()
	if fault.Revoke {
		s.revoked[rq.token] = true
	}
	if fault.None() || fault.Deliver {
		res = s.apply(rq, now)
		if res.err != nil {
			s.stats.Refused[res.code()]++
		}
	}
	if !fault.None() {
		s.stats.Faults++
		if res.delivery > 0 {
			s.deliveries[res.delivery-1].Answered = false
		}
		if res.message > 0 {
			s.messages[res.message-1].Answered = false
		}
	}
	s.mu.Unlock()

	s.logCall(call, fault, res)
	if !fault.None() {
		s.inject(w, r, fault, call.Seq)
		return
	}
	s.write(w, res, call.Seq)
}

func (s *Sandbox) popFault(commentID string) Fault {
	for _, k := range []string{commentID, ""} {
		if q := s.queued[k]; len(q) > 0 {
			s.queued[k] = q[1:]
			return q[0]
		}
	}
	return Fault{}
}

// apply answers the call by Meta's rules; s.mu is held.
func (s *Sandbox) apply(rq request, now time.Time) result {
	if rq.op == OpUnknown {
		return refuse(400, 2500, 0, "OAuthException", "Unknown path components: /"+rq.objectID)
	}
	if rq.op == OpInspect {
		return s.inspect(rq, now)
	}
	id, ok := s.tokens[rq.token]
	switch {
	case rq.token == "" || !ok:
		return errBadToken()
	case s.revoked[rq.token]:
		return errRevoked()
	case s.expiredLocked(rq.token, now):
		return errExpired()
	}
	a := s.accounts[id]
	if isRead(rq.op) {
		return s.read(a, rq, now)
	}
	switch rq.op {
	case OpPrivateReply:
		return s.privateReply(a, rq, now)
	case OpSend:
		return s.sendMessage(a, rq, now)
	case OpProfile:
		return s.profile(a, rq)
	case OpMessengerProfile:
		return s.messengerProfile(a, rq)
	case OpPublicReply:
		return s.publicReply(a, rq, now)
	case OpComment:
		return s.readComment(a, rq, now)
	case OpSubscribe:
		if rq.objectID != "me" && rq.objectID != a.id && rq.objectID != a.senderID() {
			return errNoObject(rq.objectID)
		}
		if rq.fields == "" {
			return refuse(400, 100, 0, "OAuthException", "(#100) The parameter subscribed_fields is required")
		}
		fields := strings.Split(rq.fields, ",")
		if refused := s.checkFields(fields); refused != nil {
			return *refused
		}
		a.subscribe(fields, now)
		return result{status: 200, body: map[string]bool{"success": true}}
	case OpMe:
		return s.me(a, rq.fields)
	case OpRefresh:
		if rq.grantType != "ig_refresh_token" {
			return errParam("Invalid grant_type")
		}
		if a.login != reply.LoginInstagram {
			return errParam("ig_refresh_token needs an Instagram Login token")
		}
		// The old token stays valid until it expires, as with Meta.
		s.refreshes++
		nt := fmt.Sprintf("sbx-refreshed-%s-%d", a.id, s.refreshes)
		s.tokens[nt] = a.id
		s.infoLocked(nt).expires = now.Add(TokenLifetime)
		return result{status: 200, body: map[string]any{
			"access_token": nt, "token_type": "bearer", "expires_in": int64(TokenLifetime / time.Second)}}
	}
	return errParam("unsupported")
}

// me answers GET /me as Meta does. An Instagram Login token is a person's: id is that person's
// app-scoped id (the user_id of their data-deletion request), user_id the professional account's
// id, and only the fields asked for are there beside id. A Facebook Login Page token is the
// Page's: /me is the Page, and nothing in it names the person who connected it.
func (s *Sandbox) me(a *account, fields string) result {
	if a.login == reply.LoginFacebook {
		return result{status: 200, body: map[string]string{"id": a.pageID, "name": "Page " + a.pageID}}
	}
	body := map[string]string{"id": a.appUser}
	for _, f := range strings.Split(fields, ",") {
		switch strings.TrimSpace(f) {
		case "user_id":
			body["user_id"] = a.id
		case "username":
			body["username"] = "sandbox_" + a.id
		case "", "id":
		default:
			return errParam(fmt.Sprintf("Tried accessing nonexisting field (%s) on node type (User)", strings.TrimSpace(f)))
		}
	}
	return result{status: 200, body: body}
}

func (s *Sandbox) privateReply(a *account, rq request, now time.Time) result {
	switch {
	case rq.objectID != a.senderID():
		return errNoObject(rq.objectID)
	case rq.bad != "":
		return errParam(rq.bad)
	case rq.commentID == "":
		return errParam("The parameter recipient is required")
	}
	msg, why := checkMessage(rq.send.Message, true)
	if why != "" {
		return errParam(why)
	}
	c, res := s.comment(a, rq.commentID, now)
	if c == nil {
		return res
	}
	if c.Deleted || c.Hidden {
		return refuse(400, 100, 2534025, "OAuthException", "(#100) This comment cannot get a private reply: it was deleted or hidden")
	}
	if s.oneReply && c.delivered > 0 {
		s.stats.Duplicates++
		if s.secondCode != 0 {
			return refuse(500, s.secondCode, 0, "OAuthException", "An unexpected error has occurred. Please retry your request later.")
		}
		return refuse(400, 100, 2534025, "OAuthException", "(#100) This comment already has a private reply")
	}
	if refused := s.refusesLocked(a.id, c.FromID); c.FromID != "" && refused != nil {
		return *refused
	}
	lane := reply.LanePosts
	if c.Live {
		lane = reply.LaneLive
		if !s.broadcasts[c.MediaID].onAir(now) {
			return refuse(400, 10, 2534022, "OAuthException", "(#10) This message is sent outside of allowed window: the broadcast ended")
		}
	} else if now.After(c.CreatedAt.Add(reply.Window)) {
		return refuse(400, 10, 2534022, "OAuthException", "(#10) This message is sent outside of allowed window")
	}
	usage, refused := s.take(a.id, lane, "instagram_private_replies_", 2534040, now)
	if refused != nil {
		return *refused
	}
	c.delivered++
	s.stats.Delivered++
	d := Delivery{
		CommentID: c.ID, AccountID: a.id, Text: msg.Text, At: now, Answered: true,
		MessageID: fmt.Sprintf("m_sbx_%d", len(s.deliveries)+1), RecipientID: c.FromID,
		Buttons: msg.Buttons, QuickReplies: msg.QuickReplies,
	}
	if d.RecipientID == "" {
		d.RecipientID = "igsid_" + c.ID
	}
	s.deliveries = append(s.deliveries, d)
	s.previewLocked(d.Text, d.Buttons)
	// The private reply is the first message of the thread, so Meta echoes it like any send.
	if reply.ValidID(d.RecipientID) {
		s.echoLocked(SentMessage{AccountID: a.id, PersonID: d.RecipientID,
			Kind: reply.MessageText, Text: d.Text, At: now, MessageID: d.MessageID})
	}
	return result{status: 200, usage: usage, delivery: len(s.deliveries),
		body: map[string]string{"recipient_id": d.RecipientID, "message_id": d.MessageID}}
}

// comment is the comment a reply from a is for, registered at first sight when allowed.
func (s *Sandbox) comment(a *account, id string, now time.Time) (*comment, result) {
	c, ok := s.comments[id]
	if !ok {
		if !s.acceptUnknown {
			return nil, errNoObject(id)
		}
		c = &comment{Comment: Comment{ID: id, AccountID: a.id, CreatedAt: now}}
		s.comments[id] = c
	}
	if c.AccountID == "" {
		c.AccountID = a.id
	}
	if c.AccountID != a.id {
		return nil, errNoObject(id)
	}
	return c, result{}
}

// metaTime is how the Graph API writes a comment's timestamp.
const metaTime = "2006-01-02T15:04:05-0700"

// readComment answers GET /{comment-id}: the fields asked for (Meta's default is id and text),
// for a comment on one of the account's media that is not deleted. `media` is left out when the
// comment or its account is told to (SetLookupWithoutMedia), as Meta's answer sometimes comes.
func (s *Sandbox) readComment(a *account, rq request, now time.Time) result {
	c, res := s.comment(a, rq.commentID, now)
	if c == nil {
		return res
	}
	if c.Deleted {
		return errNoObject(rq.commentID)
	}
	out := map[string]any{"id": c.ID}
	for _, f := range strings.Split(rq.fields, ",") {
		switch strings.TrimSpace(f) {
		case "timestamp":
			out["timestamp"] = c.CreatedAt.UTC().Format(metaTime)
		case "media":
			if c.MediaID != "" && !c.LookupWithoutMedia && !a.lookupNoMedia {
				out["media"] = map[string]string{"id": c.MediaID}
			}
		case "from":
			if c.FromID != "" {
				out["from"] = map[string]string{"id": c.FromID, "username": c.FromName}
			}
		case "username":
			out["username"] = c.FromName
		case "parent_id":
			if c.ParentID != "" {
				out["parent_id"] = c.ParentID
			}
		}
	}
	return result{status: 200, body: out}
}

func (s *Sandbox) publicReply(a *account, rq request, now time.Time) result {
	if rq.text == "" {
		return errParam("The parameter message is required")
	}
	c, res := s.comment(a, rq.commentID, now)
	if c == nil {
		return res
	}
	switch {
	case c.Deleted || c.Hidden:
		return errNoObject(c.ID)
	case c.ParentID != "":
		return errParam("Replies are only possible on top-level comments")
	case c.Live:
		return errParam("Live comments cannot get a public reply")
	}
	s.stats.Public++
	p := PublicReply{CommentID: c.ID, AccountID: a.id, Text: rq.text, At: now, ID: fmt.Sprintf("c_sbx_%d", len(s.publics)+1)}
	s.publics = append(s.publics, p)
	return result{status: 200, body: map[string]string{"id": p.ID}}
}

func (s *Sandbox) write(w http.ResponseWriter, res result, seq int) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=UTF-8")
	if res.usage != "" && !s.noUsage {
		h.Set("X-Business-Use-Case-Usage", res.usage)
	}
	body := res.body
	if res.err != nil {
		e := *res.err
		e.FBTraceID = fmt.Sprintf("sbx%06d", seq)
		body = map[string]apiError{"error": e}
	}
	b, _ := json.Marshal(body)
	w.WriteHeader(res.status)
	_, _ = w.Write(b)
}

// inject answers with the fault instead of the rules.
func (s *Sandbox) inject(w http.ResponseWriter, r *http.Request, f Fault, seq int) {
	switch {
	case f.Drop:
		panic(http.ErrAbortHandler) // closes the connection without an answer, quietly
	case f.Hang:
		t := time.NewTimer(s.maxHang)
		defer t.Stop()
		select {
		case <-r.Context().Done():
		case <-s.done:
		case <-t.C:
		}
		panic(http.ErrAbortHandler)
	}
	if f.Echo != "" {
		s.echo(w, r, f, seq)
		return
	}
	status := f.Status
	if status == 0 {
		status = 500
		if f.Code != 0 {
			status = 400
		}
	}
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
	}
	if f.Code == 0 {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		echo := ""
		if f.EchoRequest {
			echo = fmt.Sprintf("<pre>%s %s %s\nAuthorization: %s</pre>", r.Method, r.URL.RequestURI(), r.Proto, r.Header.Get("Authorization"))
		}
		_, _ = fmt.Fprintf(w, "<html><body>%d %s%s</body></html>", status, http.StatusText(status), echo)
		return
	}
	typ := f.Type
	if typ == "" {
		typ = "OAuthException"
	}
	s.write(w, result{status: status, err: &apiError{Code: f.Code, Subcode: f.Subcode, Type: typ, Message: f.Message}}, seq)
}

func (s *Sandbox) logCall(c Call, f Fault, res result) {
	if s.log == nil {
		return
	}
	outcome := "ok"
	switch {
	case !f.None():
		outcome = "fault"
	case res.err != nil:
		outcome = res.code()
	}
	s.log.Info("graph call", "op", c.Op, "account", c.AccountID, "object", c.ObjectID,
		"comment", c.CommentID, "person", c.PersonID, "attempt", c.Attempt, "outcome", outcome, "delivered", res.delivery > 0)
}

// Ledger is what GET /_sandbox/ledger answers.
type Ledger struct {
	Deliveries    []Delivery    `json:"deliveries"`
	PublicReplies []PublicReply `json:"public_replies"`
	Messages      []SentMessage `json:"messages"` // Send API calls
	Stats         Stats         `json:"stats"`
}

// serveLedger answers GET /_sandbox/ledger (everything) and GET /_sandbox/stats (counters).
func (s *Sandbox) serveLedger(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	var body any
	s.mu.Lock()
	switch r.URL.Path {
	case "/_sandbox/ledger":
		body = Ledger{
			Deliveries:    append([]Delivery{}, s.deliveries...),
			PublicReplies: append([]PublicReply{}, s.publics...),
			Messages:      append([]SentMessage{}, s.messages...),
			Stats:         s.statsLocked(),
		}
	case "/_sandbox/stats":
		body = s.statsLocked()
	}
	s.mu.Unlock()
	if body == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(body)
}

// echo answers with the call's token echoed in the fault's shape.
func (s *Sandbox) echo(w http.ResponseWriter, r *http.Request, f Fault, seq int) {
	tok := r.URL.Query().Get("access_token")
	if h := r.Header.Get("Authorization"); h != "" {
		tok = strings.TrimPrefix(strings.TrimPrefix(h, "Bearer "), "OAuth ")
	}
	status := f.Status
	msg := "Invalid OAuth access token - Cannot parse access token: "
	var escaped string // the message's JSON text, when it needs escapes json.Marshal would not write
	switch f.Echo {
	case EchoRaw:
		msg += tok
	case EchoJSONPartial, EchoJSONFull:
		n := len(tok)
		if f.Echo == EchoJSONPartial {
			n = min(3, n)
		}
		var b strings.Builder
		for _, c := range tok[:n] {
			fmt.Fprintf(&b, `\u%04x`, c)
		}
		m, _ := json.Marshal(msg)
		escaped = strings.TrimSuffix(string(m), `"`) + b.String() + tok[n:] + `"`
	case EchoQueryEscaped:
		msg = "Malformed request: " + url.QueryEscape("/refresh_access_token?access_token="+tok)
	case EchoPathEscaped:
		msg = "Unknown path components: /" + url.PathEscape("/"+tok+"/messages")
	case EchoPercentAll:
		var b strings.Builder
		for i := 0; i < len(tok); i++ {
			fmt.Fprintf(&b, "%%%02X", tok[i])
		}
		msg += b.String()
	case EchoHTMLPage:
		if status == 0 {
			status = http.StatusBadGateway
		}
		var b strings.Builder
		for _, c := range tok {
			fmt.Fprintf(&b, "&#%d;", c)
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, "<html><head><title>Bad token %s</title></head><body>token %s</body></html>", b.String(), tok)
		return
	case EchoLocation, EchoBadLocation:
		if status == 0 {
			status = http.StatusFound
		}
		loc := "https://login.sandbox.invalid/?next=1&access_token=" + url.QueryEscape(tok)
		if f.Echo == EchoBadLocation {
			loc = "https://login.sandbox.invalid/%zz?access_token=" + tok
		}
		w.Header().Set("Location", loc)
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		_, _ = fmt.Fprintf(w, `<html><body>Moved: <a href="%s">here</a></body></html>`, html.EscapeString(loc))
		return
	case EchoAuthenticate:
		if status == 0 {
			status = http.StatusUnauthorized
		}
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="graph", error="invalid_token", error_description="%s is not valid"`, tok))
		msg = "Invalid OAuth access token."
	}
	if status == 0 {
		status = http.StatusBadRequest
	}
	if escaped == "" {
		m, _ := json.Marshal(msg)
		escaped = string(m)
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"error":{"message":%s,"type":"OAuthException","code":190,"fbtrace_id":"sbx%06d"}}`, escaped, seq)
}
