package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// A stack run by hand (`replywindow dev`) has no test to call Message or Postback: these
// endpoints do it over HTTP, answering the signed webhook for the caller to post as it is.

// Action is what POST /_sandbox/people/{action} takes: comment, message, quick_reply, postback,
// story_reply, attachment, reaction, seen, human_reply, other_app_reply, follow or unfollow, with
// the fields that action uses.
type Action struct {
	AccountID string `json:"account"`
	PersonID  string `json:"person"`
	Text      string `json:"text,omitempty"`       // comment, message, story_reply, the replies; a quick reply's title
	MediaID   string `json:"media,omitempty"`      // comment: the post, reel or broadcast commented on
	Payload   string `json:"payload,omitempty"`    // quick_reply, postback
	Title     string `json:"title,omitempty"`      // postback
	StoryID   string `json:"story,omitempty"`      // story_reply
	Type      string `json:"type,omitempty"`       // attachment
	URL       string `json:"url,omitempty"`        // attachment
	MessageID string `json:"message_id,omitempty"` // reaction, seen
	AppID     string `json:"app_id,omitempty"`     // other_app_reply
	Reaction  string `json:"reaction,omitempty"`   // reaction; "" removes it
}

// Hook is a webhook Meta would post: Body exactly as it must be sent, with its
// X-Hub-Signature-256 header. Body is empty when Meta posts nothing: the account's subscription
// for replywindow's app lacks the event's field.
type Hook struct {
	MID       string `json:"mid,omitempty"`
	CommentID string `json:"comment_id,omitempty"` // the comment action's new comment
	Body      string `json:"body"`
	Signature string `json:"signature"`
}

// errUnknownAction is an action the people endpoint does not know: it answers 404.
var errUnknownAction = errors.New("unknown action")

// act does the person's action and answers its webhook.
func (s *Sandbox) act(name string, a Action) (Hook, error) {
	var mid string
	var body []byte
	switch name {
	case "comment":
		id, body, err := s.CommentOn(a.AccountID, a.MediaID, a.PersonID, a.Text)
		if err != nil || body == nil {
			return Hook{CommentID: id}, err
		}
		return Hook{CommentID: id, Body: string(body), Signature: s.Sign(body)}, nil
	case "message":
		mid, body = s.Message(a.AccountID, a.PersonID, a.Text)
	case "quick_reply":
		mid, body = s.QuickReply(a.AccountID, a.PersonID, a.Text, a.Payload)
	case "postback":
		mid, body = s.Postback(a.AccountID, a.PersonID, a.Payload, a.Title)
	case "story_reply":
		mid, body = s.StoryReply(a.AccountID, a.PersonID, a.StoryID, a.Text)
	case "attachment":
		mid, body = s.Attachment(a.AccountID, a.PersonID, a.Type, a.URL)
	case "reaction":
		mid, body = a.MessageID, s.Reaction(a.AccountID, a.PersonID, a.MessageID, a.Reaction)
	case "seen":
		mid, body = a.MessageID, s.Seen(a.AccountID, a.PersonID, a.MessageID)
	case "human_reply":
		mid, body = s.HumanReply(a.AccountID, a.PersonID, a.Text)
	case "other_app_reply":
		mid, body = s.OtherAppReply(a.AccountID, a.PersonID, a.AppID, a.Text)
	case "follow", "unfollow":
		// What the profile API answers as is_user_follow_business from now on; Meta posts no
		// webhook for a follow, so a follow gate learns it only when the person taps again.
		if a.AccountID == "" || a.PersonID == "" {
			return Hook{}, fmt.Errorf("%w: %s needs account and person", errBadAction, name)
		}
		s.SetFollows(a.AccountID, a.PersonID, name == "follow")
	default:
		return Hook{}, fmt.Errorf("%w %q", errUnknownAction, name)
	}
	if body == nil {
		return Hook{MID: mid}, nil
	}
	return Hook{MID: mid, Body: string(body), Signature: s.Sign(body)}, nil
}

// servePeople answers POST /_sandbox/people/{action} (one Hook) and POST /_sandbox/echoes (the
// echoes not yet taken, as Hooks).
func (s *Sandbox) servePeople(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var out any
	if r.URL.Path == "/_sandbox/echoes" {
		hooks := []Hook{}
		for _, b := range s.TakeEchoes() {
			hooks = append(hooks, Hook{Body: string(b), Signature: s.Sign(b)})
		}
		out = hooks
	} else {
		var a Action
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&a); err != nil {
			http.Error(w, "want a JSON action: "+err.Error(), http.StatusBadRequest)
			return
		}
		h, err := s.act(strings.TrimPrefix(r.URL.Path, "/_sandbox/people/"), a)
		switch {
		case errors.Is(err, errUnknownAction):
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		case err != nil:
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out = h
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}
