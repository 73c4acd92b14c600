package functions

import (
	"os"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestGlobalsHoldWhatTheFunctionsShare: runtime, architecture, handler, tracing, log format and
// code location are said once, in Globals, as SAM's own templates do, and no function repeats
// them (a repeated value drifts); each function still builds with the makefile.
func TestGlobalsHoldWhatTheFunctionsShare(t *testing.T) {
	b, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	v, err := expand(&doc)
	if err != nil {
		t.Fatal(err)
	}
	top := v.(map[string]any)
	globals, _ := top["Globals"].(map[string]any)
	fn, _ := globals["Function"].(map[string]any)
	shared := []string{"CodeUri", "Handler", "Runtime", "Architectures", "Tracing", "LoggingConfig"}
	for _, k := range shared {
		if _, ok := fn[k]; !ok {
			t.Errorf("Globals.Function has no %s", k)
		}
	}
	if lc, _ := fn["LoggingConfig"].(map[string]any); lc["LogFormat"] != "JSON" {
		t.Errorf("Globals.Function.LoggingConfig = %v, want LogFormat JSON", fn["LoggingConfig"])
	}
	for id, r := range top["Resources"].(map[string]any) {
		res := r.(map[string]any)
		if res["Type"] != "AWS::Serverless::Function" {
			continue
		}
		props := res["Properties"].(map[string]any)
		for _, k := range shared[:5] {
			if _, ok := props[k]; ok {
				t.Errorf("%s repeats %s, which Globals holds", id, k)
			}
		}
		if lc, _ := props["LoggingConfig"].(map[string]any); lc["LogFormat"] != nil {
			t.Errorf("%s repeats LoggingConfig.LogFormat", id)
		}
		if md, _ := res["Metadata"].(map[string]any); md["BuildMethod"] != "makefile" {
			t.Errorf("%s: Metadata.BuildMethod = %v, want makefile", id, md["BuildMethod"])
		}
	}
}
