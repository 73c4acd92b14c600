package events_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/events/eventstest"
)

// Every kind has its schema file and every schema file a kind.
func TestOneSchemaPerKind(t *testing.T) {
	files, err := fs.Glob(os.DirFS("schema"), "*.json")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, k := range events.Kinds {
		kinds = append(kinds, string(k)+".json")
	}
	slices.Sort(files)
	slices.Sort(kinds)
	if !slices.Equal(files, kinds) {
		t.Errorf("schema files %v, kinds %v", files, kinds)
	}
}

// What the code emits matches the documented schemas.
func TestEventsMatchTheirSchemas(t *testing.T) {
	all := eventstest.All()
	if len(all) != len(events.Kinds) {
		t.Fatalf("%d samples for %d kinds", len(all), len(events.Kinds))
	}
	for i, ev := range all {
		if ev.Kind != events.Kinds[i] {
			t.Fatalf("sample %d is %s, want %s", i, ev.Kind, events.Kinds[i])
		}
		env, err := eventstest.Envelope(ev)
		if err != nil {
			t.Fatal(err)
		}
		if err := eventstest.Check(env); err != nil {
			t.Errorf("%s: %v\n%s", ev.Kind, err, env)
		}
	}
}

// The schemas refuse what is not documented, so the test above can fail.
func TestSchemasRefuse(t *testing.T) {
	lead := eventstest.All()[5]
	tests := []struct {
		name string
		edit func(map[string]any)
	}{
		{"an undocumented field", func(d map[string]any) { d["text"] = "RECIPE please" }},
		{"no person", func(d map[string]any) { delete(d, "person") }},
		{"a lead kind not asked for", func(d map[string]any) { d["lead_kind"] = "address" }},
		{"an id that is not ours", func(d map[string]any) { d["id"] = "x" }},
		{"a time without milliseconds", func(d map[string]any) { d["at"] = "2026-12-06T14:00:00Z" }},
		{"another version", func(d map[string]any) { d["v"] = 2 }},
	}
	for _, tc := range tests {
		b, _ := lead.JSON()
		var d map[string]any
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatal(err)
		}
		tc.edit(d)
		env, _ := json.Marshal(map[string]any{"source": events.Source, "detail-type": lead.Kind, "detail": d})
		if err := eventstest.Check(env); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
	env, _ := eventstest.Envelope(lead)
	wrong := strings.Replace(string(env), `"LeadCaptured"`, `"LinkClicked"`, 1)
	if err := eventstest.Check([]byte(wrong)); err == nil {
		t.Error("a lead under another kind accepted")
	}
}
