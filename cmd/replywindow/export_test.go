package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// opConfigFiles are the account files of the repository: the example and every valid testdata
// file.
func opConfigFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/accounts/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("testdata: %v %v", files, err)
	}
	return append(files, "account.example.yaml")
}

// Export, then parse: the same configuration, for every file.
func TestExportRoundTrip(t *testing.T) {
	for _, file := range opConfigFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			b = []byte(strings.ReplaceAll(string(b), "{{id}}", "17841400000000001"))
			a, err := opParseAccount(file, b, opDefaultTokenPath)
			if err != nil {
				t.Fatal(err)
			}
			out, err := opExportYAML(a)
			if err != nil {
				t.Fatal(err)
			}
			again, err := opParseAccount("exported", out, "/elsewhere/tokens/")
			if err != nil {
				t.Fatalf("the export does not parse: %v\n%s", err, out)
			}
			if !reflect.DeepEqual(a, again) {
				t.Errorf("round trip differs:\nfile   %+v\nexport %+v\n%s", a, again, out)
			}
		})
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "", 48 * time.Hour: "2d", time.Hour: "1h", 90 * time.Minute: "1h30m", 10 * time.Minute: "10m", time.Second: "1s", 36 * time.Hour: "36h"} {
		if got := opFormatDuration(d); got != want {
			t.Errorf("%s: %q, want %q", d, got, want)
		}
	}
}

// Through the CLI: put, export, put the export: the stored configuration is the same, and
// nothing but the version moved.
func TestAccountsExportPut(t *testing.T) {
	h := opSetup(t)
	for _, file := range opConfigFiles(t) {
		t.Run(filepath.Base(file), func(t *testing.T) {
			id := opID(t)
			h.sb.AddAccount(id, "", reply.LoginInstagram, "")
			src := opWithID(t, file, id)
			if b, _ := os.ReadFile(src); strings.Contains(string(b), "{{id}}") {
				os.WriteFile(src, []byte(strings.ReplaceAll(string(b), "{{id}}", id)), 0o600)
			}
			if code, _, errs := h.run("accounts", "put", "--file", src, "--app-user-id", "10160000000000001"); code != exitOK {
				t.Fatalf("put: %s", errs)
			}
			before, _ := h.store.Account(h.ctx, id)
			out := h.must("accounts", "export", id)
			exported := filepath.Join(t.TempDir(), "exported.yaml")
			if err := os.WriteFile(exported, []byte(out), 0o600); err != nil {
				t.Fatal(err)
			}
			if code, _, errs := h.run("accounts", "put", "--file", exported); code != exitOK {
				t.Fatalf("put the export: %s\n%s", errs, out)
			}
			after, _ := h.store.Account(h.ctx, id)
			if after.Version != before.Version+1 {
				t.Errorf("version %d, want %d", after.Version, before.Version+1)
			}
			before.Version, before.UpdatedAt, after.Version, after.UpdatedAt = 0, time.Time{}, 0, time.Time{}
			if !reflect.DeepEqual(before, after) {
				t.Errorf("stored configuration changed:\nbefore %+v\nafter  %+v\n%s", before, after, out)
			}
		})
	}
	if code, _, errs := h.run("accounts", "export", "17841499999999999"); code != exitFail || !strings.Contains(errs, "no account 17841499999999999") {
		t.Errorf("export unknown: exit %d %q", code, errs)
	}
}
