package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

var updateSchema = flag.Bool("update-schema", false, "rewrite account.schema.json from the file's Go types")

const schemaFile = "account.schema.json"

// TestAccountSchema: the committed schema is the one the file's types make, the example names
// it for editors, every valid file in the repository passes it, and files with an unknown field
// or value fail it.
func TestAccountSchema(t *testing.T) {
	want, err := opAccountSchema()
	if err != nil {
		t.Fatal(err)
	}
	if *updateSchema {
		if err := os.WriteFile(schemaFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(schemaFile)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("%s is stale (%v): go test ./cmd/replywindow -run TestAccountSchema -update-schema", schemaFile, err)
	}
	var schema map[string]any
	if err := json.Unmarshal(got, &schema); err != nil {
		t.Fatal(err)
	}
	example, _ := os.ReadFile("account.example.yaml")
	if first, _, _ := strings.Cut(string(example), "\n"); first != "# yaml-language-server: $schema=./"+schemaFile {
		t.Errorf("account.example.yaml's first line %q does not name the schema", first)
	}
	for _, file := range opConfigFiles(t) {
		if errs := opValidateFile(t, schema, file); len(errs) > 0 {
			t.Errorf("%s fails the schema:\n%s", file, strings.Join(errs, "\n"))
		}
	}
	for file, want := range map[string]string{
		"step_unknown_field.yaml": `rules[0].flow[0].on: unknown field "keyword"`,
		"bad_match.yaml":          `rules[0].match: "anything" is not one of`,
		"bad_login.yaml":          `login: `,
		"bad_bool.yaml":           `want boolean`,
	} {
		errs := opValidateFile(t, schema, filepath.Join("testdata/accounts/bad", file))
		if !slices.ContainsFunc(errs, func(e string) bool { return strings.Contains(e, want) }) {
			t.Errorf("%s: schema errors %q lack %q", file, errs, want)
		}
	}
}

func opValidateFile(t *testing.T, schema map[string]any, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := yaml.Unmarshal(bytes.ReplaceAll(b, []byte("{{id}}"), []byte("17841400000000001")), &v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return opValidate(schema, v, "")
}

// opValidate checks v against the subset of JSON Schema the account schema uses: type, enum,
// properties, additionalProperties, propertyNames, items, required, minimum, pattern and the
// date-time format.
func opValidate(s map[string]any, v any, path string) []string {
	at := strings.TrimPrefix(path, ".")
	if at == "" {
		at = "(file)"
	}
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, at+": "+fmt.Sprintf(format, args...)) }
	if tm, ok := v.(time.Time); ok {
		v = tm.Format(time.RFC3339) // YAML's timestamps are strings to the schema
	}
	switch s["type"] {
	case "object":
		m, ok := v.(map[string]any)
		if !ok {
			bad("want object")
			return errs
		}
		props, _ := s["properties"].(map[string]any)
		for _, r := range asStrings(s["required"]) {
			if _, ok := m[r]; !ok {
				bad("%s: required", r)
			}
		}
		for k, x := range m {
			if names, ok := s["propertyNames"].(map[string]any); ok && !slices.Contains(asStrings(names["enum"]), k) {
				bad("%q is not one of %v", k, names["enum"])
			}
			switch sub := props[k].(type) {
			case map[string]any:
				errs = append(errs, opValidate(sub, x, path+"."+k)...)
			default:
				switch ap := s["additionalProperties"].(type) {
				case bool:
					if !ap {
						bad("unknown field %q", k)
					}
				case map[string]any:
					errs = append(errs, opValidate(ap, x, path+"."+k)...)
				}
			}
		}
	case "array":
		l, ok := v.([]any)
		if !ok {
			bad("want array")
			return errs
		}
		for i, x := range l {
			errs = append(errs, opValidate(s["items"].(map[string]any), x, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("want boolean, got %v", v)
		}
	case "integer":
		n, ok := v.(int)
		if !ok {
			bad("want integer, got %v", v)
		} else if min, ok := s["minimum"].(float64); ok && float64(n) < min {
			bad("%d is below %v", n, min)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			bad("want string, got %v (%T)", v, v)
			return errs
		}
		if e := asStrings(s["enum"]); len(e) > 0 && !slices.Contains(e, str) {
			bad("%q is not one of %v", str, e)
		}
		if p, ok := s["pattern"].(string); ok && !regexp.MustCompile(p).MatchString(str) {
			bad("%q does not match %s", str, p)
		}
		if s["format"] == "date-time" {
			if _, err := time.Parse(time.RFC3339, str); err != nil {
				bad("%q is not a date-time", str)
			}
		}
	}
	return errs
}

func asStrings(v any) []string {
	l, _ := v.([]any)
	out := make([]string, 0, len(l))
	for _, x := range l {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
