package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

func TestInspectToken(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	now := t0
	s := New(WithClock(func() time.Time { return now }))
	s.AddAccount("17841400000000001", "ig", reply.LoginInstagram, "")
	s.AddAccount("17841400000000002", "page", reply.LoginFacebook, "100000000000002")
	s.AddAccount("17841400000000003", "gone", reply.LoginInstagram, "")
	s.AddAccount("17841400000000004", "fresh", reply.LoginInstagram, "")
	s.SetTokenExpiry("ig", t0.Add(3*24*time.Hour))
	s.SetTokenScopes("page", []string{"instagram_basic"})
	s.RevokeToken("gone")
	srv := httptest.NewServer(s)
	defer srv.Close()
	appToken := DefaultAppID + "|" + DefaultAppSecret

	tests := []struct {
		name, caller, input string
		status              int
		code, subcode       int // of the call's error
		valid               bool
		expires             int64
		scopes              []string
		dataSub             int // data.error.subcode of an invalid token
	}{
		{name: "instagram token by itself", caller: "ig", input: "ig", status: 200, valid: true, expires: t0.Add(72 * time.Hour).Unix(), scopes: InstagramScopes},
		{name: "instagram token: 60 days from its issue", caller: "fresh", input: "fresh", status: 200, valid: true, expires: t0.Add(TokenLifetime).Unix(), scopes: InstagramScopes},
		{name: "page token never expires", caller: "page", input: "page", status: 200, valid: true, scopes: []string{"instagram_basic"}},
		{name: "revoked token by app token", caller: appToken, input: "gone", status: 200, expires: t0.Add(TokenLifetime).Unix(), dataSub: 460},
		{name: "revoked token by itself", caller: "gone", input: "gone", status: 400, code: 190, subcode: 460},
		{name: "unknown caller", caller: "nope", input: "ig", status: 400, code: 190},
		{name: "no input", caller: appToken, input: "", status: 400, code: 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body struct {
				Data struct {
					IsValid   bool     `json:"is_valid"`
					ExpiresAt int64    `json:"expires_at"`
					Scopes    []string `json:"scopes"`
					AppID     string   `json:"app_id"`
					Error     *struct {
						Code, Subcode int
					} `json:"error"`
				} `json:"data"`
				Error *struct {
					Code    int `json:"code"`
					Subcode int `json:"error_subcode"`
				} `json:"error"`
			}
			status := get(t, srv.URL+"/v24.0/debug_token?"+url.Values{"input_token": {tt.input}, "access_token": {tt.caller}}.Encode(), &body)
			if status != tt.status {
				t.Fatalf("status %d, want %d", status, tt.status)
			}
			if tt.status != 200 {
				if body.Error == nil || body.Error.Code != tt.code || body.Error.Subcode != tt.subcode {
					t.Fatalf("error %+v, want %d/%d", body.Error, tt.code, tt.subcode)
				}
				return
			}
			d := body.Data
			if d.IsValid != tt.valid || d.ExpiresAt != tt.expires || tt.valid && !slices.Equal(d.Scopes, tt.scopes) || d.AppID != DefaultAppID {
				t.Errorf("data %+v, want valid %v expires %d scopes %v", d, tt.valid, tt.expires, tt.scopes)
			}
			if tt.dataSub != 0 && (d.Error == nil || d.Error.Code != 190 || d.Error.Subcode != tt.dataSub) {
				t.Errorf("data.error %+v, want 190/%d", d.Error, tt.dataSub)
			}
		})
	}

	// Past its expiry the token is refused by every call, as Meta refuses an expired session.
	now = t0.Add(73 * time.Hour)
	var body struct {
		Error struct {
			Code    int `json:"code"`
			Subcode int `json:"error_subcode"`
		} `json:"error"`
	}
	if st := get(t, srv.URL+"/v24.0/me/subscribed_apps?access_token=ig", &body); st != 400 || body.Error.Code != 190 || body.Error.Subcode != 463 {
		t.Errorf("expired token: status %d error %+v, want 400 190/463", st, body.Error)
	}
}

func TestWithoutTokenInspection(t *testing.T) {
	s := New(WithoutTokenInspection())
	s.AddAccount("17841400000000001", "ig", reply.LoginInstagram, "")
	srv := httptest.NewServer(s)
	defer srv.Close()
	var body struct {
		Error struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if st := get(t, srv.URL+"/v24.0/debug_token?input_token=ig&access_token=ig", &body); st != 400 || body.Error.Code != 2500 {
		t.Errorf("status %d code %d, want 400 2500 (unknown path)", st, body.Error.Code)
	}
}

func get(t *testing.T, u string, out any) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}
