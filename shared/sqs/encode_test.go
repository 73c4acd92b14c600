package sqs

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, werr := json.Marshal(tt.job)
			got, gerr := marshalJob(&tt.job)
			if (werr != nil) != tt.wantErr || (gerr != nil) != tt.wantErr {
				t.Fatalf("errors: encoding/json %v, marshalJob %v; want error %v", werr, gerr, tt.wantErr)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("marshalJob:\n got %s\nwant %s", got, want)
			}
		})
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
	f.Fuzz(func(t *testing.T, text, user string, nanos int64, offset int) {
		at := time.Unix(0, nanos).In(time.FixedZone("z", offset%(24*3600)))
		j := reply.Job{V: 1, AccountID: user, CommentID: text, Text: text, FromUsername: user, Kind: reply.Kind(user), CommentedAt: at, DeliveredAt: at}
		want, werr := json.Marshal(j)
		got, gerr := marshalJob(&j)
		if (werr == nil) != (gerr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("marshalJob = %s, %v; encoding/json = %s, %v", got, gerr, want, werr)
		}
	})
}
