// Package eventbridge puts the funnel's events (shared/events) on the stack's EventBridge bus.
package eventbridge

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/replywindow/replywindow/shared/awsjson"
	"github.com/replywindow/replywindow/shared/events"
)

// MaxEntrySize is EventBridge's limit on one entry (source, detail-type, detail, ...): 256 KB.
// An entry past it is refused by the service; the bus refuses it first, naming it.
const MaxEntrySize = 256 * 1024

// Entry is one event of a PutEvents call.
type Entry struct {
	EventBusName string
	Source       string
	DetailType   string
	Detail       string
	Time         time.Time
}

// Result is EventBridge's answer for one entry: its event id, or why it was refused.
type Result struct {
	EventID      string
	ErrorCode    string
	ErrorMessage string
}

// API is EventBridge's PutEvents, the one call the bus makes; *Client implements it.
type API interface {
	PutEvents(ctx context.Context, entries []Entry) ([]Result, error)
}

// Client makes PutEvents over AWS's JSON protocol (shared/awsjson), in place of the SDK's
// service/eventbridge client, whose package init built the schemas and endpoint rules of every
// EventBridge operation: some 2 ms at each cold start of the replier and the sweeper.
type Client struct {
	json *awsjson.Client
}

var _ API = (*Client)(nil)

// NewClient is a Client from cfg, its endpoint resolved as the SDK does
// ($AWS_ENDPOINT_URL_EVENTBRIDGE, cfg.BaseEndpoint, $AWS_ENDPOINT_URL, the regional one).
func NewClient(cfg aws.Config) *Client {
	return &Client{json: awsjson.New(cfg, awsjson.Service{Target: "AWSEvents", Signing: "events", EnvID: "EVENTBRIDGE"})}
}

// PutEvents puts entries in one call. EventBridge answers each entry in order: its id, or its
// error code and message. A retried call may put an entry twice, as the SDK's retries could:
// events carry their own id.
func (c *Client) PutEvents(ctx context.Context, entries []Entry) ([]Result, error) {
	type entry struct {
		EventBusName, Source, DetailType, Detail string
		Time                                     float64 // epoch seconds, as the protocol writes timestamps
	}
	in := struct{ Entries []entry }{}
	for _, e := range entries {
		in.Entries = append(in.Entries, entry{e.EventBusName, e.Source, e.DetailType, e.Detail, float64(e.Time.UnixMilli()) / 1000})
	}
	var out struct {
		Entries []struct{ EventId, ErrorCode, ErrorMessage string }
	}
	if err := c.json.Call(ctx, "PutEvents", in, &out); err != nil {
		return nil, err
	}
	res := make([]Result, len(out.Entries))
	for i, e := range out.Entries {
		res[i] = Result{EventID: e.EventId, ErrorCode: e.ErrorCode, ErrorMessage: e.ErrorMessage}
	}
	return res, nil
}

// Bus is events.Bus on one EventBridge event bus.
type Bus struct {
	api  API
	name string
}

var _ events.Bus = (*Bus)(nil)

// New is the bus named name (its name or ARN).
func New(api API, name string) *Bus { return &Bus{api: api, name: name} }

// Put puts evs (at most events.PutBatch) in one PutEvents call. EventBridge accepts or refuses
// each entry on its own: the refused ones (throttled, too large, an internal failure) come back
// in a *events.PutError by their index, and the caller keeps them for later.
func (b *Bus) Put(ctx context.Context, evs []events.Event) error {
	if len(evs) == 0 {
		return nil
	}
	if len(evs) > events.PutBatch {
		return fmt.Errorf("put %d events: at most %d a call", len(evs), events.PutBatch)
	}
	refused := map[int]string{}
	var entries []Entry
	var index []int // entries[i] is evs[index[i]]
	for i, ev := range evs {
		if err := ev.Validate(); err != nil {
			refused[i] = err.Error()
			continue
		}
		detail, err := ev.JSON()
		if err != nil {
			refused[i] = err.Error()
			continue
		}
		if size := len(events.Source) + len(ev.Kind) + len(detail); size > MaxEntrySize {
			refused[i] = fmt.Sprintf("%s event %s is %d bytes, EventBridge takes %d", ev.Kind, ev.Detail.ID, size, MaxEntrySize)
			continue
		}
		entries = append(entries, Entry{EventBusName: b.name, Source: events.Source, DetailType: string(ev.Kind), Detail: string(detail), Time: ev.At})
		index = append(index, i)
	}
	if len(entries) > 0 {
		out, err := b.api.PutEvents(ctx, entries)
		if err != nil {
			return fmt.Errorf("put %d events on bus %s: %w", len(entries), b.name, err)
		}
		if len(out) != len(entries) {
			return fmt.Errorf("put %d events on bus %s: %d results", len(entries), b.name, len(out))
		}
		for i, res := range out {
			if res.ErrorCode != "" {
				refused[index[i]] = res.ErrorCode + ": " + res.ErrorMessage
			}
		}
	}
	if len(refused) > 0 {
		return &events.PutError{Refused: refused}
	}
	return nil
}
