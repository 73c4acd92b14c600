package simulation

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/replywindow/replywindow/shared/cost"
	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/replier"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/sweeper"
	"github.com/replywindow/replywindow/shared/telemetry"
	"github.com/replywindow/replywindow/shared/webhook"
)

// ScaleConfig is many accounts at once: Viral of them with one viral post each, Live broadcasts
// on others, and the rest of Comments spread over the small accounts' few posts, all made
// within Day. Everything goes through the real webhook (signed deliveries, one per account and
// second), the queue, a pool of Replicas repliers (the event source's MaximumConcurrency) and
// the sweeper on its schedule, with every outside call timed by Latency.
type ScaleConfig struct {
	Start        time.Time
	Accounts     int
	Comments     int // in all
	Viral        int // accounts with a viral post
	ViralMin     int // comments on a viral post, drawn evenly from [ViralMin, ViralMax]
	ViralMax     int
	ViralArrival time.Duration // a viral post's comments arrive over [10m, ViralArrival]
	Live         int           // broadcasts, each on its own small account, an hour long
	LiveComments int           // comments per broadcast
	Day          time.Duration // every comment is made within Day of Start
	Miss         float64       // share of comments no rule matches (SKIPPED no_rule)
	Repeat       float64       // share of comments by someone who already commented on the post
	// The bundle's settings (template.yaml defaults).
	SweepInterval time.Duration
	Batch         int
	Replicas      int
	Visibility    time.Duration
	Latency       Latency
	Seed          uint64
	Horizon       time.Duration // give up after this much simulated time (default 8 days)
	// Progress, when set, gets a line every simulated hour (the full run takes a while).
	Progress func(format string, args ...any)
}

// FullScale is issue 14's scale: 1,000 accounts, 1,000,000 comments in 24 hours.
func FullScale() ScaleConfig {
	return ScaleConfig{
		Accounts: 1000, Comments: 1_000_000, Viral: 50, ViralMin: 10_000, ViralMax: 20_000,
		ViralArrival: time.Hour, Live: 5, LiveComments: 5_000, Day: 24 * time.Hour,
		Miss: 0.03, Repeat: 0.02, Seed: 14,
	}
}

// SmallScale is FullScale shrunk for make test: 50 accounts, the same shapes.
func SmallScale() ScaleConfig {
	c := FullScale()
	c.Accounts, c.Comments, c.Viral, c.ViralMin, c.ViralMax = 50, 30_000, 3, 3_000, 5_000
	c.Live, c.LiveComments = 2, 1_000
	return c
}

// TinyScale is SmallScale shrunk again for go test -short: 20 accounts, 6,000 comments.
func TinyScale() ScaleConfig {
	c := SmallScale()
	c.Accounts, c.Comments, c.Viral, c.ViralMin, c.ViralMax, c.LiveComments = 20, 6_000, 2, 1_000, 1_500, 300
	return c
}

// Scales are the presets by name.
var Scales = map[string]func() ScaleConfig{"tiny": TinyScale, "small": SmallScale, "full": FullScale}

func (c ScaleConfig) withDefaults() ScaleConfig {
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	}
	if c.Day <= 0 {
		c.Day = 24 * time.Hour
	}
	if c.ViralArrival < 10*time.Minute {
		c.ViralArrival = 10 * time.Minute
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = time.Minute
	}
	if c.Batch <= 0 {
		c.Batch = memory.MaxBatch
	}
	if c.Replicas <= 0 {
		c.Replicas = 5 // ReplierMaxConcurrency's default
	}
	if c.Visibility <= 0 {
		c.Visibility = 3 * time.Minute
	}
	if c.Latency == (Latency{}) {
		c.Latency = DefaultLatency
	}
	if c.Horizon <= 0 {
		c.Horizon = 8 * 24 * time.Hour
	}
	return c
}

// ScaleResult is what the run did, against the goals of issue 14.
type ScaleResult struct {
	Accounts, Comments int
	States             map[reply.State]int
	Reasons            map[string]int // reasons of records that did not end SENT
	Unrecorded         int            // comments without a terminal record, or not SENT without a reason
	Delivered          int            // private replies in the sandbox ledger
	Duplicates         int            // comments with more than one
	Refused            map[string]int // Meta's refusals by code

	// WorstDrain is the highest ratio of an account lane's drain (first comment to last DM) to
	// its ideal: the earliest its rate limit lets the last DM go, given when the comments came.
	WorstDrain        float64
	WorstDrainAccount string
	// SmallMedian is the median time from comment to DM on the small accounts' posts, of the
	// comments made while a viral backlog was draining.
	SmallMedian time.Duration
	SmallCount  int
	// MaxSweep is the longest sweep (modelled latency plus its own computing time) over the
	// schedule's period.
	MaxSweep         time.Duration
	MaxSweepFraction float64
	// MaxKeyWrites is the most writes one partition key (table or GSI) took in a second.
	MaxKeyWrites  int
	MaxKey        string
	Usage         Usage
	Bills         map[BillKey]Bill // Usage's DynamoDB part by item kind and operation
	MeanItemBytes float64          // of the reply records written
	SweeperRuns   int
	Drained       time.Duration // from Start to the last DM
	Wall          time.Duration // real time the run took
}

// PerComment is a count over the comments.
func (r ScaleResult) PerComment(n float64) float64 { return n / float64(r.Comments) }

// Counts is the run's usage as shared/cost prices it.
func (r ScaleResult) Counts() cost.Counts {
	c := r.Usage
	c.Comments = r.Comments
	// Events out (template default EventsEnabled=true): one PutEvents entry per record that
	// ended SENT, FAILED or AMBIGUOUS; its outbox costs the clear of the record's mark (an
	// UpdateItem billed at the record's size) and the keys-only outbox index's put and delete.
	ev := r.States[reply.StateSent] + r.States[reply.StateFailed] + r.States[reply.StateAmbiguous]
	c.Events = int64(ev)
	c.EventWriteUnits = float64(ev) * (writeUnits(int(r.MeanItemBytes), false) + 2)
	return c
}

// Cost prices the run at cost.Prices and the template's settings.
func (r ScaleResult) Cost() (cost.Estimate, error) {
	return cost.Price(r.Counts(), cost.Prices, cost.Template)
}

// Line is the one-line summary the issue asks for, with the cost of 100,000 comments.
func (r ScaleResult) Line(costPer100k float64) string {
	u := r.Usage
	lambda := float64(u.WebhookInvocations + u.ReplierInvocations + u.SweeperInvocations)
	return fmt.Sprintf("scale: accounts=%d comments=%d sent=%d worst_drain_ratio=%.3f small_median_s=%.1f max_sweep_fraction=%.3f max_key_writes_per_s=%d cost_per_100k_usd=%.2f lambda_invocations_per_comment=%.4f sqs_requests_per_comment=%.4f ddb_read_units_per_comment=%.3f ddb_write_units_per_comment=%.3f graph_calls_per_comment=%.4f log_bytes_per_comment=%.0f",
		r.Accounts, r.Comments, r.States[reply.StateSent], r.WorstDrain, r.SmallMedian.Seconds(), r.MaxSweepFraction, r.MaxKeyWrites, costPer100k,
		r.PerComment(lambda), r.PerComment(float64(u.SQSRequests)), r.PerComment(u.ReadUnits), r.PerComment(u.WriteUnits),
		r.PerComment(float64(u.GraphCalls)), r.PerComment(float64(u.LogBytes)))
}

// scaleComment is one comment of the workload.
type scaleComment struct {
	id, account, media, from, text string
	at                             time.Time
	live, viral                    bool
}

type broadcast struct {
	account, media string
	start, end     time.Time
}

// workload draws the comments, sorted by time, and the broadcasts.
func workload(cfg ScaleConfig) ([]scaleComment, []broadcast, []string) {
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5ca1e))
	accounts := make([]string, cfg.Accounts)
	for i := range accounts {
		accounts[i] = fmt.Sprintf("178414%011d", i)
	}
	var cs []scaleComment
	seq := 0
	add := func(account, media string, at time.Time, live, viral bool, people *[]string) {
		seq++
		c := scaleComment{id: fmt.Sprintf("1799%012d", seq), account: account, media: media, at: at.Truncate(time.Millisecond), live: live, viral: viral}
		if len(*people) > 0 && rng.Float64() < cfg.Repeat {
			c.from = (*people)[rng.IntN(len(*people))]
		} else {
			c.from = fmt.Sprintf("6%015d", seq) // IGSIDs are digits, as every id Meta sends
			*people = append(*people, c.from)
		}
		c.text = "RECIPE please!"
		if rng.Float64() < cfg.Miss {
			c.text = "love this"
		}
		cs = append(cs, c)
	}
	for i := 0; i < cfg.Viral && i < len(accounts); i++ {
		n := cfg.ViralMin + rng.IntN(cfg.ViralMax-cfg.ViralMin+1)
		over := 10*time.Minute + time.Duration(rng.Int64N(int64(cfg.ViralArrival-10*time.Minute)+1))
		from := cfg.Start.Add(time.Duration(rng.Int64N(int64(cfg.Day - over))))
		var people []string
		for k := range n {
			add(accounts[i], "18"+accounts[i][6:]+"0", from.Add(time.Duration(k)*over/time.Duration(n)), false, true, &people)
		}
	}
	var bs []broadcast
	for i := 0; i < cfg.Live && cfg.Viral+i < len(accounts); i++ {
		a := accounts[cfg.Viral+i]
		start := cfg.Start.Add(time.Duration(rng.Int64N(int64(cfg.Day - time.Hour))))
		b := broadcast{account: a, media: "18" + a[6:] + "9", start: start, end: start.Add(time.Hour)}
		bs = append(bs, b)
		var people []string
		for k := range cfg.LiveComments {
			add(a, b.media, start.Add(time.Second+time.Duration(k)*55*time.Minute/time.Duration(cfg.LiveComments)), true, false, &people)
		}
	}
	small := accounts[min(cfg.Viral, len(accounts)):]
	if left := cfg.Comments - len(cs); left > 0 && len(small) > 0 {
		weights := make([]float64, len(small))
		sum := 0.0
		for i := range weights {
			weights[i] = 0.5 + rng.Float64()
			sum += weights[i]
		}
		given := 0
		for i, a := range small {
			n := int(float64(left) * weights[i] / sum)
			if i == len(small)-1 {
				n = left - given
			}
			given += n
			posts := 1 + rng.IntN(3)
			for p := range posts {
				posted := cfg.Start.Add(time.Duration(rng.Int64N(int64(cfg.Day - 2*time.Hour))))
				var people []string
				for k := p; k < n; k += posts {
					// Interest in a post fades: delays are exponential, 90 minutes on average.
					at := posted.Add(time.Duration(rng.ExpFloat64() * float64(90*time.Minute)))
					if end := cfg.Start.Add(cfg.Day - time.Second); at.After(end) {
						at = end
					}
					add(a, fmt.Sprintf("18%s%d", a[6:], 1+p), at, false, false, &people)
				}
			}
		}
	}
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].at.Before(cs[j].at) })
	return cs, bs, accounts
}

// scaleSim is one scale run's world.
type scaleSim struct {
	cfg      ScaleConfig
	clock    *memory.Clock
	store    *memory.Store
	queue    *memory.Queue
	sb       *sandbox.Sandbox
	model    *model
	c        *counters
	hook     *webhook.Handler
	repliers []*replier.Replier
	sweeper  *sweeper.Sweeper
	logs     *countingWriter
	emf      *emfWriter
	seq      atomic.Int64 // invocations, for their request ids
	// Each function's invocation keys (function_request_id, cold_start) on its log lines, as
	// telemetry.Serve adds them in Lambda, so their bytes are counted.
	hookInv, replierInv, sweeperInv *telemetry.Invocation

	mu     sync.Mutex
	sentAt map[string]time.Time // first DM per comment, with the invocation's modelled latency
}

// countingWriter counts what CloudWatch Logs would ingest.
type countingWriter struct{ n atomic.Int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n.Add(int64(len(p)))
	return len(p), nil
}

// emfWriter counts the EMF lines' bytes into logs and the distinct metrics they define (name
// and dimension values): each is a custom metric CloudWatch bills by the month.
type emfWriter struct {
	logs *countingWriter

	mu      sync.Mutex
	metrics map[string]bool
}

func (w *emfWriter) Write(p []byte) (int, error) {
	w.logs.Write(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	for line := range strings.SplitSeq(strings.TrimSpace(string(p)), "\n") {
		var doc struct {
			AWS struct {
				CloudWatchMetrics []struct {
					Dimensions [][]string
					Metrics    []struct{ Name string }
				}
			} `json:"_aws"`
		}
		var values map[string]any
		if json.Unmarshal([]byte(line), &doc) != nil || json.Unmarshal([]byte(line), &values) != nil {
			continue // not EMF: CloudWatch ingests it as a log line all the same
		}
		for _, d := range doc.AWS.CloudWatchMetrics {
			id := ""
			for _, set := range d.Dimensions {
				for _, dim := range set {
					id += dim + "=" + fmt.Sprint(values[dim]) + ","
				}
			}
			for _, m := range d.Metrics {
				w.metrics[m.Name+"{"+id+"}"] = true
			}
		}
	}
	return len(p), nil
}

// platformLines writes what Lambda itself logs (when the template's system log level lets it) for one invocation of a function with JSON log
// format at the INFO system level (platform.start and platform.report), so their bytes are
// counted with the functions' own.
func platformLines(w io.Writer, seq int64, billedMs int64, memoryMB int) {
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339Nano)
	id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", seq, seq&0xffff, seq&0xfff, seq&0xfff, seq)
	fmt.Fprintf(w, `{"time":%q,"type":"platform.start","record":{"requestId":%q,"version":"$LATEST"}}`+"\n", at, id)
	fmt.Fprintf(w, `{"time":%q,"type":"platform.report","record":{"requestId":%q,"metrics":{"durationMs":%d.000,"billedDurationMs":%d,"memorySizeMB":%d,"maxMemoryUsedMB":%d},"status":"success"}}`+"\n",
		at, id, billedMs, billedMs, memoryMB, memoryMB/4)
}

// invocation is ctx as Lambda hands it to a handler: with a request id of Lambda's length.
func (s *scaleSim) invocation(ctx context.Context) context.Context {
	seq := s.seq.Load() + 1 // the id platformLines gives the same invocation
	id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", seq, seq&0xffff, seq&0xfff, seq&0xfff, seq)
	return lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: id})
}

// appSecret signs the scale run's deliveries.
const scaleSecret = "scale-app-secret"

// RunScale plays the scenario until every record is terminal or the horizon passes. It counts
// the EMF lines by pointing telemetry.Stdout at a counter for its duration, so two runs must not
// overlap.
func RunScale(ctx context.Context, cfg ScaleConfig) (ScaleResult, error) {
	began := time.Now()
	cfg = cfg.withDefaults()
	comments, broadcasts, accounts := workload(cfg)
	s := &scaleSim{cfg: cfg, clock: memory.NewClock(cfg.Start), store: memory.NewStore(), model: &model{lat: cfg.Latency},
		c: newCounters(), logs: &countingWriter{}, sentAt: make(map[string]time.Time, len(comments))}
	s.emf = &emfWriter{logs: s.logs, metrics: map[string]bool{}}
	stdout := telemetry.Stdout
	telemetry.Stdout = s.emf
	defer func() { telemetry.Stdout = stdout }()

	s.queue = memory.NewQueue(memory.QueueOptions{Clock: s.clock, Visibility: cfg.Visibility, MaxReceive: 5})
	s.sb = sandbox.New(sandbox.WithClock(s.clock.Now))
	defer s.sb.Close()
	srv := httptest.NewServer(s.sb)
	defer srv.Close()
	store := &meteredStore{Store: s.store, m: s.model, c: s.c, clock: s.clock}
	queue := &meteredQueue{q: s.queue, m: s.model, c: s.c}
	g := &meteredGraph{Graph: graph.New(graph.WithBaseURL(srv.URL)), m: s.model, c: s.c, clock: s.clock, sent: s.sent}
	for _, a := range accounts {
		token := "token-" + a
		s.sb.AddAccount(a, token, reply.LoginInstagram, "")
		acct := reply.Account{
			ID: a, Login: reply.LoginInstagram, TokenParam: "/replywindow/tokens/" + a, Version: 1,
			Rules: []reply.Rule{{Name: "recipe", Match: reply.MatchWord, Keywords: []string{"recipe"}, Message: "Here it is, {username}: https://example.com/recipe"}},
		}
		if _, err := s.store.PutAccount(ctx, acct); err != nil {
			return ScaleResult{}, fmt.Errorf("put account %s: %w", a, err)
		}
	}
	tokens := memory.Tokens{}
	for _, a := range accounts {
		tokens[a] = "token-" + a
	}
	for _, c := range comments {
		s.sb.AddComment(sandbox.Comment{ID: c.id, AccountID: c.account, MediaID: c.media, FromID: c.from, FromName: "fan", Text: c.text, CreatedAt: c.at, Live: c.live})
	}
	hookLog, hookInv := telemetry.NewFunctionLogger(s.logs, "info", "webhook")
	replierLog, replierInv := telemetry.NewFunctionLogger(s.logs, "info", "replier")
	sweeperLog, sweeperInv := telemetry.NewFunctionLogger(s.logs, "info", "sweeper")
	s.hookInv, s.replierInv, s.sweeperInv = hookInv, replierInv, sweeperInv
	wcfg := webhook.Config{QueueURL: "memory", AppSecrets: []string{scaleSecret}, VerifyToken: "scale"}
	s.hook = webhook.New(wcfg, queue, webhook.StaticSecrets{Apps: wcfg.AppSecrets, Token: wcfg.VerifyToken}, telemetry.NewMetrics("webhook"), hookLog)
	s.hook.SetClock(s.clock.Now) // deliveries carry the fake clock's times
	// Each replica is one Lambda execution environment with caches of its own.
	for range cfg.Replicas {
		s.repliers = append(s.repliers, replier.New(replier.Config{}, store, g, tokens, s.clock, telemetry.NewMetrics("replier"), replierLog))
	}
	s.sweeper = sweeper.New(sweeper.Config{Interval: cfg.SweepInterval}, store, queue, g, tokens, s.clock, telemetry.NewMetrics("sweeper"), sweeperLog)

	res := ScaleResult{Accounts: cfg.Accounts, Comments: len(comments)}
	if err := s.loop(ctx, comments, broadcasts, &res); err != nil {
		return res, err
	}
	if err := s.outcome(ctx, comments, &res); err != nil {
		return res, err
	}
	res.Bills = s.c.billed()
	res.Usage.LogBytes = s.logs.n.Load()
	res.Usage.EMFMetrics = len(s.emf.metrics)
	res.Wall = time.Since(began)
	return res, nil
}

func (s *scaleSim) sent(commentID string, at time.Time) {
	s.mu.Lock()
	if _, ok := s.sentAt[commentID]; !ok {
		s.sentAt[commentID] = at
	}
	s.mu.Unlock()
}

// loop is the discrete-event run: arrivals (one delivery per account and second), the replier
// pool taking batches as each replica comes free, the schedule, broadcasts starting.
func (s *scaleSim) loop(ctx context.Context, comments []scaleComment, bs []broadcast, res *ScaleResult) error {
	cfg := s.cfg
	free := make([]time.Time, len(s.repliers)) // when each replica's current invocation ends
	next, nextBroadcast := 0, 0
	sort.Slice(bs, func(i, j int) bool { return bs[i].start.Before(bs[j].start) })
	nextSweep := cfg.Start.Add(cfg.SweepInterval)
	end := cfg.Start.Add(cfg.Horizon)
	began, nextReport := time.Now(), cfg.Start.Add(time.Hour)
	for now := cfg.Start; !now.After(end); {
		s.clock.Set(now)
		if cfg.Progress != nil && !now.Before(nextReport) {
			s.mu.Lock()
			sent := len(s.sentAt)
			s.mu.Unlock()
			cfg.Progress("%s simulated: %d of %d comments made, %d answered, %d on the queue; %s real time",
				now.Sub(cfg.Start), next, len(comments), sent, s.queue.Len(), time.Since(began).Round(time.Second))
			nextReport = nextReport.Add(time.Hour)
		}
		for nextBroadcast < len(bs) && !bs[nextBroadcast].start.After(now) {
			b := bs[nextBroadcast]
			s.sb.StartBroadcast(b.account, b.media)
			s.sb.EndBroadcastAt(b.media, b.end)
			nextBroadcast++
		}
		var arrived []scaleComment
		for next < len(comments) && !comments[next].at.After(now) {
			arrived = append(arrived, comments[next])
			next++
		}
		if err := s.deliver(ctx, arrived, now); err != nil {
			return err
		}
		if !now.Before(nextSweep) {
			if err := s.sweep(ctx, now, res); err != nil {
				return err
			}
			nextSweep = nextSweep.Add(cfg.SweepInterval)
		}
		if err := s.invoke(ctx, now, free); err != nil {
			return err
		}
		if next == len(comments) && s.queue.Len() == 0 {
			pending, _, err := s.store.Due(ctx, end.Add(reply.Window), "", 1)
			if err != nil {
				return fmt.Errorf("due: %w", err)
			}
			if len(pending) == 0 {
				return nil // every record is terminal
			}
		}
		// The next thing that happens: an arrival (the webhook's second), a broadcast, the
		// schedule, a replica coming free while messages wait, a message becoming visible.
		step := nextSweep
		if next < len(comments) {
			step = minTime(step, maxTime(comments[next].at.Truncate(time.Second), now.Add(time.Second)))
		}
		if nextBroadcast < len(bs) {
			step = minTime(step, maxTime(bs[nextBroadcast].start, now.Add(time.Millisecond)))
		}
		counts := s.queue.Counts()
		if counts.Visible > 0 {
			soonest := free[0]
			for _, f := range free[1:] {
				soonest = minTime(soonest, f)
			}
			step = minTime(step, maxTime(soonest, now.Add(time.Millisecond)))
		}
		if nv := counts.NextVisible; !nv.IsZero() {
			step = minTime(step, maxTime(nv, now.Add(time.Millisecond)))
		}
		now = step
	}
	return nil
}

// deliver posts the arrived comments to the webhook as Meta does: one signed delivery per
// account, each an invocation behind one API Gateway request.
func (s *scaleSim) deliver(ctx context.Context, arrived []scaleComment, now time.Time) error {
	byAccount := map[string][]scaleComment{}
	var order []string
	for _, c := range arrived {
		if _, ok := byAccount[c.account]; !ok {
			order = append(order, c.account)
		}
		byAccount[c.account] = append(byAccount[c.account], c)
	}
	for _, a := range order {
		cs := byAccount[a]
		for len(cs) > 0 {
			n := min(len(cs), 1000) // Meta's most per delivery
			body := payload(a, cs[:n], now)
			cs = cs[n:]
			req := events.APIGatewayV2HTTPRequest{
				Version: "2.0", RouteKey: "$default", RawPath: webhook.Path,
				Headers: map[string]string{"content-type": "application/json", "x-hub-signature-256": webhook.Sign(body, scaleSecret)},
				Body:    string(body),
				RequestContext: events.APIGatewayV2HTTPRequestContext{
					Stage: "$default", HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: http.MethodPost, Path: webhook.Path},
				},
			}
			mctx, m := withMeter(ctx)
			t0 := time.Now()
			resp, err := telemetry.Serve(s.hookInv, s.hook.Handle)(s.invocation(mctx), req)
			if err != nil || resp.StatusCode != http.StatusOK {
				return fmt.Errorf("webhook at %s: status %d: %v", now.Format(time.RFC3339), resp.StatusCode, err)
			}
			ms := billedMs(m.elapsed() + time.Since(t0))
			if cost.Template.PlatformLogs {
				platformLines(s.logs, s.seq.Add(1), ms, cost.Template.WebhookMB)
			}
			s.c.add(func(u *Usage) {
				u.WebhookInvocations++
				u.WebhookBilledMs += ms
				u.APIRequests += int64(1 + len(body)/(512<<10))
			})
		}
	}
	return nil
}

// billedMs is Lambda's billed duration: rounded up to the millisecond.
func billedMs(d time.Duration) int64 { return int64(math.Ceil(float64(d) / float64(time.Millisecond))) }

// payload is Meta's delivery body for one account's comments.
func payload(account string, cs []scaleComment, sent time.Time) []byte {
	type from struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	}
	type media struct {
		ID               string `json:"id"`
		MediaProductType string `json:"media_product_type,omitempty"`
	}
	type value struct {
		ID    string `json:"id"`
		Text  string `json:"text"`
		From  from   `json:"from"`
		Media media  `json:"media"`
	}
	type change struct {
		Field string `json:"field"`
		Value value  `json:"value"`
	}
	type entry struct {
		ID      string   `json:"id"`
		Time    int64    `json:"time"`
		Changes []change `json:"changes"`
	}
	e := entry{ID: account, Time: sent.Unix()}
	for _, c := range cs {
		field, product := "comments", "REELS"
		if c.live {
			field, product = "live_comments", "LIVE"
		}
		e.Changes = append(e.Changes, change{Field: field, Value: value{
			ID: c.id, Text: c.text, From: from{ID: c.from, Username: "fan"}, Media: media{ID: c.media, MediaProductType: product},
		}})
	}
	body, _ := json.Marshal(map[string]any{"object": "instagram", "entry": []entry{e}})
	return body
}

// invoke starts an invocation on every free replica while messages are visible, as the event
// source does up to its MaximumConcurrency. A replica is busy for the invocation's modelled
// time; its writes land at the invocation's start on the fake clock.
func (s *scaleSim) invoke(ctx context.Context, now time.Time, free []time.Time) error {
	for i, rp := range s.repliers {
		if free[i].After(now) {
			continue
		}
		msgs, err := s.queue.Receive(ctx, s.cfg.Batch, 0)
		if err != nil {
			return fmt.Errorf("receive: %w", err)
		}
		if len(msgs) == 0 {
			return nil
		}
		mctx, m := withMeter(ctx)
		s.model.charge(mctx, s.model.lat.SQSReceive)
		t0 := time.Now()
		out, err := telemetry.Serve(s.replierInv, rp.Handle)(s.invocation(mctx), events.SQSEvent{Records: msgs})
		if err != nil {
			return fmt.Errorf("replier: %w", err)
		}
		// The batch's jobs run Concurrency at a time: the modelled time of all of them over that.
		took := m.elapsed()/time.Duration(min(len(msgs), replier.DefaultConcurrency)) + time.Since(t0)
		free[i] = now.Add(took)
		if err := s.queue.Delete(ctx, acked(msgs, out)...); err != nil {
			return fmt.Errorf("delete: %w", err)
		}
		ms := billedMs(took)
		if cost.Template.PlatformLogs {
			platformLines(s.logs, s.seq.Add(1), ms, cost.Template.ReplierMB)
		}
		s.c.add(func(u *Usage) {
			u.ReplierInvocations++
			u.ReplierBilledMs += ms
			// The event source's ReceiveMessage and DeleteMessageBatch.
			u.SQSRequests += 2
		})
	}
	return nil
}

// sweep is one scheduled run of the sweeper function.
func (s *scaleSim) sweep(ctx context.Context, now time.Time, res *ScaleResult) error {
	mctx, m := withMeter(ctx)
	t0 := time.Now()
	err := telemetry.ServeErr(s.sweeperInv, s.sweeper.Handle)(s.invocation(mctx), events.EventBridgeEvent{ID: fmt.Sprintf("sweep-%d", res.SweeperRuns), Time: now})
	if err != nil {
		return fmt.Errorf("sweep at %s: %w", now.Format(time.RFC3339), err)
	}
	// Conservative: the run's calls one after another, though its workers overlap them.
	took := m.elapsed() + time.Since(t0)
	res.SweeperRuns++
	if took > res.MaxSweep {
		res.MaxSweep = took
		res.MaxSweepFraction = float64(took) / float64(s.cfg.SweepInterval)
	}
	ms := billedMs(took)
	if cost.Template.PlatformLogs {
		platformLines(s.logs, s.seq.Add(1), ms, cost.Template.SweeperMB)
	}
	s.c.add(func(u *Usage) {
		u.SweeperInvocations++
		u.SweeperBilledMs += ms
	})
	return nil
}

// outcome reads the records, the ledger and the counters into res.
func (s *scaleSim) outcome(ctx context.Context, comments []scaleComment, res *ScaleResult) error {
	res.States, res.Reasons = map[reply.State]int{}, map[string]int{}
	for _, c := range comments {
		r, err := s.store.ByComment(ctx, c.id)
		switch {
		case err != nil || !r.State.Terminal():
			res.Unrecorded++
			continue
		case r.State != reply.StateSent && r.Reason == "":
			res.Unrecorded++
		case r.State != reply.StateSent:
			res.Reasons[string(r.State)+":"+r.Reason]++
		}
		res.States[r.State]++
		res.Usage.StoredBytes += storedBytes(r)
	}
	per := map[string]int{}
	var last time.Time
	for _, d := range s.sb.Deliveries() {
		per[d.CommentID]++
		if per[d.CommentID] == 2 {
			res.Duplicates++
		}
		last = maxTime(last, d.At)
	}
	res.Delivered = len(per)
	res.Refused = s.sb.Stats().Refused
	if !last.IsZero() {
		res.Drained = last.Sub(s.cfg.Start)
	}
	s.c.mu.Lock()
	stored := res.Usage.StoredBytes
	res.Usage = s.c.u
	res.Usage.StoredBytes = stored
	res.MaxKeyWrites, res.MaxKey = s.c.maxKeyWrites, s.c.maxKey
	if s.c.items > 0 {
		res.MeanItemBytes = s.c.itemBytes / s.c.items
	}
	s.c.mu.Unlock()
	s.drainRatios(comments, res)
	return nil
}

// storedBytes is what a comment's items take in the table as DynamoDB bills storage (100 bytes
// of overhead per item and index entry): the record, its IndexComment entry (keys only; only a
// record not keyed by its comment has one) and the funnel guard it holds.
func storedBytes(r reply.Record) int64 {
	n := int64(recordBytes(r) + 100)
	if r.Key != reply.CommentKey(r.CommentID) {
		n += int64(len(r.Key) + len(r.CommentID) + 100)
	}
	if r.Funnel != "" {
		n += int64(len(r.Funnel) + len(r.CommentID) + 40 + 100)
	}
	return n
}

// drainRatios compares each account lane's drain with the fastest its limit allows, and finds
// the small accounts' median wait while viral backlogs drain.
func (s *scaleSim) drainRatios(comments []scaleComment, res *ScaleResult) {
	type lane struct {
		arrivals []time.Time
		last     time.Time
		live     bool
	}
	lanes := map[string]*lane{}
	var viralFrom, viralTo time.Time
	for _, c := range comments {
		at, ok := s.sentAt[c.id]
		if !ok {
			continue
		}
		k := c.account + "#" + fmt.Sprint(c.live)
		l := lanes[k]
		if l == nil {
			l = &lane{live: c.live}
			lanes[k] = l
		}
		l.arrivals = append(l.arrivals, c.at)
		l.last = maxTime(l.last, at)
		if c.viral {
			if viralFrom.IsZero() || c.at.Before(viralFrom) {
				viralFrom = c.at
			}
			viralTo = maxTime(viralTo, at)
		}
	}
	for k, l := range lanes {
		lim := reply.DefaultPostsLimit
		if l.live {
			lim = reply.DefaultLiveLimit
		}
		gap := lim.Period / time.Duration(lim.Count)
		// The fluid bound: the comments from the j-th on need (n-1-j) gaps after the j-th came.
		n := len(l.arrivals)
		ideal := l.arrivals[0]
		for j, a := range l.arrivals {
			ideal = maxTime(ideal, a.Add(time.Duration(n-1-j)*gap))
		}
		span := max(ideal.Sub(l.arrivals[0]), gap)
		if r := float64(l.last.Sub(l.arrivals[0])) / float64(span); r > res.WorstDrain {
			res.WorstDrain, res.WorstDrainAccount = r, strings.TrimSuffix(strings.TrimSuffix(k, "#false"), "#true")
		}
	}
	var waits []time.Duration
	for _, c := range comments {
		at, ok := s.sentAt[c.id]
		if !ok || c.viral || c.live || c.at.Before(viralFrom) || c.at.After(viralTo) {
			continue
		}
		waits = append(waits, at.Sub(c.at))
	}
	sort.Slice(waits, func(i, j int) bool { return waits[i] < waits[j] })
	res.SmallCount = len(waits)
	if len(waits) > 0 {
		res.SmallMedian = waits[len(waits)/2]
	}
}
