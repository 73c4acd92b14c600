package sqs

import (
	"bytes"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/replywindow/replywindow/shared/reply"
)

// marshalJob is json.Marshal(j) with the characters SQS refuses escaped (sqsSafe), byte for
// byte, without reflection: a 1000-comment delivery marshals 1000 jobs inside Meta's 5-second
// budget, and reflection with time.Time's MarshalJSON was a fifth of the webhook's CPU. Tests hold
// it equal to sqsSafe(json.Marshal) for every field of reply.Job, so a field added there and not
// here fails them, and hold every body it makes to SQS's character set (validBody).
func marshalJob(j *reply.Job) ([]byte, error) {
	if !encodable(j.CommentedAt) || !encodable(j.DeliveredAt) || j.Event != nil || j.FollowUp != nil {
		// An unencodable time: let encoding/json report the error. Conversation jobs are fewer
		// than comments and nested: the general encoder's speed is plenty for them.
		b, err := json.Marshal(j)
		return sqsSafe(b), err
	}
	b := make([]byte, 0, 256+len(j.Text)+len(j.FromUsername))
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(j.V), 10)
	b = field(b, "account", j.AccountID, false)
	b = field(b, "comment", j.CommentID, false)
	b = field(b, "media", j.MediaID, true)
	b = field(b, "product_type", j.ProductType, true)
	b = field(b, "ad", j.AdID, true)
	b = field(b, "original_media", j.OriginalMediaID, true)
	b = field(b, "from_id", j.FromID, true)
	b = field(b, "from_username", j.FromUsername, true)
	b = field(b, "text", j.Text, true)
	b = field(b, "parent", j.ParentID, true)
	b = field(b, "kind", string(j.Kind), false)
	b = append(b, `,"commented_at":"`...)
	b = j.CommentedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","delivered_at":"`...)
	b = j.DeliveredAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if j.Requeued {
		b = append(b, `,"requeued":true`...)
	}
	return append(b, '}'), nil
}

// encodable is what time.Time.MarshalJSON accepts: a four-digit year and a whole-minute offset.
func encodable(t time.Time) bool {
	if y := t.Year(); y < 0 || y > 9999 {
		return false
	}
	_, off := t.Zone()
	return off%60 == 0
}

func field(b []byte, name, v string, omitempty bool) []byte {
	if omitempty && v == "" {
		return b
	}
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendString(b, v)
}

const hexDigits = "0123456789abcdef"

// appendString quotes s as encoding/json does (HTML-safe, invalid UTF-8 as U+FFFD, U+2028 and
// U+2029 escaped), and escapes U+FFFE and U+FFFF as sqsSafe does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		if r == 0xFFFE || r == 0xFFFF {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', 'f', 'f', 'f', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// SQS takes a message body only if every character is in the set AWS documents for SendMessage's
// MessageBody (the XML 1.0 Char production): #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD |
// #x10000 to #x10FFFF; a body with any other is refused with InvalidMessageContents
// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
// encoding/json already escapes the C0 controls and writes invalid UTF-8 (surrogates included) as
// U+FFFD, so what it leaves outside the set is U+FFFE and U+FFFF, which a comment or a DM may hold.
// moto accepts them; AWS does not, and the delivery carrying one would fail on every retry of
// Meta's until the app is unsubscribed.
var (
	utf8FFFE = []byte("\uFFFE")
	utf8FFFF = []byte("\uFFFF")
)

// sqsSafe escapes U+FFFE and U+FFFF in the JSON b as \ufffe and \uffff. JSON holds non-ASCII
// only inside strings, where the escape decodes to the same character, so the job decodes to the
// same text. b is returned as is when it holds neither (the usual case: no copy).
func sqsSafe(b []byte) []byte {
	if !bytes.Contains(b, utf8FFFE) && !bytes.Contains(b, utf8FFFF) {
		return b
	}
	b = bytes.ReplaceAll(b, utf8FFFE, []byte(`\ufffe`))
	return bytes.ReplaceAll(b, utf8FFFF, []byte(`\uffff`))
}
