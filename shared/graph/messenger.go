package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/replywindow/replywindow/shared/reply"
)

var _ reply.Messenger = (*Client)(nil)

// SendMessage sends m to the person inside their 24-hour window: POST /{sender-id}/messages with
// recipient {"id": IGSID} on the account's host. A reaction is a sender action on replyTo, the
// person's message. On error the result still carries the usage headers of Meta's answer.
func (c *Client) SendMessage(ctx context.Context, a reply.Account, token, personID string, m reply.Message, replyTo string) (reply.SendResult, error) {
	fields, err := sendFields(m, replyTo)
	if err != nil {
		u := c.url(host(a), true, a.SenderID(), "messages")
		return reply.SendResult{}, fmt.Errorf("message to person %s: %w", personID, notSent(http.MethodPost, u, err))
	}
	res, err := c.send(ctx, a, token, recipient{ID: personID}, fields)
	if err != nil {
		return res, fmt.Errorf("%s message to person %s: %w", m.Type(), personID, err)
	}
	return res, nil
}

// sendFields is the Send API body of m besides the recipient.
func sendFields(m reply.Message, replyTo string) (map[string]any, error) {
	var attachment map[string]any
	switch m.Type() {
	case reply.MessageText:
		return wireMessage(m), nil
	case reply.MessageImage, reply.MessageAudio, reply.MessageVideo:
		attachment = map[string]any{"type": string(m.Type()), "payload": map[string]string{"url": m.URL}}
	case reply.MessageHeart:
		attachment = map[string]any{"type": "like_heart"}
	case reply.MessageMediaShare:
		attachment = map[string]any{"type": "MEDIA_SHARE", "payload": map[string]string{"id": m.MediaID}}
	case reply.MessageReaction:
		if replyTo == "" {
			return nil, errors.New("a reaction needs the message it reacts to")
		}
		reaction := m.Reaction
		if reaction == "" {
			reaction = "love"
		}
		return map[string]any{"sender_action": "react",
			"payload": map[string]string{"message_id": replyTo, "reaction": reaction}}, nil
	default:
		return nil, fmt.Errorf("message kind %q has no Send API form", m.Kind)
	}
	msg := map[string]any{"attachment": attachment}
	if qs := quickReplies(m.QuickReplies); qs != nil {
		msg["quick_replies"] = qs
	}
	return map[string]any{"message": msg}, nil
}

// Profile is what Meta says of the person: GET /{IGSID}?fields=name,username,is_user_follow_business
// on the account's host. Before the person messaged or tapped, Meta refuses it (code 230, "User
// consent is required").
func (c *Client) Profile(ctx context.Context, a reply.Account, token, personID string) (reply.Profile, error) {
	u := c.url(host(a), true, personID)
	u.RawQuery = url.Values{"fields": {"name,username,is_user_follow_business"}}.Encode()
	ans, err := c.do(ctx, request{method: http.MethodGet, u: u, token: token})
	if err != nil {
		return reply.Profile{}, fmt.Errorf("profile of person %s: %w", personID, err)
	}
	var out struct {
		Name      string `json:"name"`
		Username  string `json:"username"`
		Following *bool  `json:"is_user_follow_business"`
	}
	if err := json.Unmarshal(ans.body, &out); err != nil {
		return reply.Profile{}, fmt.Errorf("profile of person %s: decode answer: %w", personID, err)
	}
	// A missing follow state must not read as "not following": the gate would block the person
	// on an answer Meta never gave.
	if out.Following == nil {
		// Its name and username are the person's data: the error names the fields, never them.
		return reply.Profile{}, fmt.Errorf("profile of person %s: Meta's answer holds no is_user_follow_business (it holds %s)",
			personID, shape(ans.body))
	}
	return reply.Profile{Name: out.Name, Username: out.Username, Following: *out.Following}, nil
}
