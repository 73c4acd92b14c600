package main

import (
	"fmt"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/tokens"
)

// The conversation part of the account file: what a rule's private reply carries, the flow that
// follows it, and the DM rules. The names are reply's JSON names, so that a Validate error's
// path ("flow[1] "link": messages[0]: text: ...") is also the path in the file.

type opButtonFile struct {
	// Type is postback or web_url; left out, it is postback with a payload and web_url with a url.
	Type    reply.ButtonType `yaml:"type"`
	Title   string           `yaml:"title"`
	Payload string           `yaml:"payload"`
	URL     string           `yaml:"url"`
}

type opQuickReply struct {
	Title   string `yaml:"title"`
	Payload string `yaml:"payload"`
	// ContentType is read so that user_email and user_phone_number get Validate's answer (Meta
	// disabled them on 5 October 2026) rather than an unknown field's.
	ContentType string `yaml:"content_type"`
}

type opMessageFile struct {
	Kind         reply.MessageKind `yaml:"kind"` // text when left out
	Text         string            `yaml:"text"`
	URL          string            `yaml:"url"`
	MediaID      string            `yaml:"media_id"`
	Reaction     string            `yaml:"reaction"`
	Buttons      []opButtonFile    `yaml:"buttons"`
	QuickReplies []opQuickReply    `yaml:"quick_replies"`
}

type opTriggerFile struct {
	Payload  string          `yaml:"payload"`
	Keywords []string        `yaml:"keywords"`
	Match    reply.MatchMode `yaml:"match"`
	Any      bool            `yaml:"any"`
}

type opGateFile struct {
	Message     opMessageFile `yaml:"message"`
	Unavailable string        `yaml:"unavailable"` // send or ask
}

type opStepFile struct {
	Name string `yaml:"name"`
	// ID keeps a step's identity through a rename (its name when left out).
	ID         string          `yaml:"id"`
	On         opTriggerFile   `yaml:"on"`
	Messages   []opMessageFile `yaml:"messages"`
	FollowGate *opGateFile     `yaml:"follow_gate"`
	Resend     bool            `yaml:"resend"`
	Cooldown   string          `yaml:"cooldown"` // "10m"
	Ask        *opAskFile      `yaml:"ask"`
	// Variants send other messages by the person's variant (the rule's split, by name).
	Variants []opStepVariantFile `yaml:"variants"`
}

// opAskFile makes a step a question (reply.Ask).
type opAskFile struct {
	Kind     string          `yaml:"kind"` // email or phone
	Consent  bool            `yaml:"consent"`
	Confirm  []opMessageFile `yaml:"confirm"`
	Next     string          `yaml:"next"`
	Retry    opMessageFile   `yaml:"retry"`
	Retries  int             `yaml:"retries"`
	Fallback opMessageFile   `yaml:"fallback"`
}

type opStepVariantFile struct {
	Name     string          `yaml:"name"`
	Weight   int             `yaml:"weight"`
	Messages []opMessageFile `yaml:"messages"`
}

type opDMRuleFile struct {
	Name         string          `yaml:"name"`
	Match        reply.MatchMode `yaml:"match"`
	Keywords     []string        `yaml:"keywords"`
	StoryReplies bool            `yaml:"story_replies"`
	Messages     []opMessageFile `yaml:"messages"`
	Flow         []opStepFile    `yaml:"flow"`
}

func opButtons(bs []opButtonFile) []reply.Button {
	var out []reply.Button
	for _, b := range bs {
		t := b.Type
		if t == "" {
			switch {
			case b.Payload != "" && b.URL == "":
				t = reply.ButtonPostback
			case b.URL != "" && b.Payload == "":
				t = reply.ButtonURL
			}
		}
		out = append(out, reply.Button{Type: t, Title: b.Title, Payload: b.Payload, URL: b.URL})
	}
	return out
}

func opQuickReplies(qs []opQuickReply) []reply.QuickReply {
	var out []reply.QuickReply
	for _, q := range qs {
		out = append(out, reply.QuickReply{Title: q.Title, Payload: q.Payload, ContentType: q.ContentType})
	}
	return out
}

func opMessage(m opMessageFile) reply.Message {
	return reply.Message{
		Kind: m.Kind, Text: m.Text, URL: m.URL, MediaID: m.MediaID, Reaction: m.Reaction,
		Buttons: opButtons(m.Buttons), QuickReplies: opQuickReplies(m.QuickReplies),
	}
}

func opMessages(ms []opMessageFile) []reply.Message {
	var out []reply.Message
	for _, m := range ms {
		out = append(out, opMessage(m))
	}
	return out
}

// opFlow converts the steps of the rule at path (`rules[0] "recipe"`); Validate checks the rest.
func opFlow(path string, steps []opStepFile) ([]reply.Step, error) {
	var out []reply.Step
	for i, s := range steps {
		step := reply.Step{
			Name: s.Name, ID: s.ID, Messages: opMessages(s.Messages), Resend: s.Resend,
			On: reply.Trigger{Payload: s.On.Payload, Keywords: s.On.Keywords, Match: s.On.Match, Any: s.On.Any},
		}
		if g := s.FollowGate; g != nil {
			step.Gate = &reply.Gate{Message: opMessage(g.Message), Unavailable: g.Unavailable}
		}
		if q := s.Ask; q != nil {
			step.Ask = &reply.Ask{Kind: q.Kind, Consent: q.Consent, Confirm: opMessages(q.Confirm), Next: q.Next,
				Retry: opMessage(q.Retry), Retries: q.Retries, Fallback: opMessage(q.Fallback)}
		}
		for _, v := range s.Variants {
			step.Variants = append(step.Variants, reply.StepVariant{Name: v.Name, Weight: v.Weight, Messages: opMessages(v.Messages)})
		}
		var err error
		if step.Cooldown, err = opDuration("cooldown", s.Cooldown); err != nil {
			return nil, fmt.Errorf("%s: flow[%d] %q: %w", path, i, s.Name, err)
		}
		out = append(out, step)
	}
	return out, nil
}

// opRuleTimes reads a rule's from and until (RFC 3339; "" is no bound); path names the rule.
func opRuleTimes(path, from, until string) (time.Time, time.Time, error) {
	var out [2]time.Time
	for i, f := range []struct{ name, v string }{{"from", from}, {"until", until}} {
		if f.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.v)
		if err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("%s: %s: %q is not a time (RFC 3339, e.g. 2026-12-24T18:00:00Z or 2026-12-24T18:00:00+01:00)", path, f.name, f.v)
		}
		out[i] = t.UTC()
	}
	return out[0], out[1], nil
}

// opDuration reads a duration of the file ("10m", "24h", "2d"); "" is zero, the default.
func opDuration(field, s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := tokens.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%s: %q is not a positive duration (e.g. 10m, 24h, 2d)", field, s)
	}
	return d, nil
}
