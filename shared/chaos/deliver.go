package chaos

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// deliver hands one webhook delivery to the webhook (or enqueues its jobs directly). A delivery
// not answered 200 is retried later, as Meta does; Meta also sends some deliveries twice.
func (s *sim) deliver(ctx context.Context, d delivery) {
	now := s.clock.Now()
	q := &faultyQueue{q: s.queue, s: s}
	ok := false
	if s.cfg.Webhook != nil {
		ok = s.cfg.Webhook.Deliver(ctx, payloadOf(d.comments, now), q) == http.StatusOK
	} else {
		ok = q.Enqueue(ctx, jobsOf(d.comments, now)) == nil
	}
	if ok {
		for _, c := range d.comments {
			c.accepted = true
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

// jobsOf is the jobs the webhook makes of the comments in a delivery Meta sent at `sent`.
func jobsOf(cs []*comment, sent time.Time) []reply.Job {
	jobs := make([]reply.Job, 0, len(cs))
	for _, c := range cs {
		jobs = append(jobs, reply.Job{
			V: reply.JobVersion, AccountID: c.account, CommentID: c.id, MediaID: c.media, ProductType: c.product,
			FromID: c.person, FromUsername: c.username, Text: c.text, ParentID: c.parent, Kind: c.kind,
			CommentedAt: sent.Truncate(time.Second), DeliveredAt: sent.Truncate(time.Second),
		})
	}
	return jobs
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
