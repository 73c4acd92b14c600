package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestDemoCommand(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want []string // in stdout
	}{
		{[]string{"demo"}, exitOK, []string{"→ sent", "SKIPPED duplicate_person", "no record (dropped)", "never (found by reconciliation)", "Sandbox ledger: 4 DM(s) delivered", "0 expectation(s) missed"}},
		{[]string{"demo", "-q"}, exitOK, []string{"SENT", "9 sample(s) and 5 turn(s) of conversation, 4 private repl(ies), 4 follow-up(s)"}},
		{[]string{"demo", "extra"}, exitUsage, nil},
		{[]string{"demo", "-nope"}, exitUsage, nil},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, &stdout, &stderr)
		if code != tt.code {
			t.Errorf("%v: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.code, stdout.String(), stderr.String())
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("%v: stdout lacks %q:\n%s", tt.args, w, stdout.String())
			}
		}
		if tt.code == exitOK && strings.Contains(stdout.String(), "→ sent") == (len(tt.args) > 1) {
			t.Errorf("%v: progress lines shown %v", tt.args, len(tt.args) == 1)
		}
	}
}
