package main

// One way to open the stack: a command adds its flags with the helpers below (tableFlag and
// graphFlag in output.go, idFlag, spanFlag) and calls open, which parses the arguments, checks
// every id and duration flag, runs the command's own checks, and opens what the flags named (the
// table and its AWS configuration, the queues' AWS configuration, the Graph API client). Each
// command used to repeat these steps, each a little differently.

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/graph"
)

// opIDFlag is a flag holding a Meta id (digits), checked by open.
type opIDFlag struct {
	name, what string
	v          *string
	required   bool
}

// opSpanFlag is a duration flag (10m, 24h, 7d), parsed by open into v ("" is zero).
type opSpanFlag struct {
	name string
	raw  *string
	v    *time.Duration
}

// opOpened is what open opened: each part only when the command's flags asked for it.
type opOpened struct {
	store *dynamo.Store // with tableFlag
	cfg   aws.Config    // with tableFlag or awsNeeded
	graph *graph.Client // with graphFlag
}

// idFlag adds --name, a Meta id of what the command is about (an account, a person); open
// refuses one that is not digits, and a missing one when required.
func (c *opCmd) idFlag(name, what, usage string, required bool) *string {
	v := c.fs.String(name, "", usage)
	c.ids = append(c.ids, opIDFlag{name: "--" + name, what: what, v: v, required: required})
	return v
}

// spanFlag adds --name, a duration in the CLI's units (10m, 24h, 7d; def when not given, ""
// for none), parsed by open.
func (c *opCmd) spanFlag(name, def, usage string) *time.Duration {
	f := opSpanFlag{name: "--" + name, raw: c.fs.String(name, def, usage), v: new(time.Duration)}
	c.spans = append(c.spans, f)
	return f.v
}

// awsNeeded makes open load the AWS configuration though the command names no table (queues).
func (c *opCmd) awsNeeded() { c.wantAWS = true }

// open parses args (no positional arguments), checks the id and duration flags, then check (the
// command's own rules, nil for none), and opens what the flags named. When ok is false the
// command returns code: the error and, for a usage error, the usage were printed.
func (c *opCmd) open(ctx context.Context, args []string, check func() error) (o opOpened, code int, ok bool) {
	pos, code, ok := c.parse(args)
	if !ok {
		return o, code, false
	}
	if err := c.checkFlags(pos, check); err != nil {
		return o, c.fail(err), false
	}
	var err error
	if c.graphURL != nil {
		if o.graph, err = c.graph(*c.graphURL); err != nil {
			return o, c.fail(err), false
		}
	}
	switch {
	case c.tableName != nil:
		o.store, o.cfg, err = c.store(ctx, *c.tableName)
	case c.wantAWS:
		o.cfg, err = opAWS(ctx)
	}
	if err != nil {
		return o, c.fail(err), false
	}
	return o, exitOK, true
}

// checkFlags is open's checks of what was parsed, before anything is opened.
func (c *opCmd) checkFlags(pos []string, check func() error) error {
	if len(pos) > 0 {
		return opUsagef("unexpected argument %q", pos[0])
	}
	for _, f := range c.ids {
		switch {
		case *f.v == "" && f.required:
			return opUsagef("%s is required", f.name)
		case *f.v != "":
			if err := opCheckID(f.name, f.what, *f.v); err != nil {
				return err
			}
		}
	}
	for _, f := range c.spans {
		d, err := opDuration(f.name, *f.raw)
		if err != nil {
			return opUsagef("%v", err)
		}
		*f.v = d
	}
	if check != nil {
		return check()
	}
	return nil
}

// opSub is one subcommand of a command that has several (leads export, dlq redrive).
type opSub func(ctx context.Context, args []string, stdout, stderr io.Writer) int

// opDispatch runs the subcommand of name that args[0] names; help is name's help, printed for
// -h and, after the error, for a missing or unknown subcommand.
func opDispatch(ctx context.Context, name, help string, subs map[string]opSub, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, help)
		return exitUsage
	}
	if run, ok := subs[args[0]]; ok {
		return run(ctx, args[1:], stdout, stderr)
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprint(stdout, help)
		return exitOK
	}
	fmt.Fprintf(stderr, "replywindow %s: unknown subcommand %q\n\n%s", name, args[0], help)
	return exitUsage
}
