package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/replywindow/replywindow/shared/telemetry"
)

func TestCostCommand(t *testing.T) {
	cases := []struct {
		name string
		args []string
		code int
		want []string // in stdout
	}{
		{"help", []string{"--help"}, exitOK, nil},
		{"unknown scale", []string{"-scale", "huge"}, exitUsage, nil},
		{"negative traffic", []string{"-comments-per-month", "-1"}, exitUsage, nil},
		{"stray argument", []string{"tiny"}, exitUsage, nil},
		{"tiny", []string{"-scale", "tiny", "-comments-per-month", "250000"}, exitOK,
			[]string{"per 100,000 comments", "DynamoDB writes", "a month of 250000 comments", "scale: accounts=20 comments=6000 ", "cost_per_100k_usd=",
				"DynamoDB per comment (6000 comments)", "T# tombstone"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if testing.Short() && c.code == exitOK && c.want != nil {
				t.Skip("-short: runs a scale simulation")
			}
			defer func(w io.Writer) { telemetry.Stdout = w }(telemetry.Stdout)
			var out, errs bytes.Buffer
			if code := run(context.Background(), append([]string{"cost"}, c.args...), &out, &errs); code != c.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, c.code, errs.String())
			}
			for _, w := range c.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}
