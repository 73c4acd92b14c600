package dynamo

import (
	"strconv"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/storetest"
)

// TestOutboxAttributes checks the outbox index's attributes as stored, and that a clear removes
// them and the mark while the record's version stays.
func TestOutboxAttributes(t *testing.T) {
	api, table := newTable(t)
	s := New(api, table)
	marked := storetest.Sent(t, 1, storetest.T0.Add(1500*time.Microsecond))
	marked.Version = 1
	plain := storetest.Sent(t, 2, time.Time{})
	plain.Version = 1
	if _, err := s.Create(awstest.Context(t), marked); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(awstest.Context(t), plain); err != nil {
		t.Fatal(err)
	}
	item := rawItem(t, api, table, marked.Key)
	if want := str(strconv.Itoa(shard(marked.Key))); !equalAV(item[AttrOutboxShard], want) {
		t.Errorf("%s = %v, want %v", AttrOutboxShard, item[AttrOutboxShard], want)
	}
	if at, ok := numAttr(t, item, AttrOutboxAt); !ok || at != marked.EventsAt.UnixMilli() {
		t.Errorf("%s = %d (present %v), want %d", AttrOutboxAt, at, ok, marked.EventsAt.UnixMilli())
	}
	unmarked := rawItem(t, api, table, plain.Key)
	for _, a := range []string{AttrOutboxShard, AttrOutboxAt, "events_at"} {
		if _, ok := unmarked[a]; ok {
			t.Errorf("a record without a mark has %s", a)
		}
	}
	if err := s.ClearEvents(awstest.Context(t), reply.Mark{Key: marked.Key, At: marked.EventsAt}); err != nil {
		t.Fatal(err)
	}
	cleared := rawItem(t, api, table, marked.Key)
	for _, a := range []string{AttrOutboxShard, AttrOutboxAt, "events_at"} {
		if _, ok := cleared[a]; ok {
			t.Errorf("cleared record still has %s", a)
		}
	}
	if v, _ := numAttr(t, rawItem(t, api, table, marked.Key), "version"); v != marked.Version {
		t.Errorf("version %d after the clear, want %d", v, marked.Version)
	}
}

// TestClickGuardOutbox: a first click's record carries its event's outbox mark while the event
// waits; the clear removes the mark and leaves the record (the people export reads it, and a
// repeat is still no first click).
func TestClickGuardOutbox(t *testing.T) {
	api, table := newTable(t)
	s := New(api, table)
	c := reply.Click{Origin: reply.Origin{Account: "17841400000000001", Rule: "recipe", Person: "6200000000000042"}, Link: "3f1c2a9b",
		Target: "https://example.com/r", At: storetest.T0, Issued: storetest.T0.Add(-time.Hour)}
	c.Events = true
	if first, err := s.RecordClick(awstest.Context(t), c); err != nil || !first {
		t.Fatalf("first click: %v, %v", first, err)
	}
	key := reply.ClickGuardKey(c.Origin.Account, c.Origin.Person, c.Link)
	if item := rawItem(t, api, table, key); !equalAV(item["person"], str(c.Origin.Person)) || item[AttrOutboxAt] == nil {
		t.Fatalf("marked guard %v", item)
	}
	if err := s.ClearEvents(awstest.Context(t), reply.Mark{Key: key, At: c.At}); err != nil {
		t.Fatal(err)
	}
	item := rawItem(t, api, table, key)
	for _, a := range []string{AttrOutboxAt, AttrOutboxShard} {
		if _, ok := item[a]; ok {
			t.Errorf("cleared guard still has %s", a)
		}
	}
	if item[AttrPK] == nil || !equalAV(item["person"], str(c.Origin.Person)) {
		t.Fatalf("the clear removed the record or its person: %v", item)
	}
	if first, err := s.RecordClick(awstest.Context(t), c); err != nil || first {
		t.Errorf("a repeat after the clear: first %v, %v", first, err)
	}
}
