package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/funnel"
)

// htmlRows is a month of two rules, one with two variants, with clicks.
func htmlRows() []funnel.Row {
	var rows []funnel.Row
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for d := range 5 {
		ds := day.AddDate(0, 0, d).Format(funnel.DayLayout)
		rows = append(rows,
			funnel.Row{Day: ds, Rule: "recipe", Variant: "A", Media: "18000000000000001",
				Counts: map[string]int64{"matched": 60, "sent": 50, "taps": 30, "followups_sent": 28, "unique_clicks": 20, "clicks": 26}},
			funnel.Row{Day: ds, Rule: "recipe", Variant: "B", Media: "18000000000000001",
				Counts: map[string]int64{"matched": 60, "sent": 50, "taps": 10, "followups_sent": 9, "unique_clicks": 4, "clicks": 5}},
			funnel.Row{Day: ds, Rule: "book", Media: "18000000000000002",
				Counts: map[string]int64{"matched": int64(10 + d), "sent": int64(8 + d), "skipped": 2, "skipped:duplicate_person": 2}})
	}
	return rows
}

// TestReportHTMLInChromium opens the HTML report in headless Chromium (Debian's package), reads
// the numbers back from the DOM the browser built, and takes a screenshot. It skips, saying so,
// where Chromium is not installed (`apt-get install chromium`; .ci/run installs it).
func TestReportHTMLInChromium(t *testing.T) {
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("Chromium is not installed (apt-get install -y chromium): the HTML report's browser test is skipped")
	}
	rows := htmlRows()
	rep, err := opBuildReport("17841400000000001", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC), funnel.ByRule, rows)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := opWriteHTML(page, rep, rows); err != nil {
		t.Fatal(err)
	}
	src, _ := os.ReadFile(page)
	if regexp.MustCompile(`(?i)(src|href)="(https?:)?//`).Match(src) {
		t.Error("the report refers to something on the network")
	}
	chrome := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
			"--disable-crash-reporter", "--disable-breakpad", "--user-data-dir=" + filepath.Join(dir, "profile")}
		// A browser that dies of a signal at start (seen on a loaded CI machine) is no verdict on
		// the page: start it again, a few times; any other failure is one.
		for try := 1; ; try++ {
			out, err := exec.CommandContext(ctx, bin, append(base, args...)...).Output()
			var exit *exec.ExitError
			if errors.As(err, &exit) && !exit.Exited() && try < 4 && ctx.Err() == nil {
				t.Logf("chromium %v: %v (try %d); again", args, err, try)
				continue
			}
			if err != nil {
				t.Fatalf("chromium %v: %v", args, err)
			}
			return string(out)
		}
	}
	dom := chrome("--dump-dom", "file://"+page)
	attr := regexp.MustCompile(`data-metric="([a-z_]+)" data-value="([^"]+)"`)
	got := map[string][]string{}
	for _, m := range attr.FindAllStringSubmatch(dom, -1) {
		got[m[1]] = append(got[m[1]], m[2])
	}
	// Funnel bars: rule "book" first (sorted), then "recipe": its sent = 2 variants × 5 days × 50.
	want := map[string][]string{
		"sent":       {"50", "500"},
		"taps":       {"0", "200"},
		"tap_rate":   {"150/250", "50/250"},
		"click_rate": {"100/250", "20/250"},
	}
	for k, v := range want {
		if strings.Join(got[k], ",") != strings.Join(v, ",") {
			t.Errorf("page shows %s = %v, want %v", k, got[k], v)
		}
	}
	if n := strings.Count(dom, "data-sent="); n != 5 {
		t.Errorf("daily line: %d points, want 5", n)
	}
	if !strings.Contains(dom, `data-verdict="differs (p&lt;0.05)"`) && !strings.Contains(dom, `data-verdict="differs (p<0.05)"`) {
		t.Errorf("variant B's verdict missing from the page")
	}
	shot := filepath.Join(dir, "report.png")
	chrome("--screenshot="+shot, "--window-size=1100,1800", "--hide-scrollbars", "file://"+page)
	info, err := os.Stat(shot)
	if err != nil || info.Size() < 10_000 {
		t.Fatalf("screenshot: %v (%d bytes)", err, sizeOf(info))
	}
	t.Logf("HTML report %d bytes; screenshot 1100x1800 %d bytes (%s)", len(src), info.Size(), shot)
	if out := os.Getenv("REPORT_SCREENSHOT"); out != "" {
		b, _ := os.ReadFile(shot)
		_ = os.WriteFile(out, b, 0o644)
	}
}

func sizeOf(fi os.FileInfo) int64 {
	if fi == nil {
		return 0
	}
	return fi.Size()
}
