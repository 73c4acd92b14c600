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

func TestPutDiff(t *testing.T) {
	h := opSetup(t)
	id := opID(t)
	file := h.accountFile("good.yaml", id)
	if out := h.must("accounts", "put", "--file", file, "--diff"); !strings.Contains(out, "account "+id+" is not stored: put would create it") {
		t.Errorf("diff of a new account:\n%s", out)
	}
	if _, err := h.store.Account(h.ctx, id); err == nil {
		t.Fatal("--diff stored the account")
	}
	h.must("accounts", "put", "--file", file)
	if out := h.must("accounts", "put", "--file", file, "--diff"); !strings.Contains(out, "no change to account "+id+" (version 1); nothing stored") {
		t.Errorf("diff of the same file:\n%s", out)
	}
	b, _ := os.ReadFile(file)
	edited := filepath.Join(t.TempDir(), "edited.yaml")
	os.WriteFile(edited, []byte(strings.Replace(string(b), "bakery.test", "bakery.shop", 1)), 0o600)
	out := h.must("accounts", "put", "--file", edited, "--diff")
	for _, w := range []string{"--- account " + id + ", stored (version 1)", "+++ " + edited, "- username: bakery.test", "+ username: bakery.shop", "(nothing stored)"} {
		if !strings.Contains(out, w) {
			t.Errorf("diff lacks %q:\n%s", w, out)
		}
	}
	if a, _ := h.store.Account(h.ctx, id); a.Version != 1 || a.Username != "bakery.test" {
		t.Errorf("--diff stored: %+v", a)
	}
}

func TestLineDiff(t *testing.T) {
	tests := []struct{ a, b, want string }{
		{"x\ny\n", "x\ny\n", ""},
		{"a\nb\nc\nd\ne\nf\n", "a\nb\nc\nD\ne\nf\n", "  b\n  c\n- d\n+ D\n  e\n  f\n"},
		{"a\n", "a\nb\n", "  a\n+ b\n"},
		{"1\n2\n3\n4\n5\n6\n7\n8\n", "0\n1\n2\n3\n4\n5\n6\n7\n", "+ 0\n  1\n  2\n  ...\n  6\n  7\n- 8\n"},
	}
	for _, tt := range tests {
		if got := opLineDiff(tt.a, tt.b, 2); got != tt.want {
			t.Errorf("diff(%q, %q) =\n%q, want\n%q", tt.a, tt.b, got, tt.want)
		}
	}
}

// A disabled rule and a rule in time, from the file: they answer only what they should.
func TestCampaignFile(t *testing.T) {
	a, err := opLoadAccount("testdata/accounts/campaign.yaml", opDefaultTokenPath)
	if err != nil {
		t.Fatal(err)
	}
	dec := time.Date(2026, 12, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		text string
		at   time.Time
		rule string // "" for none
	}{
		{"summer please", dec, ""},
		{"advent!", dec, "advent"},
		{"advent!", time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC), ""},
		{"advent!", time.Date(2026, 12, 24, 23, 0, 0, 0, time.UTC), ""}, // until is midnight at +01:00
		{"recipe", dec, "recipe"},
	}
	for _, tt := range tests {
		r, ok := a.Match(reply.Job{Text: tt.text, Kind: reply.KindPost, CommentedAt: tt.at})
		if ok != (tt.rule != "") || r.Name != tt.rule {
			t.Errorf("%q at %s: %q %v, want %q", tt.text, tt.at, r.Name, ok, tt.rule)
		}
	}
	out, _ := opExportYAML(a)
	for _, w := range []string{"enabled: false", "from: \"2026-12-01T00:00:00Z\"", "until: \"2026-12-24T23:00:00Z\""} {
		if !strings.Contains(string(out), w) {
			t.Errorf("export lacks %q:\n%s", w, out)
		}
	}
}
