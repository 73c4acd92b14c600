package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/replywindow/replywindow/shared/reply"
)

// The messaging entry points as Meta has them (Instagram messaging docs: Story Mention, ig.me
// links, Ice Breakers, Persistent Menu). What a person does returns the webhook Meta would POST
// (nil when Meta sends none), and opens the person's window as their message would.

// OpMessengerProfile is GET, POST and DELETE /{ig-id|page-id|me}/messenger_profile.
const OpMessengerProfile Op = "messenger_profile"

// SetPrivate makes the person's account private (or public again): Meta sends a private
// account's story mention only to an account it follows.
func (s *Sandbox) SetPrivate(personID string, private bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.personLocked(personID).private = private
}

// StoryMention is the person mentioning the account in their story storyID: a message whose
// attachment is story_mention, its payload the story's CDN URL (which an app may reference and
// must not store). A private account that does not follow the account mentions unseen: no
// webhook, no window.
func (s *Sandbox) StoryMention(accountID, personID, storyID string) (mid string, body []byte) {
	s.mu.Lock()
	if s.personLocked(personID).private && !s.convLocked(accountID, personID).follows {
		s.mu.Unlock()
		return "", nil
	}
	s.mu.Unlock()
	a := hookAttachment{Type: "story_mention"}
	a.Payload.URL = "https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=" + storyID + "&signature=sbx"
	return s.inboundMessage(accountID, personID, &hookMessage{Attachments: []hookAttachment{a}})
}

func shortlink(ref string) *hookReferral {
	return &hookReferral{Ref: ref, Source: "SHORTLINKS", Type: "OPEN_THREAD"}
}

// hookReferral is an ig.me link's referral, as Meta's pages show it.
type hookReferral struct {
	Ref    string `json:"ref"`
	Source string `json:"source"`
	Type   string `json:"type"`
}

// OpenLink is the person opening ig.me/m/<account>?ref=ref in the Instagram app. In a thread
// that exists, Meta sends messaging_referral and the window opens; in a new one it sends
// nothing yet: the ref comes with the person's ice breaker tap (IceBreaker), and only when the
// account has ice breakers set. On the web the link opens no thread at all: not modelled.
func (s *Sandbox) OpenLink(accountID, personID, ref string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.convLocked(accountID, personID)
	if !c.consent {
		c.pendingRef = ref
		return nil
	}
	now := s.now()
	s.openLocked(accountID, personID, now)
	return s.hookIfLocked(accountID, reply.FieldReferrals, func() []byte {
		return s.hookBody(accountID, now, hookEvent{Sender: hookID{personID}, Recipient: hookID{accountID}, Referral: shortlink(ref)})
	})
}

// RefMessage is the person's first message carrying the ref of the link that opened the thread:
// the shape peers report beside Meta's ice breaker postback.
func (s *Sandbox) RefMessage(accountID, personID, ref, text string) (mid string, body []byte) {
	return s.inboundMessage(accountID, personID, &hookMessage{Text: text, Referral: shortlink(ref)})
}

// IceBreaker is the person tapping the account's ice breaker whose payload is payload: a
// postback titled with its question, carrying the ref of a link that opened the thread. A
// person cannot tap an ice breaker the account has not set: ok is false, nothing happens.
func (s *Sandbox) IceBreaker(accountID, personID, payload string) (mid string, body []byte, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.igProfileLocked(accountID)
	i := slices.IndexFunc(p.IceBreakers, func(b reply.IceBreaker) bool { return b.Payload == payload })
	if i < 0 {
		return "", nil, false
	}
	c := s.convLocked(accountID, personID)
	pb := &hookPostback{Title: p.IceBreakers[i].Question, Payload: payload}
	if c.pendingRef != "" {
		pb.Referral, c.pendingRef = shortlink(c.pendingRef), ""
	}
	mid, body = s.tapLocked(accountID, personID, pb)
	return mid, body, true
}

// MenuTap is the person tapping a postback item of the account's persistent menu; ok is false
// when the menu has no such item.
func (s *Sandbox) MenuTap(accountID, personID, payload string) (mid string, body []byte, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.igProfileLocked(accountID)
	i := slices.IndexFunc(p.Menu, func(m reply.MenuItem) bool { return m.Type == reply.ButtonPostback && m.Payload == payload })
	if i < 0 {
		return "", nil, false
	}
	mid, body = s.tapLocked(accountID, personID, &hookPostback{Title: p.Menu[i].Title, Payload: payload})
	return mid, body, true
}

// tapLocked opens the window for a postback and answers its webhook; s.mu is held.
func (s *Sandbox) tapLocked(accountID, personID string, pb *hookPostback) (string, []byte) {
	now := s.now()
	pb.MID = s.openLocked(accountID, personID, now)
	return pb.MID, s.hookIfLocked(accountID, reply.FieldPostbacks, func() []byte {
		return s.hookBody(accountID, now, hookEvent{Sender: hookID{personID}, Recipient: hookID{accountID}, Postback: pb})
	})
}

// MessengerProfile is what the messenger profile API holds for the account's Instagram
// messaging (a copy).
func (s *Sandbox) MessengerProfile(accountID string) reply.MessengerProfile {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.igProfileLocked(accountID)
	return reply.MessengerProfile{IceBreakers: slices.Clone(p.IceBreakers), Menu: slices.Clone(p.Menu)}
}

func (s *Sandbox) igProfileLocked(accountID string) *reply.MessengerProfile {
	a := s.accounts[accountID]
	if a == nil {
		return &reply.MessengerProfile{}
	}
	return a.profile(platformInstagram)
}

const platformInstagram = "instagram"

func (a *account) profile(platform string) *reply.MessengerProfile {
	if a.profiles == nil {
		a.profiles = map[string]*reply.MessengerProfile{}
	}
	p := a.profiles[platform]
	if p == nil {
		p = &reply.MessengerProfile{}
		a.profiles[platform] = p
	}
	return p
}

// The messenger profile API's wire shapes. Ice breakers come in two formats: the localized one
// (call_to_actions per locale, "default" required) and the older flat list; one request holds
// one or the other.
type (
	wireProfile struct {
		Platform    string            `json:"platform"`
		IceBreakers []json.RawMessage `json:"ice_breakers"`
		Menu        []wireMenu        `json:"persistent_menu"`
		Fields      []string          `json:"fields"` // DELETE
	}
	wireIceLocale struct {
		CallToActions []reply.IceBreaker `json:"call_to_actions"`
		Locale        string             `json:"locale"`
	}
	wireMenu struct {
		Locale                string           `json:"locale"`
		ComposerInputDisabled *bool            `json:"composer_input_disabled,omitempty"`
		CallToActions         []reply.MenuItem `json:"call_to_actions"`
	}
)

// messengerProfile answers the messenger profile API by Meta's rules; s.mu is held.
func (s *Sandbox) messengerProfile(a *account, rq request) result {
	if rq.objectID != "me" && rq.objectID != a.id && rq.objectID != a.senderID() {
		return errNoObject(rq.objectID)
	}
	var w wireProfile
	if len(rq.raw) > 0 && json.Unmarshal(rq.raw, &w) != nil {
		return errParam("Invalid parameter: the body is not a JSON object")
	}
	platform := rq.platform
	if platform == "" {
		platform = w.Platform
	}
	// Through a Page (Facebook Login) only platform=instagram reaches Instagram's profile; without
	// it the call sets the Page's Messenger profile. graph.instagram.com knows only Instagram.
	if a.login == reply.LoginInstagram {
		platform = platformInstagram
	} else if platform != platformInstagram {
		platform = ""
	}
	p := a.profile(platform)
	switch rq.method {
	case http.MethodGet:
		return getProfile(p, rq.fields)
	case http.MethodDelete:
		if len(w.Fields) == 0 {
			return errParam("The parameter fields is required")
		}
		for _, f := range w.Fields {
			switch f {
			case "ice_breakers":
				p.IceBreakers = nil
			case "persistent_menu":
				p.Menu = nil
			default:
				return errParam(fmt.Sprintf("Invalid field %q", f))
			}
		}
		return result{status: 200, body: map[string]string{"result": "success"}}
	case http.MethodPost:
		ice, iceSet, why := iceBreakers(w.IceBreakers)
		if why == "" {
			why = checkIce(ice)
		}
		menu, menuSet, why2 := persistentMenu(w.Menu)
		switch {
		case why != "":
			return errParam(why)
		case why2 != "":
			return errParam(why2)
		case !iceSet && !menuSet:
			return errParam("No messenger profile field to set")
		}
		if iceSet {
			p.IceBreakers = ice
		}
		if menuSet {
			p.Menu = menu
		}
		return result{status: 200, body: map[string]string{"result": "success"}}
	}
	return errParam("unsupported")
}

func getProfile(p *reply.MessengerProfile, fields string) result {
	if fields == "" {
		return errParam("The parameter fields is required")
	}
	entry := map[string]any{}
	for _, f := range splitFields(fields) {
		switch f {
		case "ice_breakers":
			if len(p.IceBreakers) > 0 {
				entry["ice_breakers"] = []wireIceLocale{{CallToActions: p.IceBreakers, Locale: "default"}}
			}
		case "persistent_menu":
			if len(p.Menu) > 0 {
				entry["persistent_menu"] = []wireMenu{{Locale: "default", CallToActions: p.Menu}}
			}
		default:
			return errParam(fmt.Sprintf("Invalid field %q", f))
		}
	}
	data := []map[string]any{}
	if len(entry) > 0 {
		data = append(data, entry)
	}
	return result{status: 200, body: map[string]any{"data": data}}
}

func splitFields(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// iceBreakers reads either format; set is false when the request has none.
func iceBreakers(raw []json.RawMessage) (out []reply.IceBreaker, set bool, why string) {
	if raw == nil {
		return nil, false, ""
	}
	var localized, flat bool
	var hasDefault bool
	for _, r := range raw {
		var probe map[string]json.RawMessage
		if json.Unmarshal(r, &probe) != nil {
			return nil, true, "Invalid parameter: ice_breakers holds objects"
		}
		if _, ok := probe["call_to_actions"]; ok {
			localized = true
			var l wireIceLocale
			if json.Unmarshal(r, &l) != nil {
				return nil, true, "Invalid parameter: ice_breakers call_to_actions"
			}
			if len(l.CallToActions) > reply.MaxIceBreakers {
				return nil, true, fmt.Sprintf("ice_breakers: %d questions for locale %q, at most %d", len(l.CallToActions), l.Locale, reply.MaxIceBreakers)
			}
			if l.Locale == "default" {
				hasDefault, out = true, l.CallToActions
			}
			continue
		}
		flat = true
		var b reply.IceBreaker
		if json.Unmarshal(r, &b) != nil {
			return nil, true, "Invalid parameter: ice_breakers question"
		}
		out = append(out, b)
	}
	switch {
	case localized && flat:
		return nil, true, "ice_breakers: one request holds the existing format or the new format, not both"
	case localized && !hasDefault:
		return nil, true, "ice_breakers: the default locale is required"
	case len(out) > reply.MaxIceBreakers:
		return nil, true, fmt.Sprintf("ice_breakers: %d questions, at most %d", len(out), reply.MaxIceBreakers)
	}
	return out, true, ""
}

func checkIce(ice []reply.IceBreaker) string {
	for i, b := range ice {
		switch {
		case b.Question == "" || !utf8.ValidString(b.Question):
			return fmt.Sprintf("ice_breakers[%d]: question is required", i)
		case utf8.RuneCountInString(b.Question) > reply.MaxIceBreakerQuestion:
			return fmt.Sprintf("ice_breakers[%d]: question is too long", i)
		case b.Payload == "" || len(b.Payload) > reply.MaxPayloadBytes:
			return fmt.Sprintf("ice_breakers[%d]: payload is required, at most %d characters", i, reply.MaxPayloadBytes)
		}
	}
	return ""
}

// persistentMenu reads the menu's default locale; set is false when the request has none.
func persistentMenu(menus []wireMenu) (out []reply.MenuItem, set bool, why string) {
	if menus == nil {
		return nil, false, ""
	}
	found := false
	for _, m := range menus {
		if m.ComposerInputDisabled != nil {
			return nil, true, "persistent_menu: composer_input_disabled is not available on Instagram"
		}
		if m.Locale == "default" {
			found, out = true, m.CallToActions
		}
	}
	if !found {
		return nil, true, "persistent_menu: the default locale is required"
	}
	if len(out) > reply.MaxMenuItems {
		return nil, true, fmt.Sprintf("persistent_menu: %d call_to_actions, at most %d", len(out), reply.MaxMenuItems)
	}
	for i, m := range out {
		switch {
		case m.Title == "" || utf8.RuneCountInString(m.Title) > reply.MaxMenuTitle:
			return nil, true, fmt.Sprintf("persistent_menu call_to_actions[%d]: title is required, at most %d characters", i, reply.MaxMenuTitle)
		case m.Type == reply.ButtonPostback && (m.Payload == "" || len(m.Payload) > reply.MaxPayloadBytes):
			return nil, true, fmt.Sprintf("persistent_menu call_to_actions[%d]: payload is required, at most %d characters", i, reply.MaxPayloadBytes)
		case m.Type == reply.ButtonURL && m.URL == "":
			return nil, true, fmt.Sprintf("persistent_menu call_to_actions[%d]: url is required", i)
		case m.Type != reply.ButtonPostback && m.Type != reply.ButtonURL:
			return nil, true, fmt.Sprintf("persistent_menu call_to_actions[%d]: type %q is not supported", i, m.Type)
		}
	}
	return out, true, ""
}

// SetMessengerProfile replaces the account's Instagram messenger profile, as another tool (or the
// Instagram app) would.
func (s *Sandbox) SetMessengerProfile(accountID string, p reply.MessengerProfile) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.accounts[accountID]; a != nil {
		*a.profile(platformInstagram) = reply.MessengerProfile{IceBreakers: slices.Clone(p.IceBreakers), Menu: slices.Clone(p.Menu)}
	}
}
