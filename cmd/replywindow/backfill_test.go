package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
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
		{[]string{"backfill", "--account", "nobody", "--dry-run"}, exitFail, "no account nobody"},
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
	bar := newProgressBar(&b) // not a terminal: draws nothing
	bar.show(reconcile.Progress{Total: 1})
	bar.done()
	if b.Len() != 0 {
		t.Errorf("progress bar drawn into a pipe: %q", b.String())
	}
}
