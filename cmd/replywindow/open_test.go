package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// TestOpen: the one way commands open the stack parses, checks ids and durations, runs the
// command's own check, then opens what the flags named; each bad input is a usage error (exit 2)
// naming the flag, with nothing opened.
func TestOpen(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string // part of stderr; "" for none
		span time.Duration
	}{
		{"all good", []string{"--account", "17841400000000001", "--since", "3d"}, exitOK, "", 72 * time.Hour},
		{"defaults", []string{"--account", "17841400000000001"}, exitOK, "", 0},
		{"missing id", nil, exitUsage, "--account is required", 0},
		{"not a Meta id", []string{"--account", "ana"}, exitUsage, `--account: account id "ana": not a Meta id`, 0},
		{"optional id, bad", []string{"--account", "1", "--person", "x/y"}, exitUsage, "--person", 0},
		{"bad duration", []string{"--account", "1", "--since", "a week"}, exitUsage, `--since: "a week" is not a positive duration`, 0},
		{"positional", []string{"--account", "1", "extra"}, exitUsage, `unexpected argument "extra"`, 0},
		{"the command's check", []string{"--account", "1", "--refuse"}, exitUsage, "--refuse: refused", 0},
		{"help", []string{"--help"}, exitOK, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			c := opNew("probe", "--account ID", "", &stdout, &stderr)
			c.idFlag("account", "account", "an `ID`", true)
			c.idFlag("person", "person", "an `IGSID`", false)
			since := c.spanFlag("since", "", "a `duration`")
			refuse := c.fs.Bool("refuse", false, "fail the check")
			_, code, ok := c.open(context.Background(), tt.args, func() error {
				if *refuse {
					return opUsagef("--refuse: refused")
				}
				return nil
			})
			if code != tt.code || ok != (tt.code == exitOK && tt.name != "help") || !strings.Contains(stderr.String(), tt.want) || ok && *since != tt.span {
				t.Errorf("exit %d ok %v since %s; stderr %q; want exit %d, %q, since %s", code, ok, *since, stderr.String(), tt.code, tt.want, tt.span)
			}
			if tt.code == exitUsage && !strings.Contains(stderr.String(), "Usage: replywindow probe") {
				t.Errorf("a usage error without the usage line: %q", stderr.String())
			}
		})
	}
	// With --table, open opens the table; without one it says how to name it.
	var stdout, stderr bytes.Buffer
	c := opNew("probe", "", "", &stdout, &stderr)
	c.getenv = func(string) string { return "" }
	c.tableFlag()
	if _, code, ok := c.open(context.Background(), nil, nil); ok || code != exitUsage || !strings.Contains(stderr.String(), "no table: set TABLE_NAME or pass --table") {
		t.Errorf("no table: exit %d %q", code, stderr.String())
	}
}

// TestDispatch: a command with subcommands runs the one named, prints its help for -h (exit 0),
// and for a missing or unknown subcommand the error and the help (exit 2).
func TestDispatch(t *testing.T) {
	tests := []struct {
		args         []string
		code         int
		stdout, errs string
	}{
		{[]string{"tokens"}, exitUsage, "", "refresh  refresh Instagram Login tokens"},
		{[]string{"tokens", "--help"}, exitOK, "refresh  refresh Instagram Login tokens", ""},
		{[]string{"tokens", "rotate"}, exitUsage, "", `replywindow tokens: unknown subcommand "rotate"`},
		{[]string{"tokens", "refresh", "--help"}, exitOK, "Usage: replywindow tokens refresh", ""},
		{[]string{"leads", "help"}, exitOK, "replywindow leads export --account ID", ""},
		{[]string{"rules", "-h"}, exitOK, "rules test", ""},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String(), tt.stdout) || !strings.Contains(stderr.String(), tt.errs) {
			t.Errorf("%q: exit %d, want %d; stdout %q (want %q); stderr %q (want %q)", tt.args, code, tt.code, stdout.String(), tt.stdout, stderr.String(), tt.errs)
		}
	}
}
