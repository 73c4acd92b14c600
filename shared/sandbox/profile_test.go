package sandbox_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestProfileConsent: the user profile API answers only once the person messaged or tapped, and
// from then on (the consent outlives the window).
func TestProfileConsent(t *testing.T) {
	tests := []struct {
		name string
		do   func(e *env)
		want string
	}{
		{"nothing yet", func(e *env) {}, "230"},
		{"a comment gives no consent", func(e *env) {
			e.sb.AddComment(sandbox.Comment{ID: comment, AccountID: igID, FromID: person, FromName: "ann"})
		}, "230"},
		{"a reaction gives no consent", func(e *env) { e.sb.Reaction(igID, person, "m_1", "love") }, "230"},
		{"consent to another account", func(e *env) { e.sb.Message(fbID, person, "hi") }, "230"},
		{"follow state alone", func(e *env) { e.sb.SetFollows(igID, person, true) }, "230"},
		{"message", func(e *env) { e.sb.Message(igID, person, "hi") }, "ok"},
		{"postback", func(e *env) { e.sb.Postback(igID, person, "LINK", "Link") }, "ok"},
		{"quick reply", func(e *env) { e.sb.QuickReply(igID, person, "Yes", "Y") }, "ok"},
		{"a week after the message", func(e *env) { e.sb.Message(igID, person, "hi"); e.clock.Add(7 * 24 * time.Hour) }, "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tt.do(e)
			_, err := e.c.Profile(t.Context(), igAccount, igToken, person)
			if got := outcome(t, err); got != tt.want {
				t.Fatalf("profile: %s, want %s", got, tt.want)
			}
			st := e.sb.Stats()
			if st.Calls[sandbox.OpProfile] != 1 || st.Profiles != map[bool]int{true: 1}[tt.want == "ok"] || st.Calls[sandbox.OpComment] != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
	e := newEnv(t)
	got := e.getRaw(t, "/v24.0/"+person+"?fields=name,is_user_follow_business", igToken)
	if got.status != http.StatusForbidden || got.msg != "(#230) User consent is required to access user profile" {
		t.Errorf("answer %d %q", got.status, got.msg)
	}
}

func (e *env) getRaw(t *testing.T, path, token string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	return do(t, req)
}

// TestProfileFields: what the profile says, and which fields it knows.
func TestProfileFields(t *testing.T) {
	e := newEnv(t)
	e.sb.AddComment(sandbox.Comment{ID: comment, AccountID: igID, FromID: person, FromName: "ann.cooks"})
	e.sb.Message(igID, person, "hi")
	e.sb.Message(fbID, person, "hi")
	e.sb.SetFollows(fbID, person, true)
	for _, tc := range []struct {
		a       reply.Account
		token   string
		follows bool
	}{{igAccount, igToken, false}, {fbAccount, fbToken, true}} {
		p, err := e.c.Profile(t.Context(), tc.a, tc.token, person)
		if err != nil || p.Username != "ann.cooks" || p.Name == "" || p.Following != tc.follows {
			t.Errorf("%s: profile %+v, %v", tc.a.Login, p, err)
		}
	}
	e.sb.SetFollows(igID, person, true)
	e.sb.SetUsername(person, "ann")
	if p, err := e.c.Profile(t.Context(), igAccount, igToken, person); err != nil || !p.Following || p.Username != "ann" {
		t.Errorf("after a follow: %+v, %v", p, err)
	}
	all := e.getRaw(t, "/v24.0/"+person+"?fields=name,username,profile_pic,follower_count,is_user_follow_business,is_business_follow_user,is_verified_user", igToken)
	if all.code != "ok" || len(all.body) != 8 {
		t.Errorf("every field: %s %v", all.code, all.body)
	}
	if got := e.getRaw(t, "/v24.0/"+person+"?fields=name,email", igToken); got.code != "100" {
		t.Errorf("unknown field: %s %v", got.code, got.body)
	}
	// A username alone says nothing of what the id is: a person's id is read as a profile, a
	// comment's as a comment.
	if got := e.getRaw(t, "/v24.0/"+person+"?fields=username", igToken); got.body["username"] != "ann" || got.body["text"] != nil {
		t.Errorf("a person's username: %v", got.body)
	}
	if got := e.getRaw(t, "/v24.0/"+comment+"?fields=username", igToken); got.body["username"] != "ann.cooks" || got.body["id"] != comment {
		t.Errorf("a comment's username: %v", got.body)
	}
	if st := e.sb.Stats(); st.Calls[sandbox.OpComment] != 1 || st.Calls[sandbox.OpProfile] != 6 {
		t.Errorf("calls %v", st.Calls)
	}
}

// TestProfileWithheldFollowState: a person configured so has their profile answered without
// is_user_follow_business for that account only (and with the name set for them), until told
// otherwise.
func TestProfileWithheldFollowState(t *testing.T) {
	e := newEnv(t)
	e.sb.Message(igID, person, "hi")
	e.sb.Message(fbID, person, "hi")
	e.sb.SetName(person, "Zelda Quixotic")
	e.sb.WithholdFollowState(igID, person, true)
	path := "/v24.0/" + person + "?fields=name,username,is_user_follow_business"
	tests := []struct {
		name     string
		token    string
		withhold bool
		want     bool // is_user_follow_business in the answer
	}{
		{"withheld for the account", igToken, true, false},
		{"another account still hears it", fbToken, true, true},
		{"answered again", igToken, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.sb.WithholdFollowState(igID, person, tt.withhold)
			got := e.getRaw(t, path, tt.token)
			_, has := got.body["is_user_follow_business"]
			if got.code != "ok" || has != tt.want || got.body["name"] != "Zelda Quixotic" {
				t.Errorf("answer %s %v", got.code, got.body)
			}
		})
	}
}
