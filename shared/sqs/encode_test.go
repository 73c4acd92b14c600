package sqs

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/replywindow/replywindow/shared/reply"
)

func TestMarshalJobMatchesEncodingJSON(t *testing.T) {
	at := time.Date(2026, 11, 20, 10, 0, 0, 123456789, time.UTC)
	tests := []struct {
		name    string
		job     reply.Job
		wantErr bool
	}{
		{name: "zero", job: reply.Job{}},
		{name: "typical", job: reply.Job{V: 1, AccountID: "1784", CommentID: "179", MediaID: "180", ProductType: "REELS",
			FromID: "99", FromUsername: "jürgen", Text: "RECIPE bitte 😍 https://example.com/r", Kind: reply.KindReel, CommentedAt: at, DeliveredAt: at}},
		{name: "escapes", job: reply.Job{V: 1, Text: "\"q\" \\ <b>&amp; \b\f\n\r\t\x00\x1f\x7f \u2028\u2029 \xff\xfe \xc3", FromUsername: "</script>"}},
		{name: "offset zone", job: reply.Job{CommentedAt: at.In(time.FixedZone("x", 5*3600+1800)), DeliveredAt: at.In(time.FixedZone("y", -7*3600))}},
		{name: "year out of range", job: reply.Job{CommentedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, wantErr: true},
		{name: "every field", job: everyField()},
		{name: "requeued", job: reply.Job{V: 1, CommentID: "c", CommentedAt: at, DeliveredAt: at, Requeued: true}},
		{name: "messaging event", job: reply.Job{V: 1, AccountID: "1784", DeliveredAt: at,
			Event: &reply.Event{Kind: reply.EventPostback, PersonID: "99", MID: "m1", Payload: "LINK", At: at}}},
		{name: "follow-up", job: reply.Job{V: 1, AccountID: "1784",
			FollowUp: &reply.FollowUp{PersonID: "99", Rule: "r", Step: "s", Trigger: "m1", Lane: reply.LaneText, Deadline: at}}},
		{name: "noncharacters SQS refuses", job: reply.Job{V: 1, CommentID: "c", Text: "a\uFFFEb\uFFFFc\uFFFD \U0001FFFE\U0010FFFF", FromUsername: "\uffff", CommentedAt: at, DeliveredAt: at}},
		{name: "noncharacters in a DM", job: reply.Job{V: 1, AccountID: "1784", DeliveredAt: at,
			Event: &reply.Event{Kind: reply.EventMessage, PersonID: "99", MID: "m\uFFFE", Text: "hi \uFFFF\uFFFE", Payload: "\uFFFF", At: at}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, werr := json.Marshal(tt.job)
			want = sqsSafe(want)
			got, gerr := marshalJob(&tt.job)
			if (werr != nil) != tt.wantErr || (gerr != nil) != tt.wantErr {
				t.Fatalf("errors: encoding/json %v, marshalJob %v; want error %v", werr, gerr, tt.wantErr)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("marshalJob:\n got %s\nwant %s", got, want)
			}
			if gerr == nil {
				checkBody(t, &tt.job, got)
			}
		})
	}
}

// validBody reports whether SQS accepts s as a message body, by AWS's rule for SendMessage's
// MessageBody: valid UTF-8 whose every character is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to
// #xFFFD | #x10000 to #x10FFFF
// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html).
// It is the rule itself, not moto (which accepts U+FFFE and U+FFFF).
func validBody(s string) bool {
	if s == "" {
		return false // "The minimum size is one character."
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return false
		}
		i += size
	}
	return true
}

func TestValidBodyIsAWSsRule(t *testing.T) {
	for _, tt := range []struct {
		s    string
		want bool
	}{
		{"{}", true}, {"\t\n\r", true}, {" ~\u007f\u0080\uD7FF", true}, {"\uE000\uFFFD", true}, {"\U00010000\U0010FFFF", true},
		{"", false}, {"\x00", false}, {"\x1f", false}, {"\x0b", false}, {"\uFFFE", false}, {"\uFFFF", false},
		{"\xed\xa0\x80", false} /* a surrogate, as CESU bytes */, {"\xff", false}, {"\xc3", false},
	} {
		if got := validBody(tt.s); got != tt.want {
			t.Errorf("validBody(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}

// checkBody holds an encoded job to SQS's rule and to a round trip: the body decodes to the job's
// text (encoding/json's form of it: invalid UTF-8 becomes U+FFFD on either path).
func checkBody(t *testing.T, j *reply.Job, body []byte) {
	t.Helper()
	if !validBody(string(body)) {
		t.Fatalf("SQS would refuse the body %q", body)
	}
	want, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	var wantJob, gotJob reply.Job
	if err := json.Unmarshal(want, &wantJob); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, &gotJob); err != nil {
		t.Fatalf("body %q does not decode: %v", body, err)
	}
	if !reflect.DeepEqual(gotJob, wantJob) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", gotJob, wantJob)
	}
	if utf8.ValidString(j.Text) && gotJob.Text != j.Text {
		t.Fatalf("text %q came back as %q", j.Text, gotJob.Text)
	}
}

// TestPoisonTextForSQS is issue 24's finding 6: a comment or a DM holding a character SQS refuses
// (U+FFFE, U+FFFF, which encoding/json writes as they are) must not make its delivery fail. Random
// strings over the whole code space, and invalid bytes, encode to bodies SQS accepts and decode
// back to the same text.
func TestPoisonTextForSQS(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 6))
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	special := []rune{0xFFFE, 0xFFFF, 0xFFFD, 0xD7FF, 0xE000, 0x10FFFF, 0x1FFFE, 0, 0x1f, 0x7f, '"', '\\', '<', 0x2028}
	for i := range 20000 {
		var sb strings.Builder
		for range rng.IntN(24) {
			switch rng.IntN(5) {
			case 0:
				sb.WriteRune(special[rng.IntN(len(special))])
			case 1:
				sb.WriteByte(byte(rng.IntN(256))) // maybe invalid UTF-8
			case 2:
				sb.WriteRune(rune(0xFF00 + rng.IntN(0x100)))
			default:
				sb.WriteRune(rune(rng.IntN(0x110000)))
			}
		}
		s := sb.String()
		comment := reply.Job{V: 1, AccountID: "1784", CommentID: "c", Text: s, FromUsername: s, Kind: reply.KindReel, CommentedAt: at, DeliveredAt: at}
		dm := reply.Job{V: 1, AccountID: "1784", DeliveredAt: at, Event: &reply.Event{Kind: reply.EventMessage, PersonID: "99", MID: "m", Text: s, Payload: s, At: at}}
		for _, j := range []*reply.Job{&comment, &dm} {
			b, err := marshalJob(j)
			if err != nil {
				t.Fatalf("case %d %q: %v", i, s, err)
			}
			checkBody(t, j, b)
			if j.Event != nil && utf8.ValidString(s) {
				var back reply.Job
				_ = json.Unmarshal(b, &back)
				if back.Event.Text != s || back.Event.Payload != s {
					t.Fatalf("DM text %q came back as %q", s, back.Event.Text)
				}
			}
		}
	}
}

// everyField is a job with every field of reply.Job set, found by reflection: a field added to
// the domain and not to marshalJob makes the outputs differ.
func everyField() reply.Job {
	var j reply.Job
	v := reflect.ValueOf(&j).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(v.Type().Field(i).Name + " ä<")
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(i + 1))
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Pointer:
			// A conversation's parts: such jobs take encoding/json's path (cases below).
		case reflect.Struct:
			if f.Type() == reflect.TypeOf(time.Time{}) {
				f.Set(reflect.ValueOf(time.Date(2026, 1, 2, 3, 4, 5, i, time.UTC)))
				continue
			}
			fallthrough
		default:
			panic("marshalJob test: reply.Job has a field of a new kind: " + v.Type().Field(i).Name)
		}
	}
	return j
}

func FuzzMarshalJob(f *testing.F) {
	f.Add("RECIPE bitte \u00e4 😍", "jürgen", int64(1763712000123456789), 0)
	f.Add("\xff<\u2028>\x00", "", int64(0), -3600)
	f.Add("poison \uFFFE\uFFFF", "\uffff", int64(1765022400000000000), 0)
	f.Fuzz(func(t *testing.T, text, user string, nanos int64, offset int) {
		at := time.Unix(0, nanos).In(time.FixedZone("z", offset%(24*3600)))
		j := reply.Job{V: 1, AccountID: user, CommentID: text, Text: text, FromUsername: user, Kind: reply.Kind(user), CommentedAt: at, DeliveredAt: at}
		want, werr := json.Marshal(j)
		want = sqsSafe(want)
		got, gerr := marshalJob(&j)
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("marshalJob = %s, %v; encoding/json = %s, %v", got, gerr, want, werr)
		}
		if gerr == nil {
			checkBody(t, &j, got)
		}
	})
}

// bodies is an API that accepts every batch and keeps the bodies, as SQS would receive them.
type bodies []string

func (b *bodies) SendMessageBatch(_ context.Context, in *awssqs.SendMessageBatchInput, _ ...func(*awssqs.Options)) (*awssqs.SendMessageBatchOutput, error) {
	out := &awssqs.SendMessageBatchOutput{}
	for _, e := range in.Entries {
		*b = append(*b, aws.ToString(e.MessageBody))
		out.Successful = append(out.Successful, types.SendMessageBatchResultEntry{Id: e.Id})
	}
	return out, nil
}

// TestPoisonTextForSQSEnqueue: what the queue hands SQS for a delivery of comments and DMs
// holding U+FFFE and U+FFFF is, body by body, what AWS's rule accepts.
func TestPoisonTextForSQSEnqueue(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	poison := "RECIPE \uFFFE\uFFFF bitte"
	js := []reply.Job{
		{V: 1, AccountID: "1784", CommentID: "1", Text: poison, FromUsername: "fan\uFFFF", Kind: reply.KindReel, CommentedAt: at, DeliveredAt: at},
		{V: 1, AccountID: "1784", DeliveredAt: at, Event: &reply.Event{Kind: reply.EventMessage, PersonID: "99", MID: "m1", Text: poison, At: at}},
		{V: 1, AccountID: "1784", DeliveredAt: at, Event: &reply.Event{Kind: reply.EventQuickReply, PersonID: "99", MID: "m2", Payload: poison, At: at}},
	}
	var got bodies
	if err := NewQueue(&got, "http://queue").Enqueue(context.Background(), js); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if len(got) != len(js) {
		t.Fatalf("%d bodies sent, want %d", len(got), len(js))
	}
	for i, b := range got {
		if !validBody(b) {
			t.Errorf("SQS would refuse body %d: %q", i, b)
		}
		var j reply.Job
		if err := json.Unmarshal([]byte(b), &j); err != nil {
			t.Fatal(err)
		}
		want := js[i]
		if j.Text != want.Text || j.FromUsername != want.FromUsername ||
			(want.Event != nil && (j.Event.Text != want.Event.Text || j.Event.Payload != want.Event.Payload)) {
			t.Errorf("body %d decodes to %+v %+v, want %+v %+v", i, j, j.Event, want, want.Event)
		}
	}
}
