package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		args   []string
		code   int
		want   []string
		absent string // the whole help is not printed on a usage error
	}{
		{[]string{"accuonts", "list"}, exitUsage, []string{`unknown command "accuonts"; did you mean "accounts"?`, "run 'replywindow --help'"}, "Commands:"},
		{[]string{"doc"}, exitUsage, []string{`did you mean "doctor"?`}, "Commands:"},
		{[]string{"zzzzzzzz"}, exitUsage, []string{`unknown command "zzzzzzzz"`, "Usage: replywindow <command>"}, "did you mean"},
		{[]string{"doctor", "--nope"}, exitUsage, []string{"flag provided but not defined: -nope", "Usage: replywindow doctor [--account ID] [--json]", "Run 'replywindow doctor --help'"}, "Examples:"},
		{[]string{"doctor", "--account", "x1"}, exitUsage, []string{`--account: account id "x1": not a Meta id`, "Run 'replywindow doctor --help'"}, "Flags:"},
		{[]string{"--version"}, exitOK, []string{"replywindow ", "go1."}, "Usage"},
		{[]string{"version"}, exitOK, []string{"replywindow "}, "Usage"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(context.Background(), tt.args, &out, &errb)
		all := out.String() + errb.String()
		if code != tt.code {
			t.Errorf("%q: exit %d, want %d\n%s", tt.args, code, tt.code, all)
		}
		for _, w := range tt.want {
			if !strings.Contains(all, w) {
				t.Errorf("%q: output lacks %q:\n%s", tt.args, w, all)
			}
		}
		if tt.absent != "" && strings.Contains(all, tt.absent) {
			t.Errorf("%q: output has %q:\n%s", tt.args, tt.absent, all)
		}
	}
}

func TestSuggest(t *testing.T) {
	for name, want := range map[string]string{"acounts": "accounts", "subscrib": "subscribe", "statsu": "status", "doctr": "doctor", "xyzzy": ""} {
		if got := opSuggest(name); got != want {
			t.Errorf("opSuggest(%q) = %q, want %q", name, got, want)
		}
	}
}
