package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/reply"
)

func TestReport(t *testing.T) {
	h := opSetup(t)
	const acct = "17841400000000001"
	a := reply.Account{ID: acct, Login: reply.LoginInstagram, TokenParam: "/t", Version: 1}
	if _, err := h.store.PutAccount(h.ctx, a); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	// Sent private replies through the store's transitions: 40 per variant; variant A tapped
	// 20 times, B 5 times (a difference the z-test sees).
	for i := range 80 {
		v := "A"
		if i%2 == 1 {
			v = "B"
		}
		j := reply.Job{V: reply.JobVersion, AccountID: acct, CommentID: strconv.Itoa(17900000000000000 + i), MediaID: "18000000000000001",
			FromID: strconv.Itoa(6000000 + i), Kind: reply.KindReel, CommentedAt: now.Add(-time.Hour)}
		c, _ := reply.NewRecord(j, now).Claim(j, "w", now, now.Add(time.Minute))
		c.Rule, c.Variant = "recipe", v
		if _, err := h.store.Create(h.ctx, c); err != nil {
			t.Fatal(err)
		}
		d, _ := c.Finish(reply.Sent("m", "r"), true, now)
		if _, err := h.store.Update(h.ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 25 {
		v := "A"
		if i >= 20 {
			v = "B"
		}
		tap := funnel.NewTally(acct, "recipe", v, "", now).With(funnel.Taps)
		if err := h.store.AddCounts(h.ctx, tap); err != nil {
			t.Fatal(err)
		}
	}
	out := h.must("report", "--account", acct)
	for _, want := range []string{"RULE", "SENT", "recipe", "80", "TAP RATE", "50.0%", "12.5%", "differs (p<0.05)", "baseline"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	var rep opReport
	if err := json.Unmarshal([]byte(h.must("report", "--account", acct, "--by", "variant", "--json", "--since", "30d")), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Lines) != 2 || rep.Lines[0].Key != "recipe/A" || rep.Lines[0].Counts["sent"] != 40 || rep.Lines[0].Counts["matched"] != 40 {
		t.Errorf("by variant: %+v", rep.Lines)
	}
	page := filepath.Join(t.TempDir(), "r.html")
	h.must("report", "--account", acct, "--html", page)
	if b, err := os.ReadFile(page); err != nil || !strings.Contains(string(b), `data-metric="sent" data-value="80"`) {
		t.Errorf("--html: %v, page lacks the sent count", err)
	}
	if csv := h.must("report", "--account", acct, "--csv"); !strings.Contains(csv, "recipe,sent,80") {
		t.Errorf("csv:\n%s", csv)
	}
	// Person 6000000 opened the recipe rule's two links (one twice); person 6000001 one link of
	// a DM rule, which is not the row's rule.
	clickAt := now.Add(-30 * time.Minute).Truncate(time.Second)
	for i, c := range []struct{ person, rule, target string }{
		{"6000000", "recipe", "https://shop.example/book"}, {"6000000", "recipe", "https://shop.example/book"},
		{"6000000", "recipe", "https://shop.example/pdf"}, {"6000001", "price", "https://shop.example/book"},
	} {
		click := reply.Click{Origin: reply.Origin{Account: acct, Rule: c.rule, Variant: "A", Media: "18000000000000001", Person: c.person},
			Link: "L" + strconv.Itoa(len(c.target)), Target: c.target, At: clickAt.Add(time.Duration(i) * time.Minute), Issued: now.Add(-time.Hour)}
		if _, err := h.store.RecordClick(h.ctx, click); err != nil {
			t.Fatal(err)
		}
	}
	list := h.must("report", "--account", acct, "--people", "--csv")
	if lines := strings.Split(strings.TrimSpace(list), "\n"); len(lines) != 81 || !strings.HasPrefix(lines[0], "person,username,rule,variant") ||
		!strings.HasSuffix(lines[0], ",links_clicked,first_click_at,clicked_links") ||
		!strings.Contains(list, "6000000,,recipe,A,18000000000000001,17900000000000000,SENT,") ||
		!strings.Contains(list, ",2,"+clickAt.Format(time.RFC3339)+",https://shop.example/book https://shop.example/pdf\n") ||
		!strings.Contains(list, "6000001,,recipe,B,18000000000000001,17900000000000001,SENT,") || strings.Count(list, "https://") != 2 {
		t.Errorf("--people --csv: %d lines, want 81 with person 6000000's two links (first at %s), none for the others:\n%s", len(lines), clickAt.Format(time.RFC3339), list)
	}
	bad := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report", "--account", "17841400000000099"}, exitFail, "no account 17841400000000099"},
		{[]string{"report", "--account", acct, "--since", "a week"}, exitUsage, `--since: "a week"`},
		{[]string{"report", "--account", acct, "--since", "-3d"}, exitUsage, "--since"},
		{[]string{"report", "--account", acct, "--by", "person"}, exitUsage, `by: "person"`},
		{[]string{"report", "--account", "abc"}, exitUsage, "--account"},
		{[]string{"report", "--account", acct, "--html", "/nonexistent/dir/r.html"}, exitFail, "--html"},
		{[]string{"report", "--account", acct, "--people"}, exitUsage, "--people: only with --csv"},
	}
	for _, b := range bad {
		code, _, errs := h.run(b.args...)
		if code != b.code || !strings.Contains(errs, b.want) {
			t.Errorf("%v: exit %d %q, want %d and %q", b.args, code, errs, b.code, b.want)
		}
	}
}
