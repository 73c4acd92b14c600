package sandbox

import (
	"slices"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// Token inspection (GET /debug_token?input_token=...), as Meta documents it for Graph API tokens:
// the answer's data says whether the token is valid, when it expires (0: never, as for Page
// tokens), which app it belongs to and which permissions (scopes) it holds; an invalid or
// revoked token is not an error of the call but is_valid false with the reason inside data. The
// caller authenticates with the inspected token itself or with the app token (APP_ID|SECRET).
// Whether graph.instagram.com serves the call for Instagram Login tokens is not clear from
// Meta's pages: WithoutTokenInspection answers it as an unknown path (2500), the other reading,
// so a client must do without and say so.

// OpInspect is GET /debug_token.
const OpInspect Op = "inspect"

// Scopes a token is granted when SetTokenScopes said nothing: what replywindow's setup asks for.
var (
	InstagramScopes = []string{"instagram_business_basic", "instagram_business_manage_comments", "instagram_business_manage_messages"}
	FacebookScopes  = []string{"instagram_basic", "instagram_manage_comments", "instagram_manage_messages", "pages_manage_metadata", "pages_show_list"}
)

// tokenInfo is what the sandbox knows of a token beyond its account.
type tokenInfo struct {
	issued  time.Time
	expires time.Time // zero: never
	scopes  []string  // nil: the login's default
}

// WithoutTokenInspection answers GET /debug_token as an unknown path (2500), the reading in
// which Meta offers no inspection on the account's host.
func WithoutTokenInspection() Option { return func(s *Sandbox) { s.noInspect = true } }

// SetTokenExpiry makes token expire at t: inspection says so, and every call with it after t is
// refused with 190/463, as Meta refuses an expired session. Zero is the default: a Page token
// never expires, an Instagram Login token is said to expire 60 days after it was first seen.
func (s *Sandbox) SetTokenExpiry(token string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.infoLocked(token).expires = t
}

// SetTokenScopes sets the permissions token holds (nil: its login's default).
func (s *Sandbox) SetTokenScopes(token string, scopes []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.infoLocked(token).scopes = slices.Clone(scopes)
}

// infoLocked is token's entry, made on first use. s.mu is held.
func (s *Sandbox) infoLocked(token string) *tokenInfo {
	if s.tokenInfo == nil {
		s.tokenInfo = map[string]*tokenInfo{}
	}
	ti, ok := s.tokenInfo[token]
	if !ok {
		ti = &tokenInfo{issued: s.now()}
		s.tokenInfo[token] = ti
	}
	return ti
}

// expiredLocked reports whether token was given an expiry that passed. s.mu is held.
func (s *Sandbox) expiredLocked(token string, now time.Time) bool {
	ti, ok := s.tokenInfo[token]
	return ok && !ti.expires.IsZero() && !now.Before(ti.expires)
}

var errExpired = func() result {
	return refuse(400, 190, 463, "OAuthException", "Error validating access token: Session has expired.")
}

// inspect answers GET /debug_token. s.mu is held.
func (s *Sandbox) inspect(rq request, now time.Time) result {
	if s.noInspect {
		return refuse(400, 2500, 0, "OAuthException", "Unknown path components: /debug_token")
	}
	appToken := s.appID + "|" + s.appSecret
	if rq.token != appToken {
		// Authenticated with the token itself: a dead one is refused like any call.
		_, ok := s.tokens[rq.token]
		switch {
		case !ok:
			return errBadToken()
		case s.revoked[rq.token]:
			return errRevoked()
		case s.expiredLocked(rq.token, now):
			return errExpired()
		}
	}
	if rq.input == "" {
		return errParam("The parameter input_token is required")
	}
	id, known := s.tokens[rq.input]
	data := map[string]any{"app_id": s.appID, "application": "replywindow (sandbox)", "is_valid": false}
	if !known {
		data["error"] = map[string]any{"code": 190, "message": "Invalid OAuth access token - Cannot parse access token"}
		return result{status: 200, body: map[string]any{"data": data}}
	}
	a := s.accounts[id]
	ti := s.infoLocked(rq.input)
	scopes := ti.scopes
	if scopes == nil {
		scopes = InstagramScopes
		if a.login == reply.LoginFacebook {
			scopes = FacebookScopes
		}
	}
	var expires int64
	switch {
	case !ti.expires.IsZero():
		expires = ti.expires.Unix()
	case a.login == reply.LoginInstagram:
		// Meta's long-lived Instagram tokens last 60 days from their issue. The sandbox says so,
		// but refuses only tokens given an expiry (SetTokenExpiry, a refresh's answer), so a long
		// simulation need not refresh the tokens it started with.
		expires = ti.issued.Add(TokenLifetime).Unix()
	}
	data["type"], data["user_id"], data["issued_at"], data["expires_at"], data["scopes"] = "USER", a.appUser, ti.issued.Unix(), expires, slices.Clone(scopes)
	if a.login == reply.LoginFacebook {
		data["type"], data["profile_id"] = "PAGE", a.pageID
	}
	switch {
	case s.revoked[rq.input]:
		data["error"] = map[string]any{"code": 190, "subcode": 460, "message": "The session has been invalidated."}
	case s.expiredLocked(rq.input, now):
		data["error"] = map[string]any{"code": 190, "subcode": 463, "message": "Session has expired."}
	default:
		data["is_valid"] = true
	}
	return result{status: 200, body: map[string]any{"data": data}}
}
