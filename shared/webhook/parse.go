package webhook

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// ErrMalformed marks a body that is not a webhook delivery at all (the caller answers 400).
var ErrMalformed = errors.New("malformed delivery")

// Delivery is what one webhook request carried.
type Delivery struct {
	Object     string      // "instagram", or what else Meta sent
	Jobs       []reply.Job // one per comment to answer and per messaging event (Job.Event)
	Messaging  int         // messaging events among Jobs
	Seen       int         // messaging_seen (read) events: counted, nothing to do
	OwnDropped int         // the account's own comments, dropped (replying would loop)
	Ignored    int         // other objects, fields and events; echoes; duplicates; unusable items
	// Rejected counts items refused for a value Meta never sends: an id that is not digits, a
	// time that is not a number a job can hold. Each such item is left out alone.
	Rejected int
	// Stale counts events older than StaleAfter by their own time: Meta no longer retries them,
	// so they are a replay (a captured delivery sent again), left out alone.
	Stale int
}

// StaleAfter is how old an event may be and still be taken (MAX_EVENT_AGE may only lengthen it).
// Meta retries a failed delivery "immediately, then [...] a few more times with decreasing
// frequency over the next 36 hours", and "unacknowledged responses will be dropped after 36
// hours" (Graph API Webhooks, Getting Started, "Event Notifications":
// https://developers.facebook.com/docs/graph-api/webhooks/getting-started): that is
// reply.DeliveryHorizon. The margin of 12 hours covers a clock that is off and a retry sent at the
// horizon's end.
const StaleAfter = reply.DeliveryHorizon + 12*time.Hour

// DropStale leaves out the jobs of events older than maxAge at now, judged by each event's own
// time: entry.time (seconds) for a comment change, the messaging timestamp (milliseconds) for a
// messaging event. Meta no longer retries such an event, so it is a replay of a captured delivery;
// the events within the horizon in the same delivery stay. It counts what it dropped in Stale.
func (d *Delivery) DropStale(now time.Time, maxAge time.Duration) {
	out := d.Jobs[:0]
	for _, j := range d.Jobs {
		at := j.DeliveredAt
		if j.Event != nil {
			at = j.Event.At
		}
		if now.Sub(at) > maxAge {
			d.Stale++
			if j.Event != nil {
				d.Messaging--
			}
			continue
		}
		out = append(out, j)
	}
	clear(d.Jobs[len(out):])
	d.Jobs = out
}

// errBadValue marks an id or a time that no Meta delivery carries.
var errBadValue = errors.New("value Meta never sends")

// The shapes below decode only what replywindow uses. Parse decodes a delivery in one pass into
// the typed shapes; when anything inside does not fit them (an unknown field whose value has
// another shape, an id that is an object), it decodes again item by item from raw JSON, so one
// odd item never fails a whole delivery and is counted alone.
type (
	envelope struct {
		Object string  `json:"object"`
		Entry  []entry `json:"entry"`
	}
	entry struct {
		ID        id          `json:"id"`
		Time      epoch       `json:"time"`
		Changes   []change    `json:"changes"`
		Messaging []messaging `json:"messaging"`
		// Meta's documented example puts field and value on the entry, without changes[].
		Field string   `json:"field"`
		Value *comment `json:"value"`
	}
	change struct {
		Field string  `json:"field"`
		Value comment `json:"value"`
	}
	comment struct {
		ID        id     `json:"id"`
		CommentID id     `json:"comment_id"` // some deliveries name the id so
		Text      string `json:"text"`
		ParentID  id     `json:"parent_id"`
		From      struct {
			ID       id     `json:"id"`
			Username string `json:"username"`
		} `json:"from"`
		Media struct {
			ID          id     `json:"id"`
			ProductType string `json:"media_product_type"`
			AdID        id     `json:"ad_id"`
			OriginalID  id     `json:"original_media_id"` // an ad's organic post
		} `json:"media"`
	}
	messaging struct {
		Sender struct {
			ID id `json:"id"`
		} `json:"sender"`
		Recipient struct {
			ID id `json:"id"`
		} `json:"recipient"`
		Timestamp epoch `json:"timestamp"`
		Message   *struct {
			MID        string `json:"mid"`
			Text       string `json:"text"`
			IsEcho     bool   `json:"is_echo"`
			AppID      id     `json:"app_id"`
			QuickReply *struct {
				Payload string `json:"payload"`
			} `json:"quick_reply"`
			ReplyTo *struct {
				Story *struct {
					ID string `json:"id"`
				} `json:"story"`
			} `json:"reply_to"`
			IsDeleted bool `json:"is_deleted"`
			// Only each attachment's type is read: a story_mention's payload is the story's CDN
			// URL, which Meta lets an app reference but never store (and replywindow never logs).
			Attachments []struct {
				Type string `json:"type"`
			} `json:"attachments"`
			Referral *referral `json:"referral"` // an ig.me ref on the first message
		} `json:"message"`
		Postback *struct {
			MID      string    `json:"mid"`
			Title    string    `json:"title"`
			Payload  string    `json:"payload"`
			Referral *referral `json:"referral"` // an ig.me ref on an ice breaker's tap
		} `json:"postback"`
		Referral *referral `json:"referral"` // messaging_referral: an ig.me link opened
		Reaction *struct {
			MID    string `json:"mid"`
			Action string `json:"action"`
		} `json:"reaction"`
		Read *struct {
			MID string `json:"mid"`
		} `json:"read"`
	}

	// referral is an ig.me link's referral: {"ref", "source": "SHORTLINKS", "type": "OPEN_THREAD"}.
	referral struct {
		Ref string `json:"ref"`
	}

	// The same shapes with every item kept raw, for the item-by-item pass.
	rawEnvelope struct {
		Object string            `json:"object"`
		Entry  []json.RawMessage `json:"entry"`
	}
	rawEntry struct {
		ID        id                `json:"id"`
		Time      epoch             `json:"time"`
		Changes   []json.RawMessage `json:"changes"`
		Messaging []json.RawMessage `json:"messaging"`
		Field     string            `json:"field"`
		Value     json.RawMessage   `json:"value"`
	}
)

// Parse splits a delivery into jobs. now is when it arrived: comment times are capped at it.
//
// A body that is not JSON, or not an object (or Meta's documented array of objects) with an
// entry list, is ErrMalformed. Anything inside that replywindow cannot use is counted in Ignored
// and the rest is still parsed, so one odd item never costs the good ones.
func Parse(body []byte, now time.Time) (Delivery, error) {
	var d Delivery
	list := isArray(body)
	var err error
	if list {
		var envs []envelope
		if err = json.Unmarshal(body, &envs); err == nil {
			for i := range envs {
				d.add(&envs[i], now)
			}
		}
	} else {
		var env envelope
		if err = json.Unmarshal(body, &env); err == nil {
			d.add(&env, now)
		}
	}
	if err != nil {
		// Something did not fit: decode item by item (and find out whether it is JSON at all).
		if d, err = parseRaw(body, list, now); err != nil {
			return Delivery{}, err
		}
	}
	d.dedupe()
	return d, nil
}

func isArray(body []byte) bool {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	return len(trimmed) > 0 && trimmed[0] == '['
}

func (d *Delivery) add(env *envelope, now time.Time) {
	if !d.object(env.Object, len(env.Entry)) {
		return
	}
	for i := range env.Entry {
		e := &env.Entry[i]
		if e.Field != "" || e.Value != nil {
			var v comment
			if e.Value != nil {
				v = *e.Value
			}
			d.comment(e.ID, e.Time, e.Field, &v, now)
		}
		for j := range e.Changes {
			d.comment(e.ID, e.Time, e.Changes[j].Field, &e.Changes[j].Value, now)
		}
		for j := range e.Messaging {
			d.message(e.ID, e.Time, &e.Messaging[j], now)
		}
	}
}

// object notes the delivery's object and reports whether its entries are for replywindow.
func (d *Delivery) object(object string, entries int) bool {
	if d.Object == "" {
		d.Object = object
	}
	if object != "instagram" {
		d.Ignored += max(entries, 1)
		return false
	}
	return true
}

// parseRaw is Parse's item-by-item pass.
func parseRaw(body []byte, list bool, now time.Time) (Delivery, error) {
	var envs []rawEnvelope
	if list {
		if err := json.Unmarshal(body, &envs); err != nil {
			return Delivery{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
	} else {
		var env rawEnvelope
		if err := json.Unmarshal(body, &env); err != nil {
			return Delivery{}, fmt.Errorf("%w: %v", ErrMalformed, err)
		}
		envs = append(envs, env)
	}
	var d Delivery
	for _, env := range envs {
		if !d.object(env.Object, len(env.Entry)) {
			continue
		}
		for _, raw := range env.Entry {
			var e rawEntry
			if err := json.Unmarshal(raw, &e); err != nil {
				d.unusable(err)
				continue
			}
			if e.Field != "" || (len(e.Value) > 0 && string(e.Value) != "null") {
				d.rawComment(e.ID, e.Time, e.Field, e.Value, now)
			}
			for _, c := range e.Changes {
				var ch struct {
					Field string          `json:"field"`
					Value json.RawMessage `json:"value"`
				}
				if err := json.Unmarshal(c, &ch); err != nil {
					d.unusable(err)
					continue
				}
				d.rawComment(e.ID, e.Time, ch.Field, ch.Value, now)
			}
			for _, m := range e.Messaging {
				var v messaging
				if err := json.Unmarshal(m, &v); err != nil {
					d.unusable(err)
					continue
				}
				d.message(e.ID, e.Time, &v, now)
			}
		}
	}
	return d, nil
}

func (d *Delivery) rawComment(account id, at epoch, field string, raw json.RawMessage, now time.Time) {
	var v comment
	if isComments(field) && len(raw) > 0 {
		if err := json.Unmarshal(raw, &v); err != nil {
			d.unusable(err)
			return
		}
	}
	d.comment(account, at, field, &v, now)
}

// unusable counts an item that did not decode: Rejected for a value Meta never sends, else
// Ignored (a shape replywindow does not read).
func (d *Delivery) unusable(err error) {
	if errors.Is(err, errBadValue) {
		d.Rejected++
		return
	}
	d.Ignored++
}

func isComments(field string) bool { return field == "comments" || field == "live_comments" }

// comment adds the job for one comments or live_comments change, or counts why there is none.
func (d *Delivery) comment(account id, at epoch, field string, v *comment, now time.Time) {
	if !isComments(field) {
		d.Ignored++
		return
	}
	delivered := at.at(now)
	job := reply.Job{
		V:           reply.JobVersion,
		AccountID:   string(account),
		CommentID:   string(v.ID),
		MediaID:     string(v.Media.ID),
		ProductType: v.Media.ProductType,
		AdID:        string(v.Media.AdID),
		// Meta may deliver an ad's comment once per shape; the funnel counts the organic post.
		OriginalMediaID: string(v.Media.OriginalID),
		FromID:          string(v.From.ID),
		FromUsername:    v.From.Username,
		Text:            v.Text,
		ParentID:        string(v.ParentID),
		CommentedAt:     capAt(delivered, now),
		DeliveredAt:     delivered,
	}
	if job.CommentID == "" {
		job.CommentID = string(v.CommentID)
	}
	if field == "live_comments" {
		job.Kind = reply.KindLive
	} else {
		job.Kind = reply.KindOf(v.Media.ProductType, job.AdID)
	}
	if job.Own() {
		d.OwnDropped++
		return
	}
	if job.Validate() != nil {
		d.Ignored++
		return
	}
	d.Jobs = append(d.Jobs, job)
}

// message adds a messaging event's job. The person is the sender, or for the account's own
// messages (echoes) the recipient.
func (d *Delivery) message(account id, entryTime epoch, m *messaging, now time.Time) {
	at := m.Timestamp
	if at == 0 {
		at = entryTime
	}
	ev := reply.Event{PersonID: string(m.Sender.ID), At: capAt(at.at(now), now)}
	switch msg := m.Message; {
	case msg != nil && msg.IsEcho:
		ev.Kind, ev.PersonID, ev.MID, ev.Text, ev.AppID = reply.EventEcho, string(m.Recipient.ID), msg.MID, msg.Text, string(msg.AppID)
	case msg != nil && msg.IsDeleted:
		d.Ignored++ // the person unsent a message: nothing to answer
		return
	case msg != nil:
		ev.Kind, ev.MID, ev.Text = reply.EventMessage, msg.MID, msg.Text
		if msg.QuickReply != nil && msg.QuickReply.Payload != "" {
			ev.Kind, ev.Payload = reply.EventQuickReply, msg.QuickReply.Payload
		} else if msg.ReplyTo != nil && msg.ReplyTo.Story != nil {
			ev.Kind = reply.EventStoryReply
		} else if storyMention(msg.Attachments) {
			ev.Kind, ev.Text = reply.EventStoryMention, ""
		}
		ev.Ref = msg.Referral.ref()
	case m.Postback != nil:
		ev.Kind, ev.MID, ev.Text, ev.Payload = reply.EventPostback, m.Postback.MID, m.Postback.Title, m.Postback.Payload
		ev.Ref = m.Postback.Referral.ref()
	case m.Referral != nil:
		if ev.Ref = m.Referral.ref(); ev.Ref == "" {
			d.Ignored++ // a link without a ref (or with one Meta never sends): nothing to route
			return
		}
		// A referral has no message id: Meta's time of it names it, so a redelivery meets the
		// records of the first.
		ev.Kind, ev.MID = reply.EventReferral, fmt.Sprintf("ref.%s.%d", ev.PersonID, at.at(now).UnixMilli())
	case m.Reaction != nil:
		ev.Kind, ev.MID, ev.Text = reply.EventReaction, m.Reaction.MID, m.Reaction.Action
	case m.Read != nil:
		d.Seen++
		return
	default:
		d.Ignored++ // edits and what else Meta may add: nothing replywindow does with them
		return
	}
	job := reply.Job{V: reply.JobVersion, AccountID: string(account), Event: &ev, DeliveredAt: capAt(entryTime.at(now), now)}
	if job.Validate() != nil {
		d.Ignored++
		return
	}
	d.Jobs = append(d.Jobs, job)
}

// ref is the referral's ref when it is one Meta may send, else "".
func (r *referral) ref() string {
	if r == nil || !reply.ValidRef(r.Ref) {
		return ""
	}
	return r.Ref
}

func storyMention(as []struct {
	Type string `json:"type"`
}) bool {
	for _, a := range as {
		if a.Type == "story_mention" {
			return true
		}
	}
	return false
}

// dedupe drops repeated comments: Meta may notify an ad's comment more than once.
func (d *Delivery) dedupe() {
	seen := make(map[string]struct{}, len(d.Jobs))
	out := d.Jobs[:0]
	for _, j := range d.Jobs {
		k := j.AccountID + "\x00" + j.CommentID
		if j.Event != nil {
			k = j.AccountID + "\x00" + string(j.Event.Kind) + "\x00" + j.Event.MID + "\x00" + j.Event.Text
		}
		if _, dup := seen[k]; dup {
			d.Ignored++
			continue
		}
		seen[k] = struct{}{}
		out = append(out, j)
	}
	d.Jobs = out
	d.Messaging = 0
	for _, j := range d.Jobs {
		if j.Event != nil {
			d.Messaging++
		}
	}
}

func capAt(t, now time.Time) time.Time {
	if t.After(now) {
		return now
	}
	return t
}

// id is a Graph id: digits (reply.ValidID), as a string or, so that a delivery is never refused
// over the quoting of an id, a number. Anything else is errBadValue: it would end up in a Graph
// URL path and a table key.
type id string

func (i *id) UnmarshalJSON(b []byte) error {
	var s string
	switch {
	case len(b) == 0 || string(b) == "null":
		return nil
	case b[0] == '"':
		if bytes.IndexByte(b, '\\') < 0 && len(b) >= 2 {
			s = string(b[1 : len(b)-1])
		} else if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		if s == "" {
			return nil // absent, as null
		}
	case b[0] == '-' || b[0] >= '0' && b[0] <= '9':
		s = string(b)
	default:
		return fmt.Errorf("id: %s is neither a string nor a number", b)
	}
	if !reply.ValidID(s) {
		return fmt.Errorf("%w: id %.40q is not digits", errBadValue, s)
	}
	*i = id(s)
	return nil
}

// epoch is a Unix time as Meta sends it: seconds for changes, milliseconds for messaging; a
// number (possibly fractional) or a numeric string.
type epoch float64

// maxEpoch is the last millisecond of the year 9999: the latest time a job can hold (its JSON
// times have four-digit years).
const maxEpoch = 253402300799999

func (e *epoch) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	s := string(bytes.Trim(b, `"`))
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("time: %s is not a number", b)
	}
	// ParseFloat takes "NaN", "Inf" and huge exponents: none is a time, and a job holding one
	// could not be encoded, failing the delivery's every retry.
	if math.IsNaN(f) || f > maxEpoch || f < -maxEpoch {
		return fmt.Errorf("%w: time %.40s", errBadValue, b)
	}
	*e = epoch(f)
	return nil
}

// at is the time, or now when absent. Changes carry seconds and messaging milliseconds, and both
// appear in Meta's examples for either, so the magnitude decides: 1e11 seconds is the year 5138,
// 1e11 milliseconds 1973.
func (e epoch) at(now time.Time) time.Time {
	v := float64(e)
	switch {
	case !(v > 0 && v <= maxEpoch): // NaN too
		return now
	case v >= 1e11:
		return time.UnixMilli(int64(v)).UTC()
	}
	sec := int64(v)
	return time.Unix(sec, int64((v-float64(sec))*1e9)).UTC()
}
