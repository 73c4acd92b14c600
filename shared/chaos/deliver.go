package chaos

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/webhook"
)

// appSecret signs the simulated deliveries.
const appSecret = "chaos-app-secret"

func newWebhook(q reply.Queue, log *slog.Logger) *webhook.Handler {
	cfg := webhook.Config{QueueURL: "memory", AppSecrets: []string{appSecret}, VerifyToken: "chaos"}
	return webhook.New(cfg, q, webhook.StaticSecrets{Apps: cfg.AppSecrets, Token: cfg.VerifyToken}, nil, log)
}

// deliver posts one signed delivery to the real webhook handler. A delivery not answered 200 is
// retried later, as Meta does; Meta also sends some deliveries twice.
func (s *sim) deliver(ctx context.Context, d delivery) {
	// Meta posts only what it notifies: a comment kept without webhook, or made while the app
	// was unsubscribed, never comes; reconciliation must find it.
	d.comments = slices.DeleteFunc(slices.Clone(d.comments), func(c *comment) bool {
		if s.sandbox.Notifies(c.id) {
			return false
		}
		s.miss(c)
		return true
	})
	if len(d.comments) == 0 {
		return
	}
	body := s.payloadOf(d.comments, s.clock.Now())
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "$default", RawPath: webhook.Path,
		Headers: map[string]string{"content-type": "application/json", "x-hub-signature-256": webhook.Sign(body, appSecret)},
		Body:    string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			Stage: "$default", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: webhook.Path},
		},
	}
	resp, err := s.webhook.Handle(ctx, req)
	now := s.clock.Now()
	if err == nil && resp.StatusCode == http.StatusOK {
		for _, c := range d.comments {
			if !c.accepted && !c.own {
				c.acceptedAt = now
			}
			c.accepted = !c.own // the webhook drops the account's own comments, by design
		}
	} else {
		s.inbox = append(s.inbox, delivery{at: now.Add(webhookWait), comments: d.comments, attempt: d.attempt + 1})
		s.sortInbox()
		return
	}
	if d.attempt == 0 && s.dice.roll(s.cfg.Rates.WebhookDuplicate) {
		s.fault(FaultWebhookDuplicate, "")
		again := delivery{at: now.Add(s.dice.duration(0, 10*time.Minute)).Truncate(time.Second), comments: d.comments, attempt: 1}
		s.inbox = append(s.inbox, again)
		s.sortInbox()
	}
}

// payloadOf is the body Meta posts for the comments: one entry per account, comments and
// live_comments changes, entry.time in seconds. Each comment takes a shape of its own in each
// delivery (shapeOf); an entry with one change may put field and value on the entry itself, as
// Meta's Instagram Login example does.
func (s *sim) payloadOf(cs []*comment, sent time.Time) []byte {
	type from struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	type media struct {
		ID               string `json:"id"`
		MediaProductType string `json:"media_product_type,omitempty"`
		AdID             string `json:"ad_id,omitempty"`
		OriginalMediaID  string `json:"original_media_id,omitempty"`
	}
	type value struct {
		ID        string `json:"id,omitempty"`
		CommentID string `json:"comment_id,omitempty"`
		Text      string `json:"text"`
		ParentID  string `json:"parent_id,omitempty"`
		From      *from  `json:"from,omitempty"`
		Media     *media `json:"media,omitempty"`
	}
	type change struct {
		Field string `json:"field"`
		Value value  `json:"value"`
	}
	type entry struct {
		ID      string   `json:"id"`
		Time    int64    `json:"time"`
		Changes []change `json:"changes,omitempty"`
		Field   string   `json:"field,omitempty"`
		Value   *value   `json:"value,omitempty"`
	}
	byAccount := map[string]*entry{}
	var order []string
	for _, c := range cs {
		e, ok := byAccount[c.account]
		if !ok {
			e = &entry{ID: c.account, Time: sent.Unix()}
			byAccount[c.account] = e
			order = append(order, c.account)
		}
		field := "comments"
		if c.kind == reply.KindLive {
			field = "live_comments"
		}
		sh := shape{}
		if !c.own {
			sh = s.shapeOf(c)
		}
		v := value{ID: c.id, Text: c.text, ParentID: c.parent}
		if sh.commentID {
			v.ID, v.CommentID = "", c.id
		}
		if !sh.noFrom {
			v.From = &from{ID: c.person, Username: c.username}
		}
		switch {
		case sh.adOriginal:
			v.Media = &media{ID: adMedia(c), MediaProductType: c.product, AdID: "238" + c.media, OriginalMediaID: c.media}
		case !sh.noMedia:
			v.Media = &media{ID: c.media, MediaProductType: c.product}
		}
		e.Changes = append(e.Changes, change{Field: field, Value: v})
	}
	sort.Strings(order)
	body := struct {
		Object string  `json:"object"`
		Entry  []entry `json:"entry"`
	}{Object: "instagram"}
	for _, id := range order {
		e := *byAccount[id]
		if len(e.Changes) == 1 && s.dice.roll(0.2) {
			s.fault(FaultShapeFlat, "")
			e.Field, e.Value, e.Changes = e.Changes[0].Field, &e.Changes[0].Value, nil
		}
		body.Entry = append(body.Entry, e)
	}
	b, _ := json.Marshal(body)
	return b
}
