package main

import (
	"encoding/json"
	"maps"
	"reflect"
	"strings"

	"github.com/replywindow/replywindow/shared/reply"
)

// The account file's JSON Schema (account.schema.json, beside the example, which names it for
// editors: `# yaml-language-server: $schema=./account.schema.json`) is made from the file's Go
// types, so the schema and the parser cannot drift: TestAccountSchema regenerates it and checks
// every file in testdata against it. Names, types, enums and unknown fields are what it checks;
// the limits Meta sets (lengths, counts) are accounts put's to say, with the line.

// opSchemaEnums are the values of the file's enumerated types.
var opSchemaEnums = map[reflect.Type][]string{
	reflect.TypeFor[reply.Login]():       {string(reply.LoginInstagram), string(reply.LoginFacebook)},
	reflect.TypeFor[reply.MatchMode]():   {string(reply.MatchWord), string(reply.MatchContains), string(reply.MatchExact), string(reply.MatchAny)},
	reflect.TypeFor[reply.Kind]():        {string(reply.KindPost), string(reply.KindReel), string(reply.KindAd), string(reply.KindLive)},
	reflect.TypeFor[reply.MessageKind](): {string(reply.MessageText), string(reply.MessageImage), string(reply.MessageAudio), string(reply.MessageVideo), string(reply.MessageHeart), string(reply.MessageReaction), string(reply.MessageMediaShare)},
	reflect.TypeFor[reply.ButtonType]():  {string(reply.ButtonPostback), string(reply.ButtonURL)},
}

// opSchemaFormats names the string fields whose values have a form (by their yaml name).
var opSchemaFormats = map[string]map[string]any{
	"from":             {"format": "date-time"},
	"until":            {"format": "date-time"},
	"human_pause":      {"pattern": opDaysOrDuration},
	"disclosure_lapse": {"pattern": opDaysOrDuration},
	"cooldown":         {"pattern": opDaysOrDuration},
	"per":              {"pattern": "^" + opGoDuration + "$"},
	"unavailable":      {"enum": []string{reply.GateSend, reply.GateAsk}},
}

// The durations of the file: Go's ("1h30m", "1.5h") and, where tokens.ParseDuration reads them,
// whole days ("2d").
const (
	opGoDuration     = `([0-9]+(\.[0-9]+)?(h|m|s|ms|us|µs|ns))+`
	opDaysOrDuration = "^([0-9]+d|" + opGoDuration + ")$"
)

// opAccountSchema is the schema document, indented as committed.
func opAccountSchema() ([]byte, error) {
	s := opSchemaOf(reflect.TypeFor[opAccountFile](), "")
	s["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	s["$id"] = "https://github.com/replywindow/replywindow/cmd/replywindow/account.schema.json"
	s["title"] = "replywindow account file (replywindow accounts put --file)"
	s["required"] = []string{"id", "login"}
	b, err := json.MarshalIndent(s, "", "  ")
	return append(b, '\n'), err
}

func opSchemaOf(t reflect.Type, name string) map[string]any {
	if e, ok := opSchemaEnums[t]; ok {
		return map[string]any{"type": "string", "enum": e}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return opSchemaOf(t.Elem(), name)
	case reflect.Struct:
		props := map[string]any{}
		for i := range t.NumField() {
			f := t.Field(i)
			tag, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			switch {
			case opts == "inline": // the fields of an embedded part of the file (opEntryFile)
				maps.Copy(props, opSchemaOf(f.Type, name)["properties"].(map[string]any))
				continue
			case tag == "-" || !f.IsExported():
				continue
			case tag == "":
				tag = strings.ToLower(f.Name) // the YAML decoder's own name for an untagged field (reply.Tracking)
			}
			props[tag] = opSchemaOf(f.Type, tag)
		}
		return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": opSchemaOf(t.Elem(), name)}
	case reflect.Map:
		if t.Key() != reflect.TypeFor[reply.Lane]() {
			return map[string]any{"type": "object", "additionalProperties": opSchemaOf(t.Elem(), name)}
		}
		lanes := make([]string, len(reply.Lanes))
		for i, l := range reply.Lanes {
			lanes[i] = string(l)
		}
		return map[string]any{"type": "object", "propertyNames": map[string]any{"enum": lanes}, "additionalProperties": opSchemaOf(t.Elem(), name)}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer", "minimum": 1}
	}
	s := map[string]any{"type": "string"}
	for k, v := range opSchemaFormats[name] {
		s[k] = v
	}
	return s
}
