package sampledate

import (
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

var now = time.Date(2026, 12, 6, 15, 40, 7, 250e6, time.UTC)

func TestRedateSQSSample(t *testing.T) {
	raw, err := os.ReadFile("../../events/replier-sqs.json")
	if err != nil {
		t.Fatal(err)
	}
	out, err := Redate(raw, now)
	if err != nil {
		t.Fatal(err)
	}
	var before, after events.SQSEvent
	if err := json.Unmarshal(raw, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &after); err != nil {
		t.Fatalf("dated file is not an SQS event: %v", err)
	}
	if len(after.Records) != len(before.Records) {
		t.Fatalf("%d records, want %d", len(after.Records), len(before.Records))
	}
	var job struct {
		CommentedAt time.Time `json:"commented_at"`
		DeliveredAt time.Time `json:"delivered_at"`
	}
	if err := json.Unmarshal([]byte(after.Records[0].Body), &job); err != nil {
		t.Fatal(err)
	}
	if want := now.Truncate(time.Second); !job.DeliveredAt.Equal(want) || !job.CommentedAt.Equal(want.Add(-time.Second)) {
		t.Errorf("job dated %v (commented %v), want delivered %v one second after the comment", job.DeliveredAt, job.CommentedAt, want)
	}
	if got, want := after.Records[0].Attributes["SentTimestamp"], "1796571607000"; got != want {
		t.Errorf("SentTimestamp %s, want %s", got, want)
	}
	if after.Records[0].Md5OfBody == before.Records[0].Md5OfBody {
		t.Error("md5OfBody unchanged though the body changed")
	}
	if before.Records[4].Body != after.Records[4].Body || before.Records[4].Md5OfBody != after.Records[4].Md5OfBody {
		t.Error("the undated (not JSON) body changed")
	}
	// Only times change: the same number of lines, in the same layout.
	if strings.Count(string(out), "\n") != strings.Count(string(raw), "\n") {
		t.Error("layout changed")
	}
	again, err := Redate(out, now)
	if err != nil || string(again) != string(out) {
		t.Errorf("dating twice at the same now changed the file (err %v)", err)
	}
}

func TestRedate(t *testing.T) {
	tests := []struct {
		name, in, want string
		err            error
	}{
		{name: "scheduled event", in: `{"time": "2026-03-01T12:00:00Z"}`, want: `{"time": "2026-12-06T15:40:07Z"}`},
		{name: "spacing kept", in: `{"a":"2026-03-01T11:00:00Z","b":"2026-03-01T12:00:00.5Z"}`, want: `{"a":"2026-12-06T14:40:06.5Z","b":"2026-12-06T15:40:07Z"}`},
		{name: "no time", in: `{"time": "06/Dec/2026:14:00:00 +0000"}`, err: ErrUndated},
		{name: "not JSON", in: `{"time": `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Redate([]byte(tt.in), now)
			switch {
			case tt.want == "" && err == nil:
				t.Fatalf("no error, want one; got %s", out)
			case tt.err != nil && !errors.Is(err, tt.err):
				t.Fatalf("error %v, want %v", err, tt.err)
			case tt.want != "" && err != nil:
				t.Fatal(err)
			case string(out) != tt.want && tt.want != "":
				t.Errorf("got %s, want %s", out, tt.want)
			}
		})
	}
}
