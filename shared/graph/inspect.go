package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// TokenInfo is Meta's inspection of an access token (GET /debug_token).
type TokenInfo struct {
	Valid     bool      `json:"valid"`
	AppID     string    `json:"app_id,omitempty"`
	Type      string    `json:"type,omitempty"`      // USER, PAGE
	ExpiresAt time.Time `json:"expires_at,omitzero"` // zero: never (Meta's 0, as for Page tokens)
	Scopes    []string  `json:"scopes,omitempty"`    // the permissions granted
	Problem   string    `json:"problem,omitempty"`   // why Meta calls it invalid
	Code      int       `json:"code,omitempty"`      // Meta's code for an invalid token (190)
	Subcode   int       `json:"subcode,omitempty"`   // 460 revoked, 463 expired, ...
}

// ErrNoInspection says Meta answered the inspection as an unknown or unsupported call on the
// account's host: Meta's pages document debug_token on graph.facebook.com, and leave unclear
// whether graph.instagram.com serves it for Instagram Login tokens. Callers then judge the token
// by another call and its expiry by the refresh's answer.
var ErrNoInspection = errors.New("no token inspection on this host")

// InspectToken asks Meta about token: GET /debug_token?input_token=TOKEN on the account's host,
// authenticated with the token itself. The token travels only in the query, which never reaches
// an error. An invalid token is an answer (Valid false, with Meta's reason), not an error.
func (c *Client) InspectToken(ctx context.Context, a reply.Account, token string) (TokenInfo, error) {
	u := c.url(host(a), true, "debug_token")
	u.RawQuery = url.Values{"input_token": {token}, "access_token": {token}}.Encode()
	ans, err := c.do(ctx, request{method: http.MethodGet, u: u})
	if err != nil {
		var ge *reply.GraphError
		if errors.As(err, &ge) && (ge.Code == 2500 || ge.Code == 100 && ge.Subcode == 0 || ge.Status == http.StatusNotFound) {
			return TokenInfo{}, fmt.Errorf("inspect token of account %s: %w (Meta: %s)", a.ID, ErrNoInspection, ge.Message)
		}
		return TokenInfo{}, fmt.Errorf("inspect token of account %s: %w", a.ID, err)
	}
	var out struct {
		Data struct {
			AppID     string   `json:"app_id"`
			Type      string   `json:"type"`
			IsValid   bool     `json:"is_valid"`
			ExpiresAt int64    `json:"expires_at"`
			Scopes    []string `json:"scopes"`
			Error     *struct {
				Code    int    `json:"code"`
				Subcode int    `json:"subcode"`
				Message string `json:"message"`
			} `json:"error"`
		} `json:"data"`
	}
	if err := json.Unmarshal(ans.body, &out); err != nil {
		return TokenInfo{}, fmt.Errorf("inspect token of account %s: decode answer: %w", a.ID, err)
	}
	d := out.Data
	info := TokenInfo{Valid: d.IsValid, AppID: d.AppID, Type: d.Type, Scopes: d.Scopes}
	if d.ExpiresAt > 0 {
		info.ExpiresAt = time.Unix(d.ExpiresAt, 0).UTC()
	}
	if d.Error != nil {
		info.Code, info.Subcode = d.Error.Code, d.Error.Subcode
		info.Problem = reply.RedactSecrets(d.Error.Message, token)
	}
	return info, nil
}

// NeededScopes are the permissions replywindow's calls need with the account's login: reading
// comments, sending private replies and messages, and (Facebook Login) managing the Page's
// webhook subscription.
func NeededScopes(login reply.Login) []string {
	if login == reply.LoginFacebook {
		return []string{"instagram_basic", "instagram_manage_comments", "instagram_manage_messages", "pages_manage_metadata"}
	}
	return []string{"instagram_business_basic", "instagram_business_manage_comments", "instagram_business_manage_messages"}
}

// MissingScopes is what of NeededScopes(login) the granted scopes lack.
func MissingScopes(login reply.Login, granted []string) []string {
	var out []string
	for _, s := range NeededScopes(login) {
		if !slices.Contains(granted, s) {
			out = append(out, s)
		}
	}
	return out
}
