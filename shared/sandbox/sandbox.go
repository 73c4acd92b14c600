// Package sandbox is replywindow's one double of Meta's Graph API. It is an http.Handler that
// enforces Meta's private-reply rules (design.md §2) over real HTTP: one private reply per
// comment, the 7-day and Live windows, per-account rolling rate limits, Meta's error codes. It
// keeps a ledger of what it delivered and injects faults deterministically. Tests reach it with
// httptest, the local stack (`replywindow dev`) serves it, and the real client reaches it
// through GRAPH_API_URL.
//
// It also serves what reconciliation reads (reads.go): an account's media, a media's comments
// (top-level, newest first, with their replies nested), its live broadcasts and its webhook
// subscription, with Meta's cursor paging, field selection and usage headers, against a rolling
// read limit per account (80002 beyond it). And it knows which comments Meta notifies by webhook:
// those made while the account was subscribed to the field, never one kept by the "comment
// without webhook" fault (Comment.WithoutWebhook) or made while the app was unsubscribed
// (UnsubscribeApp). Callers that post webhooks ask Notifies.
//
// And it plays the conversation after the private reply (messaging.go, webhooks.go): what a
// private reply may hold, each person's 24-hour window opened by their message or tap (which
// tests make with Message, Postback, QuickReply, ... and post as the signed webhook those return),
// the Send API inside it with every kind's limits and its two rate lanes, and the user profile API
// with its consent rule. Accepted sends are kept in Messages, and their echoes in TakeEchoes.
package sandbox

import (
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// Op is the kind of Graph API call.
type Op string

const (
	OpPrivateReply Op = "private_reply" // POST /{id}/messages to a comment_id
	OpSend         Op = "send"          // POST /{id}/messages to a person (the Send API)
	OpProfile      Op = "profile"       // GET /{igsid}?fields=name,username,is_user_follow_business
	OpPublicReply  Op = "public_reply"  // POST /{comment-id}/replies
	OpLiveMedia    Op = "live_media"    // GET /{ig-id}/live_media
	OpSubscribe    Op = "subscribe"     // POST /{me|id}/subscribed_apps
	OpSubscribed   Op = "subscribed"    // GET /{me|id}/subscribed_apps
	OpMedia        Op = "media"         // GET /{ig-id}/media
	OpComments     Op = "comments"      // GET /{media-id}/comments
	OpReplies      Op = "replies"       // GET /{comment-id}/replies
	OpRefresh      Op = "refresh"       // GET /refresh_access_token
	OpComment      Op = "comment"       // GET /{comment-id}?fields=media,from,timestamp
	OpMe           Op = "me"            // GET /me: who the token belongs to
	OpUnknown      Op = "unknown"       // any other path
)

// TokenLifetime is the expires_in of a refreshed Instagram Login token (60 days).
const TokenLifetime = 60 * 24 * time.Hour

// DefaultReadLimit is the sandbox's rolling limit on an account's Graph reads. Meta allows
// 4800 × the account's daily impressions per 24 hours (its business-use-case limit); this is that
// figure for a very small account (24 impressions a day), so a reconciler that stays within it
// stays within Meta's for any real one.
var DefaultReadLimit = reply.Limit{Count: 4800, Period: time.Hour}

// DefaultFields are the webhook fields an account the sandbox is told about is subscribed to,
// as `replywindow subscribe` leaves it.
var DefaultFields = reply.WebhookFields

// Comment is a comment the sandbox knows.
type Comment struct {
	ID        string    `json:"id"`
	AccountID string    `json:"account"` // the account whose media it is on; "" = whoever answers first
	MediaID   string    `json:"media,omitempty"`
	ParentID  string    `json:"parent,omitempty"` // set for a reply to a comment
	FromID    string    `json:"from_id,omitempty"`
	FromName  string    `json:"from_username,omitempty"`
	Text      string    `json:"text,omitempty"`
	CreatedAt time.Time `json:"created_at"`     // zero = now
	Live      bool      `json:"live,omitempty"` // made on the broadcast MediaID
	Hidden    bool      `json:"hidden,omitempty"`
	Deleted   bool      `json:"deleted,omitempty"`
	// WithoutWebhook is the fault "comment without webhook": Meta keeps the comment (it is listed
	// under its media) but never notifies it, as peers report happens.
	WithoutWebhook bool `json:"without_webhook,omitempty"`
	// Ad says the comment was made on the ad that promotes MediaID: Meta notifies it, but the
	// comments edge lists no such non-organic comment.
	Ad bool `json:"ad,omitempty"`
	// LookupWithoutMedia makes GET /{comment-id} answer without `media`, as Meta's answer
	// sometimes comes (SetLookupWithoutMedia does it for every comment of an account).
	LookupWithoutMedia bool `json:"lookup_without_media,omitempty"`
}

// Media is a post or reel of an account (a broadcast is started with StartBroadcast).
type Media struct {
	ID          string    `json:"id"`
	AccountID   string    `json:"account"`
	ProductType string    `json:"media_product_type"` // FEED (when empty), REELS, STORY, AD
	CreatedAt   time.Time `json:"created_at"`         // zero = now
}

// Delivery is one private reply the sandbox accepted: a DM the commenter received.
type Delivery struct {
	CommentID   string    `json:"comment"`
	AccountID   string    `json:"account"`
	Text        string    `json:"text"`
	At          time.Time `json:"at"`
	MessageID   string    `json:"message_id"`
	RecipientID string    `json:"recipient_id"`
	Answered    bool      `json:"answered"` // false when a fault kept the answer from the client
	// What the opening message carried besides its text (Text is a button template's text).
	Buttons      []reply.Button     `json:"buttons,omitempty"`
	QuickReplies []reply.QuickReply `json:"quick_replies,omitempty"`
}

// PublicReply is one public comment reply the sandbox accepted.
type PublicReply struct {
	CommentID string    `json:"comment"`
	AccountID string    `json:"account"`
	Text      string    `json:"text"`
	At        time.Time `json:"at"`
	ID        string    `json:"id"`
}

// Stats counts what the sandbox was asked and answered.
type Stats struct {
	Calls      map[Op]int     `json:"calls"`      // every call, by kind
	Delivered  int            `json:"delivered"`  // private replies accepted
	Public     int            `json:"public"`     // public replies accepted
	Refused    map[string]int `json:"refused"`    // Meta errors answered by the rules, by "code/subcode"
	Faults     int            `json:"faults"`     // calls answered by an injected fault
	Duplicates int            `json:"duplicates"` // second private replies refused with 100/2534025
	Messages   int            `json:"messages"`   // Send API messages and reactions accepted
	Profiles   int            `json:"profiles"`   // user profiles answered
}

type account struct {
	id, pageID string
	login      reply.Login
	fields     []string
	appUser    string // the app-scoped id of the person who granted the account's tokens
	// initial is what the account was subscribed to before its first change; changes are the
	// subscriptions since, oldest first, so Notifies can tell what held when a comment was made.
	initial []string
	changes []subscription
	others  []otherApp  // other apps subscribed to the account, in the order they subscribed
	reads   []time.Time // admitted Graph reads, oldest first
	// lookupNoMedia: GET /{comment-id} answers every comment of the account without `media`.
	lookupNoMedia bool
	// profiles is the messenger profile API's state by platform ("instagram", or "" for a
	// Page's Messenger profile): ice breakers and the persistent menu (entries.go).
	profiles map[string]*reply.MessengerProfile
}

type subscription struct {
	at     time.Time
	fields []string
}

// subscribe sets the account's webhook fields from now on.
func (a *account) subscribe(fields []string, now time.Time) {
	a.fields = fields
	a.changes = append(a.changes, subscription{at: now, fields: fields})
}

// fieldsAt is what the account was subscribed to at t.
func (a *account) fieldsAt(t time.Time) []string {
	fields := a.initial
	for _, c := range a.changes {
		if c.at.After(t) {
			break
		}
		fields = c.fields
	}
	return fields
}

// DefaultAppUserID is the app-scoped id the sandbox gives the person who connected an account,
// until SetAppUser names another: a number of its own, as Meta's are.
func DefaultAppUserID(accountID string) string { return "9" + accountID }

func (a *account) senderID() string {
	if a.login == reply.LoginFacebook {
		return a.pageID
	}
	return a.id
}

type comment struct {
	Comment
	delivered int
}

type broadcast struct {
	id, account string
	live        bool
	started     time.Time
	ends        time.Time // when it goes off air by itself; zero: when EndBroadcast says
}

// onAir reports whether the broadcast is live at now: until it is ended, and never longer than
// Instagram's 4-hour limit on a broadcast (so a fake clock ends forgotten broadcasts too).
func (b *broadcast) onAir(now time.Time) bool {
	return b != nil && b.live && !now.After(b.started.Add(reply.LiveWindow)) && (b.ends.IsZero() || now.Before(b.ends))
}

// Sandbox is the Graph API double. Its methods and ServeHTTP are safe for concurrent use.
type Sandbox struct {
	now           func() time.Time
	limits        map[reply.Lane]reply.Limit
	readLimit     reply.Limit
	cursorLife    time.Duration // how long a paging cursor is honoured
	acceptUnknown bool
	refusedFields []string // webhook fields Meta refuses to subscribe (WithRefusedFields)
	oneReply      bool
	secondCode    int // Meta's answer to a second private reply: 0 means 100/2534025
	maxHang       time.Duration
	noUsage       bool // X-Business-Use-Case-Usage left out of every answer
	log           *slog.Logger

	mu         sync.Mutex
	seq        int
	accounts   map[string]*account // by Instagram account id
	tokens     map[string]string   // token → account id
	revoked    map[string]bool
	comments   map[string]*comment
	media      map[string]*Media     // posts and reels by id
	byMedia    map[string][]*comment // comments by media (or broadcast) id
	attempts   map[string]int        // private-reply calls by comment id, known or not
	broadcasts map[string]*broadcast
	sent       map[string][]time.Time // accepted sends by account and lane, oldest first (every app's)
	deliveries []Delivery
	messages   []SentMessage
	persons    map[string]*person        // by IGSID
	convs      map[convKey]*conversation // by account and person
	inbound    map[string]convKey        // who sent each message or tap people made, by mid
	echoes     [][]byte                  // webhook bodies of our sends' echoes, not yet taken
	mids       int                       // people's and the app users' message ids handed out
	appID      string
	echoNoApp  bool // echoes of our sends name no app
	appSecret  string
	publics    []PublicReply
	stats      Stats
	hook       func(Call) Fault
	queued     map[string][]Fault // by comment id; "" = the next private reply to any comment
	opQueued   map[string][]Fault // Send API and profile calls, by op and person (see QueueCallFault)
	refreshes  int
	previews   *previews             // Meta's link-preview crawler; nil unless WithPreviews
	tokenInfo  map[string]*tokenInfo // expiries and scopes (inspect.go)
	noInspect  bool                  // GET /debug_token is an unknown path

	done      chan struct{}
	closeOnce sync.Once
}

// Option configures a Sandbox.
type Option func(*Sandbox)

// WithClock makes the sandbox tell time by now (simulations use a fake clock). Windows, rate
// limits and the ledger use it; a hanging fault waits in real time.
func WithClock(now func() time.Time) Option { return func(s *Sandbox) { s.now = now } }

// WithLimit replaces Meta's rate limit of a lane (750/hour posts, 100/second Live; Send API 300/s
// text, 10/s media).
func WithLimit(lane reply.Lane, l reply.Limit) Option {
	return func(s *Sandbox) { s.limits[lane] = l }
}

// WithReadLimit replaces the rolling limit on each account's Graph reads (DefaultReadLimit).
func WithReadLimit(l reply.Limit) Option { return func(s *Sandbox) { s.readLimit = l } }

// WithUnknownComments says whether a comment the sandbox was not told about is registered at
// first sight (true, the default: created then, not Live, on the calling account's media) or
// refused like a comment that does not exist (100/33).
func WithUnknownComments(accept bool) Option { return func(s *Sandbox) { s.acceptUnknown = accept } }

// WithoutOneReplyRule lets every private reply to a comment through, so a test of replywindow's
// own guarantee sees duplicates in the ledger instead of Meta's refusal.
func WithoutOneReplyRule() Option { return func(s *Sandbox) { s.oneReply = false } }

// WithSecondReplyCode answers a second private reply to a comment with Meta's generic code
// (1 or 2) instead of 100/2534025, as a peer saw Meta do: the replier cannot then learn that its
// uncertain first attempt arrived, and must bound its retries.
func WithSecondReplyCode(code int) Option { return func(s *Sandbox) { s.secondCode = code } }

// WithMaxHang bounds how long a hanging fault holds a request whose client never gives up
// (default one minute).
func WithMaxHang(d time.Duration) Option { return func(s *Sandbox) { s.maxHang = d } }

// WithoutUsageHeaders leaves X-Business-Use-Case-Usage out of every answer, as a proxy that
// drops headers would: a client then has only its own bucket to keep Meta's limit.
func WithoutUsageHeaders() Option { return func(s *Sandbox) { s.noUsage = true } }

// WithoutEchoAppID leaves app_id out of the echoes of our sends: Meta documents it on Messenger
// echoes, not on Instagram's, so replywindow must know its own sends by their message ids alone.
func WithoutEchoAppID() Option { return func(s *Sandbox) { s.echoNoApp = true } }

// WithLogger logs one line per call (kind, account, comment, outcome; never tokens or text).
func WithLogger(l *slog.Logger) Option { return func(s *Sandbox) { s.log = l } }

// New is an empty sandbox with Meta's rules and limits.
func New(opts ...Option) *Sandbox {
	s := &Sandbox{
		now:           time.Now,
		limits:        map[reply.Lane]reply.Limit{},
		readLimit:     DefaultReadLimit,
		cursorLife:    DefaultCursorLifetime,
		acceptUnknown: true,
		oneReply:      true,
		maxHang:       time.Minute,
		accounts:      map[string]*account{},
		tokens:        map[string]string{},
		revoked:       map[string]bool{},
		comments:      map[string]*comment{},
		media:         map[string]*Media{},
		byMedia:       map[string][]*comment{},
		attempts:      map[string]int{},
		broadcasts:    map[string]*broadcast{},
		sent:          map[string][]time.Time{},
		queued:        map[string][]Fault{},
		opQueued:      map[string][]Fault{},
		persons:       map[string]*person{},
		convs:         map[convKey]*conversation{},
		inbound:       map[string]convKey{},
		appID:         DefaultAppID,
		appSecret:     DefaultAppSecret,
		stats:         Stats{Calls: map[Op]int{}, Refused: map[string]int{}},
		done:          make(chan struct{}),
	}
	for _, l := range reply.Lanes {
		s.limits[l] = reply.DefaultLimit(l)
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Close releases every request a hanging fault holds; later hangs end at once.
func (s *Sandbox) Close() { s.closeOnce.Do(func() { close(s.done) }) }

// AddAccount registers an account and a token for it (more tokens: call again). With Facebook
// Login, private replies are sent from pageID. A new account is subscribed to DefaultFields.
func (s *Sandbox) AddAccount(id, token string, login reply.Login, pageID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[id]
	if !ok {
		a = &account{id: id, appUser: DefaultAppUserID(id), fields: DefaultFields, initial: DefaultFields}
		s.accounts[id] = a
	}
	a.login, a.pageID = login, pageID
	if token != "" {
		s.tokens[token] = id
		delete(s.revoked, token)
	}
}

// SetAppUser sets the app-scoped id of the person who connected the account: what GET /me with
// its Instagram Login token answers as id, and the user_id of that person's data-deletion request.
func (s *Sandbox) SetAppUser(accountID, appUserID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.accounts[accountID]; ok {
		a.appUser = appUserID
	}
}

// RevokeToken makes every later call with token fail with 190.
func (s *Sandbox) RevokeToken(token string) {
	s.mu.Lock()
	s.revoked[token] = true
	s.mu.Unlock()
}

// AddComment registers (or replaces) a comment. A Live comment on a broadcast the sandbox does
// not know starts that broadcast; a comment on a media the sandbox does not know adds the media
// (FEED, made with the comment).
func (s *Sandbox) AddComment(c Comment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addCommentLocked(c)
}

func (s *Sandbox) addCommentLocked(c Comment) {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.Live {
		if c.MediaID == "" {
			c.MediaID = "live-" + c.ID
		}
		if _, ok := s.broadcasts[c.MediaID]; !ok {
			s.broadcasts[c.MediaID] = &broadcast{id: c.MediaID, account: c.AccountID, live: true, started: c.CreatedAt}
		}
	} else if _, ok := s.media[c.MediaID]; !ok && c.MediaID != "" {
		s.media[c.MediaID] = &Media{ID: c.MediaID, AccountID: c.AccountID, ProductType: "FEED", CreatedAt: c.CreatedAt}
	}
	if c.FromID != "" && c.FromName != "" {
		s.personLocked(c.FromID).username = c.FromName
	}
	n := &comment{Comment: c}
	if old := s.comments[c.ID]; old != nil {
		n.delivered = old.delivered
		s.unlist(old)
	}
	s.comments[c.ID] = n
	if c.MediaID != "" {
		s.byMedia[c.MediaID] = append(s.byMedia[c.MediaID], n)
	}
}

// unlist takes a replaced comment out of its media's list.
func (s *Sandbox) unlist(old *comment) {
	list := s.byMedia[old.MediaID]
	for i, c := range list {
		if c == old {
			s.byMedia[old.MediaID] = append(list[:i:i], list[i+1:]...)
			return
		}
	}
}

// AddMedia registers (or replaces) a post or reel of an account.
func (s *Sandbox) AddMedia(m Media) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.CreatedAt.IsZero() {
		m.CreatedAt = s.now()
	}
	if m.ProductType == "" {
		m.ProductType = "FEED"
	}
	s.media[m.ID] = &m
}

// UnsubscribeApp is the fault "app unsubscribed": Meta drops the app's webhook subscription of the
// account (every account when accountID is ""), as it does after persistent delivery failures.
// Comments made and messaging events until the app subscribes again (POST subscribed_apps) are
// never notified, and GET subscribed_apps lists no entry for it (other apps' stay).
func (s *Sandbox) UnsubscribeApp(accountID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for id, a := range s.accounts {
		if accountID == "" || id == accountID {
			a.subscribe(nil, now)
		}
	}
}

// Notifies reports whether Meta sends (or sent) the comment's webhook: the account was subscribed
// to the comment's field (live_comments for Live, else comments) when it was made, and the
// comment is not WithoutWebhook. A comment of an account the sandbox does not know is notified:
// the sandbox then models no subscription at all.
func (s *Sandbox) Notifies(commentID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.notifiesLocked(commentID)
}

func (s *Sandbox) notifiesLocked(commentID string) bool {
	c, ok := s.comments[commentID]
	if !ok || c.WithoutWebhook {
		return false
	}
	a, ok := s.accounts[c.AccountID]
	if !ok {
		return true
	}
	field := "comments"
	if c.Live {
		field = "live_comments"
	}
	return slices.Contains(a.fieldsAt(c.CreatedAt), field)
}

// SetLookupWithoutMedia makes GET /{comment-id} answer every comment of the account without
// `media` (on), or as Meta usually does (off). Comment.LookupWithoutMedia does it for one comment.
func (s *Sandbox) SetLookupWithoutMedia(accountID string, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.accounts[accountID]; ok {
		a.lookupNoMedia = on
	}
}

// SetCommentLookupWithoutMedia sets Comment.LookupWithoutMedia of a known comment.
func (s *Sandbox) SetCommentLookupWithoutMedia(commentID string, on bool) {
	s.setComment(commentID, func(c *comment) { c.LookupWithoutMedia = on })
}

// HideComment hides a comment: it can no longer get a private or public reply.
func (s *Sandbox) HideComment(id string) { s.setComment(id, func(c *comment) { c.Hidden = true }) }

// DeleteComment deletes a comment: it can no longer get a private or public reply.
func (s *Sandbox) DeleteComment(id string) { s.setComment(id, func(c *comment) { c.Deleted = true }) }

func (s *Sandbox) setComment(id string, f func(*comment)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.comments[id]
	if !ok {
		c = &comment{Comment: Comment{ID: id, CreatedAt: s.now()}}
		s.comments[id] = c
	}
	f(c)
}

// StartBroadcast puts the account's broadcast mediaID on air.
func (s *Sandbox) StartBroadcast(accountID, mediaID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.broadcasts[mediaID] = &broadcast{id: mediaID, account: accountID, live: true, started: s.now()}
}

// EndBroadcastAt ends the broadcast at a time of its clock, whatever happens meanwhile: a call
// that arrives later, however long it travelled, meets a broadcast that is over.
func (s *Sandbox) EndBroadcastAt(mediaID string, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.broadcasts[mediaID]; ok {
		b.ends = at
	}
}

// EndBroadcast takes the broadcast off air: its comments' window closes (10/2534022).
func (s *Sandbox) EndBroadcast(mediaID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if b, ok := s.broadcasts[mediaID]; ok {
		b.live = false
	} else {
		s.broadcasts[mediaID] = &broadcast{id: mediaID}
	}
}

// SetFault installs a hook asked about every call that no queued fault answers; its Fault (the
// zero Fault for none) decides the answer. The hook runs without the sandbox's lock held.
func (s *Sandbox) SetFault(f func(Call) Fault) {
	s.mu.Lock()
	s.hook = f
	s.mu.Unlock()
}

// OtherApp is another app's private reply for the account in lane at the given time (no earlier
// than any call before it), and reports whether Meta accepted it. Meta's rule: the private-reply
// allowance belongs to the professional account, shared by every app it authorised, so another
// app's replies are refused with 613 when the account's window is full, and count toward the
// rolling limit and the call_count of X-Business-Use-Case-Usage, which is how an app learns of
// them. They are not in the ledger: no app of ours sent them.
func (s *Sandbox) OtherApp(accountID string, lane reply.Lane, at time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok, _, _, _ := s.admit(accountID, lane, at); !ok {
		return false
	}
	s.record(accountID, lane, at)
	return true
}

// QueueFault queues faults for the next private replies to commentID, in order, one per call;
// commentID "" queues them for the next private replies to any comment. Faults queued for the
// comment are used before those for any.
func (s *Sandbox) QueueFault(commentID string, f ...Fault) {
	s.mu.Lock()
	s.queued[commentID] = append(s.queued[commentID], f...)
	s.mu.Unlock()
}

// Deliveries is the ledger of accepted private replies, in order.
func (s *Sandbox) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// Delivered is how many private replies the comment received (at most 1 under Meta's rule).
func (s *Sandbox) Delivered(commentID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.comments[commentID]; ok {
		return c.delivered
	}
	return 0
}

// Attempts is how many private-reply calls named the comment, answered or not.
func (s *Sandbox) Attempts(commentID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[commentID]
}

// PublicReplies is the ledger of accepted public replies, in order.
func (s *Sandbox) PublicReplies() []PublicReply {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PublicReply(nil), s.publics...)
}

// Subscriptions is the webhook fields the account subscribed replywindow's app to.
func (s *Sandbox) Subscriptions(accountID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.accounts[accountID]; ok {
		return append([]string(nil), a.fields...)
	}
	return nil
}

// Stats is a copy of the sandbox's counters.
func (s *Sandbox) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.statsLocked()
}

func (s *Sandbox) statsLocked() Stats {
	st := s.stats
	st.Calls = make(map[Op]int, len(s.stats.Calls))
	for k, v := range s.stats.Calls {
		st.Calls[k] = v
	}
	st.Refused = make(map[string]int, len(s.stats.Refused))
	for k, v := range s.stats.Refused {
		st.Refused[k] = v
	}
	return st
}

// Live is the ids of the account's broadcasts on air, sorted.
func (s *Sandbox) Live(accountID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.liveLocked(accountID, s.now())
}

func (s *Sandbox) liveLocked(accountID string, now time.Time) []string {
	var ids []string
	for _, b := range s.broadcasts {
		if b.onAir(now) && (b.account == accountID || b.account == "") {
			ids = append(ids, b.id)
		}
	}
	sort.Strings(ids)
	return ids
}

// admit applies the lane's rolling limit at now: a call is admitted when fewer than Count
// accepted calls fall in (now-Period, now]. Only accepted sends are recorded (by take and
// record), so refused and faulted calls never use the allowance. used is the count in the window
// including this call when admitted; regain is how long until the oldest leaves the window.
func (s *Sandbox) admit(accountID string, lane reply.Lane, now time.Time) (ok bool, used int, lim reply.Limit, regain time.Duration) {
	lim = s.limits[lane]
	k := accountID + "#" + string(lane)
	times := s.sent[k]
	from := now.Add(-lim.Period)
	i := 0
	for i < len(times) && !times[i].After(from) {
		i++
	}
	times = times[i:]
	s.sent[k] = times
	if len(times) >= lim.Count {
		return false, len(times), lim, times[0].Add(lim.Period).Sub(now)
	}
	return true, len(times) + 1, lim, 0
}

// take admits and records one send of the lane, or answers Meta's 613 (with subcode, 0 for
// none); usage is the X-Business-Use-Case-Usage header either way, of Meta's type prefix+lane.
func (s *Sandbox) take(accountID string, lane reply.Lane, prefix string, subcode int, now time.Time) (usage string, refused *result) {
	ok, used, lim, regain := s.admit(accountID, lane, now)
	usage = usageOf(accountID, prefix+string(lane), used, lim, regain)
	if !ok {
		res := refuse(400, 613, subcode, "OAuthException", "(#613) Calls to this api have exceeded the rate limit.")
		res.usage = usage
		return usage, &res
	}
	s.record(accountID, lane, now)
	return usage, nil
}

func (s *Sandbox) record(accountID string, lane reply.Lane, now time.Time) {
	k := accountID + "#" + string(lane)
	s.sent[k] = append(s.sent[k], now)
}
