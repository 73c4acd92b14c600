// Command replywindow is the operator's CLI and the local stack: every subcommand lives in its own
// file and registers itself in commands.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand. run gets the arguments after the subcommand's name and returns the
// process exit code: 0 success, 1 failure, 2 bad usage (see exit* below).
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// commands is filled by init functions in the subcommands' files.
var commands = map[string]command{}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version" || args[0] == "version") {
		fmt.Fprintln(stdout, opVersion())
		return exitOK
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	args, code, ok := opUseStack(ctx, args, stderr)
	if !ok {
		return code
	}
	defer func() { opStackEnv = nil }()
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	c, ok := commands[args[0]]
	if !ok {
		opUnknownCommand(stderr, args[0])
		return exitUsage
	}
	return c.run(ctx, args[1:], stdout, stderr)
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "replywindow: answer Instagram comments with one private reply each.\n\nUsage: replywindow <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'replywindow <command> --help' for a command's flags and examples.")
}
