package sandbox_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

// withSeen is every field `replywindow subscribe` asks for, and read receipts.
var withSeen = append(slices.Clone(reply.WebhookFields), "messaging_seen")

// subscribe subscribes replywindow's app to fields over HTTP, as `replywindow subscribe` does.
func (e *env) subscribe(t *testing.T, a reply.Account, token string, fields ...string) {
	t.Helper()
	if err := e.c.Subscribe(t.Context(), a, token, fields); err != nil {
		t.Fatalf("subscribe %s to %v: %v", a.ID, fields, err)
	}
}

// TestMessagingNeedsOurSubscription: Meta posts a messaging webhook to replywindow only when the
// account's subscription FOR OUR APP holds the event's field. Another app subscribed to every
// field changes nothing; the person's action happens all the same (a message or tap still opens
// the window).
func TestMessagingNeedsOurSubscription(t *testing.T) {
	const otherApp = "3000000000000003"
	tests := []struct {
		name  string
		field string
		do    func(t *testing.T, e *env) []byte
		opens bool // the action opens the person's window
	}{
		{"message", "messages", func(t *testing.T, e *env) []byte { _, b := e.sb.Message(igID, person, "hi"); return b }, true},
		{"quick reply", "messages", func(t *testing.T, e *env) []byte { _, b := e.sb.QuickReply(igID, person, "Yes", "Y"); return b }, true},
		{"story reply", "messages", func(t *testing.T, e *env) []byte {
			_, b := e.sb.StoryReply(igID, person, "18000000000000001", "wow")
			return b
		}, true},
		{"attachment", "messages", func(t *testing.T, e *env) []byte {
			_, b := e.sb.Attachment(igID, person, "image", "https://cdn.example.com/p.jpg")
			return b
		}, true},
		{"postback", "messaging_postbacks", func(t *testing.T, e *env) []byte { _, b := e.sb.Postback(igID, person, "LINK", "Link"); return b }, true},
		{"reaction", "messaging_reactions", func(t *testing.T, e *env) []byte { return e.sb.Reaction(igID, person, "m_sbx_1", "love") }, false},
		{"seen", "messaging_seen", func(t *testing.T, e *env) []byte { return e.sb.Seen(igID, person, "m_sbx_1") }, false},
		{"ig.me link in a conversation", "messaging_referral", func(t *testing.T, e *env) []byte {
			e.sb.Message(igID, person, "hi")
			return e.sb.OpenLink(igID, person, "menu-window")
		}, true},
		{"a human's echo", "messages", func(t *testing.T, e *env) []byte { _, b := e.sb.HumanReply(igID, person, "a human"); return b }, false},
		{"another app's echo", "messages", func(t *testing.T, e *env) []byte {
			_, b := e.sb.OtherAppReply(igID, person, otherApp, "a tool")
			return b
		}, false},
		{"our send's echo", "messages", func(t *testing.T, e *env) []byte {
			mid, _ := e.sb.Message(igID, person, "hi")
			_, _ = e.c.SendMessage(t.Context(), igAccount, igToken, person, hello, mid)
			return one(e.sb.TakeEchoes())
		}, false},
		{"our private reply's echo", "messages", func(t *testing.T, e *env) []byte {
			e.sb.AddComment(sandbox.Comment{ID: comment, AccountID: igID, FromID: person})
			_ = e.send(t, igAccount, igToken, comment)
			return one(e.sb.TakeEchoes())
		}, false},
	}
	for _, tt := range tests {
		for _, sub := range []struct {
			name    string
			fields  []string
			deliver bool
		}{
			{"subscribed", withSeen, true},
			{"without the field", slices.DeleteFunc(slices.Clone(withSeen), func(f string) bool { return f == tt.field }), false},
			{"unsubscribed", nil, false},
			{"by its other name", renamed(withSeen, tt.field), true},
		} {
			if sub.fields == nil && sub.deliver {
				continue // the field has one name only
			}
			t.Run(tt.name+"/"+sub.name, func(t *testing.T) {
				e := newEnv(t)
				e.sb.SubscribeOtherApp(igID, otherApp, withSeen)
				if sub.fields == nil {
					e.sb.UnsubscribeApp(igID)
				} else {
					e.subscribe(t, igAccount, igToken, sub.fields...)
				}
				body := tt.do(t, e)
				if (body != nil) != sub.deliver {
					t.Errorf("delivered %v (%s), want %v", body != nil, body, sub.deliver)
				}
				if open := !e.sb.WindowEnd(igID, person).IsZero(); tt.opens && !open {
					t.Errorf("the action did not open the window")
				}
			})
		}
	}
}

// renamed is fields with field by its other name in Meta's docs (reply.FieldAliases); nil when
// it has none.
func renamed(fields []string, field string) []string {
	alias := reply.FieldAliases[field]
	if alias == "" {
		return nil
	}
	out := slices.Clone(fields)
	out[slices.Index(out, field)] = alias
	return out
}

// one is the only element of bodies, nil when there is none.
func one(bodies [][]byte) []byte {
	if len(bodies) == 1 {
		return bodies[0]
	}
	return nil
}

// TestSubscribedAppsNamesEachApp: GET subscribed_apps lists every app on the account with its id
// and its own fields, another tool's first; Meta dropping our app leaves the others listed.
func TestSubscribedAppsNamesEachApp(t *testing.T) {
	e := newEnv(t)
	apps := func() string {
		t.Helper()
		got, err := e.c.SubscribedApps(t.Context(), igAccount, igToken)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range got {
			out = append(out, a.ID+"="+strings.Join(a.Fields, ","))
		}
		return strings.Join(out, " ")
	}
	ours := sandbox.DefaultAppID
	steps := []struct {
		name string
		do   func()
		want string
	}{
		{"ours alone", func() {}, ours + "=" + strings.Join(sandbox.DefaultFields, ",")},
		{"another app's fields are its own", func() { e.sb.SubscribeOtherApp(igID, "3000000000000003", withSeen) },
			"3000000000000003=" + strings.Join(withSeen, ",") + " " + ours + "=" + strings.Join(sandbox.DefaultFields, ",")},
		{"ours narrowed", func() { e.subscribe(t, igAccount, igToken, "comments") },
			"3000000000000003=" + strings.Join(withSeen, ",") + " " + ours + "=comments"},
		{"Meta drops ours", func() { e.sb.UnsubscribeApp(igID) }, "3000000000000003=" + strings.Join(withSeen, ",")},
		{"the other leaves", func() { e.sb.SubscribeOtherApp(igID, "3000000000000003", nil) }, ""},
	}
	for _, s := range steps {
		s.do()
		if got := apps(); got != s.want {
			t.Errorf("%s: apps %q, want %q", s.name, got, s.want)
		}
	}
	// The other app's subscription is not ours: nothing is delivered to us for it.
	e.sb.SubscribeOtherApp(igID, "3000000000000003", withSeen)
	if _, b := e.sb.Postback(igID, person, "LINK", "Link"); b != nil {
		t.Errorf("a tap delivered on another app's subscription: %s", b)
	}
	if st := e.sb.Stats(); st.Calls[sandbox.OpSubscribed] != len(steps) {
		t.Errorf("calls %v", st.Calls)
	}
}
