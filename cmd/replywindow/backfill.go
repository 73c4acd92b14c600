package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/replywindow/replywindow/shared/reconcile"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sqs"
)

func init() {
	commands["backfill"] = command{summary: "answer the comments made before an account was connected, inside their window", run: runBackfill}
}

func runBackfill(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("backfill", "--account ID [--since 72h] [--media ID] [--dry-run] [--json]", `  # what would be sent for the last three days, without sending anything
  replywindow backfill --account 17841400000000001 --since 72h --dry-run

  # answer every comment of the window (7 days) that has no record yet
  replywindow backfill --account 17841400000000001

  # one post, also one older than the window (its comments of the last 7 days)
  replywindow backfill --account 17841400000000001 --media 17900000000000001 --json

Comments go to the jobs queue like the webhook's: the replier answers them under the account's
rate limits and rules, one reply per comment, so running it twice sends nothing new. Each media's
line goes to stderr as it is read. A media Meta will not serve is marked and the others are read
(exit 1, naming it: retry it with --media). When the account's read budget is spent, the backfill
waits for it, at most --max-wait in all; then it stops, naming the media left (exit 1): run it
again later, and what it enqueued already is not sent twice.
`, stdout, stderr)
	account := c.idFlag("account", "account", "account `ID` whose comments are read (its token is read from SSM)", true)
	window := c.spanFlag("since", "7d", "how far back comments are read (`duration`: 72h, 3d; at most the 7-day window)")
	media := c.fs.String("media", "", "read only this media `ID`")
	dryRun := c.fs.Bool("dry-run", false, "list what would be sent; enqueue nothing")
	asJSON := c.fs.Bool("json", false, "print JSON (progress still goes to stderr)")
	perHour := c.fs.Int("reads-per-hour", reconcile.DefaultReadLimit.Count, "the account's Graph read budget (`n` per hour), shared with the sweeper's reconciliation")
	maxWait := c.fs.Duration("max-wait", 10*time.Minute, "the most the backfill waits for the read budget, in all (`duration`); then it stops, saying what is left")
	queueURL := c.fs.String("queue-url", c.getenv("QUEUE_URL"), "jobs queue `url`; $QUEUE_URL when not given")
	c.tableFlag()
	c.graphFlag()
	st, code, ok := c.open(ctx, args, func() error {
		switch {
		case *window > reply.Window:
			return opUsagef("--since %s: comments older than %s can no longer get a private reply", opSpan(*window), opSpan(reply.Window))
		case *perHour < 1:
			return opUsagef("--reads-per-hour must be positive")
		case *maxWait <= 0:
			return opUsagef("--max-wait must be positive (it bounds the waits for the read budget)")
		case *queueURL == "" && !*dryRun:
			return opUsagef("no jobs queue: set QUEUE_URL or pass --queue-url (or --dry-run)")
		}
		return nil
	})
	if !ok {
		return code
	}
	client, store, cfg := st.graph, st.store, st.cfg
	var queue reply.Queue = refusingQueue{}
	if !*dryRun {
		queue = sqs.NewQueue(awssqs.NewFromConfig(cfg), *queueURL)
	}
	// The burst as the sweeper's default budget has it (a fifteenth): reads are spent when taken.
	rcfg := reconcile.Config{ReadLimit: reply.Limit{Count: *perHour, Period: time.Hour, Burst: max(*perHour/15, 1)}}
	r := reconcile.New(rcfg, store, queue, client, c.tokens(cfg), reply.SystemClock{}, nil, c.logger())
	bar := newProgressBar(stderr, *dryRun)
	res, err := r.Backfill(ctx, *account, reconcile.BackfillOptions{Since: *window, Media: *media, DryRun: *dryRun, MaxWait: *maxWait, Progress: bar.show})
	bar.done()
	if errors.Is(err, reply.ErrNotFound) {
		return c.fail(fmt.Errorf("no account %s (add it first: replywindow accounts put --file account.yaml --token-stdin)", *account))
	}
	if *asJSON {
		if jerr := opJSON(stdout, res); jerr != nil && err == nil {
			err = jerr
		}
	} else if len(res.Media) > 0 || err == nil {
		printBackfill(stdout, res)
	}
	if err != nil {
		return c.fail(backfillError(res, err, args))
	}
	return exitOK
}

// backfillError says what a backfill that did not finish left undone and how to do it: the
// media that failed, each to retry with --media; or, when it stopped, the media left and when
// to run it again.
func backfillError(res reconcile.BackfillResult, err error, args []string) error {
	switch {
	case len(res.Left) > 0 || errors.Is(err, reconcile.ErrWaitTooLong):
		when, left := "", "no media read yet"
		if !res.ResumeAt.IsZero() {
			when = fmt.Sprintf(" after %s, when the read budget has reads again (or raise --max-wait)", res.ResumeAt.UTC().Format("15:04:05 UTC"))
		}
		if len(res.Left) > 0 {
			left = fmt.Sprintf("%d media left unread: %s", len(res.Left), strings.Join(res.Left, ", "))
		}
		return fmt.Errorf("%w\n%s\nto resume, run%s: replywindow backfill %s\n(comments enqueued so far have their records: nothing is sent twice)",
			err, left, when, strings.Join(args, " "))
	case errors.Is(err, reconcile.ErrMediaFailed):
		again := "replywindow backfill " + strings.Join(backfillArgs(args, "--media"), " ")
		var b strings.Builder
		fmt.Fprintf(&b, "%d of %d media could not be read; the others were read:", len(res.Failed), len(res.Media))
		for _, m := range res.Media {
			if m.Error != "" {
				fmt.Fprintf(&b, "\n  %s: %s\n    retry: %s --media %s", m.ID, m.Error, again, m.ID)
			}
		}
		return errors.New(b.String())
	}
	return err
}

// backfillArgs is the command line without the flag drop (and its value): the same backfill,
// to be run again.
func backfillArgs(args []string, drop string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if strings.HasPrefix(a, "-") && "--"+name == drop {
			if !hasValue {
				i++
			}
			continue
		}
		out = append(out, a)
	}
	return out
}

// refusingQueue is the dry run's queue: a dry run that tried to enqueue would be a bug.
type refusingQueue struct{}

func (refusingQueue) Enqueue(context.Context, []reply.Job) error {
	return errors.New("dry run: nothing may be enqueued")
}

func printBackfill(w io.Writer, res reconcile.BackfillResult) {
	mode := ""
	if res.DryRun {
		mode = " (dry run: nothing sent)"
	}
	fmt.Fprintf(w, "account %s: comments made since %s%s\n\n", res.Account, res.Since.UTC().Format("2006-01-02 15:04 UTC"), mode)
	last := []string{"ENQUEUED"}
	outs := []reconcile.Outcome{reconcile.OutcomeEnqueued}
	if res.DryRun {
		last, outs = []string{"WOULD SEND", "WOULD SKIP"}, []reconcile.Outcome{reconcile.OutcomeWouldSend, reconcile.OutcomeWouldSkip}
	}
	outs = append([]reconcile.Outcome{reconcile.OutcomeKnown, reconcile.OutcomeOwn, reconcile.OutcomeYoung}, outs...)
	header := append([]string{"MEDIA", "TYPE", "POSTED", "COMMENTS", "ANSWERED BEFORE", "OWN", "TOO YOUNG"}, last...)
	var rows [][]string
	totals := make([]int, len(outs))
	count := 0
	now := time.Now()
	for _, m := range res.Media {
		row := []string{m.ID, opOr(m.ProductType), opWhen(m.CreatedAt, now), strconv.Itoa(m.Count)}
		count += m.Count
		if m.ProductType == "LIVE" {
			row[2], row[3] = "on air", "-" // Meta counts no comments on a broadcast
		}
		for i, o := range outs {
			row = append(row, strconv.Itoa(m.Outcomes[o]))
			totals[i] += m.Outcomes[o]
		}
		rows = append(rows, row)
	}
	total := []string{"TOTAL", "", "", strconv.Itoa(count)}
	for _, n := range totals {
		total = append(total, strconv.Itoa(n))
	}
	_ = opTable(w, header, append(rows, total))
	if res.DryRun && len(res.Found) > 0 {
		fmt.Fprintln(w, "\nWithout a record:")
		var list [][]string
		for _, f := range res.Found {
			j := f.Job
			list = append(list, []string{j.CommentID, j.MediaID, opWhen(j.CommentedAt, now), opOr(j.FromUsername), string(f.Outcome), opOr(f.Rule), strconv.Quote(j.Text)})
		}
		_ = opTable(w, []string{"COMMENT", "MEDIA", "MADE", "FROM", "OUTCOME", "RULE", "TEXT"}, list)
	}
	rep := res.Report
	perFound := ""
	if n := len(res.Found); n > 0 {
		perFound = fmt.Sprintf(", %.1f per comment without a record", float64(rep.Calls)/float64(n))
	}
	fmt.Fprintf(w, "\n%d Graph read(s)%s.\n", rep.Calls, perFound)
	switch {
	case res.DryRun:
		fmt.Fprintf(w, "Nothing was sent. Without --dry-run, %d comment(s) go to the replier (%d would get a private reply).\n",
			len(res.Found), res.Total(reconcile.OutcomeWouldSend))
	default:
		fmt.Fprintf(w, "%d comment(s) enqueued: the replier answers each once, under the account's rules and rate limits.\n", rep.Reconciled)
	}
}

// progressBar tells a backfill's progress: a line for each media as it is read, wherever w goes;
// on a terminal also a bar redrawn in place below them.
type progressBar struct {
	w        io.Writer
	terminal bool
	dryRun   bool
	drawn    bool
}

func newProgressBar(w io.Writer, dryRun bool) *progressBar {
	b := &progressBar{w: w, dryRun: dryRun}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			b.terminal = true
		}
	}
	return b
}

func (b *progressBar) show(p reconcile.Progress) {
	if b.terminal {
		fmt.Fprint(b.w, "\r\033[K")
	}
	if p.Media != nil {
		fmt.Fprintln(b.w, progressMedia(*p.Media, p.Stopped, b.dryRun))
	}
	if b.terminal {
		fmt.Fprint(b.w, progressLine(p, time.Now()))
		b.drawn = true
	}
}

// progressMedia is one media's line: the comments read in the backfill's span, those without a
// record, and those enqueued (dry run: that would be sent); or why it failed.
func progressMedia(m reconcile.MediaSummary, stopped, dryRun bool) string {
	verb := "enqueued"
	if dryRun {
		verb = "would be sent"
	}
	s := fmt.Sprintf("media %s %s: %d comments read, %d without a record, %d %s", m.ID, opOr(m.ProductType), m.Read, m.Missing, m.Enqueued(), verb)
	switch {
	case m.Error != "" && stopped:
		s += "; STOPPED: " + m.Error
	case m.Error != "":
		s += "; FAILED: " + m.Error + " (going on with the next media)"
	}
	return s
}

func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

// progressLine is the bar's text: media read of media to read, what was found, the reads spent.
func progressLine(p reconcile.Progress, now time.Time) string {
	const width = 24
	filled := 0
	if p.Total > 0 {
		filled = p.Done * width / p.Total
	}
	s := fmt.Sprintf("backfill [%s%s] %d/%d media · %d comments · %d to answer · %d reads",
		strings.Repeat("#", filled), strings.Repeat("-", width-filled), p.Done, p.Total, p.Found, p.Enqueued, p.Reads)
	if !p.WaitUntil.IsZero() {
		s += fmt.Sprintf(" · waiting for the read budget (%s)", opSpan(p.WaitUntil.Sub(now)))
	}
	return s
}
