package main

import (
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/lead"
)

// TestLeadsExport (on moto): the account's leads, by Query, within --since, as a table, CSV
// (a formula-looking email defused, phone numbers as they are) and JSON; another account's stay
// out.
func TestLeadsExport(t *testing.T) {
	h := opSetup(t)
	acct, other := opID(t), "17841400000000002"
	now := time.Now().UTC().Truncate(time.Second)
	put := func(account, person, kind, value string, age time.Duration) {
		t.Helper()
		l := lead.Lead{AccountID: account, PersonID: person, Kind: kind, Value: value, Rule: "book", Step: "email",
			Consent: "Only for the book.", CapturedAt: now.Add(-age), ExpiresAt: now.Add(lead.DefaultRetention)}
		if _, err := h.store.CreateLead(h.ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	put(acct, "17841400000000701", lead.KindEmail, "ana@example.com", time.Hour)
	put(acct, "17841400000000701", lead.KindPhone, "+4915123456789", 2*time.Hour)
	put(acct, "17841400000000702", lead.KindEmail, "=1+2@example.com", 3*24*time.Hour)
	put(acct, "17841400000000703", lead.KindEmail, "old@example.com", 10*24*time.Hour)
	put(other, "17841400000000701", lead.KindEmail, "ana@example.com", time.Hour)

	r := csv.NewReader(strings.NewReader(h.must("leads", "export", "--account", acct, "--since", "7d", "--csv")))
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 || strings.Join(rows[0], ",") != strings.Join(opLeadColumns, ",") {
		t.Fatalf("csv rows %q, want the header and 3 leads", rows)
	}
	values := map[string]bool{}
	for _, row := range rows[1:] {
		if row[1] != acct {
			t.Errorf("row of account %s", row[1])
		}
		values[row[4]] = true
	}
	for _, v := range []string{"ana@example.com", "+4915123456789", "'=1+2@example.com"} {
		if !values[v] {
			t.Errorf("csv lacks %q: %v", v, values)
		}
	}

	var all []lead.Lead
	if err := json.Unmarshal([]byte(h.must("leads", "export", "--account", acct, "--json")), &all); err != nil {
		t.Fatal(err)
	}
	if len(all) != 4 {
		t.Errorf("--json without --since: %d leads, want 4", len(all))
	}
	if out := h.must("leads", "export", "--account", acct, "--since", "90m"); !strings.Contains(out, "ana@example.com") || !strings.Contains(out, "1 leads") {
		t.Errorf("table:\n%s", out)
	}
	if out := h.must("leads", "export", "--account", "17841400000000003", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("an account without leads: %q, want []", out)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"leads", "export"}, exitUsage, "--account is required"},
		{[]string{"leads", "export", "--account", acct, "--csv", "--json"}, exitUsage, "choose one"},
		{[]string{"leads", "export", "--account", acct, "--since", "a week"}, exitUsage, "not a positive duration"},
		{[]string{"leads", "export", "--account", "me"}, exitUsage, "not a Meta id"},
		{[]string{"leads", "import"}, exitUsage, "unknown subcommand"},
		// Meta disabled these quick replies on 5 October 2026: accounts put says so, and how instead.
		{[]string{"accounts", "put", "--file", "testdata/accounts/bad/quick_reply_user_email.yaml", "--dry-run"}, exitFail, "5 October 2026"},
	} {
		code, _, errs := h.run(tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d with %q", strings.Join(tt.args, " "), code, errs, tt.code, tt.want)
		}
	}
}
