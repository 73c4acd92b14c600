package eventstest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/replywindow/replywindow/shared/events"
)

var (
	compiled   = map[events.Kind]*jsonschema.Schema{}
	compiledMu sync.Mutex
)

func schemaOf(kind events.Kind) (*jsonschema.Schema, error) {
	compiledMu.Lock()
	defer compiledMu.Unlock()
	if s, ok := compiled[kind]; ok {
		return s, nil
	}
	b, err := events.Schema(kind)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("schema of %s: %w", kind, err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat() // "format": "date-time" is checked, not only noted
	url := string(kind) + ".json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("schema of %s: %w", kind, err)
	}
	s, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("compile schema of %s: %w", kind, err)
	}
	compiled[kind] = s
	return s, nil
}

// Check validates an event as a consumer receives it from the bus (EventBridge's envelope:
// source, detail-type, detail and AWS's own fields) against its kind's JSON Schema.
func Check(envelope []byte) error {
	var head struct {
		DetailType events.Kind `json:"detail-type"`
	}
	if err := json.Unmarshal(envelope, &head); err != nil {
		return fmt.Errorf("event: %w", err)
	}
	s, err := schemaOf(head.DetailType)
	if err != nil {
		return err
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(envelope))
	if err != nil {
		return fmt.Errorf("event: %w", err)
	}
	if err := s.Validate(inst); err != nil {
		return fmt.Errorf("%s event does not match its schema: %w", head.DetailType, err)
	}
	return nil
}

// Envelope is ev as the bus hands it on, less the fields EventBridge adds (id, time, region...).
func Envelope(ev events.Event) ([]byte, error) {
	detail, err := ev.JSON()
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"source": events.Source, "detail-type": ev.Kind, "detail": json.RawMessage(detail)})
}
