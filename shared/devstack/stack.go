// Package devstack runs the whole replywindow pipeline in one process on 127.0.0.1, as
// `replywindow dev` and `replywindow demo` do: the real webhook handler behind net/http (through
// an API Gateway v2 adapter), a queue feeding the real replier handler the way Lambda's event
// source mapping does, the real sweeper on a ticker with its chores (reconciliation on every
// sweep), a store, and the Graph API sandbox on its own loopback port reached through the Graph
// client's base URL. By default everything is embedded
// (memory store and queue, sandbox, a demo account) so it runs with nothing but Go; Config
// switches the store to DynamoDB, the queue to SQS (moto or AWS) and Graph to another URL.
package devstack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reconcile"
	"github.com/replywindow/replywindow/shared/replier"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/sqs"
	"github.com/replywindow/replywindow/shared/sweeper"
	"github.com/replywindow/replywindow/shared/telemetry"
	"github.com/replywindow/replywindow/shared/webhook"
)

// Embedded defaults: a local app secret and verify token, one demo account with a sandbox token.
// They exist only on this machine and in the sandbox; none is a real credential.
const (
	DefaultAppSecret   = "replywindow-local-app-secret"
	DefaultVerifyToken = "replywindow-local-verify-token"
	DemoAccountID      = "17841400000000001"
	DemoUsername       = "bakery.example"
	DemoToken          = "sbx-local-demo-token"
	DemoLiveMedia      = "17900000000000099" // the demo account's broadcast, live while the stack runs
	DefaultAddr        = "127.0.0.1:8080"
)

// DemoAccounts is cmd/replywindow/account.example.yaml as `accounts put` stores it, for the
// stacks that cannot read the file (replywindow dev, this package's tests, the functions' e2e
// test): `replywindow demo` loads the file itself, and a test in cmd/replywindow holds this
// copy equal to it. Its rules: "recipe" (a button, a follow-gated step "link": the link and a
// heart), "sourdough" (a step "intro": an image and a button; its own step "link"), "live-link"
// on Live; its DM rules: "price" and "hours".
func DemoAccounts() []reply.Account {
	return []reply.Account{{
		ID: DemoAccountID, Username: DemoUsername, Login: reply.LoginInstagram,
		TokenParam: "/replywindow/tokens/" + DemoAccountID, // the template's TokenPathPrefix
		Rules: []reply.Rule{
			{Name: "recipe", Match: reply.MatchWord, Keywords: []string{"recipe", "recette", "receta"}, Exclude: []string{"spam"},
				Kinds:         []reply.Kind{reply.KindReel, reply.KindPost},
				Message:       "Hi @{username}! Tap the button and the recipe is yours.",
				Disclose:      true,
				PublicReplies: []string{"Sent you a DM!", "Check your inbox 📬"},
				Buttons:       []reply.Button{{Type: reply.ButtonPostback, Title: "Send me the link", Payload: DemoPayload}},
				Flow: []reply.Step{{Name: "link", On: reply.Trigger{Payload: DemoPayload},
					Gate:     &reply.Gate{Message: reply.Message{Text: "Follow us, then tap the button again 💛"}, Unavailable: reply.GateAsk},
					Messages: []reply.Message{{Text: "Here is the recipe, {username}: https://bakery.example/recipe"}, {Kind: reply.MessageHeart}}}}},
			{Name: "sourdough", Match: reply.MatchWord, Keywords: []string{"sourdough", "levain"},
				Kinds:    []reply.Kind{reply.KindReel, reply.KindPost},
				Message:  "Hi @{username}! The sourdough guide is a tap away.",
				Disclose: true,
				Buttons:  []reply.Button{{Type: reply.ButtonPostback, Title: "Show me", Payload: "SOURDOUGH_START"}},
				Flow: []reply.Step{
					{Name: "intro", On: reply.Trigger{Payload: "SOURDOUGH_START"}, Messages: []reply.Message{
						{Kind: reply.MessageImage, URL: "https://bakery.example/sourdough.jpg"},
						{Text: "Three days, four ingredients. Want the guide?",
							Buttons: []reply.Button{{Type: reply.ButtonPostback, Title: "Send me the guide", Payload: "SOURDOUGH_LINK"}}}}},
					{Name: "link", On: reply.Trigger{Payload: "SOURDOUGH_LINK"}, Messages: []reply.Message{
						{Text: "Here is the sourdough guide, {username}: https://bakery.example/sourdough"}}}}},
			{Name: "book", Match: reply.MatchWord, Keywords: []string{"book", "livre"}, Kinds: []reply.Kind{reply.KindReel, reply.KindPost},
				Message: "Hi @{username}! Our recipe book: https://bakery.example/book",
				Variants: []reply.Variant{{Name: "A", Weight: 1},
					{Name: "B", Weight: 1, Message: "@{username}, 60 recipes in one book: https://bakery.example/book?v=b"}}},
			{Name: "live-link", Match: reply.MatchContains, Keywords: []string{"link"}, Kinds: []reply.Kind{reply.KindLive},
				Message: "Here's the link from the live: https://bakery.example/live", Tracking: &reply.Tracking{Enabled: &demoTracked}},
		},
		Disclosure: "This is an automated reply.",
		Limits:     map[reply.Lane]reply.Limit{reply.LanePosts: {Count: 600, Period: time.Hour}},
		DMRules: []reply.DMRule{
			{Name: "price", Match: reply.MatchWord, Keywords: []string{"price", "prix", "precio"}, Stories: true,
				Messages: []reply.Message{{Text: "Our recipe book is 12 €: https://bakery.example/book", Buttons: demoSampleButtons}},
				Flow:     demoSampleFlow()},
			{Name: "hours", Match: reply.MatchWord, Keywords: []string{"hours", "open", "horaires", "horario"},
				Messages: []reply.Message{{Text: "We're open Tuesday to Sunday, 7:00 to 19:00: https://bakery.example/visit"}}},
		},
		HumanPause: 24 * time.Hour, DisclosureLapse: 24 * time.Hour,
		MentionRules: []reply.MentionRule{{Name: "mention", Every: 24 * time.Hour, Messages: []reply.Message{
			{Text: "Thanks for the mention! 💛 Show this DM in the shop for a free pastry: https://bakery.example/thanks"}}}},
		RefRules: []reply.RefRule{{Name: "shop-qr", Ref: "menu-*", Messages: []reply.Message{
			{Text: "Welcome from the shop! Today's menu: https://bakery.example/menu"}}}},
		IceBreakers: []reply.IceBreaker{{Question: "Can I have today's recipe?", Payload: DemoPayload},
			{Question: "How do I start a sourdough?", Payload: "SOURDOUGH_START"}},
		PersistentMenu: []reply.MenuItem{{Type: reply.ButtonPostback, Title: "Sourdough guide", Payload: "SOURDOUGH_START"},
			{Type: reply.ButtonURL, Title: "Visit the shop", URL: "https://bakery.example/visit"}},
		Leads:   demoLeadSettings,
		Version: 1,
	}}
}

// DemoPayload is the payload of the "recipe" rule's button: its tap runs the step "link".
const DemoPayload = "RECIPE_LINK"

// Config says which parts are embedded and which are real.
type Config struct {
	Addr        string // the webhook's listen address; DefaultAddr when empty, "127.0.0.1:0" picks a port
	SandboxAddr string // the sandbox's listen address; "127.0.0.1:0" when empty
	// GraphAPIURL is the Graph API to call (GRAPH_API_URL); empty serves the embedded sandbox.
	GraphAPIURL string
	Tokens      map[string]string // account id → access token; the demo token when nil
	// AWS, with TableName and/or QueueURL, puts the store in DynamoDB and/or the queue in SQS
	// (AWS_ENDPOINT_URL points the config at moto or leaves it on AWS).
	AWS       *aws.Config
	TableName string
	QueueURL  string
	Create    bool // create the table and the queue when missing (local emulators)
	// Accounts are stored at start unless an account of the id is already there; DemoAccounts
	// when nil.
	Accounts    []reply.Account
	AppSecret   string        // DefaultAppSecret when empty
	VerifyToken string        // DefaultVerifyToken when empty
	SweepEvery  time.Duration // 5 s when zero
	Visibility  time.Duration // memory queue's visibility timeout; 30 s when zero
	MaxReceive  int           // memory queue's maxReceiveCount; 5 when zero
	BatchSize   int           // event source mapping batch size; 10 when zero
	// Progress receives one human line per delivery, decision and sweep that moved something.
	Progress io.Writer
	// Log receives the services' JSON logs; none when nil.
	Log slog.Handler
}

// Stack is a running local pipeline.
type Stack struct {
	URL        string // base URL of the webhook server, e.g. http://127.0.0.1:8080
	WebhookURL string // URL + "/webhook": where Meta (or the demo) posts
	SandboxURL string // the sandbox's base URL; "" with a real Graph API
	Store      reply.Store
	Sandbox    *sandbox.Sandbox // nil with a real Graph API
	Events     *memory.Bus      // the funnel events the stack published (an in-memory bus)
	AppSecret  string
	Verify     string

	mem     *memory.Queue
	poller  *sqs.Poller
	metrics struct{ webhook, replier, sweeper *telemetry.Metrics }
	servers []*http.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	sweeps  atomic.Int64
	batches atomic.Int64
	started time.Time
	links   linkStack // the click route of tracked links (links.go)
}

// Start builds and starts the stack; Close stops it.
func Start(ctx context.Context, cfg Config) (*Stack, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.SandboxAddr == "" {
		cfg.SandboxAddr = "127.0.0.1:0"
	}
	if cfg.AppSecret == "" {
		cfg.AppSecret = DefaultAppSecret
	}
	if cfg.VerifyToken == "" {
		cfg.VerifyToken = DefaultVerifyToken
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = 5 * time.Second
	}
	if cfg.Visibility <= 0 {
		cfg.Visibility = 30 * time.Second
	}
	if cfg.MaxReceive <= 0 {
		cfg.MaxReceive = 5
	}
	if cfg.BatchSize <= 0 || cfg.BatchSize > 10 {
		cfg.BatchSize = 10
	}
	if cfg.Accounts == nil {
		cfg.Accounts = DemoAccounts()
	}
	if cfg.Tokens == nil {
		cfg.Tokens = map[string]string{DemoAccountID: DemoToken}
	}
	if (cfg.TableName != "" || cfg.QueueURL != "") && cfg.AWS == nil {
		return nil, errors.New("devstack: TABLE_NAME or QUEUE_URL needs an AWS config")
	}
	if err := CheckExposure(cfg); err != nil {
		return nil, err
	}
	s := &Stack{AppSecret: cfg.AppSecret, Verify: cfg.VerifyToken, started: time.Now()}
	s.metrics.webhook = telemetry.NewMetrics("webhook")
	s.metrics.replier = telemetry.NewMetrics("replier")
	s.metrics.sweeper = telemetry.NewMetrics("sweeper")
	log := slog.New(newProgress(cfg.Progress, cfg.Log))
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	ok := false
	defer func() {
		if !ok {
			_ = s.Close()
		}
	}()

	// The store, and the reconciler's view of it (the cursors are in the same table).
	var recStore reconcile.Store
	if cfg.TableName != "" {
		api := dynamodb.NewFromConfig(*cfg.AWS)
		if cfg.Create {
			if err := dynamo.CreateTable(ctx, api, cfg.TableName); err != nil {
				return nil, err
			}
		}
		ds := dynamo.New(api, cfg.TableName)
		s.Store, recStore = ds, ds
		s.withEvents(ds, s.metrics.replier, log.With("fn", "events"))
	} else {
		ms := memory.NewStore()
		s.Store, recStore = ms, struct {
			*memory.Store
			*memory.Cursors
		}{ms, &memory.Cursors{}}
		s.withEvents(ms, s.metrics.replier, log.With("fn", "events"))
	}
	for _, a := range cfg.Accounts {
		if a.UpdatedAt.IsZero() {
			a.UpdatedAt = s.started // connected now: the reconciler watches from here on
		}
		if _, err := s.Store.Account(ctx, a.ID); err == nil {
			continue
		} else if !errors.Is(err, reply.ErrNotFound) {
			return nil, fmt.Errorf("devstack: read account %s: %w", a.ID, err)
		}
		if _, err := s.Store.PutAccount(ctx, a); err != nil && !errors.Is(err, reply.ErrConflict) {
			return nil, fmt.Errorf("devstack: store account %s: %w", a.ID, err)
		}
	}

	// The queue, and where the event source mapping takes batches from.
	var queue reply.Queue
	var source sqs.Source
	if cfg.QueueURL != "" {
		api := awssqs.NewFromConfig(*cfg.AWS)
		if cfg.Create {
			settings := sqs.Settings
			settings.MaxReceive = cfg.MaxReceive
			if _, _, err := sqs.CreateQueues(ctx, api, path.Base(cfg.QueueURL), settings); err != nil {
				return nil, fmt.Errorf("devstack: %w", err)
			}
		}
		queue = sqs.NewQueue(api, cfg.QueueURL)
		s.poller = sqs.NewPoller(api, cfg.QueueURL)
		source = s.poller
	} else {
		s.mem = memory.NewQueue(memory.QueueOptions{Visibility: cfg.Visibility, MaxReceive: cfg.MaxReceive})
		queue, source = s.mem, s.mem
	}

	// The Graph API: the sandbox on its own port unless a real URL is given.
	graphURL := cfg.GraphAPIURL
	if graphURL == "" {
		s.Sandbox = sandbox.New(sandbox.WithLogger(log.With("fn", "sandbox")), sandbox.WithPreviews(nil))
		for _, a := range cfg.Accounts {
			if tok := cfg.Tokens[a.ID]; tok != "" {
				s.Sandbox.AddAccount(a.ID, tok, a.Login, a.PageID)
			}
		}
		s.Sandbox.StartBroadcast(DemoAccountID, DemoLiveMedia)
		u, err := s.serve(cfg.SandboxAddr, s.Sandbox)
		if err != nil {
			return nil, fmt.Errorf("devstack: sandbox: %w", err)
		}
		s.SandboxURL, graphURL = u, u
	}
	g := graph.New(graph.WithBaseURL(graphURL))
	tokens := memory.Tokens(cfg.Tokens)

	// The three functions, as their main.go wires them, with the local adapters.
	hook := webhook.New(webhook.Config{QueueURL: cfg.QueueURL, AppSecrets: []string{cfg.AppSecret}, VerifyToken: cfg.VerifyToken},
		queue, webhook.StaticSecrets{Apps: []string{cfg.AppSecret}, Token: cfg.VerifyToken}, s.metrics.webhook, log.With("fn", "webhook"))
	rep := replier.New(replier.Config{TableName: cfg.TableName, AccountCacheTTL: 2 * time.Second, AppIDs: []string{sandbox.DefaultAppID}},
		s.Store, g, tokens, reply.SystemClock{}, s.metrics.replier, log.With("fn", "replier"))
	rep.Converse(g)
	sw := sweeper.New(sweeper.Config{TableName: cfg.TableName, QueueURL: cfg.QueueURL, Interval: cfg.SweepEvery},
		s.Store, queue, g, tokens, reply.SystemClock{}, s.metrics.sweeper, log.With("fn", "sweeper"))
	s.drainEvents(sw, log.With("fn", "events"))
	// Reconciliation on every sweep, with a short grace: webhooks here take milliseconds.
	rec := reconcile.New(reconcile.Config{Every: cfg.SweepEvery, LiveEvery: cfg.SweepEvery, Grace: time.Second, MinLeft: 100 * time.Millisecond,
		AppIDs: []string{sandbox.DefaultAppID}},
		recStore, queue, g, tokens, reply.SystemClock{}, s.metrics.sweeper, log.With("fn", "reconcile"))
	sw.AddChore(sweeper.Chore{Name: "reconcile", Run: func(ctx context.Context) error {
		_, err := rec.Run(ctx)
		return err
	}})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /_status", func(w http.ResponseWriter, r *http.Request) {
		st, err := s.Status(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(st)
	})
	mux.Handle("/", &Gateway{Handler: hook.Handle, Timeout: 10 * time.Second})
	s.mountLinks(mux, log)
	u, err := s.serve(cfg.Addr, mux)
	if err != nil {
		return nil, fmt.Errorf("devstack: webhook: %w", err)
	}
	s.URL, s.WebhookURL = u, u+webhook.Path
	if t := s.tracker(log); t != nil { // LINK_BASE_URL is the stack's own URL
		rep.TrackLinks(t)
	}

	// The event source mapping: one poller, batches to the replier with Lambda's timeout.
	var seq atomic.Int64
	m := sqs.Mapping{Source: source, BatchSize: cfg.BatchSize, Wait: time.Second,
		Handler: func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			s.batches.Add(1)
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: "local-" + strconv.FormatInt(seq.Add(1), 10)})
			return rep.Handle(ctx, ev)
		}}
	s.wg.Go(func() {
		m.Run(runCtx, func(d sqs.Delivery) {
			if d.Err != nil && d.Received == 0 {
				log.Warn("poll jobs queue", "fn", "mapping", "err", d.Err)
			}
		})
	})
	// The schedule.
	s.wg.Go(func() {
		t := time.NewTicker(cfg.SweepEvery)
		defer t.Stop()
		for {
			select {
			case <-runCtx.Done():
				return
			case <-t.C:
				// Lambda's 50 s, not the period: on a slow local AWS (moto) a sweep and its chores
				// may outlast a short period; the ticker then skips the runs they overlap.
				ctx, cancel := context.WithTimeout(runCtx, max(cfg.SweepEvery, 50*time.Second))
				s.sweeps.Add(1)
				_ = sw.Handle(ctx, events.EventBridgeEvent{ID: "local", DetailType: "Scheduled Event", Source: "aws.scheduler", Time: time.Now()})
				cancel()
			}
		}
	})
	ok = true
	return s, nil
}

// serve listens on addr and serves h until Close; it returns the base URL.
func (s *Stack) serve(addr string, h http.Handler) (string, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	s.servers = append(s.servers, srv)
	s.wg.Go(func() { _ = srv.Serve(l) })
	return "http://" + l.Addr().String(), nil
}

// Close stops the servers, the mapping and the schedule, and waits for them.
func (s *Stack) Close() error {
	if s.cancel != nil {
		s.cancel()
	}
	var errs []error
	for _, srv := range s.servers {
		// Long enough for a call in flight to finish on a busy machine (the race detector, CI).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, err)
		}
		cancel()
	}
	if s.Sandbox != nil {
		s.Sandbox.Close()
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

// Status is what the stack has seen and where every comment stands.
type Status struct {
	Uptime     string              `json:"uptime"`
	Deliveries int                 `json:"deliveries"`  // webhook deliveries answered 200
	Enqueued   int                 `json:"enqueued"`    // jobs the webhook enqueued
	OwnDropped int                 `json:"own_dropped"` // the account's own comments, dropped
	Rejected   int                 `json:"rejected"`    // deliveries refused for their signature
	Reconciled int                 `json:"reconciled"`  // comments found without a webhook
	Records    map[reply.State]int `json:"records"`     // reply records by state
	Visible    int                 `json:"queue_visible"`
	InFlight   int                 `json:"queue_in_flight"`
	Dead       int                 `json:"queue_dead"`    // memory queue only
	Delivered  int                 `json:"dms_delivered"` // the sandbox ledger; -1 with a real Graph API
	Batches    int                 `json:"replier_invocations"`
	Sweeps     int                 `json:"sweeps"`
}

// Status reads the counts: webhook metrics, the store's records, the queue and the ledger.
func (s *Stack) Status(ctx context.Context) (Status, error) {
	st := Status{
		Uptime:     time.Since(s.started).Round(time.Second).String(),
		Deliveries: int(s.metrics.webhook.Get(webhook.MetricAccepted)),
		Enqueued:   int(s.metrics.webhook.Get(webhook.MetricEnqueued)),
		OwnDropped: int(s.metrics.webhook.Get(webhook.MetricOwnCommentDropped)),
		Rejected:   int(s.metrics.webhook.Get(webhook.MetricSignatureRejected)),
		Reconciled: int(s.metrics.sweeper.Get(reconcile.MetricReconciled)),
		Records:    map[reply.State]int{},
		Delivered:  -1,
		Batches:    int(s.batches.Load()),
		Sweeps:     int(s.sweeps.Load()),
	}
	cursor := ""
	for {
		recs, next, err := s.Store.Scan(ctx, cursor, 500)
		if err != nil {
			return st, fmt.Errorf("status: scan records: %w", err)
		}
		for _, r := range recs {
			st.Records[r.State]++
		}
		if next == "" {
			break
		}
		cursor = next
	}
	switch {
	case s.mem != nil:
		c := s.mem.Counts()
		st.Visible, st.InFlight, st.Dead = c.Visible, c.InFlight, c.Dead
	case s.poller != nil:
		v, f, err := s.poller.Depth(ctx)
		if err != nil {
			return st, err
		}
		st.Visible, st.InFlight = v, f
	}
	if s.Sandbox != nil {
		st.Delivered = len(s.Sandbox.Deliveries())
	}
	return st, nil
}

// String is the one-line status `replywindow dev` prints.
func (st Status) String() string {
	r := st.Records
	pending := r[reply.StateQueued] + r[reply.StateLeased]
	s := fmt.Sprintf("status   arrived %d (deliveries %d, own dropped %d, rejected %d, found without a webhook %d) · sent %d · skipped %d · expired %d · failed %d · ambiguous %d · parked %d · pending %d · queue %d+%d in flight",
		st.Enqueued, st.Deliveries, st.OwnDropped, st.Rejected, st.Reconciled, r[reply.StateSent], r[reply.StateSkipped], r[reply.StateExpired],
		r[reply.StateFailed], r[reply.StateAmbiguous], r[reply.StateParked], pending, st.Visible, st.InFlight)
	if st.Dead > 0 {
		s += fmt.Sprintf(" · dead letters %d", st.Dead)
	}
	if st.Delivered >= 0 {
		s += fmt.Sprintf(" · DMs in sandbox ledger %d", st.Delivered)
	}
	return s
}

// WaitTerminal polls the store until every comment has a terminal record, or ctx ends.
func (s *Stack) WaitTerminal(ctx context.Context, comments ...string) (map[string]reply.Record, error) {
	out := make(map[string]reply.Record, len(comments))
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		for _, id := range comments {
			if _, done := out[id]; done {
				continue
			}
			r, err := s.Store.ByComment(ctx, id)
			switch {
			case errors.Is(err, reply.ErrNotFound):
			case err != nil:
				return out, fmt.Errorf("comment %s: %w", id, err)
			case r.State.Terminal():
				out[id] = r
			}
		}
		if len(out) == len(comments) {
			return out, nil
		}
		select {
		case <-ctx.Done():
			var missing []string
			for _, id := range comments {
				if _, ok := out[id]; !ok {
					missing = append(missing, id)
				}
			}
			return out, fmt.Errorf("comments %v not terminal: %w", missing, ctx.Err())
		case <-t.C:
		}
	}
}
