// Package cost prices what replywindow asks of AWS, from counts (the scale simulation's) and
// AWS's published us-east-1 prices, so the README's cost section is a computation, not a guess.
package cost

import (
	"fmt"
	"io"
	"strings"
)

// PricesDate and PricesSource say where Prices come from. The figures are AWS's published
// on-demand list prices for US East (N. Virginia), without free tiers or volume tiers beyond the
// first (the first tier covers 300 million API calls and 7.5 billion Lambda GB-s a month).
const (
	PricesDate   = "2026-12-01"
	PricesSource = "AWS Lambda pricing, Amazon DynamoDB pricing (on-demand), Amazon SQS pricing, Amazon API Gateway pricing (HTTP APIs), Amazon CloudWatch pricing (Logs, alarms, dashboards, custom metrics), Amazon EventBridge pricing (custom events): us-east-1 list prices as published on aws.amazon.com and quoted by 2026 pricing guides"
)

// PriceList is what each billed unit costs, in US dollars.
type PriceList struct {
	LambdaGBSecondArm float64 // arm64 duration, first tier
	LambdaRequest     float64
	SQSRequest        float64 // standard queue; each 64 KB of a request's payload is one request
	WriteUnit         float64 // DynamoDB on-demand write request unit (1 KB)
	ReadUnit          float64 // DynamoDB on-demand read request unit (4 KB, strongly consistent)
	HTTPAPIRequest    float64 // API Gateway HTTP API, metered in 512 KB increments
	LogsIngestGB      float64 // CloudWatch Logs standard class ingestion
	StorageGBMonth    float64 // DynamoDB standard table class storage
	PITRGBMonth       float64 // DynamoDB continuous backups (point-in-time recovery)
	AlarmMonth        float64 // standard-resolution alarm, per metric it evaluates
	DashboardMonth    float64
	MetricMonth       float64 // custom metric, first 10,000
	EventBridgeEvent  float64 // a custom event put on a bus (each 64 KB of an entry is one)
}

// Prices are the us-east-1 list prices of PricesDate.
var Prices = PriceList{
	LambdaGBSecondArm: 0.0000133334,
	LambdaRequest:     0.20 / 1e6,
	SQSRequest:        0.40 / 1e6,
	WriteUnit:         0.625 / 1e6,
	ReadUnit:          0.125 / 1e6,
	HTTPAPIRequest:    1.00 / 1e6,
	LogsIngestGB:      0.50,
	StorageGBMonth:    0.25,
	PITRGBMonth:       0.20,
	AlarmMonth:        0.10,
	DashboardMonth:    3.00,
	MetricMonth:       0.30,
	EventBridgeEvent:  1.00 / 1e6,
}

// Bundle is what template.yaml configures that prices depend on; the package test checks it
// against the template.
type Bundle struct {
	WebhookMB, ReplierMB, SweeperMB int
	SweepEveryMinutes               int // the schedule's default
	// RetentionDays is how long a terminal record is kept after its deadline (7 days after the
	// comment): a comment's items are stored for the two together.
	RetentionDays int
	// AlarmMetrics is how many metrics the alarms read: CloudWatch bills an alarm by the metrics
	// it evaluates, so a metric-math alarm over two metrics is billed as two.
	AlarmMetrics, Dashboards int
	FilterMetrics            int // distinct metrics the log metric filters publish
	// EMFMetrics is how many distinct metrics the code's EMF lines may define
	// (telemetry.AlarmMetrics); the package test checks both against the template and the code.
	EMFMetrics int
	// IdlePollers is how many long-polling receives Lambda's SQS event source keeps open while
	// the queue is empty (AWS: it starts with five); each returns after 20 seconds.
	IdlePollers int
	// PlatformLogs is whether Lambda writes its platform.start and platform.report lines (system
	// log level INFO or DEBUG); at WARN it leaves them out.
	PlatformLogs bool
}

// Template is template.yaml's defaults.
var Template = Bundle{
	WebhookMB: 512, ReplierMB: 256, SweeperMB: 256, SweepEveryMinutes: 1, RetentionDays: 30,
	AlarmMetrics: 14, Dashboards: 1, FilterMetrics: 0, EMFMetrics: 4, IdlePollers: 5,
}

// Counts is what a run asked of AWS, over Comments comments.
type Counts struct {
	Comments           int
	WebhookInvocations int64
	WebhookBilledMs    int64
	ReplierInvocations int64
	ReplierBilledMs    int64
	SweeperInvocations int64
	SweeperBilledMs    int64
	APIRequests        int64
	SQSRequests        int64
	ReadUnits          float64
	WriteUnits         float64
	LogBytes           int64 // application logs, EMF lines and Lambda's platform lines
	EMFMetrics         int   // distinct metrics (namespace, name, dimension values) the run's EMF lines defined
	StoredBytes        int64 // the table's items and index entries at the end, as DynamoDB bills them
	// Events are the funnel events put on the stack's bus (shared/events: one per record that
	// ended SENT, FAILED or AMBIGUOUS), each well under 64 KB; EventWriteUnits what their outbox
	// adds to the table: the clear of each record's mark and the outbox index's put and delete.
	Events          int64
	EventWriteUnits float64
	// Counted, not priced: DynamoDB bills units, not requests, and Meta's Graph API is free.
	DynamoRequests int64
	GraphCalls     int64
}

// Line is one priced item.
type Line struct {
	Item  string
	Units float64 // billed units over the run (variable) or a month (fixed)
	Unit  string
	USD   float64
}

// Estimate is the traffic-driven cost per 100,000 comments, and the cost a month that does not
// depend on traffic.
type Estimate struct {
	Per100k []Line
	Fixed   []Line
}

// Price prices the counts. The sweeper's requests are fixed (its schedule runs whatever the
// traffic); its duration is counted with the traffic, as a backlog is what makes it work.
func Price(c Counts, p PriceList, b Bundle) (Estimate, error) {
	if c.Comments <= 0 {
		return Estimate{}, fmt.Errorf("price: %d comments, want some", c.Comments)
	}
	if c.EMFMetrics > b.EMFMetrics {
		// The fixed part prices the metrics the code declares; a run that defined more would be
		// billed more than this says.
		return Estimate{}, fmt.Errorf("price: the run defined %d EMF metrics, the bundle prices %d", c.EMFMetrics, b.EMFMetrics)
	}
	scale := 100_000 / float64(c.Comments)
	gbs := func(ms int64, mb int) float64 { return float64(ms) / 1000 * float64(mb) / 1024 }
	v := []Line{
		{"Lambda requests (webhook, replier)", float64(c.WebhookInvocations + c.ReplierInvocations), "requests", p.LambdaRequest},
		{"Lambda duration, webhook", gbs(c.WebhookBilledMs, b.WebhookMB), "GB-s", p.LambdaGBSecondArm},
		{"Lambda duration, replier", gbs(c.ReplierBilledMs, b.ReplierMB), "GB-s", p.LambdaGBSecondArm},
		{"Lambda duration, sweeper", gbs(c.SweeperBilledMs, b.SweeperMB), "GB-s", p.LambdaGBSecondArm},
		{"API Gateway HTTP API", float64(c.APIRequests), "requests", p.HTTPAPIRequest},
		{"SQS", float64(c.SQSRequests), "requests", p.SQSRequest},
		{"DynamoDB writes", c.WriteUnits, "WRU", p.WriteUnit},
		{"DynamoDB reads", c.ReadUnits, "RRU", p.ReadUnit},
		{"EventBridge events (funnel events out)", float64(c.Events), "events", p.EventBridgeEvent},
		{"DynamoDB writes, events outbox", c.EventWriteUnits, "WRU", p.WriteUnit},
		{"CloudWatch Logs ingestion", float64(c.LogBytes) / 1e9, "GB", p.LogsIngestGB},
		// A month's comments stay stored for the window and the retention after it.
		{"DynamoDB storage and PITR", float64(c.StoredBytes) / 1e9 * float64(7+b.RetentionDays) / 30, "GB-months", p.StorageGBMonth + p.PITRGBMonth},
	}
	for i := range v {
		v[i].Units *= scale
		v[i].USD *= v[i].Units
	}
	minutes := 30 * 24 * 60.0
	runs := minutes / float64(max(b.SweepEveryMinutes, 1))
	f := []Line{
		{"Lambda requests, sweeper schedule", runs, "requests", p.LambdaRequest},
		{"SQS idle long polls", float64(b.IdlePollers) * 3 * minutes, "requests", p.SQSRequest},
		{"CloudWatch alarms", float64(b.AlarmMetrics), "alarm metrics", p.AlarmMonth},
		{"CloudWatch dashboard", float64(b.Dashboards), "dashboards", p.DashboardMonth},
		{"CloudWatch custom metrics (filters and EMF)", float64(b.FilterMetrics + b.EMFMetrics), "metrics", p.MetricMonth},
	}
	for i := range f {
		f[i].USD *= f[i].Units
	}
	return Estimate{Per100k: v, Fixed: f}, nil
}

func sum(ls []Line) float64 {
	t := 0.0
	for _, l := range ls {
		t += l.USD
	}
	return t
}

// PerHundredThousand is the traffic-driven cost of 100,000 comments.
func (e Estimate) PerHundredThousand() float64 { return sum(e.Per100k) }

// FixedMonthly is what a month costs with no comments at all.
func (e Estimate) FixedMonthly() float64 { return sum(e.Fixed) }

// Monthly is a month with so many comments.
func (e Estimate) Monthly(comments int) float64 {
	return e.FixedMonthly() + e.PerHundredThousand()*float64(comments)/100_000
}

// units shows a count whole, and a few gigabytes or GB-seconds with their fraction.
func units(u float64) string {
	if u >= 1000 {
		return fmt.Sprintf("%.0f", u)
	}
	return fmt.Sprintf("%.3f", u)
}

// Write prints the estimate as a table, with a month of commentsPerMonth.
func (e Estimate) Write(w io.Writer, commentsPerMonth int) error {
	var b strings.Builder
	row := func(item, units, unit, usd string) { fmt.Fprintf(&b, "%-46s %14s %-13s %9s\n", item, units, unit, usd) }
	row("per 100,000 comments", "units", "", "USD")
	for _, l := range e.Per100k {
		row("  "+l.Item, units(l.Units), l.Unit, fmt.Sprintf("%.4f", l.USD))
	}
	row("  total", "", "", fmt.Sprintf("%.2f", e.PerHundredThousand()))
	row("fixed, per month", "", "", "")
	for _, l := range e.Fixed {
		row("  "+l.Item, fmt.Sprintf("%.0f", l.Units), l.Unit, fmt.Sprintf("%.2f", l.USD))
	}
	row("  total", "", "", fmt.Sprintf("%.2f", e.FixedMonthly()))
	row(fmt.Sprintf("a month of %d comments", commentsPerMonth), "", "", fmt.Sprintf("%.2f", e.Monthly(commentsPerMonth)))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write estimate: %w", err)
	}
	return nil
}
