// Package functions holds the three Lambda entry points; this file tests the bundle around them:
// template.yaml against the code it deploys, the Makefile targets sam build calls, and the
// wiring of samconfig.toml, .ci/run and events/.
package functions

import (
	"bytes"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.yaml.in/yaml/v3"

	"github.com/replywindow/replywindow/shared/conversation"
	"github.com/replywindow/replywindow/shared/dynamo"
	funnelevents "github.com/replywindow/replywindow/shared/events"
	counts "github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/links"
	"github.com/replywindow/replywindow/shared/reconcile"
	"github.com/replywindow/replywindow/shared/replier"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sqs"
	"github.com/replywindow/replywindow/shared/sweeper"
	"github.com/replywindow/replywindow/shared/telemetry"
	"github.com/replywindow/replywindow/shared/tokens"
	"github.com/replywindow/replywindow/shared/webhook"
)

// template is template.yaml as plain Go values, CloudFormation's short-form tags expanded to their
// long form (!Ref X becomes {"Ref": "X"}, !GetAtt A.B becomes {"Fn::GetAtt": ["A", "B"]}).
type template struct {
	Parameters map[string]any
	Rules      map[string]any
	Conditions map[string]any
	Resources  map[string]any
	Outputs    map[string]any
}

func loadTemplate(t *testing.T) *template {
	t.Helper()
	b, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := parseTemplate(b)
	if err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	return tpl
}

func parseTemplate(b []byte) (*template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	v, err := expand(&doc)
	if err != nil {
		return nil, err
	}
	top, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("top level is %T, want a mapping", v)
	}
	section := func(name string) map[string]any {
		m, _ := top[name].(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		return m
	}
	tpl := &template{
		Parameters: section("Parameters"),
		Rules:      section("Rules"),
		Conditions: section("Conditions"),
		Resources:  section("Resources"),
		Outputs:    section("Outputs"),
	}
	// The tests read each function as SAM deploys it: Globals.Function merged into it.
	globals, _ := section("Globals")["Function"].(map[string]any)
	for _, r := range tpl.Resources {
		res, _ := r.(map[string]any)
		if res == nil || res["Type"] != "AWS::Serverless::Function" {
			continue
		}
		props, _ := res["Properties"].(map[string]any)
		res["Properties"] = mergeGlobals(globals, props)
	}
	return tpl, nil
}

// mergeGlobals is SAM's rule for Globals: a resource's scalar wins, maps merge key by key, and
// lists are the global items followed by the resource's.
func mergeGlobals(global, local map[string]any) map[string]any {
	out := make(map[string]any, len(global)+len(local))
	maps.Copy(out, global)
	for k, lv := range local {
		switch gv := out[k].(type) {
		case map[string]any:
			if lm, ok := lv.(map[string]any); ok && !intrinsic(gv) && !intrinsic(lm) {
				out[k] = mergeGlobals(gv, lm)
				continue
			}
		case []any:
			if ll, ok := lv.([]any); ok {
				out[k] = slices.Concat(gv, ll)
				continue
			}
		}
		out[k] = lv
	}
	return out
}

// intrinsic is whether m is a CloudFormation function (!Ref, !Sub, ...), a value SAM does not
// merge into.
func intrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

// expand turns a YAML node into maps, slices and scalars, expanding CloudFormation tags.
func expand(n *yaml.Node) (any, error) {
	var v any
	switch n.Kind {
	case yaml.DocumentNode:
		return expand(n.Content[0])
	case yaml.AliasNode:
		return expand(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := expand(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := expand(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			v = n.Value // a tagged scalar is the function's string argument
		} else if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node kind %d", n.Line, n.Kind)
	}
	if !strings.HasPrefix(n.Tag, "!") || strings.HasPrefix(n.Tag, "!!") {
		return v, nil
	}
	switch name := n.Tag[1:]; name {
	case "Ref", "Condition":
		return map[string]any{name: v}, nil
	case "GetAtt":
		if s, ok := v.(string); ok {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q: want Resource.Attribute", n.Line, s)
			}
			v = []any{res, attr}
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	default:
		return map[string]any{"Fn::" + name: v}, nil
	}
}

// resource is the resource's Properties, failing the test when it is missing or of another type.
func (tpl *template) resource(t *testing.T, id, typ string) map[string]any {
	t.Helper()
	r, ok := tpl.Resources[id].(map[string]any)
	if !ok {
		t.Fatalf("resource %s: missing", id)
	}
	if r["Type"] != typ {
		t.Fatalf("resource %s: type %v, want %s", id, r["Type"], typ)
	}
	p, _ := r["Properties"].(map[string]any)
	return p
}

// ofType lists the ids of resources of typ.
func (tpl *template) ofType(typ string) []string {
	var ids []string
	for id, r := range tpl.Resources {
		if m, ok := r.(map[string]any); ok && m["Type"] == typ {
			ids = append(ids, id)
		}
	}
	return ids
}

// noValue is what !Ref AWS::NoValue evaluates to; lists drop it.
type noValue struct{}

// eval is a small CloudFormation evaluator: parameters take the values in params (their Default
// otherwise), resources evaluate to placeholders named after them, conditions are computed.
// It covers the intrinsic functions the template uses and fails on any other.
type eval struct {
	tpl    *template
	params map[string]string
	stack  string // AWS::StackName; "replywindow" when empty
}

func (tpl *template) eval(params map[string]string) *eval {
	return &eval{tpl: tpl, params: params}
}

var pseudo = map[string]string{
	"AWS::Region": "us-east-1", "AWS::AccountId": "123456789012", "AWS::Partition": "aws",
	"AWS::StackName": "replywindow", "AWS::URLSuffix": "amazonaws.com",
}

// placeholders of resources whose value the functions parse.
func placeholder(id string, attr string) string {
	if attr != "" {
		return "arn:aws:placeholder:us-east-1:123456789012:" + id + "." + attr
	}
	return "https://placeholder.us-east-1.amazonaws.com/123456789012/" + id
}

func (e *eval) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue{}, nil
	}
	if name == "AWS::StackName" && e.stack != "" {
		return e.stack, nil
	}
	if v, ok := pseudo[name]; ok {
		return v, nil
	}
	if p, ok := e.tpl.Parameters[name].(map[string]any); ok {
		if v, ok := e.params[name]; ok {
			return v, nil
		}
		d, ok := p["Default"]
		if !ok {
			return nil, fmt.Errorf("parameter %s has no Default", name)
		}
		return fmt.Sprint(d), nil
	}
	if r, ok := e.tpl.Resources[name]; ok {
		if m, _ := r.(map[string]any); m["Type"] == "AWS::Events::EventBus" {
			return e.value(m["Properties"].(map[string]any)["Name"]) // an event bus's Ref is its name
		}
		return placeholder(name, ""), nil
	}
	return nil, fmt.Errorf("Ref %s: no such parameter or resource", name)
}

var subVar = regexp.MustCompile(`\$\{([^}!]+)\}`)

func (e *eval) value(v any) (any, error) {
	switch x := v.(type) {
	case string, int, float64, bool, nil:
		return x, nil
	case []any:
		out := make([]any, 0, len(x))
		for _, item := range x {
			r, err := e.value(item)
			if err != nil {
				return nil, err
			}
			if _, skip := r.(noValue); !skip {
				out = append(out, r)
			}
		}
		return out, nil
	case map[string]any:
		if len(x) == 1 {
			for k, arg := range x {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return e.fn(k, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, item := range x {
			r, err := e.value(item)
			if err != nil {
				return nil, err
			}
			if _, skip := r.(noValue); !skip {
				out[k] = r
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected value %T", v)
}

func (e *eval) str(v any) (string, error) {
	r, err := e.value(v)
	if err != nil {
		return "", err
	}
	switch r.(type) {
	case string, int, float64, bool:
		return fmt.Sprint(r), nil
	}
	return "", fmt.Errorf("%v is not a scalar", r)
}

func (e *eval) fn(name string, arg any) (any, error) {
	switch name {
	case "Ref":
		return e.ref(fmt.Sprint(arg))
	case "Fn::GetAtt":
		parts, _ := arg.([]any)
		if len(parts) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt %v", arg)
		}
		return placeholder(fmt.Sprint(parts[0]), fmt.Sprint(parts[1])), nil
	case "Fn::Sub":
		var text string
		vars := map[string]any{}
		switch a := arg.(type) {
		case string:
			text = a
		case []any:
			if len(a) != 2 {
				return nil, fmt.Errorf("Fn::Sub %v", arg)
			}
			text, _ = a[0].(string)
			vars, _ = a[1].(map[string]any)
		}
		var err error
		out := subVar.ReplaceAllStringFunc(text, func(m string) string {
			name := m[2 : len(m)-1]
			var s string
			var e2 error
			if v, ok := vars[name]; ok {
				s, e2 = e.str(v)
			} else if res, attr, ok := strings.Cut(name, "."); ok {
				s = placeholder(res, attr)
			} else {
				var r any
				r, e2 = e.ref(name)
				s = fmt.Sprint(r)
			}
			if e2 != nil && err == nil {
				err = e2
			}
			return s
		})
		return out, err
	case "Fn::Join":
		a, _ := arg.([]any)
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Join %v", arg)
		}
		sep, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Join delimiter %v is not a literal string", a[0])
		}
		list, err := e.value(a[1])
		if err != nil {
			return nil, err
		}
		items, _ := list.([]any)
		strs := make([]string, len(items))
		for i, it := range items {
			strs[i] = fmt.Sprint(it)
		}
		return strings.Join(strs, sep), nil
	case "Fn::If":
		a, _ := arg.([]any)
		if len(a) != 3 {
			return nil, fmt.Errorf("Fn::If %v", arg)
		}
		ok, err := e.condition(fmt.Sprint(a[0]))
		if err != nil {
			return nil, err
		}
		if ok {
			return e.value(a[1])
		}
		return e.value(a[2])
	}
	return nil, fmt.Errorf("%s: not known to this evaluator", name)
}

func (e *eval) condition(name string) (bool, error) {
	c, ok := e.tpl.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s: not defined", name)
	}
	return e.cond(c)
}

func (e *eval) cond(c any) (bool, error) {
	m, ok := c.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("condition %v", c)
	}
	for k, arg := range m {
		args, _ := arg.([]any)
		switch k {
		case "Condition":
			return e.condition(fmt.Sprint(arg))
		case "Fn::Equals":
			if len(args) != 2 {
				return false, fmt.Errorf("Fn::Equals %v", arg)
			}
			a, err := e.str(args[0])
			if err != nil {
				return false, err
			}
			b, err := e.str(args[1])
			return a == b, err
		case "Fn::Not":
			if len(args) != 1 {
				return false, fmt.Errorf("Fn::Not %v", arg)
			}
			v, err := e.cond(args[0])
			return !v, err
		case "Fn::Contains": // Rules only: the value is one of the list's strings
			if len(args) != 2 {
				return false, fmt.Errorf("Fn::Contains %v", arg)
			}
			list, err := e.value(args[0])
			if err != nil {
				return false, err
			}
			v, err := e.str(args[1])
			items, _ := list.([]any)
			return slices.ContainsFunc(items, func(it any) bool { return fmt.Sprint(it) == v }), err
		case "Fn::And", "Fn::Or":
			all := k == "Fn::And"
			for _, a := range args {
				v, err := e.cond(a)
				if err != nil {
					return false, err
				}
				if v != all {
					return v, nil
				}
			}
			return all, nil
		}
		return false, fmt.Errorf("condition function %s: not known to this evaluator", k)
	}
	return false, nil
}

// number is v (a literal or a Ref to a parameter) as an int, with parameters at their defaults.
func (tpl *template) number(t *testing.T, v any) int {
	t.Helper()
	s, err := tpl.eval(nil).str(v)
	if err != nil {
		t.Fatalf("%v: %v", v, err)
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatalf("%v = %q: not a number", v, s)
	}
	return n
}

// minimum is the least value v may take: a literal, or the MinValue (else the least of the
// AllowedValues) of the parameter it refers to.
func (tpl *template) minimum(t *testing.T, v any) int {
	t.Helper()
	ref, ok := v.(map[string]any)["Ref"]
	if !ok {
		return tpl.number(t, v)
	}
	p, _ := tpl.Parameters[fmt.Sprint(ref)].(map[string]any)
	if p == nil {
		t.Fatalf("Ref %v: not a parameter", ref)
	}
	if mv, ok := p["MinValue"]; ok {
		return tpl.number(t, mv)
	}
	allowed, _ := p["AllowedValues"].([]any)
	if len(allowed) == 0 {
		t.Fatalf("parameter %v has neither MinValue nor AllowedValues: no lower bound", ref)
	}
	least := tpl.number(t, allowed[0])
	for _, a := range allowed[1:] {
		least = min(least, tpl.number(t, a))
	}
	return least
}

func TestParseTemplateTags(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       string
	}{
		{"ref", "a: !Ref X", `map[a:map[Ref:X]]`},
		{"getatt short", "a: !GetAtt Q.Arn", `map[a:map[Fn::GetAtt:[Q Arn]]]`},
		{"sub list", "a: !Sub [\"${A}\", {A: !Ref B}]", `map[a:map[Fn::Sub:[${A} map[A:map[Ref:B]]]]]`},
		{"nested if", "a: !If [C, !Ref AWS::NoValue, 1]", `map[a:map[Fn::If:[C map[Ref:AWS::NoValue] 1]]]`},
		{"condition", "a: !Condition C", `map[a:map[Condition:C]]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tpl, err := parseTemplate([]byte("Resources:\n  R:\n    Properties:\n      " + tt.yaml + "\n"))
			if err != nil {
				t.Fatal(err)
			}
			r := tpl.Resources["R"].(map[string]any)["Properties"]
			if got := fmt.Sprint(r); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := parseTemplate([]byte("a: !GetAtt NoDot")); err == nil {
		t.Error("!GetAtt without an attribute parsed")
	}
}

// function is one Lambda of the bundle and the code it runs.
type function struct {
	id, dir string
	env     []string // every variable the function reads (the service package's Env)
	// localOnly are plain-text stand-ins for SSM (sam local invoke, the local stack). The template
	// declares them EMPTY: sam local invoke --env-vars only overrides variables the template
	// declares, and an empty value means "read SSM", so no secret is ever in the template.
	localOnly []string
	load      func(getenv func(string) string) error // the package's LoadConfig
}

// sdkEnv are variables aws-sdk-go-v2 reads, not our code. The template declares them empty (the
// SDK treats empty as unset) only so that events/env.json can set them for sam local invoke.
var sdkEnv = []string{"AWS_ENDPOINT_URL"}

// telemetryEnv are read by every main.go for shared/telemetry (the stack's metric namespace).
var telemetryEnv = []string{telemetry.NamespaceEnv}

var functions = []function{
	{
		id: "WebhookFunction", dir: "webhook", env: slices.Concat(webhook.Env, telemetryEnv),
		localOnly: []string{"APP_SECRETS", "VERIFY_TOKEN"},
		load:      func(g func(string) string) error { _, err := webhook.LoadConfig(g); return err },
	},
	{
		// main wires the link tracker (shared/links) and the events outbox (shared/events) with their
		// own configurations.
		id: "ReplierFunction", dir: "replier", env: slices.Concat(replier.Env, links.TrackerEnv, funnelevents.Env, telemetryEnv),
		localOnly: []string{"ACCOUNT_TOKENS", "LINKS_SECRET"},
		load: func(g func(string) string) error {
			_, err := replier.LoadConfig(g)
			_, lerr := links.LoadTrackerConfig(g)
			_, eerr := funnelevents.LoadConfig(g)
			return errors.Join(err, lerr, eerr)
		},
	},
	{
		id: "LinksFunction", dir: "links", env: slices.Concat(links.Env, telemetryEnv),
		localOnly: []string{"LINKS_SECRET"},
		load:      func(g func(string) string) error { _, err := links.LoadConfig(g); return err },
	},
	{
		// main wires the reconciler into the sweeper's chores with its own configuration.
		id: "SweeperFunction", dir: "sweeper", env: slices.Concat(sweeper.Env, reconcile.Env, funnelevents.Env, tokens.Env, telemetryEnv),
		localOnly: []string{"ACCOUNT_TOKENS"},
		load: func(g func(string) string) error {
			_, err := sweeper.LoadConfig(g)
			_, rerr := reconcile.LoadConfig(g)
			_, eerr := funnelevents.LoadConfig(g)
			_, terr := tokens.LoadConfig(g)
			return errors.Join(err, rerr, eerr, terr)
		},
	},
}

// envOf is the function's environment as deployed with params (defaults for the rest).
func (tpl *template) envOf(t *testing.T, id string, params map[string]string) map[string]string {
	t.Helper()
	props := tpl.resource(t, id, "AWS::Serverless::Function")
	env, _ := props["Environment"].(map[string]any)
	v, err := tpl.eval(params).value(env["Variables"])
	if err != nil {
		t.Fatalf("%s environment: %v", id, err)
	}
	vars, _ := v.(map[string]any)
	out := make(map[string]string, len(vars))
	for k, val := range vars {
		out[k] = fmt.Sprint(val)
	}
	return out
}

func TestTemplateDefinesEveryVariableAFunctionReads(t *testing.T) {
	tpl := loadTemplate(t)
	for _, fn := range functions {
		t.Run(fn.id, func(t *testing.T) {
			vars := tpl.envOf(t, fn.id, nil)
			for _, name := range fn.env {
				v, ok := vars[name]
				switch {
				case !ok:
					t.Errorf("%s reads %s; the template does not define it", fn.id, name)
				case slices.Contains(fn.localOnly, name) && v != "":
					t.Errorf("%s: local stand-in %s = %q in the template; declare it empty (secrets belong in SSM)", fn.id, name, v)
				}
			}
			for _, name := range sdkEnv {
				if v := vars[name]; v != "" {
					t.Errorf("%s: %s = %q in the template; it must stay empty in AWS", fn.id, name, v)
				}
			}
			for name := range vars {
				if !slices.Contains(fn.env, name) && !slices.Contains(sdkEnv, name) {
					t.Errorf("%s: the template sets %s, which the function never reads (typo or stale?)", fn.id, name)
				}
			}
			for _, name := range fn.localOnly {
				if !slices.Contains(fn.env, name) {
					t.Errorf("%s: local stand-in %s is not in the package's Env any more; update this test", fn.id, name)
				}
			}
			// The values as deployed must be ones the function accepts: a wrong duration
			// format or a missing required variable would fail every cold start.
			if err := fn.load(func(k string) string { return vars[k] }); err != nil {
				t.Errorf("%s: LoadConfig with the template's values: %v", fn.id, err)
			}
		})
	}
}

var rateExpr = regexp.MustCompile(`^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$`)

// sweeperSchedule is the Properties of the one Scheduler schedule, which must target the sweeper.
// No function may carry a schedule event: SAM would name its schedule after a logical id.
func (tpl *template) sweeperSchedule(t *testing.T) map[string]any {
	t.Helper()
	for _, fn := range functions {
		events, _ := tpl.resource(t, fn.id, "AWS::Serverless::Function")["Events"].(map[string]any)
		for name, ev := range events {
			if m, _ := ev.(map[string]any); m["Type"] == "Schedule" || m["Type"] == "ScheduleV2" {
				t.Errorf("%s event %s: a SAM schedule event is named after its logical id, so two stacks collide; use an AWS::Scheduler::Schedule", fn.id, name)
			}
		}
	}
	ids := tpl.ofType("AWS::Scheduler::Schedule")
	if len(ids) != 1 {
		t.Fatalf("%d AWS::Scheduler::Schedule resources, want 1", len(ids))
	}
	props := tpl.resource(t, ids[0], "AWS::Scheduler::Schedule")
	target, _ := props["Target"].(map[string]any)
	if got := fmt.Sprint(target["Arn"]); got != "map[Fn::GetAtt:[SweeperFunction Arn]]" {
		t.Fatalf("schedule %s targets %s, want the SweeperFunction", ids[0], got)
	}
	return props
}

// TestSweepScheduleMatchesInterval: the sweeper sizes each release by SWEEP_INTERVAL, so it must
// be the schedule's period for every value the parameter allows.
func TestSweepScheduleMatchesInterval(t *testing.T) {
	tpl := loadTemplate(t)
	props := tpl.resource(t, "SweeperFunction", "AWS::Serverless::Function")
	expr := tpl.sweeperSchedule(t)["ScheduleExpression"]
	param, _ := tpl.Parameters["SweepEveryMinutes"].(map[string]any)
	allowed, _ := param["AllowedValues"].([]any)
	if len(allowed) == 0 {
		t.Fatal("SweepEveryMinutes: no AllowedValues")
	}
	timeout := time.Duration(tpl.number(t, props["Timeout"])) * time.Second
	for _, a := range allowed {
		v := fmt.Sprint(a)
		t.Run(v+"m", func(t *testing.T) {
			params := map[string]string{"SweepEveryMinutes": v}
			s, err := tpl.eval(params).str(expr)
			if err != nil {
				t.Fatal(err)
			}
			m := rateExpr.FindStringSubmatch(s)
			if m == nil {
				t.Fatalf("schedule %q is not a rate expression", s)
			}
			n, _ := strconv.Atoi(m[1])
			if singular := !strings.HasSuffix(m[2], "s"); singular != (n == 1) {
				t.Errorf("schedule %q: EventBridge wants the singular unit exactly when the value is 1", s)
			}
			unit := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(m[2], "s")]
			period := time.Duration(n) * unit
			vars := tpl.envOf(t, "SweeperFunction", params)
			cfg, err := sweeper.LoadConfig(func(k string) string { return vars[k] })
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Interval != period {
				t.Errorf("SWEEP_INTERVAL gives %s, the schedule runs every %s", cfg.Interval, period)
			}
			if timeout >= period {
				t.Errorf("sweeper timeout %s is not below the schedule period %s", timeout, period)
			}
		})
	}
}

// TestMakefileBuildsStaticArm64Bootstrap runs the target sam build runs for each function and
// checks the binary is what provided.al2023 on arm64 needs: a static, stripped AArch64 ELF.
func TestMakefileBuildsStaticArm64Bootstrap(t *testing.T) {
	tpl := loadTemplate(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	for _, fn := range functions {
		t.Run(fn.id, func(t *testing.T) {
			r := tpl.Resources[fn.id].(map[string]any)
			if md, _ := r["Metadata"].(map[string]any); md["BuildMethod"] != "makefile" {
				t.Errorf("Metadata.BuildMethod = %v, want makefile", md["BuildMethod"])
			}
			props := tpl.resource(t, fn.id, "AWS::Serverless::Function")
			for k, want := range map[string]string{"Runtime": "provided.al2023", "Handler": "bootstrap", "CodeUri": ".", "Architectures": "[arm64]"} {
				if got := fmt.Sprint(props[k]); got != want {
					t.Errorf("%s = %s, want %s", k, got, want)
				}
			}
			dir := t.TempDir()
			cmd := exec.Command("make", "-s", "-C", root, "build-"+fn.id, "ARTIFACTS_DIR="+dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("make build-%s: %v\n%s", fn.id, err, out)
			}
			path := filepath.Join(dir, "bootstrap")
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode()&0o111 == 0 {
				t.Errorf("bootstrap is not executable (%s)", st.Mode())
			}
			f, err := elf.Open(path)
			if err != nil {
				t.Fatalf("bootstrap is not an ELF binary: %v", err)
			}
			defer f.Close()
			if f.Machine != elf.EM_AARCH64 || f.Class != elf.ELFCLASS64 {
				t.Errorf("bootstrap is %s %s, want EM_AARCH64 ELFCLASS64", f.Machine, f.Class)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
					t.Errorf("bootstrap has a %s program header: dynamically linked", p.Type)
				}
			}
			if f.Section(".dynamic") != nil || f.Section(".interp") != nil {
				t.Error("bootstrap has a .dynamic or .interp section: dynamically linked")
			}
			if syms, err := f.Symbols(); err == nil && len(syms) > 0 {
				t.Errorf("bootstrap keeps %d symbols: not stripped (-s -w)", len(syms))
			}
			t.Logf("%s bootstrap: %d bytes", fn.dir, st.Size())
		})
	}
}

// TestWebhookAnswersBeforeItsTimeout: the webhook's answer budget ends well before the function's
// timeout, so a slow queue gets Meta a 500 and a log line, never a timeout without either.
func TestWebhookAnswersBeforeItsTimeout(t *testing.T) {
	tpl := loadTemplate(t)
	timeout := time.Duration(tpl.number(t, tpl.resource(t, "WebhookFunction", "AWS::Serverless::Function")["Timeout"])) * time.Second
	vars := tpl.envOf(t, "WebhookFunction", nil)
	cfg, err := webhook.LoadConfig(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AnswerBudget > timeout/2 {
		t.Errorf("ANSWER_BUDGET %s is more than half the webhook's Timeout %s", cfg.AnswerBudget, timeout)
	}
}

func TestQueueOutlastsTheReplier(t *testing.T) {
	tpl := loadTemplate(t)
	queue := tpl.resource(t, "JobsQueue", "AWS::SQS::Queue")
	dlq := tpl.resource(t, "DeadLetterQueue", "AWS::SQS::Queue")
	fn := tpl.resource(t, "ReplierFunction", "AWS::Serverless::Function")

	timeout := tpl.number(t, fn["Timeout"])
	if vis := tpl.number(t, queue["VisibilityTimeout"]); vis < 6*timeout {
		t.Errorf("JobsQueue VisibilityTimeout %d s < 6 x replier Timeout %d s", vis, timeout)
	}
	redrive, _ := queue["RedrivePolicy"].(map[string]any)
	if got := fmt.Sprint(redrive["deadLetterTargetArn"]); got != "map[Fn::GetAtt:[DeadLetterQueue Arn]]" {
		t.Errorf("RedrivePolicy.deadLetterTargetArn = %s, want the DeadLetterQueue", got)
	}
	if n := tpl.minimum(t, redrive["maxReceiveCount"]); n < 5 {
		t.Errorf("maxReceiveCount may be %d, want >= 5", n)
	}
	if n := tpl.number(t, redrive["maxReceiveCount"]); n < 5 {
		t.Errorf("maxReceiveCount defaults to %d, want >= 5", n)
	}
	if r := tpl.number(t, dlq["MessageRetentionPeriod"]); r != 14*24*3600 {
		t.Errorf("DLQ retention %d s, want 14 days", r)
	}
	if src, d := tpl.number(t, queue["MessageRetentionPeriod"]), tpl.number(t, dlq["MessageRetentionPeriod"]); src >= d {
		// A standard DLQ keeps a message's original enqueue time: a shorter DLQ retention
		// would delete moved messages early.
		t.Errorf("JobsQueue retention %d s is not below the DLQ's %d s", src, d)
	}
	// The local stacks (make local-aws, replywindow dev) create the queues from sqs.Settings.
	local := sqs.Settings
	if got := [4]int{tpl.number(t, queue["VisibilityTimeout"]), tpl.number(t, queue["MessageRetentionPeriod"]), tpl.number(t, dlq["MessageRetentionPeriod"]), tpl.number(t, redrive["maxReceiveCount"])}; got != [4]int{
		int(local.Visibility.Seconds()), int(local.Retention.Seconds()), int(local.DLQRetention.Seconds()), local.MaxReceive} {
		t.Errorf("template queues (visibility, retention, DLQ retention, maxReceiveCount) %v; sqs.Settings %+v", got, local)
	}
	for name, q := range map[string]map[string]any{"JobsQueue": queue, "DeadLetterQueue": dlq} {
		if q["SqsManagedSseEnabled"] != true && q["KmsMasterKeyId"] == nil {
			t.Errorf("%s: no server-side encryption", name)
		}
	}

	events, _ := fn["Events"].(map[string]any)
	var sqsEvents []map[string]any
	for _, ev := range events {
		if m, _ := ev.(map[string]any); m["Type"] == "SQS" {
			sqsEvents = append(sqsEvents, m["Properties"].(map[string]any))
		}
	}
	if len(sqsEvents) != 1 {
		t.Fatalf("ReplierFunction has %d SQS events, want 1", len(sqsEvents))
	}
	ev := sqsEvents[0]
	if got := fmt.Sprint(ev["Queue"]); got != "map[Fn::GetAtt:[JobsQueue Arn]]" {
		t.Errorf("SQS event queue = %s, want JobsQueue", got)
	}
	if types, _ := ev["FunctionResponseTypes"].([]any); !slices.Contains(types, any("ReportBatchItemFailures")) {
		t.Error("SQS event without ReportBatchItemFailures: one bad job would fail its whole batch")
	}
	if _, ok := ev["MaximumBatchingWindowInSeconds"]; !ok {
		t.Error("SQS event without a batching window")
	}
	sc, _ := ev["ScalingConfig"].(map[string]any)
	if ref, _ := sc["MaximumConcurrency"].(map[string]any); ref["Ref"] == nil {
		t.Errorf("ScalingConfig.MaximumConcurrency = %v, want a parameter", sc["MaximumConcurrency"])
	} else if n := tpl.minimum(t, sc["MaximumConcurrency"]); n < 2 {
		t.Errorf("MaximumConcurrency may be %d; Lambda's minimum is 2", n)
	}
}

// statements lists every statement of the role's inline policies with params applied (Fn::If
// evaluated, AWS::NoValue dropped).
func (tpl *template) statements(t *testing.T, role string, params map[string]string) []map[string]any {
	t.Helper()
	props := tpl.resource(t, role, "AWS::IAM::Role")
	v, err := tpl.eval(params).value(props["Policies"])
	if err != nil {
		t.Fatalf("%s policies: %v", role, err)
	}
	var out []map[string]any
	policies, _ := v.([]any)
	for _, p := range policies {
		doc, _ := p.(map[string]any)["PolicyDocument"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		for _, s := range stmts {
			out = append(out, s.(map[string]any))
		}
	}
	return out
}

func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		out := make([]string, len(x))
		for i, s := range x {
			out[i] = fmt.Sprint(s)
		}
		return out
	}
	return nil
}

// glob reports whether an IAM resource pattern matches arn.
func glob(pattern, arn string) bool {
	re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$"
	return regexp.MustCompile(re).MatchString(arn)
}

// allows reports whether one of the statements allows action on resource.
func allows(stmts []map[string]any, action, resource string) bool {
	return allowsKey(stmts, action, resource, "")
}

// allowsKey is allows for an item request on the item whose partition key is key ("" for
// requests that name none, such as Scan): a statement's dynamodb:LeadingKeys condition must
// admit it. Other conditions (kms:ViaService) are checked where they matter.
func allowsKey(stmts []map[string]any, action, resource, key string) bool {
	for _, s := range stmts {
		if s["Effect"] != "Allow" {
			continue
		}
		if !slices.Contains(strs(s["Action"]), action) {
			continue
		}
		if patterns, ok := leadingKeys(s); ok && key != "" && !slices.ContainsFunc(patterns, func(p string) bool { return glob(p, key) }) {
			continue
		}
		for _, r := range strs(s["Resource"]) {
			if glob(r, resource) {
				return true
			}
		}
	}
	return false
}

// leadingKeys is the statement's ForAllValues:StringLike dynamodb:LeadingKeys patterns.
func leadingKeys(s map[string]any) ([]string, bool) {
	cond, _ := s["Condition"].(map[string]any)
	like, _ := cond["ForAllValues:StringLike"].(map[string]any)
	v, ok := like["dynamodb:LeadingKeys"]
	return strs(v), ok
}

// itemActions read or write items named by their key; dynamodb:LeadingKeys can limit them.
var itemActions = []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
	"dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem"}

// wildcardResourceActions may name Resource "*": the service has no resource-level permissions.
var wildcardResourceActions = []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"}

func TestPoliciesAreLeastPrivilege(t *testing.T) {
	tpl := loadTemplate(t)
	for _, fn := range functions {
		props := tpl.resource(t, fn.id, "AWS::Serverless::Function")
		if _, ok := props["Policies"]; ok {
			t.Errorf("%s: SAM Policies would add managed policies with \"*\" resources; use its Role", fn.id)
		}
		if role := fmt.Sprint(props["Role"]); !strings.HasPrefix(role, "map[Fn::GetAtt:[") {
			t.Errorf("%s: Role = %s, want !GetAtt <its role>.Arn", fn.id, role)
		}
	}
	for _, typ := range []string{"AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::User", "AWS::IAM::Group"} {
		if ids := tpl.ofType(typ); len(ids) > 0 {
			t.Errorf("%s resources %v: keep policies inline in the functions' roles, where this test reads them", typ, ids)
		}
	}
	roles := tpl.ofType("AWS::IAM::Role")
	if len(roles) != len(functions)+1 {
		t.Errorf("%d roles, want one per function (%d) and the Scheduler's", len(roles), len(functions))
	}
	// Every branch of every Fn::If: the custom KMS key and tracing switched on.
	all := map[string]string{"SecretsKmsKeyArn": "arn:aws:kms:us-east-1:123456789012:key/0000", "Tracing": "Active", "SecondAppSecretParam": "/x/second"}
	for _, role := range roles {
		props := tpl.resource(t, role, "AWS::IAM::Role")
		if _, ok := props["ManagedPolicyArns"]; ok {
			t.Errorf("%s: managed policies are not least privilege", role)
		}
		for _, s := range tpl.statements(t, role, all) {
			sid := fmt.Sprint(s["Sid"])
			if s["NotAction"] != nil || s["NotResource"] != nil || s["NotPrincipal"] != nil {
				t.Errorf("%s %s: Not* elements grant everything else", role, sid)
			}
			actions := strs(s["Action"])
			if len(actions) == 0 {
				t.Errorf("%s %s: no actions", role, sid)
			}
			// Item requests are limited to the key prefixes the function works with.
			if slices.ContainsFunc(actions, func(a string) bool { return slices.Contains(itemActions, a) }) {
				if keys, ok := leadingKeys(s); !ok || len(keys) == 0 || slices.Contains(keys, "*") {
					t.Errorf("%s %s: DynamoDB item actions without a dynamodb:LeadingKeys condition", role, sid)
				}
			}
			for _, a := range actions {
				if strings.Contains(a, "*") {
					t.Errorf("%s %s: action %q has a wildcard", role, sid, a)
				}
			}
			for _, r := range strs(s["Resource"]) {
				switch {
				case r == "*":
					for _, a := range actions {
						if !slices.Contains(wildcardResourceActions, a) {
							t.Errorf("%s %s: %s on Resource \"*\"", role, sid, a)
						}
					}
				case strings.Contains(r, "*") && !strings.HasSuffix(r, ":parameter/replywindow/tokens/*"):
					t.Errorf("%s %s: wildcard resource %s (only the account-token path may have one)", role, sid, r)
				}
			}
		}
	}
}

// TestRolesGrantWhatTheFunctionsDo: what each function calls is allowed on exactly its resources,
// and what it does not do is denied, with the parameters at their defaults and switched on.
func TestRolesGrantWhatTheFunctionsDo(t *testing.T) {
	tpl := loadTemplate(t)
	const acct = "arn:aws:ssm:us-east-1:123456789012:parameter"
	table, queue, dlq := placeholder("Table", "Arn"), placeholder("JobsQueue", "Arn"), placeholder("DeadLetterQueue", "Arn")
	key := "arn:aws:kms:us-east-1:123456789012:key/1111"
	logs := func(g string) string { return placeholder(g, "Arn") }
	type grant struct {
		action, resource string
		want             bool
		key              string // the item's partition key, for DynamoDB item actions
	}
	reply1, funnel, bucket := reply.CommentKey("17900000000000001"), reply.FunnelKey("17841400000000001", "18000000000000001", "17841400000000777"), reply.BucketKey("17841400000000001", reply.LanePosts)
	account, request := dynamo.AccountKey("17841400000000001"), dynamo.DeletionKey("0123456789abcdef0123")
	grave := reply.PersonTombstoneKey("17841400000000777")
	followUp := reply.FollowUpKey("17841400000000001", reply.FollowUp{PersonID: "17841400000000777", Rule: "recipe", Step: "link", Once: true})
	counter := counts.NewTally("17841400000000001", "recipe", "A", "18000000000000001", time.Unix(0, 0)).Key
	tests := []struct {
		role   string
		params map[string]string
		grants []grant
	}{
		{"WebhookRole", nil, []grant{
			{"logs:PutLogEvents", logs("WebhookLogGroup"), true, ""},
			{"logs:PutLogEvents", logs("ReplierLogGroup"), false, ""},
			{"sqs:SendMessage", queue, true, ""},
			{"sqs:SendMessage", dlq, false, ""},
			{"ssm:GetParameter", acct + "/replywindow/app-secret", true, ""},
			{"ssm:GetParameters", acct + "/replywindow/verify-token", true, ""},
			{"ssm:GetParameter", acct + "/replywindow/tokens/17841400000000000", false, ""},
			{"dynamodb:PutItem", table, true, request},
			{"dynamodb:GetItem", table, true, request},
			{"dynamodb:GetItem", table, false, account},
			{"dynamodb:PutItem", table, false, account},
			{"dynamodb:PutItem", table, false, reply1},
			{"dynamodb:PutItem", table, false, funnel},
			{"dynamodb:PutItem", table, false, bucket},
			{"dynamodb:PutItem", table, false, lead.Key("17841400000000001", "17841400000000777", lead.KindEmail)},
			{"dynamodb:DeleteItem", table, false, request},
			{"dynamodb:Scan", table, false, ""},
			{"dynamodb:UpdateItem", table, false, counter},
			{"kms:Decrypt", key, false, ""},
			{"xray:PutTraceSegments", "*", false, ""},
		}},
		{"WebhookRole", map[string]string{"SecondAppSecretParam": "/replywindow/fb-app-secret", "SecretsKmsKeyArn": key, "Tracing": "Active"}, []grant{
			{"ssm:GetParameter", acct + "/replywindow/fb-app-secret", true, ""},
			{"ssm:GetParameter", acct + "/replywindow/app-secret", true, ""},
			{"kms:Decrypt", key, true, ""},
			{"kms:Encrypt", key, false, ""},
			{"xray:PutTraceSegments", "*", true, ""},
		}},
		{"ReplierRole", nil, []grant{
			{"logs:PutLogEvents", logs("ReplierLogGroup"), true, ""},
			{"sqs:ReceiveMessage", queue, true, ""},
			{"sqs:DeleteMessage", queue, true, ""},
			{"sqs:GetQueueAttributes", queue, true, ""},
			{"sqs:ReceiveMessage", dlq, false, ""},
			{"ssm:GetParameter", acct + "/replywindow/tokens/17841400000000000", true, ""},
			{"ssm:GetParameter", acct + "/replywindow/app-secret", false, ""},
			{"ssm:PutParameter", acct + "/replywindow/tokens/17841400000000000", false, ""},
			{"dynamodb:GetItem", table, true, reply1},
			{"dynamodb:PutItem", table, true, funnel},
			{"dynamodb:PutItem", table, true, bucket},
			{"dynamodb:GetItem", table, true, account},
			{"dynamodb:PutItem", table, true, account},
			{"dynamodb:GetItem", table, false, request},
			{"dynamodb:PutItem", table, false, request},
			{"dynamodb:Scan", table, false, ""},
			{"dynamodb:DeleteItem", table, false, reply1},
			{"dynamodb:ConditionCheckItem", table, true, grave},
			{"dynamodb:ConditionCheckItem", table, true, reply.AccountTombstoneKey("17841400000000001")},
			{"dynamodb:PutItem", table, true, lead.Key("17841400000000001", "17841400000000777", lead.KindEmail)}, // an answer kept
			{"dynamodb:DeleteItem", table, false, lead.Key("17841400000000001", "17841400000000777", lead.KindEmail)},
			{"dynamodb:PutItem", table, false, grave},
			{"dynamodb:ConditionCheckItem", table, false, account},
			// Conversations: the window's touch, a step's claim, its follow-ups' outcomes.
			{"dynamodb:UpdateItem", table, true, reply.ConversationKey("17841400000000001", "17841400000000777")},
			{"dynamodb:PutItem", table, true, followUp},
			{"dynamodb:UpdateItem", table, false, request},
			// Funnel counts: added in the transaction of a record's end, never written whole.
			{"dynamodb:UpdateItem", table, true, counter},
			{"dynamodb:PutItem", table, false, counter},
		}},
		{"ReplierRole", map[string]string{"SecretsKmsKeyArn": key}, []grant{
			{"kms:Decrypt", key, true, ""},
			{"kms:Encrypt", key, false, ""},
		}},
		{"SweeperRole", nil, []grant{
			{"logs:PutLogEvents", logs("SweeperLogGroup"), true, ""},
			{"sqs:SendMessage", queue, true, ""},
			{"sqs:ReceiveMessage", queue, false, ""},
			{"dynamodb:Query", table + "/index/due", true, ""},
			{"dynamodb:Query", table + "/index/list", true, ""},
			{"dynamodb:Query", table + "/index/comment", true, ""}, // reconciliation: ByComment
			{"dynamodb:GetItem", table, true, reply.CursorKey("17841400000000001")},
			{"dynamodb:PutItem", table, true, reply.CursorKey("17841400000000001")},
			{"dynamodb:DeleteItem", table, true, reply.CursorKey("17841400000000001")}, // the account's data deletion
			{"dynamodb:PutItem", table, true, reply.BucketKey("17841400000000001", reply.LaneReads)},
			{"dynamodb:BatchGetItem", table, true, bucket}, // every lane's bucket each run
			{"dynamodb:BatchGetItem", table, false, reply1},
			{"dynamodb:Scan", table, true, ""},
			{"dynamodb:DeleteItem", table, true, account},
			{"dynamodb:DeleteItem", table, true, reply1},
			{"dynamodb:DeleteItem", table, true, bucket},
			{"dynamodb:PutItem", table, true, request},
			{"dynamodb:DeleteItem", table, false, "X#unknown"},
			{"dynamodb:PutItem", table, true, followUp}, // released and expired like reply records
			{"dynamodb:DeleteItem", table, true, reply.ConversationKey("17841400000000001", "17841400000000777")},
			{"dynamodb:PutItem", table, true, grave},
			{"dynamodb:ConditionCheckItem", table, false, grave},                                                     // the sweeper creates no records
			{"dynamodb:GetItem", table, true, lead.Key("17841400000000001", "17841400000000777", lead.KindPhone)},    // forget --person
			{"dynamodb:DeleteItem", table, true, lead.Key("17841400000000001", "17841400000000777", lead.KindPhone)}, // data deletion
			{"dynamodb:UpdateItem", table, true, counter},                                                            // an expiry's counts
			{"dynamodb:DeleteItem", table, false, counter},
			{"ssm:PutParameter", acct + "/replywindow/tokens/17841400000000000", true, ""},
			{"ssm:DeleteParameter", acct + "/replywindow/tokens/17841400000000000", true, ""},
			{"ssm:PutParameter", acct + "/replywindow/app-secret", false, ""},
			{"ssm:GetParameter", acct + "/replywindow/verify-token", false, ""},
		}},
		{"SweeperRole", map[string]string{"TokenPathPrefix": "/agency/tokens/", "SecretsKmsKeyArn": key}, []grant{
			{"ssm:PutParameter", acct + "/agency/tokens/1784", true, ""},
			{"ssm:PutParameter", acct + "/replywindow/tokens/1784", false, ""},
			{"kms:Encrypt", key, true, ""},
			{"kms:Decrypt", key, true, ""},
		}},
		{"SchedulerRole", nil, []grant{
			{"lambda:InvokeFunction", placeholder("SweeperFunction", "Arn"), true, ""},
			{"lambda:InvokeFunction", placeholder("ReplierFunction", "Arn"), false, ""},
		}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.role, tt.params), func(t *testing.T) {
			stmts := tpl.statements(t, tt.role, tt.params)
			for _, g := range tt.grants {
				if got := allowsKey(stmts, g.action, g.resource, g.key); got != g.want {
					t.Errorf("%s %s on %s %s: allowed = %v, want %v", tt.role, g.action, g.resource, g.key, got, g.want)
				}
			}
			for _, s := range stmts {
				if slices.ContainsFunc(strs(s["Action"]), func(a string) bool { return strings.HasPrefix(a, "kms:") }) {
					cond := fmt.Sprint(s["Condition"])
					if !strings.Contains(cond, "kms:ViaService:ssm.us-east-1.amazonaws.com") {
						t.Errorf("%s %v: KMS use not limited to SSM (Condition %s)", tt.role, s["Sid"], cond)
					}
				}
			}
		})
	}
	// The SSM names the webhook is told to read are the ones its role may read.
	params := map[string]string{"SecondAppSecretParam": "/replywindow/fb-app-secret"}
	vars := tpl.envOf(t, "WebhookFunction", params)
	stmts := tpl.statements(t, "WebhookRole", params)
	names := append(strings.Split(vars["APP_SECRETS_PARAMS"], ","), vars["VERIFY_TOKEN_PARAM"])
	if len(names) != 3 {
		t.Errorf("webhook is told to read %q, want two app secrets and the verify token", names)
	}
	for _, n := range names {
		if !allows(stmts, "ssm:GetParameter", acct+n) {
			t.Errorf("webhook reads SSM %q but its role may not", n)
		}
	}
}

// alarm is an alarm's metric, evaluated: namespace, metric name, dimensions, statistic.
type alarm struct {
	id, namespace, metric, stat, expression string
	dims                                    map[string]string
	threshold                               float64
	props                                   map[string]any
	// reads are the metrics the alarm evaluates: its one metric, or each MetricStat of its
	// metric math.
	reads []metricRef
}

// metricRef names one CloudWatch metric as an alarm reads it.
type metricRef struct {
	namespace, metric, stat string
	dims                    map[string]string
}

// reading is whether the alarm evaluates a metric that match accepts.
func (a alarm) reading(match func(metricRef) bool) bool { return slices.ContainsFunc(a.reads, match) }

func (tpl *template) alarms(t *testing.T) []alarm {
	t.Helper()
	var out []alarm
	for _, id := range tpl.ofType("AWS::CloudWatch::Alarm") {
		v, err := tpl.eval(nil).value(tpl.resource(t, id, "AWS::CloudWatch::Alarm"))
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		p := v.(map[string]any)
		a := alarm{id: id, props: p, dims: map[string]string{}}
		a.namespace, _ = p["Namespace"].(string)
		a.metric, _ = p["MetricName"].(string)
		a.stat = fmt.Sprint(p["Statistic"], p["ExtendedStatistic"])
		a.threshold, _ = strconv.ParseFloat(fmt.Sprint(p["Threshold"]), 64)
		dims, _ := p["Dimensions"].([]any)
		for _, d := range dims {
			m := d.(map[string]any)
			a.dims[fmt.Sprint(m["Name"])] = fmt.Sprint(m["Value"])
		}
		if a.metric != "" {
			a.reads = append(a.reads, metricRef{namespace: a.namespace, metric: a.metric, stat: a.stat, dims: a.dims})
		}
		metrics, _ := p["Metrics"].([]any)
		for _, m := range metrics {
			if e, ok := m.(map[string]any)["Expression"].(string); ok {
				a.expression += e
			}
			ms, ok := m.(map[string]any)["MetricStat"].(map[string]any)
			if !ok {
				continue
			}
			mm := ms["Metric"].(map[string]any)
			r := metricRef{namespace: fmt.Sprint(mm["Namespace"]), metric: fmt.Sprint(mm["MetricName"]), stat: fmt.Sprint(ms["Stat"]), dims: map[string]string{}}
			ds, _ := mm["Dimensions"].([]any)
			for _, d := range ds {
				dm := d.(map[string]any)
				r.dims[fmt.Sprint(dm["Name"])] = fmt.Sprint(dm["Value"])
			}
			a.reads = append(a.reads, r)
		}
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// ownNamespace is where this stack's functions publish the metrics its alarms watch (stack name
// at its placeholder).
const ownNamespace = "ReplyWindow/replywindow"

func TestEveryAlarmNotifiesAndTheIssuesAlarmsExist(t *testing.T) {
	tpl := loadTemplate(t)
	alarms := tpl.alarms(t)
	topics := tpl.ofType("AWS::SNS::Topic")
	for _, a := range alarms {
		actions, _ := a.props["AlarmActions"].([]any)
		if len(actions) == 0 {
			t.Errorf("%s: no AlarmActions", a.id)
		}
		for _, act := range actions {
			if !slices.ContainsFunc(topics, func(id string) bool { return act == placeholder(id, "") }) {
				t.Errorf("%s: action %v is not one of the stack's SNS topics", a.id, act)
			}
		}
		if a.props["TreatMissingData"] != "notBreaching" {
			// Most of these metrics only exist when something happens.
			t.Errorf("%s: TreatMissingData = %v, want notBreaching", a.id, a.props["TreatMissingData"])
		}
	}
	replierTimeoutMs := float64(tpl.number(t, tpl.resource(t, "ReplierFunction", "AWS::Serverless::Function")["Timeout"]) * 1000)
	lambda := func(fn, metric string) func(a alarm) bool {
		return func(a alarm) bool {
			return a.reading(func(r metricRef) bool {
				return r.namespace == "AWS/Lambda" && r.metric == metric && r.dims["FunctionName"] == placeholder(fn, "")
			})
		}
	}
	own := func(metric string) func(a alarm) bool {
		return func(a alarm) bool { return a.namespace == ownNamespace && a.metric == metric }
	}
	table := func(metric string) func(a alarm) bool {
		return func(a alarm) bool {
			return a.reading(func(r metricRef) bool {
				return r.namespace == "AWS/DynamoDB" && r.metric == metric && r.dims["TableName"] == placeholder("Table", "")
			})
		}
	}
	api := func(metric string) func(a alarm) bool {
		return func(a alarm) bool { return a.metric == metric && a.dims["ApiId"] == placeholder("HttpApi", "") }
	}
	queueAge := func(a alarm) bool {
		return a.metric == "ApproximateAgeOfOldestMessage" && a.dims["QueueName"] == placeholder("JobsQueue", "QueueName")
	}
	// Every condition of the README's operations table raises an alarm; conditions that share
	// one say so in its description, which names where to look.
	required := []struct {
		what  string
		match func(alarm) bool
	}{
		{"DLQ visible messages > 0", func(a alarm) bool {
			return a.metric == "ApproximateNumberOfMessagesVisible" && a.dims["QueueName"] == placeholder("DeadLetterQueue", "QueueName") && a.threshold == 0
		}},
		{"jobs queue oldest-message age", queueAge},
		// The webhook's crashes and throttles are API Gateway's 5xx (Lambda proxy integration).
		{"webhook errors and throttles: HTTP API 5xx", func(a alarm) bool { return api("5xx")(a) && a.threshold == 0 }},
		{"replier errors", lambda("ReplierFunction", "Errors")},
		// A throttled replier leaves its jobs in the queue (its event source never exceeds
		// ReplierMaxConcurrency, so only an exhausted account throttles it).
		{"replier throttles: the queue's age", func(a alarm) bool {
			return queueAge(a) && strings.Contains(fmt.Sprint(a.props["AlarmDescription"]), "throttled")
		}},
		{"sweeper errors", lambda("SweeperFunction", "Errors")},
		{"sweeper throttles", lambda("SweeperFunction", "Throttles")},
		{"replier duration p99 > 80% of timeout", func(a alarm) bool {
			return lambda("ReplierFunction", "Duration")(a) && strings.Contains(a.stat, "p99") && a.threshold > 0 && a.threshold <= 0.8*replierTimeoutMs
		}},
		// Issue 24, finding 5: a flood on the public routes is throttled per route (429), unseen
		// without this; the webhook's 401/403 to bad signatures are 4xx too.
		{"HTTP API 4xx: 429s and signature rejections", func(a alarm) bool { return api("4xx")(a) && a.threshold > 0 }},
		{"DynamoDB read throttles", table("ReadThrottleEvents")},
		{"DynamoDB write throttles", table("WriteThrottleEvents")},
		{"Attention (expired, follow-ups expired, account unhealthy, resubscribed) > 0", func(a alarm) bool {
			d := fmt.Sprint(a.props["AlarmDescription"])
			return own(telemetry.MetricAttention)(a) && a.threshold == 0 && strings.Contains(d, "replywindow doctor")
		}},
		{"Failed replies", own(replier.MetricFailed)},
		{"Reconciled above a threshold", func(a alarm) bool { return own(reconcile.MetricReconciled)(a) && a.threshold > 0 }},
		// A chore that keeps failing (reconcile stopped for an account, deletions, token refresh).
		{"ChoreFailed, over more than one period", func(a alarm) bool {
			return own(sweeper.MetricChoreFailed)(a) && a.threshold == 0 && strings.HasPrefix(a.stat, "Sum") && tpl.number(t, a.props["EvaluationPeriods"]) > 1
		}},
	}
	for _, r := range required {
		if !slices.ContainsFunc(alarms, r.match) {
			t.Errorf("no alarm for %s", r.what)
		}
	}
	// The conditions sharing Attention are the counts the code feeds into it.
	for _, name := range []string{replier.MetricExpired, sweeper.MetricExpired, conversation.MetricExpired, sweeper.MetricFollowUpsExpired, replier.MetricAccountUnhealthy, reconcile.MetricResubscribed} {
		if telemetry.Alarmed[name] != telemetry.MetricAttention {
			t.Errorf("%s does not feed %s", name, telemetry.MetricAttention)
		}
	}
	if len(tpl.ofType("AWS::Logs::MetricFilter")) != 0 {
		t.Errorf("metric filters %v: the functions' EMF lines publish what the alarms read", tpl.ofType("AWS::Logs::MetricFilter"))
	}
	// No alarm can watch a metric nothing writes: the stack's own metrics are exactly the ones
	// the code's EMF lines define (telemetry.AlarmMetrics, in METRICS_NAMESPACE, no dimensions),
	// and every function writes them to the namespace the template gives it.
	emitted := telemetry.AlarmMetrics()
	for _, a := range alarms {
		for _, r := range a.reads {
			if strings.HasPrefix(r.namespace, "AWS/") {
				continue
			}
			if r.namespace != ownNamespace || !slices.Contains(emitted, r.metric) || len(r.dims) != 0 {
				t.Errorf("%s reads %s %s %v: the code emits %v in %s without dimensions", a.id, r.namespace, r.metric, r.dims, emitted, ownNamespace)
			}
		}
	}
	for _, fn := range []string{"WebhookFunction", "ReplierFunction", "SweeperFunction"} {
		env := tpl.envOf(t, fn, nil)
		if env[telemetry.NamespaceEnv] != ownNamespace {
			t.Errorf("%s: %s = %q, want %s", fn, telemetry.NamespaceEnv, env[telemetry.NamespaceEnv], ownNamespace)
		}
	}
	for _, m := range emitted {
		if !slices.ContainsFunc(alarms, own(m)) {
			t.Errorf("the code emits %s, which no alarm watches: a metric billed for nothing", m)
		}
	}
}

func TestTableMatchesTheStoreSchema(t *testing.T) {
	tpl := loadTemplate(t)
	props := tpl.resource(t, "Table", "AWS::DynamoDB::Table")
	want := dynamo.TableInput("x")
	if got := fmt.Sprint(props["BillingMode"]); got != string(want.BillingMode) {
		t.Errorf("BillingMode %s, want %s", got, want.BillingMode)
	}
	keys := func(v any) string {
		var parts []string
		list, _ := v.([]any)
		for _, k := range list {
			m := k.(map[string]any)
			parts = append(parts, fmt.Sprintf("%v/%v", m["AttributeName"], m["KeyType"]))
		}
		return strings.Join(parts, ",")
	}
	wantKeys := func(ks []dynamoKey) string {
		var parts []string
		for _, k := range ks {
			parts = append(parts, k.name+"/"+k.typ)
		}
		return strings.Join(parts, ",")
	}
	if got, w := keys(props["KeySchema"]), wantKeys(schemaKeys(want.KeySchema)); got != w {
		t.Errorf("KeySchema %s, want %s", got, w)
	}
	var gotAttrs, wantAttrs []string
	for _, a := range props["AttributeDefinitions"].([]any) {
		m := a.(map[string]any)
		gotAttrs = append(gotAttrs, fmt.Sprintf("%v:%v", m["AttributeName"], m["AttributeType"]))
	}
	for _, a := range want.AttributeDefinitions {
		wantAttrs = append(wantAttrs, fmt.Sprintf("%s:%s", aws.ToString(a.AttributeName), a.AttributeType))
	}
	sort.Strings(gotAttrs)
	sort.Strings(wantAttrs)
	if !slices.Equal(gotAttrs, wantAttrs) {
		t.Errorf("AttributeDefinitions %v, want %v", gotAttrs, wantAttrs)
	}
	gotGSI := map[string]string{}
	gsis, _ := props["GlobalSecondaryIndexes"].([]any)
	for _, g := range gsis {
		m := g.(map[string]any)
		proj, _ := m["Projection"].(map[string]any)
		gotGSI[fmt.Sprint(m["IndexName"])] = keys(m["KeySchema"]) + " " + fmt.Sprint(proj["ProjectionType"], proj["NonKeyAttributes"])
	}
	wantGSI := map[string]string{}
	for _, g := range want.GlobalSecondaryIndexes {
		wantGSI[aws.ToString(g.IndexName)] = wantKeys(schemaKeys(g.KeySchema)) + " " + fmt.Sprint(string(g.Projection.ProjectionType), nilIfEmpty(g.Projection.NonKeyAttributes))
	}
	if fmt.Sprint(gotGSI) != fmt.Sprint(wantGSI) {
		t.Errorf("GSIs\n got %v\nwant %v", gotGSI, wantGSI)
	}
	ttl, _ := props["TimeToLiveSpecification"].(map[string]any)
	if ttl["AttributeName"] != dynamo.AttrExpiresAt || ttl["Enabled"] != true {
		t.Errorf("TTL %v, want %s enabled", ttl, dynamo.AttrExpiresAt)
	}
	pitr, _ := props["PointInTimeRecoverySpecification"].(map[string]any)
	if pitr["PointInTimeRecoveryEnabled"] != true {
		t.Error("point-in-time recovery is off")
	}
	if r := tpl.Resources["Table"].(map[string]any); r["DeletionPolicy"] != "Retain" || r["UpdateReplacePolicy"] != "Retain" {
		t.Error("the table is not retained: deleting or replacing the stack would drop every reply record")
	}
}

type dynamoKey struct{ name, typ string }

func schemaKeys(ks []ddbtypes.KeySchemaElement) []dynamoKey {
	out := make([]dynamoKey, len(ks))
	for i, k := range ks {
		out[i] = dynamoKey{aws.ToString(k.AttributeName), string(k.KeyType)}
	}
	return out
}

func nilIfEmpty(s []string) any {
	if len(s) == 0 {
		return nil
	}
	return s
}

func TestFunctionsLogAndTrace(t *testing.T) {
	tpl := loadTemplate(t)
	tracing, _ := tpl.Parameters["Tracing"].(map[string]any)
	if got := fmt.Sprint(tracing["AllowedValues"]); got != "[Active PassThrough]" {
		t.Errorf("Tracing parameter allows %s, want [Active PassThrough]", got)
	}
	for _, fn := range functions {
		props := tpl.resource(t, fn.id, "AWS::Serverless::Function")
		if got := fmt.Sprint(props["Tracing"]); got != "map[Ref:Tracing]" {
			t.Errorf("%s: Tracing = %s, want !Ref Tracing", fn.id, got)
		}
		lc, _ := props["LoggingConfig"].(map[string]any)
		if lc["LogFormat"] != "JSON" {
			t.Errorf("%s: LogFormat = %v, want JSON", fn.id, lc["LogFormat"])
		}
		ref, _ := lc["LogGroup"].(map[string]any)
		group := fmt.Sprint(ref["Ref"])
		lg := tpl.resource(t, group, "AWS::Logs::LogGroup")
		if _, ok := lg["RetentionInDays"]; !ok {
			t.Errorf("%s: log group %s keeps logs forever", fn.id, group)
		}
		// The role must be able to write to the group the function logs to, or logs vanish.
		role := strings.TrimSuffix(strings.TrimPrefix(fmt.Sprint(props["Role"]), "map[Fn::GetAtt:["), " Arn]]")
		if !allows(tpl.statements(t, role, nil), "logs:PutLogEvents", placeholder(group, "Arn")) {
			t.Errorf("%s: role %s may not write to %s", fn.id, role, group)
		}
	}
}

func TestHTTPAPIRoutesThrottlingAndAccessLogs(t *testing.T) {
	tpl := loadTemplate(t)
	var routes []string
	for _, id := range []string{"WebhookFunction", "LinksFunction"} {
		props := tpl.resource(t, id, "AWS::Serverless::Function")
		for name, ev := range props["Events"].(map[string]any) {
			m := ev.(map[string]any)
			if m["Type"] != "HttpApi" {
				t.Errorf("event %s: type %v, want HttpApi", name, m["Type"])
				continue
			}
			p := m["Properties"].(map[string]any)
			if got := fmt.Sprint(p["ApiId"]); got != "map[Ref:HttpApi]" {
				t.Errorf("event %s: ApiId %s, want the stack's HttpApi", name, got)
			}
			routes = append(routes, fmt.Sprint(p["Method"], " ", p["Path"]))
		}
	}
	sort.Strings(routes)
	want := []string{"GET /data-deletion/{code}", "GET /l/{code}", "GET /webhook", "HEAD /l/{code}", "POST /data-deletion", "POST /webhook"}
	if !slices.Equal(routes, want) {
		t.Errorf("routes %v, want %v", routes, want)
	}
	api := tpl.resource(t, "HttpApi", "AWS::Serverless::HttpApi")
	drs, _ := api["DefaultRouteSettings"].(map[string]any)
	if drs["ThrottlingRateLimit"] == nil || drs["ThrottlingBurstLimit"] == nil {
		t.Error("HttpApi has no default route throttling")
	}
	rs, _ := api["RouteSettings"].(map[string]any)
	for key := range rs {
		if !slices.Contains(routes, key) {
			t.Errorf("RouteSettings for %q, which is no route", key)
		}
	}
	als, _ := api["AccessLogSettings"].(map[string]any)
	format := fmt.Sprint(als["Format"])
	if !json.Valid([]byte(format)) {
		t.Errorf("access log format is not JSON: %s", format)
	}
	// The handshake's query string carries hub.verify_token; access logs must not.
	for _, leak := range []string{"$context.path", "querystring", "$input", "$request"} {
		if strings.Contains(strings.ToLower(format), strings.ToLower(leak)) {
			t.Errorf("access log format logs %s", leak)
		}
	}
	if als["DestinationArn"] == nil {
		t.Error("no access log destination")
	}
	// ApiThrottled's filter reads status as a string ({ $.status = "429" }).
	if !strings.Contains(format, `"status":"$context.status"`) {
		t.Errorf("access log format has no string status for the ApiThrottled filter: %s", format)
	}
}

func TestDashboardRendersAndShowsThePipeline(t *testing.T) {
	tpl := loadTemplate(t)
	props := tpl.resource(t, "Dashboard", "AWS::CloudWatch::Dashboard")
	body, err := tpl.eval(nil).str(props["DashboardBody"])
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Widgets []struct {
			Type       string `json:"type"`
			Properties struct {
				Title   string  `json:"title"`
				Metrics [][]any `json:"metrics"`
				Query   string  `json:"query"`
			} `json:"properties"`
		} `json:"widgets"`
	}
	if err := json.Unmarshal([]byte(body), &dash); err != nil {
		t.Fatalf("dashboard body is not JSON: %v\n%s", err, body)
	}
	emitted := telemetry.AlarmMetrics()
	groups := map[string]bool{}
	for _, g := range []string{"WebhookLogGroup", "ReplierLogGroup", "SweeperLogGroup"} {
		groups[placeholder(g, "")] = true
	}
	shown := map[string]bool{}
	for _, w := range dash.Widgets {
		if w.Type == "log" {
			// Logs Insights over the functions' own log groups: the counts are their lines' fields.
			for _, m := range regexp.MustCompile(`SOURCE '([^']+)'`).FindAllStringSubmatch(w.Properties.Query, -1) {
				if !groups[m[1]] {
					t.Errorf("widget %q reads %s, not a function's log group", w.Properties.Title, m[1])
				}
			}
			for _, m := range regexp.MustCompile(`(?:sum|max)\((\w+)\)`).FindAllStringSubmatch(w.Properties.Query, -1) {
				shown["logs "+m[1]] = true
			}
			continue
		}
		var ns, name string
		for _, row := range w.Properties.Metrics {
			var lead []string
			for _, c := range row {
				if s, ok := c.(string); ok {
					lead = append(lead, s)
				}
			}
			if len(lead) == 0 {
				continue // an expression
			}
			switch {
			case lead[0] == "...":
			case len(lead) >= 2:
				if lead[0] != "." {
					ns = lead[0]
				}
				if lead[1] != "." {
					name = lead[1]
				}
			default:
				t.Errorf("widget %q: metric row %v", w.Properties.Title, row)
			}
			shown[ns+" "+name] = true
			if ns == ownNamespace && !slices.Contains(emitted, name) {
				t.Errorf("widget %q shows %s, which the code does not emit as a metric (%v)", w.Properties.Title, name, emitted)
			}
		}
	}
	for _, m := range []string{
		"AWS/ApiGateway Count", "AWS/SQS ApproximateNumberOfMessagesVisible", "AWS/SQS ApproximateAgeOfOldestMessage",
		"AWS/Lambda Throttles", ownNamespace + " " + telemetry.MetricAttention,
		"logs " + replier.MetricSent, "logs " + replier.MetricSkipped, "logs " + replier.MetricExpired, "logs " + replier.MetricFailed,
		"logs " + sweeper.MetricBacklog, "logs " + reconcile.MetricReconciled, "logs " + reconcile.MetricReconcileCalls,
		// The funnel.
		"logs " + webhook.MetricMessagingReceived, "logs " + conversation.MetricOpened, "logs " + conversation.MetricGateBlocked,
		"logs " + conversation.MetricSent, "logs " + conversation.MetricExpired, "logs " + conversation.MetricHumanPaused,
	} {
		if !shown[m] {
			t.Errorf("the dashboard does not show %s", m)
		}
	}
}

func TestOutputs(t *testing.T) {
	tpl := loadTemplate(t)
	e := tpl.eval(nil)
	for name, suffix := range map[string]string{
		"WebhookUrl": "/webhook", "DataDeletionUrl": "/data-deletion", "TableName": "", "QueueUrl": "",
		"DeadLetterQueueUrl": "", "DashboardUrl": "#dashboards:name=" + placeholder("Dashboard", ""), "AlarmTopicArn": "",
		"TokenPathPrefix": "/replywindow/tokens/",
	} {
		o, ok := tpl.Outputs[name].(map[string]any)
		if !ok {
			t.Errorf("no output %s", name)
			continue
		}
		v, err := e.str(o["Value"])
		if err != nil {
			t.Errorf("output %s: %v", name, err)
		}
		if !strings.HasSuffix(v, suffix) {
			t.Errorf("output %s = %q, want it to end in %q", name, v, suffix)
		}
	}
}

var samOverrides = regexp.MustCompile(`(?m)^parameter_overrides\s*=\s*"([^"]*)"`)

// TestSamconfig: both environments exist with the issue's settings, and every parameter they
// override is the template's and a value the template accepts.
func TestSamconfig(t *testing.T) {
	tpl := loadTemplate(t)
	b, err := os.ReadFile("../samconfig.toml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	if !regexp.MustCompile(`(?m)^version\s*=\s*0\.1\s*$`).MatchString(text) {
		t.Error("samconfig.toml: version = 0.1 missing")
	}
	sections := regexp.MustCompile(`(?m)^\[([a-z_]+)\.([a-z_]+)\.parameters\]\s*$`).FindAllStringSubmatchIndex(text, -1)
	body := map[string]string{}
	for i, m := range sections {
		end := len(text)
		if i+1 < len(sections) {
			end = sections[i+1][0]
		}
		body[text[m[2]:m[3]]+"."+text[m[4]:m[5]]] = text[m[1]:end]
	}
	for _, env := range []string{"default", "prod"} {
		for section, keys := range map[string][]string{
			"global": {"stack_name"},
			"build":  {"parallel = true"},
			"deploy": {"capabilities", "confirm_changeset", "resolve_s3", "parameter_overrides"},
		} {
			s, ok := body[env+"."+section]
			if !ok {
				t.Errorf("samconfig.toml: no [%s.%s.parameters]", env, section)
				continue
			}
			for _, k := range keys {
				if !strings.Contains(s, k) {
					t.Errorf("samconfig.toml [%s.%s.parameters]: no %s", env, section, k)
				}
			}
		}
		// sam deploy --guided rewrites the deploy section only: the committed file names the
		// stack in both, alike, and make deploy checks they still agree (.ci/samconfig-check.sh).
		stack := regexp.MustCompile(`(?m)^stack_name\s*=\s*"([^"]+)"`)
		g, d := stack.FindStringSubmatch(body[env+".global"]), stack.FindStringSubmatch(body[env+".deploy"])
		if g == nil || d == nil || g[1] != d[1] {
			t.Errorf("samconfig.toml %s: stack_name global %v, deploy %v; want both, alike", env, g, d)
		}
		// SAM never caches makefile builds: cached = true would promise what it does not do.
		if strings.Contains(body[env+".build"], "cached") {
			t.Errorf("samconfig.toml [%s.build.parameters]: cached has no effect on makefile builds", env)
		}
		m := samOverrides.FindStringSubmatch(body[env+".deploy"])
		if m == nil {
			continue
		}
		for _, kv := range strings.Fields(m[1]) {
			k, v, _ := strings.Cut(kv, "=")
			p, ok := tpl.Parameters[k].(map[string]any)
			if !ok {
				t.Errorf("samconfig.toml %s overrides %s, which the template does not have", env, k)
				continue
			}
			if allowed, ok := p["AllowedValues"].([]any); ok && !slices.ContainsFunc(allowed, func(a any) bool { return fmt.Sprint(a) == v }) {
				t.Errorf("samconfig.toml %s: %s=%s is not one of %v", env, k, v, allowed)
			}
			if pat, ok := p["AllowedPattern"].(string); ok && !regexp.MustCompile(pat).MatchString(v) {
				t.Errorf("samconfig.toml %s: %s=%s does not match %s", env, k, v, pat)
			}
		}
	}
}

// TestMakefileAndCI: the targets the README and sam build name exist, every event file the
// invoke targets pass exists, and CI runs the README's test command.
func TestMakefileAndCI(t *testing.T) {
	b, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([A-Za-z0-9_-]+):`).FindAllStringSubmatch(string(b), -1) {
		targets[m[1]] = true
	}
	want := []string{"build", "test", "lint", "bench", "fuzz", "events", "deploy", "demo", "soak", "local-aws", "scale", "cost"}
	for _, fn := range functions {
		want = append(want, "build-"+fn.id, "invoke-"+fn.dir)
	}
	for _, w := range want {
		if !targets[w] {
			t.Errorf("Makefile has no %s target", w)
		}
	}
	for _, m := range regexp.MustCompile(`-e (events/[^\s]+)`).FindAllStringSubmatch(string(b), -1) {
		if _, err := os.Stat("../" + m[1]); err != nil {
			t.Errorf("Makefile invokes with %s: %v", m[1], err)
		}
	}
	// sam local invoke in Docker reaches make local-aws's moto at host.docker.internal, which
	// Docker on Linux only knows with --add-host; moto's resources are in one region.
	if !regexp.MustCompile(`(?m)^SAM_INVOKE = sam local invoke --region \$\(LOCAL_AWS_REGION\) --add-host host\.docker\.internal:host-gateway$`).Match(b) {
		t.Error("Makefile: SAM_INVOKE is not sam local invoke with the local region and --add-host host.docker.internal:host-gateway")
	}
	for _, fn := range functions {
		if !regexp.MustCompile(`\$\(SAM_INVOKE\) ` + fn.id + ` -e events/\S+ --env-vars events/env.json`).Match(b) {
			t.Errorf("Makefile: no sam local invoke line for %s with events/env.json", fn.id)
		}
	}
	ci, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^make test\s*$`).Match(ci) {
		t.Error(".ci/run does not run `make test`")
	}
}

// TestEnvJSONFitsTheTemplate: sam local invoke --env-vars only overrides variables the template
// declares, so every variable events/env.json sets must be declared for its function, and the
// result must load.
func TestEnvJSONFitsTheTemplate(t *testing.T) {
	tpl := loadTemplate(t)
	b, err := os.ReadFile("../events/env.json")
	if err != nil {
		t.Fatal(err)
	}
	var env map[string]map[string]string
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		t.Fatalf("events/env.json: %v", err)
	}
	for key := range env {
		if key != "Parameters" && !slices.ContainsFunc(functions, func(f function) bool { return f.id == key }) {
			t.Errorf("events/env.json: section %q is neither Parameters nor a function", key)
		}
	}
	for _, fn := range functions {
		t.Run(fn.id, func(t *testing.T) {
			declared := tpl.envOf(t, fn.id, nil)
			vars := map[string]string{}
			for k, v := range declared {
				vars[k] = v
			}
			for k, v := range env["Parameters"] {
				if _, ok := declared[k]; ok {
					vars[k] = v
				}
			}
			for k, v := range env[fn.id] {
				if _, ok := declared[k]; !ok {
					t.Errorf("events/env.json sets %s for %s, but the template does not declare it: sam local invoke would ignore it", k, fn.id)
				}
				vars[k] = v
			}
			if err := fn.load(func(k string) string { return vars[k] }); err != nil {
				t.Errorf("LoadConfig with events/env.json: %v", err)
			}
		})
	}
}

// stackNames are two stacks in one account and region, as samconfig.toml deploys them.
var stackNames = [2]string{"replywindow", "replywindow-prod"}

// nameProperties lists, resource by resource, the top-level properties ending in "Name" whose
// value is fixed for every stack: a name that must be unique in the account and region (a log
// group, a dashboard, a Scheduler schedule, ...) makes a second stack fail. Properties that name
// a part of the resource rather than the resource are not names of this kind.
func nameProperties(t *testing.T, tpl *template) []string {
	t.Helper()
	notResourceNames := map[string]bool{
		"MetricName": true, // an alarm's metric
		"StageName":  true, // unique within its API only
	}
	var fixed []string
	for _, id := range slices.Sorted(maps.Keys(tpl.Resources)) {
		r, _ := tpl.Resources[id].(map[string]any)
		props, _ := r["Properties"].(map[string]any)
		for _, key := range slices.Sorted(maps.Keys(props)) {
			if !strings.HasSuffix(key, "Name") || notResourceNames[key] {
				continue
			}
			if ref, ok := props[key].(map[string]any); ok {
				if _, isRef := ref["Ref"]; isRef && tpl.Resources[fmt.Sprint(ref["Ref"])] != nil {
					continue // names another resource of the stack
				}
				if _, isAtt := ref["Fn::GetAtt"]; isAtt {
					continue
				}
			}
			var got [2]string
			for i, stack := range stackNames {
				e := tpl.eval(nil)
				e.stack = stack
				v, err := e.str(props[key])
				if err != nil {
					t.Fatalf("%s.%s: %v", id, key, err)
				}
				got[i] = v
			}
			if got[0] == got[1] {
				fixed = append(fixed, fmt.Sprintf("%s %v.%s = %q", id, r["Type"], key, got[0]))
			}
		}
	}
	return fixed
}

// TestResourceNamesComeFromTheStack: two stacks (default and prod) can live in one account and
// region. Every name is made from the stack's name or left to CloudFormation, in template.yaml
// and in what the SAM translator makes of it (SAM names some generated resources itself).
func TestResourceNamesComeFromTheStack(t *testing.T) {
	tpl := loadTemplate(t)
	for _, f := range nameProperties(t, tpl) {
		t.Errorf("template.yaml: fixed name %s", f)
	}
	t.Run("as transformed by SAM", func(t *testing.T) {
		out := samTranslate(t)
		transformed, err := parseTemplate(out)
		if err != nil {
			t.Fatalf("the translator's output: %v", err)
		}
		for _, f := range nameProperties(t, transformed) {
			t.Errorf("transformed template: fixed name %s", f)
		}
		// A test that finds nothing must have looked: the log groups and the dashboard carry
		// names, and SAM's own resources are in the output.
		if _, ok := transformed.Resources["HttpApiApiGatewayDefaultStage"]; !ok {
			t.Errorf("the transformed template lacks SAM's generated resources: %v", slices.Sorted(maps.Keys(transformed.Resources)))
		}
	})
}

// samTranslate is template.yaml through the AWS SAM translator (testdata/sam_translate.py) with
// the Python that make test found ($PYTHON), or python3. Where neither has the translator (a
// bare `go test`), the test is skipped; under make test it must run.
func samTranslate(t *testing.T) []byte {
	t.Helper()
	py := os.Getenv("PYTHON")
	if py == "" {
		py = "python3"
		if err := exec.Command(py, "-c", "import samtranslator").Run(); err != nil {
			t.Skipf("no python3 with the SAM translator (make test provides one): %v", err)
		}
	}
	cmd := exec.Command(py, "testdata/sam_translate.py", "../template.yaml")
	cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION=us-east-1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s testdata/sam_translate.py: %v\n%s", py, err, stderr.String())
	}
	return out
}

// schedulerContext are the context attributes EventBridge Scheduler fills into a target's Input.
var schedulerContext = map[string]string{
	"<aws.scheduler.execution-id>":   "d7b5e8a1-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
	"<aws.scheduler.scheduled-time>": "2026-03-01T12:01:00Z",
	"<aws.scheduler.schedule-arn>":   "arn:aws:scheduler:us-east-1:123456789012:schedule/default/replywindow-SweeperSchedule-X",
	"<aws.scheduler.attempt-number>": "1",
}

// TestSchedulerInputIsTheSampleEvent: the Scheduler sends the target's Input. It must decode as
// the sweeper's event with the execution id and scheduled time it logs, and
// events/sweeper-scheduled.json (what sam local invoke sends) must have the same shape.
func TestSchedulerInputIsTheSampleEvent(t *testing.T) {
	tpl := loadTemplate(t)
	target, _ := tpl.sweeperSchedule(t)["Target"].(map[string]any)
	input, ok := target["Input"].(string)
	if !ok {
		t.Fatalf("SweeperSchedule has no literal Target.Input (%v): the sweeper would get the Scheduler's default payload", target["Input"])
	}
	for _, attr := range regexp.MustCompile(`<aws\.scheduler\.[a-z-]+>`).FindAllString(input, -1) {
		if _, ok := schedulerContext[attr]; !ok {
			t.Errorf("Input uses %s, which is no Scheduler context attribute", attr)
		}
	}
	filled := input
	for k, v := range schedulerContext {
		filled = strings.ReplaceAll(filled, k, v)
	}
	sample, err := os.ReadFile("../events/sweeper-scheduled.json")
	if err != nil {
		t.Fatal(err)
	}
	var sent, want events.EventBridgeEvent
	for name, b := range map[string][]byte{"template Input": []byte(filled), "events/sweeper-scheduled.json": sample} {
		d := json.NewDecoder(bytes.NewReader(b))
		d.DisallowUnknownFields()
		ev := &sent
		if name != "template Input" {
			ev = &want
		}
		if err := d.Decode(ev); err != nil {
			t.Fatalf("%s does not decode as the sweeper's event: %v", name, err)
		}
	}
	if sent.ID != schedulerContext["<aws.scheduler.execution-id>"] || !sent.Time.Equal(time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC)) {
		t.Errorf("the sweeper would log event %q scheduled %v, want the execution id and the scheduled time", sent.ID, sent.Time)
	}
	if got, w := jsonShape(t, []byte(filled)), jsonShape(t, sample); got != w {
		t.Errorf("events/sweeper-scheduled.json has another shape than the Scheduler's Input:\n got %s\nwant %s", w, got)
	}
	if sent.Source != want.Source || sent.DetailType != want.DetailType {
		t.Errorf("sample event is %s/%s, the Scheduler sends %s/%s", want.Source, want.DetailType, sent.Source, sent.DetailType)
	}
}

// jsonShape is a JSON document's keys and value kinds, values left out.
func jsonShape(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var shape func(any) string
	shape = func(v any) string {
		switch x := v.(type) {
		case map[string]any:
			var parts []string
			for _, k := range slices.Sorted(maps.Keys(x)) {
				parts = append(parts, k+":"+shape(x[k]))
			}
			return "{" + strings.Join(parts, ",") + "}"
		case []any:
			var parts []string
			for _, it := range x {
				parts = append(parts, shape(it))
			}
			return "[" + strings.Join(parts, ",") + "]"
		}
		return fmt.Sprintf("%T", v)
	}
	return shape(v)
}

// TestRulesRefuseWhatLambdaRefuses: Lambda refuses an SQS event source with a batch above 10
// and no batching window at deploy time, after the stack is half made. The template's Rules
// refuse exactly those parameter values, and nothing Lambda takes.
func TestRulesRefuseWhatLambdaRefuses(t *testing.T) {
	tpl := loadTemplate(t)
	if len(tpl.Rules) == 0 {
		t.Fatal("template.yaml has no Rules")
	}
	size := tpl.resource(t, "ReplierFunction", "AWS::Serverless::Function")["Events"].(map[string]any)["Jobs"].(map[string]any)["Properties"].(map[string]any)
	if fmt.Sprint(size["BatchSize"], size["MaximumBatchingWindowInSeconds"]) != "map[Ref:ReplierBatchSize] map[Ref:ReplierBatchWindowSeconds]" {
		t.Fatalf("the SQS event's BatchSize and window are not the parameters the rule checks: %v", size)
	}
	for batch := tpl.minimum(t, map[string]any{"Ref": "ReplierBatchSize"}); batch <= 100; batch++ {
		for _, window := range []int{0, 1, 20, 300} {
			params := map[string]string{"ReplierBatchSize": strconv.Itoa(batch), "ReplierBatchWindowSeconds": strconv.Itoa(window)}
			passes := true
			e := tpl.eval(params)
			for name, r := range tpl.Rules {
				rule := r.(map[string]any)
				applies := true
				if c, ok := rule["RuleCondition"]; ok {
					var err error
					if applies, err = e.cond(c); err != nil {
						t.Fatalf("rule %s: %v", name, err)
					}
				}
				for _, a := range rule["Assertions"].([]any) {
					ok, err := e.cond(a.(map[string]any)["Assert"])
					if err != nil {
						t.Fatalf("rule %s: %v", name, err)
					}
					if applies && !ok {
						passes = false
					}
				}
			}
			lambdaTakes := batch <= 10 || window >= 1
			if passes != lambdaTakes {
				t.Errorf("batch %d, window %d s: the rules pass = %v, Lambda accepts = %v", batch, window, passes, lambdaTakes)
			}
		}
	}
}

// TestParametersRefuseUnsafeValues: the Graph API is called over https only (the accounts'
// tokens travel with every call), and no TokenPathPrefix the template accepts covers a secret
// name it accepts: the sweeper writes under the prefix.
func TestParametersRefuseUnsafeValues(t *testing.T) {
	tpl := loadTemplate(t)
	pattern := func(name string) *regexp.Regexp {
		p, _ := tpl.Parameters[name].(map[string]any)
		s, ok := p["AllowedPattern"].(string)
		if !ok {
			t.Fatalf("parameter %s has no AllowedPattern", name)
		}
		return regexp.MustCompile(s)
	}
	cases := []struct {
		param string
		value string
		ok    bool
	}{
		{"GraphApiUrl", "", true},
		{"GraphApiUrl", "https://graph-sandbox.example.com", true},
		{"GraphApiUrl", "https://staging.example.com:8443/graph", true},
		{"GraphApiUrl", "http://graph.instagram.com", false},
		{"GraphApiUrl", "HTTP://graph.instagram.com", false},
		{"GraphApiUrl", "https://", false},
		{"GraphApiUrl", "https://x.example.com/a b", false},
		{"GraphApiUrl", "ftp://graph.example.com", false},
		{"TokenPathPrefix", "/replywindow/tokens/", true},
		{"TokenPathPrefix", "/replywindow-prod/tokens/", true},
		{"TokenPathPrefix", "/tokens/", true},
		{"TokenPathPrefix", "/replywindow/", false},
		{"TokenPathPrefix", "/", false},
		{"TokenPathPrefix", "/replywindow/tokens", false},
		{"TokenPathPrefix", "/replywindow/mytokens/", false},
		{"AppSecretParam", "/replywindow/app-secret", true},
		{"AppSecretParam", "/replywindow/tokens/app-secret", false},
		{"AppSecretParam", "/tokens/x", false},
		{"AppSecretParam", "/replywindow/tokens", false},
		{"AppSecretParam", "/replywindow/token/app-secret", true},
		{"AppSecretParam", "/replywindow/tokensx/app-secret", true},
		{"AppSecretParam", "/replywindow/Tokens/app-secret", true}, // SSM names are case-sensitive
		{"AppSecretParam", "replywindow/app-secret", false},
		{"AppSecretParam", "/replywindow//app-secret", false},
		{"SecondAppSecretParam", "", true},
		{"SecondAppSecretParam", "/replywindow/tokens/fb", false},
		{"VerifyTokenParam", "/replywindow-prod/verify-token", true},
		{"VerifyTokenParam", "/replywindow-prod/tokens/verify-token", false},
	}
	for _, c := range cases {
		if got := pattern(c.param).MatchString(c.value); got != c.ok {
			t.Errorf("%s=%q: accepted = %v, want %v", c.param, c.value, got, c.ok)
		}
	}
	// Every pair of a prefix and a secret name built from these segments, up to three deep.
	segs := []string{"tokens", "token", "tokenz", "xtokens", "tokensx", "Tokens", "t", "replywindow", "app-secret", "a.b_c"}
	var paths []string
	var grow func(p string, depth int)
	grow = func(p string, depth int) {
		if depth == 0 {
			return
		}
		for _, s := range segs {
			paths = append(paths, p+"/"+s)
			grow(p+"/"+s, depth-1)
		}
	}
	grow("", 3)
	prefixes, secrets := 0, 0
	for _, prefix := range paths {
		prefix += "/"
		if !pattern("TokenPathPrefix").MatchString(prefix) {
			continue
		}
		prefixes++
		for _, secret := range paths {
			for _, param := range []string{"AppSecretParam", "SecondAppSecretParam", "VerifyTokenParam"} {
				if !pattern(param).MatchString(secret) {
					continue
				}
				secrets++
				if strings.HasPrefix(secret, prefix) {
					t.Errorf("TokenPathPrefix=%s covers %s=%s", prefix, param, secret)
				}
			}
		}
	}
	if prefixes == 0 || secrets == 0 {
		t.Errorf("the patterns accept %d prefixes and %d secret names of the sample: nothing was compared", prefixes, secrets)
	}
}
