package sandbox

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// A comment reaches replywindow as Meta's comments (or live_comments) webhook. CommentBody is the
// one place its body is built: the demo's deliveries, `replywindow dev comment` (through the
// people endpoint's comment action) and the tests all post these bytes.

// Comment webhook shapes (Instagram Login: entry[].changes[]; Meta's webhooks reference).
type (
	commentEnvelope struct {
		Object string         `json:"object"`
		Entry  []commentEntry `json:"entry"`
	}
	commentEntry struct {
		ID      string          `json:"id"`
		Time    int64           `json:"time"` // seconds for changes, unlike messaging's milliseconds
		Changes []commentChange `json:"changes"`
	}
	commentChange struct {
		Field string       `json:"field"`
		Value commentValue `json:"value"`
	}
	commentValue struct {
		ID       string        `json:"id"`
		Text     string        `json:"text"`
		ParentID string        `json:"parent_id,omitempty"`
		From     commentFrom   `json:"from"`
		Media    *commentMedia `json:"media,omitempty"`
	}
	commentFrom struct {
		ID       string `json:"id"`
		Username string `json:"username,omitempty"`
	}
	commentMedia struct {
		ID          string `json:"id"`
		ProductType string `json:"media_product_type,omitempty"`
	}
)

// CommentBody is the delivery Meta posts for c, sent at `at`, in Meta's bytes (non-ASCII as
// \u00e4, "/" as "\/"): field live_comments for a Live comment, else comments; `media` is left
// out when c.MediaID is empty, as Meta sometimes delivers a comment. productType is the media's
// media_product_type (FEED, REELS, LIVE, ...).
func CommentBody(c Comment, productType string, at time.Time) []byte {
	field := "comments"
	if c.Live {
		field = "live_comments"
	}
	v := commentValue{ID: c.ID, Text: c.Text, ParentID: c.ParentID, From: commentFrom{ID: c.FromID, Username: c.FromName}}
	if c.MediaID != "" {
		v.Media = &commentMedia{ID: c.MediaID, ProductType: productType}
	}
	b, err := json.Marshal(commentEnvelope{Object: "instagram", Entry: []commentEntry{{ID: c.AccountID, Time: at.Unix(),
		Changes: []commentChange{{Field: field, Value: v}}}}})
	if err != nil {
		panic(fmt.Sprintf("sandbox: comment webhook body: %v", err)) // plain structs of strings always encode
	}
	return metaEscape(b)
}

// errBadAction is a person's action missing what it needs: the people endpoint answers 400.
var errBadAction = errors.New("bad action")

// commentIDBase starts the ids of comments made through the people endpoint: digits, as Meta's
// are, and far from the demo's and the tests' fixed ids.
const commentIDBase = 17990000000000000

// CommentOn is the person commenting text on the account's media, now: the comment exists as
// Meta has it (listed under the media, open to one private reply, found by GET /{comment-id}), and
// body is its webhook, nil when Meta notifies nothing (the account's subscription for
// replywindow's app lacks the field). A media on air as a broadcast takes a Live comment; a media
// the sandbox does not know becomes a post (FEED) of the account.
func (s *Sandbox) CommentOn(accountID, mediaID, personID, text string) (id string, body []byte, err error) {
	if accountID == "" || mediaID == "" || personID == "" || text == "" {
		return "", nil, fmt.Errorf("%w: a comment needs account, media, person and text", errBadAction)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	c := Comment{AccountID: accountID, MediaID: mediaID, FromID: personID, Text: text, CreatedAt: now,
		FromName: s.personLocked(personID).username}
	product := "FEED"
	if b, ok := s.broadcasts[mediaID]; ok {
		if b.account != accountID {
			return "", nil, fmt.Errorf("%w: broadcast %s is account %s's, not %s's", errBadAction, mediaID, b.account, accountID)
		}
		if !b.onAir(now) {
			return "", nil, fmt.Errorf("%w: broadcast %s is not on air: Instagram takes no comment on it", errBadAction, mediaID)
		}
		c.Live, product = true, "LIVE"
	} else if m, ok := s.media[mediaID]; ok {
		if m.AccountID != accountID {
			return "", nil, fmt.Errorf("%w: media %s is account %s's, not %s's", errBadAction, mediaID, m.AccountID, accountID)
		}
		product = cmp.Or(m.ProductType, product)
	}
	for n := len(s.comments) + 1; ; n++ {
		if c.ID = fmt.Sprint(commentIDBase + n); s.comments[c.ID] == nil {
			break
		}
	}
	s.addCommentLocked(c)
	if !s.notifiesLocked(c.ID) {
		return c.ID, nil, nil
	}
	return c.ID, CommentBody(c, product, now), nil
}
