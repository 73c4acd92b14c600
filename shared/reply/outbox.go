package reply

import "time"

// Mark is an item's outbox mark (shared/events): the item under Key changed at At, in the very
// write that carried the mark, and the funnel event of that change may not be on the bus yet.
// Any item kind may carry one (reply records, leads, ...); the key's prefix says which, and the
// item itself holds what its event is made of.
type Mark struct {
	Key string
	At  time.Time
}

// Same reports whether m and o are one mark: the same item, marked at the same millisecond
// (what a store keeps of the time).
func (m Mark) Same(o Mark) bool { return m.Key == o.Key && m.At.UnixMilli() == o.At.UnixMilli() }
