package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reconcile"
	"github.com/replywindow/replywindow/shared/replier"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/sqs"
	"github.com/replywindow/replywindow/shared/ssm"
	"github.com/replywindow/replywindow/shared/telemetry"
)

// TestBackfill runs `replywindow backfill` against the sandbox, the table and a queue on moto, and
// the real replier draining that queue: the dry run sends nothing, the real run answers each
// eligible comment once, and a second run sends nothing new.
func TestBackfill(t *testing.T) {
	h := opSetup(t)
	id := opID(t)
	const token = "IGAAT-test-token-backfill-77"
	h.sb.AddAccount(id, token, reply.LoginInstagram, "")
	h.runStdin(token, "accounts", "put", "--file", h.accountFile("good.yaml", id), "--token-stdin")
	sqsc := awssqs.NewFromConfig(h.cfg)
	queueURL := awstest.Queue(t, sqsc, "jobs")
	t.Setenv("QUEUE_URL", queueURL)

	// Meta's ids are digits (reconciliation and backfill refuse others).
	const (
		reel, feed                                = "17900000000000801", "17900000000000802"
		cOld, cSend, cNoRule, cReply, cOwn, cPost = "17800000000000901", "17800000000000902", "17800000000000903", "17800000000000904", "17800000000000905", "17800000000000906"
	)
	now := time.Now()
	h.sb.AddMedia(sandbox.Media{ID: reel, AccountID: id, ProductType: "REELS", CreatedAt: now.Add(-5 * 24 * time.Hour)})
	h.sb.AddMedia(sandbox.Media{ID: feed, AccountID: id, ProductType: "FEED", CreatedAt: now.Add(-30 * time.Hour)})
	for _, c := range []sandbox.Comment{
		{ID: cOld, MediaID: reel, Text: "recipe", CreatedAt: now.Add(-4 * 24 * time.Hour)}, // before --since
		{ID: cSend, MediaID: reel, Text: "RECIPE please", CreatedAt: now.Add(-40 * time.Hour)},
		{ID: cNoRule, MediaID: reel, Text: "nice", CreatedAt: now.Add(-20 * time.Hour)},
		{ID: cReply, MediaID: reel, Text: "recette?", ParentID: cNoRule, CreatedAt: now.Add(-19 * time.Hour)},
		{ID: cOwn, MediaID: feed, Text: "recipe in DMs", FromID: id, CreatedAt: now.Add(-10 * time.Hour)},
		{ID: cPost, MediaID: feed, Text: "the recipe?", CreatedAt: now.Add(-5 * time.Hour)},
	} {
		c.AccountID = id
		if c.FromID == "" {
			c.FromID, c.FromName = "60"+c.ID[2:], "fan"
		}
		h.sb.AddComment(c)
	}
	args := []string{"backfill", "--account", id, "--since", "72h", "--reads-per-hour", "3600"}

	out := h.must(append(args, "--dry-run")...)
	for _, want := range []string{"dry run: nothing sent", cSend, cPost, cReply, "would_send", "would_skip", "recipe", "TOTAL"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, cOld) || strings.Contains(out, cOwn) {
		t.Errorf("dry run lists comments it must not:\n%s", out)
	}
	if n := queued(t, h, sqsc, queueURL); n != 0 || len(h.sb.Deliveries()) != 0 {
		t.Fatalf("dry run: %d messages queued, %d DMs", n, len(h.sb.Deliveries()))
	}

	var res reconcile.BackfillResult
	if err := json.Unmarshal([]byte(h.must(append(args, "--json")...)), &res); err != nil {
		t.Fatal(err)
	}
	if res.Total(reconcile.OutcomeEnqueued) != 4 || res.Total(reconcile.OutcomeOwn) != 1 || len(res.Media) != 2 {
		t.Fatalf("real run: %+v", res)
	}
	drain(t, h, sqsc, queueURL)
	want := map[string]int{cSend: 1, cPost: 1, cReply: 1, cNoRule: 0, cOwn: 0, cOld: 0}
	for c, n := range want {
		if got := h.sb.Delivered(c); got != n {
			t.Errorf("%s: %d DMs, want %d", c, got, n)
		}
	}
	if r, err := h.store.ByComment(h.ctx, cNoRule); err != nil || r.State != reply.StateSkipped {
		t.Errorf("the comment no rule matches: %+v, %v", r, err)
	}

	out = h.must(args...)
	if !strings.Contains(out, "0 comment(s) enqueued") {
		t.Errorf("second run:\n%s", out)
	}
	if n := queued(t, h, sqsc, queueURL); n != 0 || len(h.sb.Deliveries()) != 3 {
		t.Errorf("second run: %d messages queued, %d DMs in all", n, len(h.sb.Deliveries()))
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"backfill"}, exitUsage, "--account is required"},
		{[]string{"backfill", "--account", id, "--since", "8d"}, exitUsage, "can no longer get a private reply"},
		{[]string{"backfill", "--account", id, "--since", "soon"}, exitUsage, "--since"},
		{[]string{"backfill", "--account", id, "--queue-url", ""}, exitUsage, "no jobs queue"},
		{[]string{"backfill", "--account", "nobody", "--dry-run"}, exitUsage, `--account: account id "nobody": not a Meta id`},
		{[]string{"backfill", "--account", "17841499999999999", "--dry-run"}, exitFail, "no account 17841499999999999"},
		{[]string{"backfill", "--account", id, "--media", "nope", "--dry-run"}, exitFail, "no such media"},
	} {
		code, _, errs := h.run(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, want %d; stderr %q lacks %q", tc.args, code, tc.code, errs, tc.want)
		}
	}
}

// queued is the number of messages on the queue.
func queued(t *testing.T, h *opHarness, sqsc *awssqs.Client, url string) int {
	t.Helper()
	v, f, err := sqs.NewPoller(sqsc, url).Depth(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	return v + f
}

// drain runs the real replier over the queue, as the event source mapping does, until it is empty.
func drain(t *testing.T, h *opHarness, sqsc *awssqs.Client, url string) {
	t.Helper()
	old := telemetry.Stdout
	telemetry.Stdout = io.Discard // the replier's EMF lines
	defer func() { telemetry.Stdout = old }()
	toks := ssm.Tokens{Params: ssm.NewParams(ssm.NewClient(h.cfg), 0)}
	g := graph.New(graph.WithBaseURL(os.Getenv(graph.EnvURL)))
	rep := replier.New(replier.Config{TableName: h.table}, h.store, g, toks, nil, nil, nil)
	m := sqs.Mapping{Source: sqs.NewPoller(sqsc, url), Handler: rep.Handle}
	for range 20 {
		d, err := m.Once(context.WithoutCancel(h.ctx))
		if err != nil || d.Err != nil {
			t.Fatalf("deliver a batch: %v %v", err, d.Err)
		}
		if d.Received == 0 {
			return
		}
	}
	t.Fatal("the queue did not drain")
}

func TestProgressLine(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		p    reconcile.Progress
		want string
	}{
		{reconcile.Progress{}, "backfill [------------------------] 0/0 media · 0 comments · 0 to answer · 0 reads"},
		{reconcile.Progress{Done: 3, Total: 4, Found: 140, Enqueued: 12, Reads: 17},
			"backfill [##################------] 3/4 media · 140 comments · 12 to answer · 17 reads"},
		{reconcile.Progress{Done: 1, Total: 2, Reads: 13, WaitUntil: now.Add(90 * time.Second)},
			"backfill [############------------] 1/2 media · 0 comments · 0 to answer · 13 reads · waiting for the read budget (1m)"},
	}
	for _, tt := range tests {
		if got := progressLine(tt.p, now); got != tt.want {
			t.Errorf("progressLine(%+v)\n got %q\nwant %q", tt.p, got, tt.want)
		}
	}
	var b strings.Builder
	bar := newProgressBar(&b, false) // not a terminal: no bar, only the media's lines
	bar.show(reconcile.Progress{Total: 1})
	bar.show(reconcile.Progress{Total: 1, Done: 1, Media: &reconcile.MediaSummary{ID: "17900000000000801", ProductType: "REELS", Read: 3, Missing: 1,
		Outcomes: map[reconcile.Outcome]int{reconcile.OutcomeEnqueued: 1}}})
	bar.done()
	if want := "media 17900000000000801 REELS: 3 comments read, 1 without a record, 1 enqueued\n"; b.String() != want {
		t.Errorf("progress into a pipe: %q, want %q", b.String(), want)
	}
}

func TestProgressMedia(t *testing.T) {
	m := reconcile.MediaSummary{ID: "17900000000000801", ProductType: "REELS", Read: 140, Missing: 5,
		Outcomes: map[reconcile.Outcome]int{reconcile.OutcomeWouldSend: 4, reconcile.OutcomeWouldSkip: 1}}
	failed := m
	failed.Outcomes = map[reconcile.Outcome]int{reconcile.OutcomeEnqueued: 4}
	failed.Error = "comments of media 17900000000000801: HTTP 500"
	tests := []struct {
		name    string
		m       reconcile.MediaSummary
		stopped bool
		dryRun  bool
		want    string
	}{
		{"dry run", m, false, true, "media 17900000000000801 REELS: 140 comments read, 5 without a record, 4 would be sent"},
		{"failed", failed, false, false, "media 17900000000000801 REELS: 140 comments read, 5 without a record, 4 enqueued; FAILED: comments of media 17900000000000801: HTTP 500 (going on with the next media)"},
		{"stopped", failed, true, false, "media 17900000000000801 REELS: 140 comments read, 5 without a record, 4 enqueued; STOPPED: comments of media 17900000000000801: HTTP 500"},
	}
	for _, tt := range tests {
		if got := progressMedia(tt.m, tt.stopped, tt.dryRun); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
}

func TestBackfillArgs(t *testing.T) {
	for _, tt := range []struct{ args, want []string }{
		{[]string{"--account", "1", "--media", "2", "--dry-run"}, []string{"--account", "1", "--dry-run"}},
		{[]string{"--media=2", "--account", "1"}, []string{"--account", "1"}},
		{[]string{"-media", "2", "--account=1"}, []string{"--account=1"}},
		{[]string{"--account", "1"}, []string{"--account", "1"}},
	} {
		if got := backfillArgs(tt.args, "--media"); !slices.Equal(got, tt.want) {
			t.Errorf("backfillArgs(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

// TestBackfillGoesOnAndStops runs `replywindow backfill` against the sandbox and moto: a media
// Meta will not serve is marked and the others are read, exit 1 naming it and how to retry it;
// a read budget that would keep it waiting past --max-wait stops it, naming the media left and
// how to resume. Each media's line is on stderr as it is read.
func TestBackfillGoesOnAndStops(t *testing.T) {
	h := opSetup(t)
	// world is an account of its own (its own read budget) with three reels, newest first, a
	// comment each; Meta answers the comments of the middle one with a 500.
	world := func(n int) (id, newer, bad, older string) {
		id = fmt.Sprintf("1784%011d", time.Now().UnixNano()%1e11+int64(n))
		token := fmt.Sprintf("IGAAT-test-token-backfill-8%d", n)
		h.sb.AddAccount(id, token, reply.LoginInstagram, "")
		h.runStdin(token, "accounts", "put", "--file", h.accountFile("good.yaml", id), "--token-stdin")
		now := time.Now()
		var media []string
		for i := range 3 {
			m := fmt.Sprintf("179000000000%d%04d", n, i)
			media = append(media, m)
			h.sb.AddMedia(sandbox.Media{ID: m, AccountID: id, ProductType: "REELS", CreatedAt: now.Add(-time.Duration(i+1) * time.Hour)})
			h.sb.AddComment(sandbox.Comment{ID: fmt.Sprintf("178000000000%d%04d", n, i), AccountID: id, MediaID: m, FromID: fmt.Sprintf("600000000000%d%04d", n, i),
				FromName: "fan", Text: "RECIPE please", CreatedAt: now.Add(-time.Duration(i+1) * 50 * time.Minute)})
		}
		return id, media[0], media[1], media[2]
	}
	h.sb.SetFault(func(c sandbox.Call) sandbox.Fault {
		if c.Op == sandbox.OpComments && strings.HasSuffix(c.ObjectID, "0001") {
			return sandbox.ServerError(500)
		}
		return sandbox.Fault{}
	})
	tests := []struct {
		name   string
		flags  []string
		stderr func(id, newer, bad, older string) []string // in this order
		stdout []string
	}{
		{"a media fails: the others are read", []string{"--reads-per-hour", "3600"},
			func(id, newer, bad, older string) []string {
				return []string{
					"media " + newer + " REELS: 1 comments read, 1 without a record, 1 would be sent\n",
					"media " + bad + " REELS: 0 comments read, 0 without a record, 0 would be sent; FAILED: comments of media " + bad + ": graph api: HTTP 500",
					"media " + older + " REELS: 1 comments read, 1 without a record, 1 would be sent\n",
					"1 of 3 media could not be read; the others were read:",
					"retry: replywindow backfill --account " + id + " --dry-run --reads-per-hour 3600 --media " + bad,
				}
			},
			[]string{"TOTAL", "Without a record:"}},
		// 45 reads an hour, 3 at once: live_media, media and the newest media's comments; the
		// next read is 80s away, more than --max-wait.
		{"the read budget stops it", []string{"--reads-per-hour", "45", "--max-wait", "1s"},
			func(id, newer, bad, older string) []string {
				return []string{
					"media " + newer + " REELS: 1 comments read, 1 without a record, 1 would be sent\n",
					"media " + bad + " REELS: 0 comments read, 0 without a record, 0 would be sent; STOPPED: ",
					"the backfill would wait longer than it may",
					"2 media left unread: " + bad + ", " + older,
					"to resume, run after ",
					": replywindow backfill --account " + id + " --dry-run --reads-per-hour 45 --max-wait 1s\n",
				}
			},
			[]string{"TOTAL"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, newer, bad, older := world(i)
			code, out, errs := h.run(append([]string{"backfill", "--account", id, "--dry-run"}, tt.flags...)...)
			t.Logf("stderr:\n%s", errs)
			if code != exitFail {
				t.Fatalf("exit %d, want %d\n%s%s", code, exitFail, out, errs)
			}
			rest := errs
			for _, want := range tt.stderr(id, newer, bad, older) {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("stderr lacks %q (in order):\n%s", want, errs)
				}
				rest = rest[i+len(want):]
			}
			for _, want := range tt.stdout {
				if !strings.Contains(out, want) {
					t.Errorf("stdout lacks %q:\n%s", want, out)
				}
			}
		})
	}
	if code, _, errs := h.run("backfill", "--account", "17841400000000001", "--dry-run", "--max-wait", "0"); code != exitUsage || !strings.Contains(errs, "--max-wait must be positive") {
		t.Errorf("--max-wait 0: exit %d, %s", code, errs)
	}
}
