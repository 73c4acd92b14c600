package memory

import (
	"context"
	"slices"
	"sync"

	"github.com/replywindow/replywindow/shared/events"
)

// Bus is events.Bus in memory: it keeps what was put, in order, for the local stack's demo and
// the simulations. Fail, when set, is asked for each event and refuses those it returns a
// reason for, as EventBridge refuses single entries.
type Bus struct {
	mu   sync.Mutex
	evs  []events.Event
	Fail func(events.Event) string
}

var _ events.Bus = (*Bus)(nil)

// Put keeps evs, less those Fail refuses.
func (b *Bus) Put(_ context.Context, evs []events.Event) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	refused := map[int]string{}
	for i, ev := range evs {
		if b.Fail != nil {
			if why := b.Fail(ev); why != "" {
				refused[i] = why
				continue
			}
		}
		b.evs = append(b.evs, ev)
	}
	if len(refused) > 0 {
		return &events.PutError{Refused: refused}
	}
	return nil
}

// Events is what the bus accepted so far, in order.
func (b *Bus) Events() []events.Event {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.evs)
}
