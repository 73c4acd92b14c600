package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/funnel"
	"github.com/replywindow/replywindow/shared/reply"
)

func init() {
	commands["report"] = command{summary: "what each rule earned: the funnel counts by rule, variant, media or day, and the variants compared", run: runReport}
}

// opReport is report's JSON answer.
type opReport struct {
	Account  string          `json:"account"`
	From     string          `json:"from"`
	To       string          `json:"to"`
	By       string          `json:"by"`
	Lines    []funnel.Line   `json:"lines"`
	Variants []opVariantLine `json:"variants,omitempty"`
	Items    int             `json:"counter_items_read"`
}

// opVariantLine compares one variant of a rule with the rule's first variant on tap rate.
type opVariantLine struct {
	Rule    string          `json:"rule"`
	Variant string          `json:"variant"`
	TapRate funnel.Interval `json:"tap_rate"` // taps of sent private replies, 95% Wilson interval
	P       float64         `json:"p_value"`  // two-proportion z-test against the rule's first variant
	Verdict string          `json:"verdict"`
	// ClickRate is the click-through: unique clicks of sent private replies.
	ClickRate    funnel.Interval `json:"click_rate"`
	PClick       float64         `json:"click_p_value"`
	ClickVerdict string          `json:"click_verdict"`
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("report", "--account ID [--since 7d] [--by rule|variant|media|day] [--json|--csv] [--html FILE] [--people --csv]", `  replywindow report --account 17841400000000001
  replywindow report --account 17841400000000001 --since 30d --by day --csv > month.csv
  replywindow report --account 17841400000000001 --since 30d --html report.html
  replywindow report --account 17841400000000001 --people --csv > people.csv   # personal data

Counts are per UTC day, written with each record's end (sent, skipped, expired, failed,
ambiguous), each follow-up and tap; the report reads those counter items only.
`, stdout, stderr)
	account := c.fs.String("account", "", "the Instagram account `id`")
	since := c.fs.String("since", "7d", "how far back: `N`d or a Go duration (48h)")
	by := c.fs.String("by", funnel.ByRule, "group by rule, variant, media or day")
	asJSON := c.fs.Bool("json", false, "print JSON")
	asCSV := c.fs.Bool("csv", false, "print CSV (every count, reasons included)")
	people := c.fs.Bool("people", false, "with --csv: one row per person answered, with the links they clicked (personal data: ids, usernames, clicks; a scan of the table)")
	htmlFile := c.fs.String("html", "", "also write the report for people to `file`: one self-contained HTML page (no network)")
	table := c.tableFlag()
	if _, code, ok := c.parse(args); !ok {
		return code
	}
	if err := opCheckID("--account", "account", *account); err != nil {
		return c.fail(err)
	}
	back, err := opSince(*since)
	if err != nil {
		return c.fail(err)
	}
	if *asJSON && *asCSV {
		return c.fail(opUsagef("--json and --csv: choose one"))
	}
	store, _, err := c.store(ctx, *table)
	if err != nil {
		return c.fail(err)
	}
	if _, err := store.Account(ctx, *account); errors.Is(err, reply.ErrNotFound) {
		return c.fail(fmt.Errorf("--account: no account %s in table %s (replywindow accounts list)", *account, *table))
	} else if err != nil {
		return c.fail(fmt.Errorf("read account %s: %w", *account, err))
	}
	to := time.Now().UTC()
	from := to.Add(-back)
	if *people {
		if !*asCSV || *htmlFile != "" {
			return c.fail(opUsagef("--people: only with --csv (a list of people is for tools, not a page)"))
		}
		list, err := opPeople(ctx, store, store, *account, from)
		if err != nil {
			return c.fail(err)
		}
		if err := opPeopleCSV(stdout, list); err != nil {
			return c.fail(err)
		}
		return exitOK
	}
	rows, err := store.Counts(ctx, *account, from, to)
	if err != nil {
		return c.fail(err)
	}
	rep, err := opBuildReport(*account, from, to, *by, rows)
	if err != nil {
		return c.fail(opUsagef("--%v", err))
	}
	if *htmlFile != "" {
		if err := opWriteHTML(*htmlFile, rep, rows); err != nil {
			return c.fail(err)
		}
	}
	switch {
	case *asJSON:
		err = opJSON(stdout, rep)
	case *asCSV:
		err = opReportCSV(stdout, rep)
	default:
		err = opReportTable(stdout, rep)
	}
	if err != nil {
		return c.fail(err)
	}
	return exitOK
}

// opSince parses --since: whole days ("7d") or a Go duration.
func opSince(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n <= 0 || n > 400 {
			return 0, opUsagef("--since: %q, want 1d to 400d or a duration such as 48h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, opUsagef("--since: %q, want 1d to 400d or a duration such as 48h", s)
	}
	return d, nil
}

func opBuildReport(account string, from, to time.Time, by string, rows []funnel.Row) (opReport, error) {
	lines, err := funnel.Group(rows, by)
	if err != nil {
		return opReport{}, err
	}
	rep := opReport{Account: account, From: from.Format(funnel.DayLayout), To: to.Format(funnel.DayLayout), By: by, Lines: lines, Items: len(rows)}
	vlines, _ := funnel.Group(rows, funnel.ByVariant)
	first := map[string]opVariantLine{}
	for _, l := range vlines {
		rule, variant, _ := strings.Cut(l.Key, "/")
		if variant == "-" {
			continue
		}
		v := opVariantLine{Rule: rule, Variant: variant, TapRate: funnel.Wilson(l.Counts["taps"], l.Counts["sent"]),
			ClickRate: funnel.Wilson(l.Counts["unique_clicks"], l.Counts["sent"]), P: 1, PClick: 1, Verdict: "baseline", ClickVerdict: "baseline"}
		if base, ok := first[rule]; ok {
			v.P, v.Verdict = opVerdict(v.TapRate, base.TapRate)
			v.PClick, v.ClickVerdict = opVerdict(v.ClickRate, base.ClickRate)
		} else {
			first[rule] = v
		}
		rep.Variants = append(rep.Variants, v)
	}
	return rep, nil
}

// opVerdict is the z-test's p-value and what it means for people.
func opVerdict(a, b funnel.Interval) (float64, string) {
	p, differ := funnel.Compare(a, b)
	if differ {
		return p, "differs (p<0.05)"
	}
	return p, "no difference yet"
}

func opReportTable(w io.Writer, rep opReport) error {
	fmt.Fprintf(w, "account %s, %s to %s (UTC days), by %s; %d counter items read\n\n", rep.Account, rep.From, rep.To, rep.By, rep.Items)
	if len(rep.Lines) == 0 {
		_, err := fmt.Fprintln(w, "no counts in this period")
		return err
	}
	header := append([]string{strings.ToUpper(rep.By)}, opUpper(funnel.Columns)...)
	rows := make([][]string, len(rep.Lines))
	for i, l := range rep.Lines {
		rows[i] = []string{l.Key}
		for _, col := range funnel.Columns {
			rows[i] = append(rows[i], strconv.FormatInt(l.Counts[col], 10))
		}
	}
	if err := opTable(w, header, rows); err != nil {
		return err
	}
	if len(rep.Variants) == 0 {
		return nil
	}
	fmt.Fprintln(w, "\nvariants: tap rate and click-through (unique clicks) of sent private replies, 95% Wilson intervals;\ntwo-proportion z-test against the rule's first variant")
	vrows := make([][]string, len(rep.Variants))
	rate := func(iv funnel.Interval) string {
		return fmt.Sprintf("%d/%d %.1f%% [%.1f%%, %.1f%%]", iv.Hits, iv.Of, 100*iv.Rate, 100*iv.Low, 100*iv.High)
	}
	for i, v := range rep.Variants {
		vrows[i] = []string{v.Rule, v.Variant, rate(v.TapRate), fmt.Sprintf("%.3f", v.P), v.Verdict,
			rate(v.ClickRate), fmt.Sprintf("%.3f", v.PClick), v.ClickVerdict}
	}
	return opTable(w, []string{"RULE", "VARIANT", "TAP RATE", "P", "TAP VERDICT", "CLICK-THROUGH", "P", "CLICK VERDICT"}, vrows)
}

func opUpper(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strings.ToUpper(x)
	}
	return out
}

// opReportCSV writes one row per group and count name (reasons included): key,count,value.
func opReportCSV(w io.Writer, rep opReport) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{rep.By, "count", "value"})
	for _, l := range rep.Lines {
		names := make([]string, 0, len(l.Counts))
		for n := range l.Counts {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			_ = cw.Write([]string{l.Key, n, strconv.FormatInt(l.Counts[n], 10)})
		}
	}
	cw.Flush()
	return cw.Error()
}

// opWriteHTML writes the HTML report to path (a new file or one replaced whole).
func opWriteHTML(path string, rep opReport, rows []funnel.Row) error {
	var b strings.Builder
	if err := opReportHTML(&b, rep, rows); err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("--html: %w", err)
	}
	return nil
}
