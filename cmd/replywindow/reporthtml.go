package main

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"

	"github.com/replywindow/replywindow/shared/funnel"
)

// The HTML report is one self-contained file: inline CSS and SVG, no script, and a
// Content-Security-Policy that forbids every fetch, so it opens offline and shows the same
// thing anywhere it is mailed to. Numbers carry data-* attributes, for people's tools and the
// browser test.

// opFunnelSteps are the funnel's bars, in the order a person goes through them.
var opFunnelSteps = []string{"matched", "sent", "taps", "gates_met", "gates_passed", "followups_sent", "unique_clicks", "clicks"}

type htmlBar struct {
	Metric string
	Value  int64
	Width  float64 // of 100
}

type htmlRule struct {
	Rule string
	Bars []htmlBar
}

type htmlVariant struct {
	opVariantLine
	TapX, TapW, TapDot       float64 // the interval on a 0..100 scale
	ClickX, ClickW, ClickDot float64
}

type htmlPage struct {
	opReport
	Rules     []htmlRule
	Days      []string
	SentLine  string // SVG polyline points
	ClickLine string
	DayPoints []htmlDay
	MaxDay    int64
	LastDay   string // under the last point, when there are two days or more
	Variants  []htmlVariant
	Columns   []string
}

type htmlDay struct {
	Day          string
	Sent, Clicks int64
	X, YS, YC    float64
}

const (
	chartW, chartH = 640.0, 200.0
)

func opReportHTML(w io.Writer, rep opReport, rows []funnel.Row) error {
	page := htmlPage{opReport: rep, Columns: funnel.Columns}
	byRule, _ := funnel.Group(rows, funnel.ByRule)
	for _, l := range byRule {
		top := int64(1)
		for _, m := range opFunnelSteps {
			top = max(top, l.Counts[m])
		}
		r := htmlRule{Rule: l.Key}
		for _, m := range opFunnelSteps {
			r.Bars = append(r.Bars, htmlBar{Metric: m, Value: l.Counts[m], Width: 100 * float64(l.Counts[m]) / float64(top)})
		}
		page.Rules = append(page.Rules, r)
	}
	byDay, _ := funnel.Group(rows, funnel.ByDay)
	for _, l := range byDay {
		page.MaxDay = max(page.MaxDay, l.Counts["sent"], l.Counts["clicks"])
	}
	var sent, clicks []string
	for i, l := range byDay {
		x := 40 + (chartW-60)*float64(i)/math.Max(1, float64(len(byDay)-1))
		y := func(v int64) float64 { return chartH - 20 - (chartH-40)*float64(v)/float64(max(1, page.MaxDay)) }
		d := htmlDay{Day: l.Key, Sent: l.Counts["sent"], Clicks: l.Counts["clicks"], X: x, YS: y(l.Counts["sent"]), YC: y(l.Counts["clicks"])}
		page.DayPoints = append(page.DayPoints, d)
		sent = append(sent, fmt.Sprintf("%.1f,%.1f", d.X, d.YS))
		clicks = append(clicks, fmt.Sprintf("%.1f,%.1f", d.X, d.YC))
	}
	if len(byDay) > 1 {
		page.LastDay = byDay[len(byDay)-1].Key
	}
	page.SentLine, page.ClickLine = strings.Join(sent, " "), strings.Join(clicks, " ")
	for _, v := range rep.Variants {
		page.Variants = append(page.Variants, htmlVariant{opVariantLine: v,
			TapX: 100 * v.TapRate.Low, TapW: 100 * (v.TapRate.High - v.TapRate.Low), TapDot: 100 * v.TapRate.Rate,
			ClickX: 100 * v.ClickRate.Low, ClickW: 100 * (v.ClickRate.High - v.ClickRate.Low), ClickDot: 100 * v.ClickRate.Rate})
	}
	return htmlReport.Execute(w, page)
}

var htmlReport = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct":   func(f float64) string { return fmt.Sprintf("%.1f%%", 100*f) },
	"count": func(c map[string]int64, k string) int64 { return c[k] },
	"f1":    func(f float64) string { return fmt.Sprintf("%.1f", f) },
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>replywindow report: {{.Account}}, {{.From}} to {{.To}}</title>
<style>
body{font:15px/1.4 system-ui,sans-serif;margin:2rem auto;max-width:960px;color:#1d1d1f;padding:0 1rem}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem;border-bottom:1px solid #ddd}
.bar{display:grid;grid-template-columns:9rem 1fr 4rem;gap:.5rem;align-items:center;margin:.15rem 0}
.bar svg{width:100%;height:14px}.num{text-align:right;font-variant-numeric:tabular-nums}
table{border-collapse:collapse;width:100%;font-size:13px}td,th{padding:.2rem .4rem;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child{text-align:left}.note{color:#555;font-size:13px}
.variants{display:flex;flex-wrap:wrap;gap:1rem}.variant{border:1px solid #ddd;border-radius:6px;padding:.6rem;min-width:260px}
.legend span{margin-right:1rem}.sent{color:#0a66c2}.clicks{color:#d9480f}
</style></head><body>
<h1>What each rule earned — account {{.Account}}</h1>
<p class="note">UTC days {{.From}} to {{.To}}; {{.Items}} counter items read. Counts are written with each
record's end and each click, so duplicates and retries never count twice.</p>

<h2>Funnel per rule</h2>
{{range .Rules}}<section class="rule" data-rule="{{.Rule}}"><h3>{{.Rule}}</h3>
{{range .Bars}}<div class="bar"><span>{{.Metric}}</span><svg viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label="{{.Metric}} {{.Value}}"><rect width="100" height="10" fill="#eee"/><rect width="{{f1 .Width}}" height="10" fill="#0a66c2"/></svg><span class="num" data-metric="{{.Metric}}" data-value="{{.Value}}">{{.Value}}</span></div>
{{end}}</section>
{{else}}<p>No counts in this period.</p>{{end}}

<h2>Sends and clicks per day</h2>
<p class="legend"><span class="sent">■ private replies sent</span><span class="clicks">■ clicks</span></p>
<svg id="daily" viewBox="0 0 640 200" width="100%" role="img" aria-label="sends and clicks per day">
<line x1="40" y1="180" x2="620" y2="180" stroke="#999"/><line x1="40" y1="20" x2="40" y2="180" stroke="#999"/>
<text x="4" y="24" font-size="11">{{.MaxDay}}</text><text x="4" y="182" font-size="11">0</text>
{{with .DayPoints}}<text x="40" y="196" font-size="11">{{(index . 0).Day}}</text>{{end}}{{with .LastDay}}<text x="620" y="196" font-size="11" text-anchor="end">{{.}}</text>{{end}}
<polyline fill="none" stroke="#0a66c2" stroke-width="2" points="{{.SentLine}}"/>
<polyline fill="none" stroke="#d9480f" stroke-width="2" stroke-dasharray="5 3" points="{{.ClickLine}}"/>
{{range .DayPoints}}<circle cx="{{f1 .X}}" cy="{{f1 .YS}}" r="3" fill="#0a66c2" data-day="{{.Day}}" data-sent="{{.Sent}}" data-clicks="{{.Clicks}}"><title>{{.Day}}: {{.Sent}} sent, {{.Clicks}} clicks</title></circle>
{{end}}</svg>

<h2>Variants side by side</h2>
<p class="note">Tap rate = taps / private replies sent; click-through = unique clicks / private replies sent; bars
are 95% Wilson intervals (they stay honest with small counts and rates near 0). Each variant is compared with
its rule's first by a two-sided two-proportion z-test: people are split by a fixed hash, so the groups are
independent; it says "no difference yet" until p &lt; 0.05 with at least 5 successes and 5 failures on each side.</p>
<div class="variants">
{{range .Variants}}<div class="variant" data-rule="{{.Rule}}" data-variant="{{.Variant}}">
<strong>{{.Rule}} / {{.Variant}}</strong>
<div>tap rate <span data-metric="tap_rate" data-value="{{.TapRate.Hits}}/{{.TapRate.Of}}">{{pct .TapRate.Rate}} ({{.TapRate.Hits}}/{{.TapRate.Of}}) [{{pct .TapRate.Low}}, {{pct .TapRate.High}}]</span></div>
<svg viewBox="0 0 100 8" width="240" height="16"><rect width="100" height="8" fill="#f3f3f3"/><rect x="{{f1 .TapX}}" width="{{f1 .TapW}}" y="2" height="4" fill="#0a66c2"/><circle cx="{{f1 .TapDot}}" cy="4" r="2" fill="#000"/></svg>
<div>click-through <span data-metric="click_rate" data-value="{{.ClickRate.Hits}}/{{.ClickRate.Of}}">{{pct .ClickRate.Rate}} ({{.ClickRate.Hits}}/{{.ClickRate.Of}}) [{{pct .ClickRate.Low}}, {{pct .ClickRate.High}}]</span></div>
<svg viewBox="0 0 100 8" width="240" height="16"><rect width="100" height="8" fill="#f3f3f3"/><rect x="{{f1 .ClickX}}" width="{{f1 .ClickW}}" y="2" height="4" fill="#d9480f"/><circle cx="{{f1 .ClickDot}}" cy="4" r="2" fill="#000"/></svg>
<div class="verdict" data-verdict="{{.Verdict}}">taps: {{.Verdict}}{{if ne .Verdict "baseline"}} (p = {{printf "%.3f" .P}}){{end}}; clicks: {{.ClickVerdict}}{{if ne .ClickVerdict "baseline"}} (p = {{printf "%.3f" .PClick}}){{end}}</div>
</div>
{{else}}<p>No rule has variants in this period.</p>{{end}}
</div>

<h2>All counts, by {{.By}}</h2>
<table><thead><tr><th>{{.By}}</th>{{range .Columns}}<th>{{.}}</th>{{end}}</tr></thead><tbody>
{{range $l := .Lines}}<tr data-key="{{$l.Key}}"><td>{{$l.Key}}</td>{{range $.Columns}}<td>{{count $l.Counts .}}</td>{{end}}</tr>
{{end}}</tbody></table>
</body></html>
`))
