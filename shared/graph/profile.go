package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/replywindow/replywindow/shared/reply"
)

// The messenger profile API for Instagram (ice breakers, the persistent menu):
// /{ig-id}/messenger_profile on graph.instagram.com (Instagram Login), or
// /{page-id}/messenger_profile?platform=instagram on graph.facebook.com (Facebook Login: without
// platform=instagram the call would set the Page's Messenger profile instead).

type (
	wireIceLocale struct {
		CallToActions []reply.IceBreaker `json:"call_to_actions"`
		Locale        string             `json:"locale"`
	}
	wireMenuLocale struct {
		Locale        string           `json:"locale"`
		CallToActions []reply.MenuItem `json:"call_to_actions"`
	}
)

func (c *Client) profileURL(a reply.Account) *url.URL {
	u := c.url(host(a), true, a.SenderID(), "messenger_profile")
	u.RawQuery = url.Values{"platform": {"instagram"}}.Encode()
	return u
}

// MessengerProfile reads the account's ice breakers and persistent menu (default locale) from
// Meta. Meta's pages show two answers: data[] entries holding ice_breakers and persistent_menu
// (the Messenger profile's shape), or, for ice breakers alone, entries that are the localized
// lists themselves (call_to_actions and locale); both are read.
func (c *Client) MessengerProfile(ctx context.Context, a reply.Account, token string) (reply.MessengerProfile, error) {
	u := c.profileURL(a)
	q := u.Query()
	q.Set("fields", "ice_breakers,persistent_menu")
	u.RawQuery = q.Encode()
	ans, err := c.do(ctx, request{method: http.MethodGet, u: u, token: token})
	if err != nil {
		return reply.MessengerProfile{}, fmt.Errorf("messenger profile of account %s: %w", a.ID, err)
	}
	var out struct {
		Data []struct {
			IceBreakers []wireIceLocale  `json:"ice_breakers"`
			Menu        []wireMenuLocale `json:"persistent_menu"`
			wireIceLocale
		} `json:"data"`
	}
	if err := json.Unmarshal(ans.body, &out); err != nil {
		return reply.MessengerProfile{}, fmt.Errorf("messenger profile of account %s: its answer holds %s", a.ID, shape(ans.body))
	}
	var p reply.MessengerProfile
	for _, d := range out.Data {
		ice := d.IceBreakers
		if len(d.wireIceLocale.CallToActions) > 0 {
			ice = append(ice, d.wireIceLocale)
		}
		for _, l := range ice {
			if l.Locale == "default" || l.Locale == "" {
				p.IceBreakers = l.CallToActions
			}
		}
		for _, m := range d.Menu {
			if m.Locale == "default" {
				p.Menu = m.CallToActions
			}
		}
	}
	return p, nil
}

// SetMessengerProfile sets the account's ice breakers and persistent menu (default locale) to
// p's, in one call; a part p leaves empty is deleted, in a second call, only when Meta has it
// (had), so what Meta shows matches the file.
func (c *Client) SetMessengerProfile(ctx context.Context, a reply.Account, token string, p, had reply.MessengerProfile) error {
	body := map[string]any{"platform": "instagram"}
	if len(p.IceBreakers) > 0 {
		body["ice_breakers"] = []wireIceLocale{{CallToActions: p.IceBreakers, Locale: "default"}}
	}
	if len(p.Menu) > 0 {
		body["persistent_menu"] = []wireMenuLocale{{Locale: "default", CallToActions: p.Menu}}
	}
	if len(body) > 1 {
		if err := c.profileCall(ctx, a, token, http.MethodPost, body); err != nil {
			return fmt.Errorf("set messenger profile of account %s: %w", a.ID, err)
		}
	}
	var drop []string
	if len(p.IceBreakers) == 0 && len(had.IceBreakers) > 0 {
		drop = append(drop, "ice_breakers")
	}
	if len(p.Menu) == 0 && len(had.Menu) > 0 {
		drop = append(drop, "persistent_menu")
	}
	if len(drop) > 0 {
		if err := c.profileCall(ctx, a, token, http.MethodDelete, map[string]any{"platform": "instagram", "fields": drop}); err != nil {
			return fmt.Errorf("delete %v from the messenger profile of account %s: %w", drop, a.ID, err)
		}
	}
	return nil
}

func (c *Client) profileCall(ctx context.Context, a reply.Account, token, method string, body map[string]any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	ans, err := c.do(ctx, request{method: method, u: c.profileURL(a), token: token, body: b, ctype: "application/json"})
	if err != nil {
		return err
	}
	var out struct {
		Result string `json:"result"`
	}
	if json.Unmarshal(ans.body, &out) != nil || out.Result != "success" {
		return fmt.Errorf("no confirmation: its answer holds %s", shape(ans.body))
	}
	return nil
}
