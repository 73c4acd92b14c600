package eventbridge_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/eventbridge"
	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
)

// envelope is the part of a received event the tests compare.
type envelope struct {
	Source     string          `json:"source"`
	DetailType string          `json:"detail-type"`
	Time       string          `json:"time"`
	Detail     json.RawMessage `json:"detail"`
}

func decode(t *testing.T, raw []byte) envelope {
	t.Helper()
	var e envelope
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("received %s: %v", raw, err)
	}
	return e
}

// Each kind goes out exactly as documented: its detail as the code made it, matching its schema.
func TestPutEveryKind(t *testing.T) {
	l := eventstest.Listen(t)
	bus := eventbridge.New(l.Put, l.Bus)
	all := eventstest.All()
	if err := bus.Put(awstest.Context(t), all); err != nil {
		t.Fatal(err)
	}
	got := l.Received(t)
	if len(got) != len(all) {
		t.Fatalf("received %d events, put %d", len(got), len(all))
	}
	byType := map[string]envelope{}
	for _, raw := range got {
		if err := eventstest.Check(raw); err != nil {
			t.Errorf("%v\n%s", err, raw)
		}
		e := decode(t, raw)
		byType[e.DetailType] = e
	}
	for _, ev := range all {
		e, ok := byType[string(ev.Kind)]
		if !ok {
			t.Errorf("no %s received", ev.Kind)
			continue
		}
		want, _ := ev.JSON()
		var g, w any
		_ = json.Unmarshal(e.Detail, &g)
		_ = json.Unmarshal(want, &w)
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if e.Source != events.Source || string(gb) != string(wb) {
			t.Errorf("%s: source %q detail %s; want %s", ev.Kind, e.Source, gb, wb)
		}
		if at, err := time.Parse(time.RFC3339, e.Time); err != nil || !at.Equal(ev.At.Truncate(time.Second)) {
			t.Errorf("%s: time %q, want %s", ev.Kind, e.Time, ev.At)
		}
	}
}

// An event too large for EventBridge is refused by itself; the others of the put go out.
func TestPutRefusesOnlyTheOversized(t *testing.T) {
	l := eventstest.Listen(t)
	bus := eventbridge.New(l.Put, l.Bus)
	big := eventstest.All()[5]
	big.Detail.Value = strings.Repeat("a", eventbridge.MaxEntrySize)
	evs := []events.Event{eventstest.All()[0], big, eventstest.All()[6]}
	err := bus.Put(awstest.Context(t), evs)
	var refused *events.PutError
	if !errors.As(err, &refused) || len(refused.Refused) != 1 || !strings.Contains(refused.Refused[1], "bytes") {
		t.Fatalf("put: %v; want entry 1 refused for its size", err)
	}
	if got := l.Received(t); len(got) != 2 {
		t.Errorf("received %d events, want the 2 others", len(got))
	}
	if err := bus.Put(awstest.Context(t), make([]events.Event, events.PutBatch+1)); err == nil {
		t.Error("a put of more than a batch accepted")
	}
}

// fakeAPI answers PutEvents as EventBridge does when it throttles some entries, or fails whole.
type fakeAPI struct {
	codes []string // per entry; "" accepted
	err   error
	calls int
}

func (f *fakeAPI) PutEvents(_ context.Context, entries []eventbridge.Entry) ([]eventbridge.Result, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	var out []eventbridge.Result
	for i := range entries {
		r := eventbridge.Result{EventID: "x"}
		if f.codes[i] != "" {
			r = eventbridge.Result{ErrorCode: f.codes[i], ErrorMessage: "Rate exceeded"}
		}
		out = append(out, r)
	}
	return out, nil
}

func TestPutReportsRefusedEntries(t *testing.T) {
	evs := eventstest.All()[:3]
	tests := []struct {
		name    string
		api     *fakeAPI
		refused []int
		whole   bool
	}{
		{"all accepted", &fakeAPI{codes: []string{"", "", ""}}, nil, false},
		{"one throttled", &fakeAPI{codes: []string{"", "ThrottlingException", ""}}, []int{1}, false},
		{"network", &fakeAPI{err: errors.New("dial tcp: connection refused")}, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := eventbridge.New(tc.api, "b").Put(context.Background(), evs)
			var refused *events.PutError
			switch {
			case tc.whole:
				if err == nil || errors.As(err, &refused) {
					t.Fatalf("put: %v; want an error for the whole put", err)
				}
			case tc.refused == nil:
				if err != nil {
					t.Fatal(err)
				}
			default:
				if !errors.As(err, &refused) {
					t.Fatalf("put: %v", err)
				}
				var got []int
				for i := range refused.Refused {
					got = append(got, i)
				}
				slices.Sort(got)
				if !slices.Equal(got, tc.refused) || !strings.Contains(refused.Refused[1], "ThrottlingException") {
					t.Errorf("refused %v, want %v", refused.Refused, tc.refused)
				}
			}
			if tc.api.calls != 1 {
				t.Errorf("%d calls for one put", tc.api.calls)
			}
		})
	}
}
