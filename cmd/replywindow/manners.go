package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"sort"
)

// opVersion is the module's version and the commit it was built from, as the Go toolchain
// recorded them (debug.ReadBuildInfo): "(devel)" for a build from a work tree, a tag for
// `go install ...@v1.2.3`; the commit and "dirty" when built with VCS stamping.
func opVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "replywindow (no build information)"
	}
	v := "replywindow " + bi.Main.Version
	var rev, modified, at string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		case "vcs.time":
			at = s.Value
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " commit " + rev
		if modified == "true" {
			v += " (dirty)"
		}
		if at != "" {
			v += " " + at
		}
	}
	return v + " " + bi.GoVersion
}

// opUnknownCommand says a command does not exist, suggests the nearest one, and points at
// --help instead of printing the whole list.
func opUnknownCommand(w io.Writer, name string) {
	fmt.Fprintf(w, "replywindow: unknown command %q", name)
	if s := opSuggest(name); s != "" {
		fmt.Fprintf(w, "; did you mean %q?", s)
	}
	fmt.Fprintln(w, "\nUsage: replywindow <command> [flags]; run 'replywindow --help' for the commands.")
}

// opSuggest is the command nearest to name (edit distance at most 2, or name a prefix of it),
// or "" when none is near.
func opSuggest(name string) string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	best, bestD := "", 3
	for _, n := range names {
		d := opDistance(name, n)
		if len(name) >= 3 && len(name) < len(n) && n[:len(name)] == name {
			d = 1
		}
		if d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// opDistance is the Levenshtein distance between a and b.
func opDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
