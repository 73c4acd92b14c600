package sandbox

import (
	"slices"

	"github.com/replywindow/replywindow/shared/reply"
)

// Meta delivers an account's webhooks to each app subscribed to it, for that app's fields only
// (design.md §2 "subscribing"). The sandbox's app (AppID) is replywindow's: its subscription is
// what POST subscribed_apps with an account's token sets, and the only one that decides what the
// sandbox delivers (Notifies for comments; the bodies of Message, Postback, Reaction, Seen, the
// echoes). Other apps on the account (SubscribeOtherApp) are listed by GET subscribed_apps, each
// under its own id, and deliver nothing to replywindow.

// Messaging webhook fields beside reply's.
const fieldSeen = "messaging_seen" // read receipts

type otherApp struct {
	id     string
	fields []string
}

// SubscribeOtherApp subscribes another app (appID, not the sandbox's) to the account's webhook
// fields, as another tool the account authorised would; no fields unsubscribes it. GET
// subscribed_apps lists it before replywindow's app, under its own id; it changes nothing the
// sandbox delivers.
func (s *Sandbox) SubscribeOtherApp(accountID, appID string, fields []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.accounts[accountID]
	if !ok {
		return
	}
	i := slices.IndexFunc(a.others, func(o otherApp) bool { return o.id == appID })
	switch {
	case len(fields) == 0 && i >= 0:
		a.others = slices.Delete(a.others, i, i+1)
	case len(fields) == 0:
	case i >= 0:
		a.others[i].fields = slices.Clone(fields)
	default:
		a.others = append(a.others, otherApp{id: appID, fields: slices.Clone(fields)})
	}
}

// Subscribe sets the webhook fields of replywindow's app on the account, as POST
// subscribed_apps with its token does (no fields: unsubscribed).
func (s *Sandbox) Subscribe(accountID string, fields []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a, ok := s.accounts[accountID]; ok {
		a.subscribe(slices.Clone(fields), s.now())
	}
}

// deliversLocked reports whether Meta sends replywindow the account's webhooks of field now: its
// app's subscription of the account holds the field, by either of its names (reply.FieldAliases).
// An account the sandbox was not told about models no subscription: everything is delivered.
// s.mu is held.
func (s *Sandbox) deliversLocked(accountID, field string) bool {
	a, ok := s.accounts[accountID]
	alias := reply.FieldAliases[field]
	return !ok || slices.Contains(a.fields, field) || alias != "" && slices.Contains(a.fields, alias)
}

// hookIfLocked is body when the account's subscription delivers field, else nil: Meta sends
// nothing. s.mu is held.
func (s *Sandbox) hookIfLocked(accountID, field string, body func() []byte) []byte {
	if !s.deliversLocked(accountID, field) {
		return nil
	}
	return body()
}

// echoLocked keeps the echo of a message the account sent through the sandbox's app, when the
// account's subscription delivers messages (echoes come on that field). s.mu is held.
func (s *Sandbox) echoLocked(m SentMessage) {
	if s.deliversLocked(m.AccountID, reply.FieldMessages) {
		s.echoes = append(s.echoes, s.echoBody(m))
	}
}

// appsLocked is the account's GET subscribed_apps list: other apps first, then ours when
// subscribed. s.mu is held.
func (s *Sandbox) appsLocked(a *account) []map[string]any {
	var out []map[string]any
	for _, o := range a.others {
		out = append(out, map[string]any{"id": o.id, "name": "another app " + o.id, "subscribed_fields": slices.Clone(o.fields)})
	}
	if len(a.fields) > 0 {
		out = append(out, map[string]any{"id": s.appID, "name": "replywindow (sandbox)", "subscribed_fields": slices.Clone(a.fields)})
	}
	return out
}
