package graph_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

const (
	person  = "1254459154682919"
	ownPost = "18000000000000010"
)

// TestSendMessage: each kind reaches the sandbox in the Send API shape Meta takes, from either
// login, and arrives in its ledger as what was meant.
func TestSendMessage(t *testing.T) {
	bs := []reply.Button{{Type: reply.ButtonPostback, Title: "Again", Payload: "AGAIN"}, {Type: reply.ButtonURL, Title: "Open", URL: "https://example.com/r"}}
	qs := []reply.QuickReply{{Title: "Yes", Payload: "Y"}}
	tests := []struct {
		name string
		m    reply.Message
		want sandbox.SentMessage
	}{
		{"text", reply.Message{Text: "the link: https://example.com/r"}, sandbox.SentMessage{Kind: reply.MessageText, Text: "the link: https://example.com/r"}},
		{"quick replies", reply.Message{Text: "More?", QuickReplies: qs}, sandbox.SentMessage{Kind: reply.MessageText, Text: "More?", QuickReplies: qs}},
		{"button template", reply.Message{Text: "Tap", Buttons: bs}, sandbox.SentMessage{Kind: reply.MessageText, Text: "Tap", Buttons: bs}},
		{"image with quick replies", reply.Message{Kind: reply.MessageImage, URL: "https://cdn.example.com/a.gif", QuickReplies: qs},
			sandbox.SentMessage{Kind: reply.MessageImage, URL: "https://cdn.example.com/a.gif", QuickReplies: qs}},
		{"audio", reply.Message{Kind: reply.MessageAudio, URL: "https://cdn.example.com/a.mp3"}, sandbox.SentMessage{Kind: reply.MessageAudio, URL: "https://cdn.example.com/a.mp3"}},
		{"video", reply.Message{Kind: reply.MessageVideo, URL: "https://cdn.example.com/a.mp4"}, sandbox.SentMessage{Kind: reply.MessageVideo, URL: "https://cdn.example.com/a.mp4"}},
		{"heart", reply.Message{Kind: reply.MessageHeart}, sandbox.SentMessage{Kind: reply.MessageHeart}},
		{"own post", reply.Message{Kind: reply.MessageMediaShare, MediaID: ownPost}, sandbox.SentMessage{Kind: reply.MessageMediaShare, MediaID: ownPost}},
		{"reaction", reply.Message{Kind: reply.MessageReaction}, sandbox.SentMessage{Kind: reply.MessageReaction, Reaction: "love"}},
	}
	for _, tt := range tests {
		for _, acct := range []struct {
			a     reply.Account
			token string
		}{{igAccount, igToken}, {fbAccount, fbToken}} {
			t.Run(tt.name+"/"+string(acct.a.Login), func(t *testing.T) {
				e := newEnv(t, 2*time.Second)
				e.sb.AddMedia(sandbox.Media{ID: ownPost, AccountID: acct.a.ID})
				mid, _ := e.sb.Message(acct.a.ID, person, "hi")
				res, err := e.c.SendMessage(context.Background(), acct.a, acct.token, person, tt.m, mid)
				if err != nil {
					t.Fatal(err)
				}
				got := e.sb.Messages()
				if len(got) != 1 {
					t.Fatalf("ledger %+v", got)
				}
				g := got[0]
				if g.AccountID != acct.a.ID || g.PersonID != person || res.RecipientID != person {
					t.Errorf("ledger %+v, answer %+v", g, res)
				}
				if tt.m.Type() == reply.MessageReaction {
					tt.want.ReplyTo = mid
				} else if res.MessageID != g.MessageID {
					t.Errorf("message id %q, ledger %q", res.MessageID, g.MessageID)
				}
				g.AccountID, g.PersonID, g.At, g.WindowEnd, g.MessageID, g.Answered = "", "", time.Time{}, time.Time{}, "", false
				if !reflect.DeepEqual(g, tt.want) {
					t.Errorf("ledger\n %+v, want\n %+v", g, tt.want)
				}
			})
		}
	}
}

// TestSendMessageErrors: Meta's refusals come back as *reply.GraphError naming the person; a
// message with no Send API form is never sent.
func TestSendMessageErrors(t *testing.T) {
	e := newEnv(t, 2*time.Second)
	ctx := context.Background()
	hello := reply.Message{Text: "hello"}
	codeOf := func(err error) string {
		var ge *reply.GraphError
		if !errors.As(err, &ge) {
			t.Fatalf("error %T: %v", err, err)
		}
		if !strings.Contains(err.Error(), person) {
			t.Errorf("error does not name the person: %v", err)
		}
		return ge.CodeString()
	}
	_, err := e.c.SendMessage(ctx, igAccount, igToken, person, hello, "")
	if got := codeOf(err); got != "10/2018278" {
		t.Errorf("outside the window: %s", got)
	}
	e.sb.Message(igID, person, "hi")
	for _, tc := range []struct {
		name    string
		m       reply.Message
		replyTo string
		want    string
	}{
		{"other account's post", reply.Message{Kind: reply.MessageMediaShare, MediaID: "18000000000000099"}, "", "100"},
		{"reaction to nothing", reply.Message{Kind: reply.MessageReaction}, "", "no_answer"},
		{"unknown kind", reply.Message{Kind: "sticker"}, "", "no_answer"},
	} {
		_, err := e.c.SendMessage(ctx, igAccount, igToken, person, tc.m, tc.replyTo)
		got := codeOf(err)
		if got != tc.want || (tc.want == "no_answer") != errors.Is(err, graph.ErrNotSent) {
			t.Errorf("%s: %s (%v), want %s", tc.name, got, err, tc.want)
		}
	}
	if _, err := e.c.SendMessage(ctx, igAccount, "IGAAT-unknown", person, hello, ""); codeOf(err) != "190" {
		t.Errorf("bad token: %v", err)
	}
	if n := e.sb.Stats().Calls[sandbox.OpSend]; n != 3 {
		t.Errorf("%d Send API calls, want 3 (the unsendable ones never left)", n)
	}
}

// TestProfile: the follow state from the profile API, consent required before it.
func TestProfile(t *testing.T) {
	e := newEnv(t, 2*time.Second)
	ctx := context.Background()
	_, err := e.c.Profile(ctx, fbAccount, fbToken, person)
	var ge *reply.GraphError
	if !errors.As(err, &ge) || ge.Code != 230 || ge.Status != http.StatusForbidden || !strings.Contains(err.Error(), person) {
		t.Fatalf("before consent: %v", err)
	}
	e.sb.Postback(fbID, person, "LINK", "Send me the link")
	e.sb.SetUsername(person, "ann.cooks")
	for _, follows := range []bool{false, true} {
		e.sb.SetFollows(fbID, person, follows)
		p, err := e.c.Profile(ctx, fbAccount, fbToken, person)
		if err != nil || p.Following != follows || p.Username != "ann.cooks" || p.Name == "" {
			t.Errorf("follows=%v: %+v, %v", follows, p, err)
		}
	}
	e.mu.Lock()
	last := e.urls[len(e.urls)-1]
	e.mu.Unlock()
	if last != "/v24.0/"+person+"?fields=name%2Cusername%2Cis_user_follow_business" {
		t.Errorf("asked for %s", last)
	}
}

// TestProfileWithoutFollowState: an answer that does not say whether the person follows is an
// error, never "not following".
func TestProfileWithoutFollowState(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]string{"id": person, "username": "ann"})
	}))
	defer srv.Close()
	c := graph.New(graph.WithBaseURL(srv.URL))
	if p, err := c.Profile(context.Background(), igAccount, igToken, person); err == nil || strings.Contains(err.Error(), igToken) {
		t.Errorf("profile %+v, %v", p, err)
	}
}
