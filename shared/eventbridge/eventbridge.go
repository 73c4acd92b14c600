// Package eventbridge puts the funnel's events (shared/events) on the stack's EventBridge bus.
package eventbridge

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awseb "github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/replywindow/replywindow/shared/events"
)

// MaxEntrySize is EventBridge's limit on one entry (source, detail-type, detail, ...): 256 KB.
// An entry past it is refused by the service; the bus refuses it first, naming it.
const MaxEntrySize = 256 * 1024

// API is the part of *eventbridge.Client the bus uses.
type API interface {
	PutEvents(context.Context, *awseb.PutEventsInput, ...func(*awseb.Options)) (*awseb.PutEventsOutput, error)
}

var _ API = (*awseb.Client)(nil)

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
	var entries []types.PutEventsRequestEntry
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
		entries = append(entries, types.PutEventsRequestEntry{
			EventBusName: aws.String(b.name),
			Source:       aws.String(events.Source),
			DetailType:   aws.String(string(ev.Kind)),
			Detail:       aws.String(string(detail)),
			Time:         aws.Time(ev.At),
		})
		index = append(index, i)
	}
	if len(entries) > 0 {
		out, err := b.api.PutEvents(ctx, &awseb.PutEventsInput{Entries: entries})
		if err != nil {
			return fmt.Errorf("put %d events on bus %s: %w", len(entries), b.name, err)
		}
		if len(out.Entries) != len(entries) {
			return fmt.Errorf("put %d events on bus %s: %d results", len(entries), b.name, len(out.Entries))
		}
		for i, res := range out.Entries {
			if res.ErrorCode != nil {
				refused[index[i]] = aws.ToString(res.ErrorCode) + ": " + aws.ToString(res.ErrorMessage)
			}
		}
	}
	if len(refused) > 0 {
		return &events.PutError{Refused: refused}
	}
	return nil
}
