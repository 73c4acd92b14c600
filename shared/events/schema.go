package events

import (
	"embed"
	"fmt"
)

// schemas holds one JSON Schema (draft 2020-12) per kind: the documented form of the event a
// consumer receives from the bus (EventBridge's envelope, its source, detail-type and detail).
//
//go:embed schema/*.json
var schemas embed.FS

// Schema is the JSON Schema of kind's events.
func Schema(kind Kind) ([]byte, error) {
	b, err := schemas.ReadFile("schema/" + string(kind) + ".json")
	if err != nil {
		return nil, fmt.Errorf("schema of %q: %w", kind, err)
	}
	return b, nil
}
