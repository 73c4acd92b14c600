package links

import (
	"context"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// Tracker is the reply.Linker of a sending function: each link of a message whose account and
// rule track it goes out as Base + /l/{code}, and the rule's UTM parameters are added to every
// link it sends.
type Tracker struct {
	Base    string // the stack's API endpoint (LINK_BASE_URL), without a trailing slash
	Keys    Keys
	Clock   reply.Clock
	Metrics *telemetry.Metrics
	Log     *slog.Logger
}

// MetricNotTracked counts links sent as written although tracking was on for them (dimension
// reason: key, the secret could not be read; long, the message would pass Meta's limits).
const MetricNotTracked = "LinkNotTracked"

// textLink finds http(s) links in a text as reply's validation does: up to white space, without
// the punctuation that ends a sentence.
var textLink = regexp.MustCompile(`https?://[^\s]+`)

// Track is m with its links tracked. It never fails the send: a link it cannot track goes as
// written (with the rule's UTM parameters), counted under MetricNotTracked.
func (t *Tracker) Track(ctx context.Context, a reply.Account, o reply.Origin, m reply.Message) reply.Message {
	utm := a.UTM(o.Rule)
	var sealer *Sealer
	keyErr := false
	rewrite := func(target string) (string, bool) {
		out, err := reply.WithUTM(target, utm)
		if err != nil {
			out = target
		}
		if !a.Tracks(o.Rule, target) || !reply.HTTPLink(out) {
			return out, false
		}
		if sealer == nil && !keyErr {
			s, err := t.Keys.Sealer(ctx)
			if err != nil {
				keyErr = true
				t.notTracked("key")
				t.log().Error("links secret unavailable: links sent untracked", "account", a.ID, "err", err)
			}
			sealer = s
		}
		if sealer == nil {
			return out, false
		}
		return t.Base + RoutePrefix + sealer.Seal(Link{Origin: o, Target: out, Issued: t.now()}), true
	}
	if len(m.Buttons) > 0 {
		m.Buttons = slices.Clone(m.Buttons) // the account's rule is shared: never written
		for i, b := range m.Buttons {
			if b.Type != reply.ButtonURL {
				continue
			}
			if u, tracked := rewrite(b.URL); len(u) <= reply.MaxAttachmentURLLen {
				m.Buttons[i].URL = u
			} else if tracked {
				t.notTracked("long")
			}
		}
	}
	if m.Type() == reply.MessageText && strings.Contains(m.Text, "http") {
		limit := reply.MaxTextBytes
		if len(m.Buttons) > 0 {
			limit = reply.MaxButtonText
		}
		sealed := false
		plain := textLink.ReplaceAllStringFunc(m.Text, func(s string) string {
			link, tail := splitTail(s)
			u, _ := reply.WithUTM(link, utm)
			if u == "" {
				u = link
			}
			return u + tail
		})
		tracked := textLink.ReplaceAllStringFunc(m.Text, func(s string) string {
			link, tail := splitTail(s)
			u, ok := rewrite(link)
			sealed = sealed || ok
			return u + tail
		})
		switch {
		case len(tracked) <= limit:
			m.Text = tracked
		case len(plain) <= limit:
			m.Text = plain
			if sealed {
				t.notTracked("long")
			}
		}
	}
	return m
}

// splitTail cuts the punctuation that ends a sentence off a link found in text.
func splitTail(s string) (link, tail string) {
	link = strings.TrimRight(s, ".,;:!?)")
	return link, s[len(link):]
}

func (t *Tracker) notTracked(reason string) {
	if t.Metrics != nil {
		t.Metrics.Count(MetricNotTracked, 1, "Reason", reason)
	}
}

func (t *Tracker) now() time.Time {
	if t.Clock == nil {
		return time.Now()
	}
	return t.Clock.Now()
}

func (t *Tracker) log() *slog.Logger {
	if t.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Log
}
