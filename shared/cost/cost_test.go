package cost

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/replywindow/replywindow/shared/telemetry"
)

func TestPrice(t *testing.T) {
	unit := PriceList{LambdaGBSecondArm: 1, LambdaRequest: 1, SQSRequest: 1, WriteUnit: 1, ReadUnit: 1, HTTPAPIRequest: 1, LogsIngestGB: 1, StorageGBMonth: 1, PITRGBMonth: 1, AlarmMonth: 1, DashboardMonth: 1, MetricMonth: 1, EventBridgeEvent: 1}
	cases := []struct {
		name        string
		c           Counts
		b           Bundle
		per100k     float64
		fixed       float64
		monthly     int
		wantMonthly float64
	}{
		{
			name: "every unit once over 100,000 comments",
			c: Counts{Comments: 100_000, WebhookInvocations: 1, ReplierInvocations: 1, WebhookBilledMs: 1000, ReplierBilledMs: 2000,
				SweeperBilledMs: 4000, APIRequests: 1, SQSRequests: 1, ReadUnits: 1, WriteUnits: 1, LogBytes: 1e9, StoredBytes: 1e9},
			b: Bundle{WebhookMB: 1024, ReplierMB: 512, SweeperMB: 256, SweepEveryMinutes: 1, RetentionDays: 23},
			// requests, three durations of 1 GB-s, API, SQS, WRU, RRU, 1 GB of logs, 1 GB for a
			// month at both storage prices
			per100k: 2 + 3 + 1 + 1 + 1 + 1 + 1 + 2,
			fixed:   43_200, monthly: 100_000, wantMonthly: 43_200 + 12,
		},
		{
			name:    "events out: each event put, and its outbox's write units",
			c:       Counts{Comments: 50_000, Events: 40_000, EventWriteUnits: 160_000},
			b:       Bundle{SweepEveryMinutes: 1},
			per100k: 2 * (40_000 + 160_000), fixed: 43_200, monthly: 0, wantMonthly: 43_200,
		},
		{
			name:    "counts scale to 100,000 comments",
			c:       Counts{Comments: 1000, WriteUnits: 3},
			b:       Bundle{SweepEveryMinutes: 5, AlarmMetrics: 2, Dashboards: 1, FilterMetrics: 3, EMFMetrics: 2, IdlePollers: 1},
			per100k: 300, fixed: 8640 + 3*43_200 + 2 + 1 + 3 + 2, monthly: 50_000, wantMonthly: 8640 + 3*43_200 + 8 + 150,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e, err := Price(c.c, unit, c.b)
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []struct {
				what      string
				got, want float64
			}{{"per 100k", e.PerHundredThousand(), c.per100k}, {"fixed", e.FixedMonthly(), c.fixed}, {"monthly", e.Monthly(c.monthly), c.wantMonthly}} {
				if math.Abs(got.got-got.want) > 1e-6*math.Max(1, got.want) {
					t.Errorf("%s = %v, want %v", got.what, got.got, got.want)
				}
			}
			var out bytes.Buffer
			if err := e.Write(&out, c.monthly); err != nil || !strings.Contains(out.String(), "per 100,000 comments") {
				t.Errorf("Write: %v\n%s", err, out.String())
			}
		})
	}
	if _, err := Price(Counts{}, Prices, Template); err == nil {
		t.Error("Price of no comments: no error")
	}
	if _, err := Price(Counts{Comments: 1, EMFMetrics: Template.EMFMetrics + 1}, Prices, Template); err == nil {
		t.Error("Price of a run that defined more metrics than the bundle prices: no error")
	}
}

// TestTemplate keeps Template in step with template.yaml: the memory each function is billed
// at, the schedule and the CloudWatch pieces billed by the month.
func TestTemplate(t *testing.T) {
	b, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tpl := string(b)
	memory := func(fn string) int {
		i := strings.Index(tpl, "\n  "+fn+":\n")
		if i < 0 {
			t.Fatalf("no %s in template.yaml", fn)
		}
		m := regexp.MustCompile(`MemorySize: (\d+)`).FindStringSubmatch(tpl[i:])
		n, _ := strconv.Atoi(m[1])
		return n
	}
	paramDefault := func(name string) int {
		m := regexp.MustCompile(`\n  ` + name + `:\s+Type: Number\s+Default: (\d+)`).FindStringSubmatch(tpl)
		if m == nil {
			t.Fatalf("no %s default in template.yaml", name)
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	// Each alarm is billed by the metrics it reads: one, or each MetricStat of a metric-math
	// alarm. A Metrics Insights query is billed by the metrics it analyses, which the template
	// cannot tell: none may be used without counting it here.
	alarmMetrics := 0
	for _, block := range strings.Split(tpl, "Type: AWS::CloudWatch::Alarm")[1:] {
		if i := strings.Index(block, "\n  # "); i >= 0 {
			block = block[:i]
		}
		if i := regexp.MustCompile(`\n  [A-Za-z0-9]+:\n`).FindStringIndex(block); i != nil {
			block = block[:i[0]]
		}
		if strings.Contains(block, "SELECT ") {
			t.Errorf("an alarm reads a Metrics Insights query, whose metrics this test cannot count:\n%s", block)
		}
		alarmMetrics += max(1, strings.Count(block, "MetricStat:"))
	}
	filters := map[string]bool{}
	for _, block := range strings.Split(tpl, "Type: AWS::Logs::MetricFilter")[1:] {
		if m := regexp.MustCompile(`MetricName: (\w+)`).FindStringSubmatch(block); m != nil {
			filters[m[1]] = true
		}
	}
	cases := []struct {
		what      string
		got, want int
	}{
		{"WebhookFunction MemorySize", memory("WebhookFunction"), Template.WebhookMB},
		{"ReplierFunction MemorySize", memory("ReplierFunction"), Template.ReplierMB},
		{"SweeperFunction MemorySize", memory("SweeperFunction"), Template.SweeperMB},
		{"RetentionDays default", paramDefault("RetentionDays"), Template.RetentionDays},
		{"alarm metrics", alarmMetrics, Template.AlarmMetrics},
		{"EMF metrics (telemetry.AlarmMetrics)", len(telemetry.AlarmMetrics()), Template.EMFMetrics},
		{"dashboards", strings.Count(tpl, "Type: AWS::CloudWatch::Dashboard"), Template.Dashboards},
		{"metric filter metrics", len(filters), Template.FilterMetrics},
		{"SweepEveryMinutes default", paramDefault("SweepEveryMinutes"), Template.SweepEveryMinutes},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("template.yaml has %d %s, cost.Template %d", c.got, c.what, c.want)
		}
	}
	if level := regexp.MustCompile(`SystemLogLevel: (\w+)`).FindStringSubmatch(tpl); (level == nil || level[1] != "WARN") != Template.PlatformLogs {
		t.Errorf("template.yaml's SystemLogLevel %v, cost.Template.PlatformLogs %v: platform lines are logged below WARN", level, Template.PlatformLogs)
	}
	if !strings.Contains(tpl, "Architectures: [arm64]") {
		t.Error("template.yaml: functions are no longer arm64, and Prices.LambdaGBSecondArm is the arm64 price")
	}
}

// TestIdleStackGoal holds what a stack costs before its first comment (issue 23: at most $6.00 a
// month, free tiers left out) to the template's alarms, dashboards and metrics (TestTemplate keeps
// Template equal to them), so a new metric or alarm shows its price here.
func TestIdleStackGoal(t *testing.T) {
	const goal = 6.00
	e, err := Price(Counts{Comments: 1}, Prices, Template)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, l := range e.Fixed {
		fmt.Fprintf(&out, "  %-46s %8.0f %-13s $%.2f\n", l.Item, l.Units, l.Unit, l.USD)
	}
	t.Logf("fixed part of a month: $%.2f (goal $%.2f)\n%s", e.FixedMonthly(), goal, out.String())
	if e.FixedMonthly() > goal {
		t.Errorf("an idle stack costs $%.2f a month, above the $%.2f goal:\n%s", e.FixedMonthly(), goal, out.String())
	}
}
