package main

// This file holds what every operator subcommand (accounts, rules, status, subscribe, dlq, tokens)
// shares: flag parsing with examples in --help, exit codes from errors, tables and JSON, and the
// connections to the table, SSM and the Graph API named by flags and the environment.
// Identifiers start with "op" so that they never meet the local stack's in this package.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/ssm"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// errOpUsage marks an error in how the command was called (exit 2 rather than 1).
var errOpUsage = errors.New("usage")

// opUsagef is a usage error with a message for the operator.
func opUsagef(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errOpUsage, fmt.Sprintf(format, args...))
}

// opCheckID is a usage error unless id is a Meta id (digits): ids go into Graph URL paths and
// table keys, and a typo there should stop the command, not reach Meta. flag names the argument.
func opCheckID(flag, what, id string) error {
	if err := reply.CheckID(what, id); err != nil {
		return opUsagef("%s: %v", flag, err)
	}
	return nil
}

// opCmd is one operator subcommand being run: its flags, its writers and its name in messages.
type opCmd struct {
	name     string // "accounts put"
	synopsis string // the arguments after the name
	examples string
	fs       *flag.FlagSet
	stdout   io.Writer
	stderr   io.Writer
	getenv   func(string) string
	// resources names what the command reaches on each AWS service ("DynamoDB": "table x"), so
	// an AWS error names it (opAWSError).
	resources map[string]string
	// What open parses, checks and opens (open.go): set by the flag helpers that add them.
	tableName *string
	graphURL  *string
	wantAWS   bool
	ids       []opIDFlag
	spans     []opSpanFlag
}

// opNew starts a subcommand. Flags are added to c.fs before c.parse.
func opNew(name, synopsis, examples string, stdout, stderr io.Writer) *opCmd {
	c := &opCmd{name: name, synopsis: synopsis, examples: examples, stdout: stdout, stderr: stderr, getenv: opGetenv}
	c.fs = flag.NewFlagSet(name, flag.ContinueOnError)
	c.fs.SetOutput(io.Discard) // parse reports errors itself, with the usage, to stderr
	return c
}

func (c *opCmd) usage(w io.Writer) {
	fmt.Fprintf(w, "Usage: replywindow %s %s\n", c.name, c.synopsis)
	n := 0
	c.fs.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nFlags:")
		c.fs.SetOutput(w)
		c.fs.PrintDefaults()
		c.fs.SetOutput(io.Discard)
	}
	if c.examples != "" {
		fmt.Fprintf(w, "\nExamples:\n%s", c.examples)
	}
}

// shortUsage is what a usage error prints: the synopsis and where the whole help is, so the
// error stays the first thing the operator reads.
func (c *opCmd) shortUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: replywindow %s %s\nRun 'replywindow %s --help' for its flags and examples.\n", c.name, c.synopsis, c.name)
}

// parse parses flags anywhere among the arguments (status 123 --json as well as --json 123) and
// returns the positional ones. ok is false when the command must stop with code (--help: 0).
func (c *opCmd) parse(args []string) (pos []string, code int, ok bool) {
	for {
		err := c.fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			c.usage(c.stdout)
			return nil, exitOK, false
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "replywindow %s: %v\n", c.name, err)
			c.shortUsage(c.stderr)
			return nil, exitUsage, false
		}
		rest := c.fs.Args()
		if len(rest) == 0 {
			return pos, 0, true
		}
		// Parse stops at the first positional argument, or after "--": then all are positional.
		if used := args[:len(args)-len(rest)]; len(used) > 0 && used[len(used)-1] == "--" {
			return append(pos, rest...), 0, true
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// flagsOnly parses args for a command that takes flags only (demo, dev, events, dev follow):
// ok is false when it must stop with code (--help: 0, a bad flag or any argument: usage).
func flagsOnly(fs *flag.FlagSet, args []string, stderr io.Writer) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitUsage, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "%s: unexpected argument %q\n", fs.Name(), fs.Arg(0))
		return exitUsage, false
	}
	return exitOK, true
}

// fail reports err and returns its exit code: 2 for usage errors (with the usage), else 1.
func (c *opCmd) fail(err error) int {
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		// One line naming the resource and the likely cause, instead of the SDK's chain.
		resource := c.resources[oe.Service()]
		if resource == "" {
			resource = oe.Service() + " " + oe.Operation()
		}
		err = opAWSError(resource, err)
	}
	fmt.Fprintf(c.stderr, "replywindow %s: %v\n", c.name, err)
	if errors.Is(err, errOpUsage) {
		c.shortUsage(c.stderr)
		return exitUsage
	}
	return exitFail
}

// env is the environment variable, or def when it is unset.
func (c *opCmd) env(name, def string) string {
	if v := c.getenv(name); v != "" {
		return v
	}
	return def
}

// logger writes the shared packages' logs to stderr as JSON, at LOG_LEVEL (warn by default so
// that a command's own output stays readable).
func (c *opCmd) logger() *slog.Logger {
	return telemetry.NewLogger(c.stderr, c.env("LOG_LEVEL", "warn"))
}

// opJSON writes v as indented JSON.
func opJSON(w io.Writer, v any) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(v)
}

// opTable writes rows under header as aligned columns.
func opTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// opFields writes name/value pairs, one per line, names aligned.
func opFields(w io.Writer, pairs ...[2]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, p := range pairs {
		fmt.Fprintf(tw, "%s:\t%s\n", p[0], p[1])
	}
	return tw.Flush()
}

// opWhen shows t and how far it is from now ("2026-01-02 15:04:05 UTC (in 3d4h)"); "-" for zero.
func opWhen(t, now time.Time) string {
	if t.IsZero() {
		return "-"
	}
	s := t.UTC().Format("2006-01-02 15:04:05 UTC")
	d := t.Sub(now)
	switch {
	case d > 0:
		return s + " (in " + opSpan(d) + ")"
	case d < 0:
		return s + " (" + opSpan(-d) + " ago)"
	}
	return s
}

// opSpan is d in days, hours and minutes, coarsely.
func opSpan(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	h, m := int(d/time.Hour), int((d%time.Hour)/time.Minute)
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm", m)
	}
	return fmt.Sprintf("%ds", int(d/time.Second))
}

// opOr is s, or "-" when it is empty (tables need a value in every column).
func opOr(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// opAWS is the AWS configuration of the environment: credentials, region and AWS_ENDPOINT_URL
// (moto, LocalStack) as the SDK reads them.
func opAWS(ctx context.Context) (aws.Config, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws configuration: %w", err)
	}
	return cfg, nil
}

// tableFlag adds --table (default $TABLE_NAME).
func (c *opCmd) tableFlag() *string {
	c.tableName = c.fs.String("table", c.getenv("TABLE_NAME"), "DynamoDB `table`; $TABLE_NAME when not given")
	return c.tableName
}

// store opens the table named by --table.
func (c *opCmd) store(ctx context.Context, table string) (*dynamo.Store, aws.Config, error) {
	if table == "" {
		return nil, aws.Config{}, opUsagef("no table: set TABLE_NAME or pass --table")
	}
	cfg, err := opAWS(ctx)
	if err != nil {
		return nil, cfg, err
	}
	if c.resources == nil {
		c.resources = map[string]string{}
	}
	c.resources["DynamoDB"] = "table " + table
	return dynamo.New(awsdynamodb.NewFromConfig(cfg), table), cfg, nil
}

// graphFlag adds --graph-url (default $GRAPH_API_URL: a sandbox instead of Meta).
func (c *opCmd) graphFlag() *string {
	c.graphURL = c.fs.String("graph-url", c.getenv(graph.EnvURL), "Graph API base `url` replacing Meta's hosts (a sandbox); $GRAPH_API_URL when not given")
	return c.graphURL
}

// graph is the Graph API client, at base when set.
func (c *opCmd) graph(base string) (*graph.Client, error) {
	if base != "" {
		u, err := url.Parse(base)
		switch {
		case err != nil || u.Host == "" || u.Scheme != "http" && u.Scheme != "https":
			return nil, opUsagef("--graph-url %q: want http(s)://host[:port]", base)
		case u.Scheme == "http" && !graph.LocalHost(u.Hostname()):
			return nil, opUsagef("--graph-url %q: want https (tokens travel with every call); http only to a sandbox on this machine", base)
		}
	}
	return graph.New(graph.WithBaseURL(base), graph.WithVersion(c.getenv(graph.EnvVersion))), nil
}

// opLocal reports whether raw is a URL of this machine (graph.LocalHost): an emulator or a
// sandbox, never a real account's AWS or Graph API.
func opLocal(raw string) bool {
	u, err := url.Parse(raw)
	return raw != "" && err == nil && graph.LocalHost(u.Hostname())
}

// opDefaultTokenPath is the template's default TokenPathPrefix.
const opDefaultTokenPath = "/replywindow/tokens/"

// tokenPathFlag adds --token-path (default $TOKEN_PATH_PREFIX, else the template's default):
// the stack's TokenPathPrefix, under which the functions may read tokens and nowhere else.
func (c *opCmd) tokenPathFlag() *string {
	return c.fs.String("token-path", c.env("TOKEN_PATH_PREFIX", opDefaultTokenPath),
		"the stack's TokenPathPrefix `path` (its output TokenPathPrefix); $TOKEN_PATH_PREFIX when not given")
}

// opTokenPath checks a --token-path value the way the template checks TokenPathPrefix.
func opTokenPath(p string) error {
	if !strings.HasPrefix(p, "/") || !strings.HasSuffix(p, "/tokens/") || strings.Contains(p, "//") {
		return opUsagef("--token-path %q: want the stack's TokenPathPrefix, a path ending in /tokens/ (e.g. /replywindow-prod/tokens/)", p)
	}
	return nil
}

// params is SSM Parameter Store, where account tokens live as SecureStrings, encrypted with the
// KMS key in $TOKEN_KMS_KEY_ID when set (the stack's SecretsKmsKeyArn). The CLI runs once, so
// the cache (one minute) only saves repeated reads within a command.
func (c *opCmd) params(cfg aws.Config) *ssm.Params {
	p := ssm.NewParams(ssm.NewClient(cfg), time.Minute)
	p.KeyID = c.getenv("TOKEN_KMS_KEY_ID")
	return p
}

// tokens reads account tokens from their SSM parameters.
func (c *opCmd) tokens(cfg aws.Config) ssm.Tokens { return ssm.Tokens{Params: c.params(cfg)} }
