package chaos

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
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
	body := payloadOf(d.comments, s.clock.Now())
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
// live_comments changes, entry.time in seconds.
func payloadOf(cs []*comment, sent time.Time) []byte {
	type from struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	type media struct {
		ID               string `json:"id"`
		MediaProductType string `json:"media_product_type"`
	}
	type value struct {
		ID       string `json:"id"`
		Text     string `json:"text"`
		ParentID string `json:"parent_id,omitempty"`
		From     from   `json:"from"`
		Media    media  `json:"media"`
	}
	type change struct {
		Field string `json:"field"`
		Value value  `json:"value"`
	}
	type entry struct {
		ID      string   `json:"id"`
		Time    int64    `json:"time"`
		Changes []change `json:"changes"`
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
		e.Changes = append(e.Changes, change{Field: field, Value: value{
			ID: c.id, Text: c.text, ParentID: c.parent,
			From:  from{ID: c.person, Username: c.username},
			Media: media{ID: c.media, MediaProductType: c.product},
		}})
	}
	sort.Strings(order)
	body := struct {
		Object string  `json:"object"`
		Entry  []entry `json:"entry"`
	}{Object: "instagram"}
	for _, id := range order {
		body.Entry = append(body.Entry, *byAccount[id])
	}
	b, _ := json.Marshal(body)
	return b
}
