// Package chaos is replywindow's seeded fault-injection simulation. It runs the real webhook,
// replier and sweeper handlers on a fake clock against the
// in-process queue, a store (memory, or DynamoDB on moto) and the Graph sandbox, with faults at
// every step: invocations dying after the claim and after the send, Graph 5xx, timeouts after a
// delivery, throttling, revoked tokens, DynamoDB throttling and lost answers, duplicate webhook
// deliveries, webhooks Meta never sends (dropped, or the app unsubscribed for a while), SQS
// duplicates and redeliveries, concurrent consumers and sweeps. The sweeper reconciles after each
// sweep, as its chore does in AWS. People carry the conversation on after their private reply
// (converse.go): taps on its button, follows, keyword answers, a human on the account answering,
// all through the signed messaging webhook, with Send API and profile API faults on the way.
// After the run it checks the product's promises (Check) on what the sandbox delivered and the
// store recorded.
//
// A seed replays exactly: one seeded source of chance decides every fault, the simulation is
// one goroutine stepping the fake clock, and the services run with a concurrency of one.
package chaos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/replier"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/sweeper"
	"github.com/replywindow/replywindow/shared/webhook"
)

// Rates are the probabilities of each fault at each opportunity.
type Rates struct {
	EventPut         float64 // per funnel event put (with Config.Events): the bus refuses it
	CrashAfterClaim  float64 // per claim written by the replier
	CrashAfterSend   float64 // per private reply Meta accepted
	SweeperCrash     float64 // per release written by the sweeper
	Graph5xx         float64 // per private reply call
	TimeoutDelivered float64 // per private reply call: delivered, answer never arrives
	TimeoutNotSent   float64 // per private reply call: connection dropped before Meta acted
	Throttle         float64 // per private reply call
	Unavailable      float64 // per private reply call: 551 person unavailable (permanent)
	DeletedComments  float64 // per comment: the person deletes it a little after commenting
	StoreThrottle    float64 // per store call
	StoreLostAnswer  float64 // per store write that landed
	WebhookDuplicate float64 // per delivery: Meta delivers it again
	EnqueueFailed    float64 // per SendMessageBatch of the webhook and the sweeper
	SQSDuplicate     float64 // per received message: SQS hands it out again
	SQSDeleteLost    float64 // per deleted message: the delete never happened
	ConcurrentSweep  float64 // per sweep page: another sweep runs meanwhile
	ConcurrentClaim  float64 // per claim: another consumer works the same job first
	RevokedAccounts  int     // accounts whose token is revoked for a while, then restored
	Deletions        int     // people who ask for their data to be deleted while their comments are on their way
	TokenOutages     int     // spans of minutes in which SSM answers no token read
	SlowCall         float64 // per Graph call: it takes longer than the replier's lease
	DroppedWebhooks  float64 // per organic comment made after the account was connected: Meta never sends its webhook
	Unsubscribed     float64 // per seed: Meta unsubscribes the app for a while
	// Conversations: what people do after their private reply, and Meta's trouble on the way.
	Taps               float64 // per person's first private reply: they go on in the funnel
	HumanReplies       float64 // per person in the funnel: a human on the account answers them
	LateTaps           float64 // per tap or answer: Meta delivers it after the window it opened closed
	ProfileUnavailable float64 // per profile call: Meta answers 5xx
	FunnelForgets      float64 // per person in the funnel (and per person writing in): they ask for deletion while their taps are queued
	BucketFaults       float64 // per rate-bucket write of the replier: DynamoDB fails it after the claim
	FlowEdits          bool    // the operator edits steps' messages (inserts, reorders, removes) while turns are parked
}

// Sabotage breaks what the product relies on, to prove Check notices; tests only.
type Sabotage struct {
	LoseMessages float64 // per received message: SQS loses it for good (SQS never does)
	LoseRecords  float64 // per SENT record written: the table loses it (DynamoDB never does)
	NoReconcile  bool    // the sweeper never reconciles: comments without a webhook stay unanswered
	SendTwice    float64 // per follow-up Meta accepted: the messenger sends it again
}

// DefaultRates are the rates of the default test: every fault happens many times per seed, and
// rarely enough that the product's retries still finish every comment within the run.
var DefaultRates = Rates{
	CrashAfterClaim: 0.005, CrashAfterSend: 0.01, SweeperCrash: 0.01,
	Graph5xx: 0.03, TimeoutDelivered: 0.02, TimeoutNotSent: 0.01, Throttle: 0.01, Unavailable: 0.003, DeletedComments: 0.01,
	StoreThrottle: 0.005, StoreLostAnswer: 0.003,
	WebhookDuplicate: 0.05, EnqueueFailed: 0.01, SQSDuplicate: 0.02, SQSDeleteLost: 0.02,
	ConcurrentSweep: 0.1, ConcurrentClaim: 0.02, RevokedAccounts: 1,
	Deletions: 3, TokenOutages: 1, SlowCall: 0.003,
	DroppedWebhooks: 0.1, Unsubscribed: 0.5,
	Taps: 0.25, HumanReplies: 0.05, LateTaps: 0.02, ProfileUnavailable: 0.05,
	FunnelForgets: 0.02, BucketFaults: 0.03, FlowEdits: true,
}

// Config is one simulation run.
type Config struct {
	Seed     uint64
	Comments int
	Accounts int // at least 2; account 1 is rate-limited harder than Meta, account 3 uses Facebook Login
	Rates    Rates
	// Store is the store under test; a fresh memory store when nil. It must be empty.
	Store reply.Store
	// Start is the simulated start; a fixed date when zero. The webhook runs on the same fake
	// clock (it caps comment times at it, and leaves out events older than Meta retries).
	Start    time.Time
	Log      *slog.Logger // the services' logs; discarded when nil
	Sabotage Sabotage
	// WithoutOneReplyRule switches Meta's wall off: the sandbox accepts a second private reply
	// to a comment, so every promise must hold by replywindow's own records.
	WithoutOneReplyRule bool
	// SecondReplyCode makes the sandbox answer a second private reply with this generic code
	// (2, as a peer saw Meta do) instead of 100/2534025.
	SecondReplyCode int
	// Events publishes the funnel's events through the store's outbox (shared/events), with
	// Rates.EventPut of the puts refused; Check compares them with the records.
	Events bool
	// Asks gives the first account's recipe flow a step that asks for an email address, and
	// has people answer it (leads.go): validly, invalidly, twice, twice at the same second.
	Asks bool
}

// Result is what a run did and what Check found.
type Result struct {
	Seed       uint64
	Comments   int            // comments made
	Accepted   int            // comments the webhook answered 200 for and enqueued (own comments are dropped by design)
	Outcomes   map[string]int // terminal records by state
	Deliveries int            // DMs in the sandbox ledger
	Duplicates int            // comments with more than one DM (must be 0)
	Lost       int            // accepted comments without exactly one terminal record (must be 0)
	Late       int            // DMs and follow-ups delivered after their window (must be 0)
	// Ambiguous counts comments whose outcome Meta's answers cannot tell: recorded AMBIGUOUS
	// (uncertain sends, then the window closed or the bounded retries ran out), or SENT on Meta's
	// 2534025 after an uncertain attempt that in truth never arrived because the person deleted
	// the comment meanwhile (design.md §2). Reported, not violations.
	Ambiguous int
	// Repeats counts comments that got a second DM after a first whose answer never came (only
	// without Meta's one-reply rule): the retry of an uncertain send. Reported, not violations.
	Repeats int
	// Forgotten counts comments of people whose data was deleted before their comment was done.
	Forgotten  int
	Faults     map[string]int // faults injected, by kind
	Batches    int            // replier invocations
	Sweeps     int
	Simulated  time.Duration // simulated time from the first comment to the last terminal record
	DeadLetter int           // messages the queue moved to the dead-letter queue
	Violations []string      // broken promises; empty on success
	// Events and EventDuplicates count the funnel events published (with Config.Events) and
	// those published more than once (at least once allows them; consumers drop them by id).
	Events, EventDuplicates         int
	EventsMissing                   int            // state changes without their event after the run settled (must be 0)
	EventKinds                      map[string]int // events published, by kind
	Leads                           int            // leads stored (each held to its LeadCaptured event)
	LeadsChecked                    int            // leads held to their person's answers (checkLeads)
	LeadAnswers, LeadAnswersInvalid int            // what people typed in answer to the question
	Counted                         int64          // funnel counts read back and held to the records (checkCounts)

	// Dropped counts the comments (not the account's own) Meta never notified: webhooks dropped
	// for good, or made while the app was unsubscribed. Found is those reconciliation found (held
	// to every promise of an accepted comment); Unfindable those Meta does not list (ads, and
	// comments deleted before a pass read them).
	Dropped, Found, Unfindable int
	// Reconciled is what the reconciler enqueued, Reads its Graph calls, Resubscribed how often it
	// subscribed the app again; ToFind is how long after the comment each found one got its
	// record, ToReply how long until its DM (rate limits included).
	Reconciled, Reads, Resubscribed int
	ToFind, ToReply                 latencies

	// Conversations. Taps is what people did after a private reply (taps and answers), Late
	// those Meta delivered after their window. FollowUps* are Send API messages: sent (the
	// ledger), recorded AMBIGUOUS or EXPIRED, refused by Meta with 10/2018278 (window closed;
	// recorded, never a violation), and sent more often than a step allows (must be 0).
	Taps, LateTaps, HumanReplies                        int
	FollowUpsSent, FollowUpsAmbiguous, FollowUpsExpired int
	FollowUpsRefused, FollowUpDuplicates                int
	GateMessages, Paused                                int // gate messages sent; taps a human pause answered
	FlowChanged                                         int // follow-ups an edit of their step left without their message (SKIPPED)
}

// Sweep interval and queue settings, as the template sets them.
const (
	sweepEvery  = time.Minute
	visibility  = 180 * time.Second // 6 x the replier's 30 s timeout
	lease       = 27 * time.Second  // the replier's timeout less its margin
	maxReceive  = 5
	batchSize   = 10
	webhookWait = time.Minute // Meta retries a failed delivery after about this long
)

type sim struct {
	cfg     Config
	dice    *dice
	clock   *memory.Clock
	store   reply.Store
	queue   *memory.Queue
	sandbox *sandbox.Sandbox
	graph   reply.Graph
	client  *graph.Client // the same, for the reconciler's reads
	cursors reply.Cursors
	tokens  memory.Tokens
	log     *slog.Logger
	start   time.Time

	accounts  []reply.Account
	comments  []*comment
	byID      map[string]*comment
	inbox     []delivery // pending webhook deliveries, by time
	timeline  []event
	nextSweep time.Time

	webhook    *webhook.Handler
	replier    *replier.Replier
	replierInv *invocation
	sweeper    *sweeper.Sweeper
	sweeperInv *invocation
	bus        *memory.Bus // the funnel events published, with Config.Events
	// concurrentSweep, when set, runs a second sweep inside a running one.
	concurrentSweep func(ctx context.Context, inv *invocation)
	ghosts          []events.SQSMessage // SQS duplicates waiting to be handed out again

	res      Result
	troubled map[string]bool // comments whose processing met a fault that can justify a repeat send
	repeats  map[string]int  // private-reply calls made after the comment's DM was delivered
	// unavailable comments heard 551 from Meta at least once: FAILED is a right outcome for them.
	unavailable map[string]bool
	forgotten   map[string]time.Time // person -> when their data deletion finished
	fromless    map[string]bool      // comments delivered at least once without `from`
	repeating   map[string]bool      // accounts that allow repeats for a while: no funnel promise
	outages     []window             // SSM answers no token read
	sentAt      map[string]time.Time // comment -> when a SENT record was first written
	found       map[string]bool      // comments without a webhook that have a record by now
	watch       []*comment           // comments without a webhook, not known to be found yet
	watched     map[string]bool
	// reconcileDue is when the reconciler has a pass due next: the sweeps in between (idle ones
	// the run skips) would have found nothing to do.
	reconcileDue time.Time

	planned map[string]bool // comments whose person's funnel is decided
	follows map[string]bool // account#person -> follows the account
	taps    []*tap
	// followUpKeys are the keys of every follow-up record a claim may have written.
	followUpKeys map[string]bool
	catalog      map[string][]stepMessage // account -> every message any version of its flows had
	humans       map[string]bool          // account#person -> a human on the account answered them
	answers      map[string][]answer      // account#person -> what they typed in answer to the question (leads.go)
	asked        map[string]bool          // account#person -> they asked for the book: the question may be open
	pauses       map[string][]pause       // account#person -> human pauses the store recorded
	sendCalls    map[string][]time.Time   // person -> Send API calls that reached Meta
}

type comment struct {
	id, account, media, person, username, text, parent string
	kind                                               reply.Kind
	product                                            string
	created                                            time.Time // when the person commented (the sandbox knows)
	broadcastEnd                                       time.Time // Live: when the broadcast ends
	deleted                                            time.Time // when the person deleted it; zero if never
	matches, own                                       bool
	maybe                                              bool // matches a rule only while it was edited
	accepted                                           bool
	acceptedAt                                         time.Time // when the webhook first answered 200 for it
}

type delivery struct {
	at       time.Time
	comments []*comment
	attempt  int
	body     []byte // a messaging webhook instead of comments
	tap      *tap   // what the body tells of, when a person did it
}

type event struct {
	at   time.Time
	name string
	do   func()
}

func (s *sim) fault(kind, commentID string) {
	s.res.Faults[kind]++
	if commentID != "" {
		s.troubled[commentID] = true
	}
}

// Run simulates cfg and checks the product's promises on the outcome.
func Run(ctx context.Context, cfg Config) (Result, error) {
	s, err := newSim(cfg)
	if err != nil {
		return Result{}, err
	}
	defer s.sandbox.Close()
	if err := s.loop(ctx); err != nil {
		return s.res, err
	}
	if err := s.check(ctx); err != nil {
		return s.res, err
	}
	if err := s.checkLeads(ctx); err != nil {
		return s.res, err
	}
	if err := s.checkEvents(ctx); err != nil {
		return s.res, err
	}
	return s.res, nil
}

func newSim(cfg Config) (*sim, error) {
	if cfg.Accounts < 2 {
		cfg.Accounts = 2
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	}
	if cfg.Store == nil {
		cfg.Store = memory.NewStore()
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &sim{
		cfg: cfg, dice: newDice(cfg.Seed), clock: memory.NewClock(cfg.Start), store: cfg.Store, log: log,
		start: cfg.Start, byID: map[string]*comment{}, tokens: memory.Tokens{},
		troubled: map[string]bool{}, repeats: map[string]int{}, unavailable: map[string]bool{},
		forgotten: map[string]time.Time{}, fromless: map[string]bool{}, repeating: map[string]bool{}, sentAt: map[string]time.Time{},
		found: map[string]bool{}, watched: map[string]bool{}, cursors: cursorsOf(cfg.Store),
		planned: map[string]bool{}, follows: map[string]bool{}, followUpKeys: map[string]bool{},
		catalog: map[string][]stepMessage{}, humans: map[string]bool{}, answers: map[string][]answer{}, asked: map[string]bool{}, pauses: map[string][]pause{}, sendCalls: map[string][]time.Time{},
		res: Result{Seed: cfg.Seed, Outcomes: map[string]int{}, Faults: map[string]int{}, EventKinds: map[string]int{}},
	}
	s.queue = memory.NewQueue(memory.QueueOptions{Clock: s.clock, Visibility: visibility, MaxReceive: maxReceive})
	opts := []sandbox.Option{sandbox.WithClock(s.clock.Now), sandbox.WithUnknownComments(false)}
	if cfg.WithoutOneReplyRule {
		opts = append(opts, sandbox.WithoutOneReplyRule())
	}
	if cfg.SecondReplyCode != 0 {
		opts = append(opts, sandbox.WithSecondReplyCode(cfg.SecondReplyCode))
	}
	s.sandbox = sandbox.New(opts...)
	s.sandbox.SetFault(s.metaFault)
	s.client = graph.New(graph.WithBaseURL("http://graph.sandbox.invalid"),
		graph.WithHTTPClient(&http.Client{Transport: inProcess{s.sandbox}}))
	s.graph = s.client
	if err := s.setup(context.Background()); err != nil {
		return nil, err
	}
	s.replierInv, s.sweeperInv = &invocation{}, &invocation{}
	s.startEvents()
	s.replier = s.newReplier(s.replierInv, true)
	s.sweeper = s.newSweeper(s.sweeperInv)
	s.webhook = newWebhook(&faultyQueue{q: s.queue, s: s}, log)
	s.webhook.SetClock(s.clock.Now) // deliveries carry the fake clock's times
	s.concurrentSweep = func(ctx context.Context, inv *invocation) {
		if inv.nested || !s.dice.roll(s.cfg.Rates.ConcurrentSweep) {
			return
		}
		s.fault(FaultConcurrentSweep, "")
		other := &invocation{nested: true}
		s.res.Sweeps++
		_, _ = s.newSweeper(other).Run(ctx)
	}
	s.nextSweep = s.start
	return s, nil
}

func (s *sim) newReplier(inv *invocation, main bool) *replier.Replier {
	st := &faultyStore{Store: s.store, s: s, inv: inv, role: "replier"}
	if main {
		st.before = func(ctx context.Context, rec reply.Record) {
			// Another consumer got the same job (an SQS duplicate) and works it first.
			if rec.State != reply.StateLeased || inv.nested || !s.dice.roll(s.cfg.Rates.ConcurrentClaim) {
				return
			}
			s.fault(FaultConcurrentReplier, rec.CommentID)
			other := &invocation{nested: true}
			_, _ = s.newReplier(other, false).Process(ctx, rec.Job)
		}
	}
	cfg := replier.Config{TableName: "chaos", AccountCacheTTL: time.Minute, DefaultLease: lease, Concurrency: 1,
		AppIDs: []string{sandbox.DefaultAppID}}
	g := &faultyGraph{Graph: s.graph, msgr: s.client, s: s, inv: inv}
	r := replier.New(cfg, s.publishing(st), g, outageTokens{s.tokens, s}, s.clock, nil, s.log)
	r.Converse(g)
	return r
}

func (s *sim) newSweeper(inv *invocation) *sweeper.Sweeper {
	st := &faultyStore{Store: s.store, s: s, inv: inv, role: "sweeper"}
	cfg := sweeper.Config{TableName: "chaos", QueueURL: "memory", Interval: sweepEvery, Workers: 1}
	return sweeper.New(cfg, s.publishing(st), &faultyQueue{q: s.queue, s: s, inv: inv}, s.graph, outageTokens{s.tokens, s}, s.clock, nil, s.log)
}

// metaFault is the sandbox's fault hook: Meta's own trouble, decided per private-reply call.
func (s *sim) metaFault(c sandbox.Call) sandbox.Fault {
	if c.Op == sandbox.OpSend {
		// By person: a revoked token's call names no account.
		s.sendCalls[c.PersonID] = append(s.sendCalls[c.PersonID], c.At)
	}
	if f := s.readFault(c); !f.None() {
		return f
	}
	if c.Op == sandbox.OpComment && s.dice.roll(s.cfg.Rates.Graph5xx) {
		s.fault(FaultGraph5xx, c.CommentID)
		return sandbox.ServerError(500)
	}
	if c.Op == sandbox.OpSend || c.Op == sandbox.OpProfile {
		return s.sendFault(c)
	}
	if c.Op != sandbox.OpPrivateReply {
		return sandbox.Fault{}
	}
	if s.sandbox.Delivered(c.CommentID) > 0 {
		s.repeats[c.CommentID]++
	}
	r := s.cfg.Rates
	switch {
	case s.dice.roll(r.Graph5xx):
		s.fault(FaultGraph5xx, c.CommentID)
		if s.dice.roll(0.5) {
			return sandbox.ServerError(500)
		}
		return sandbox.ServerError(503)
	case s.dice.roll(r.TimeoutDelivered):
		s.fault(FaultTimeoutDelivered, c.CommentID)
		return sandbox.DropAfter()
	case s.dice.roll(r.TimeoutNotSent):
		s.fault(FaultTimeoutNotSent, c.CommentID)
		return sandbox.Fault{Drop: true}
	case s.dice.roll(r.Throttle):
		s.fault(FaultThrottle, c.CommentID)
		if s.dice.roll(0.5) {
			return sandbox.Throttle()
		}
		return sandbox.TooManyRequests(30 * time.Second)
	case s.sandbox.Delivered(c.CommentID) == 0 && s.dice.roll(r.Unavailable):
		// Meta answers 551 only for a comment it has no reply for; otherwise 2534025.
		s.fault(FaultUnavailable, c.CommentID)
		s.unavailable[c.CommentID] = true
		return sandbox.MetaError(400, 551, 1545041)
	}
	return sandbox.Fault{}
}

// setup makes the accounts, the comments, their deliveries and the timeline of outside events.
func (s *sim) setup(ctx context.Context) error {
	for i := range s.cfg.Accounts {
		buttons, flow := funnelOf(i)
		if i == askedAccount && s.cfg.Asks {
			flow = append(flow, askStep())
		}
		a := reply.Account{
			ID: fmt.Sprintf("178414000000%05d", i), Username: fmt.Sprintf("creator%d", i),
			Login: reply.LoginInstagram, TokenParam: fmt.Sprintf("/replywindow/tokens/%d", i),
			Rules: []reply.Rule{
				{Name: "recipe", Match: reply.MatchWord, Keywords: []string{"recipe", "rezept"}, Kinds: []reply.Kind{reply.KindPost, reply.KindReel, reply.KindAd},
					Message: "Hi {username}! Here is the recipe: https://example.com/r/" + strconv.Itoa(i), Buttons: buttons, Flow: flow},
				{Name: "live", Match: reply.MatchWord, Keywords: []string{"link"}, Kinds: []reply.Kind{reply.KindLive},
					Message: "Thanks for watching, {username}: https://example.com/live"},
				{Name: ruleTips, Match: reply.MatchWord, Keywords: []string{"tips"}, Kinds: []reply.Kind{reply.KindPost, reply.KindReel},
					Message: "Tips for you, {username}!", Buttons: buttons[1:], Flow: tipsOf(i)},
			},
			DMRules:    dmRulesOf(i),
			Disclosure: disclosureOf(i),
			Version:    1, UpdatedAt: s.start, // connected at the start: the reconciler watches from then
		}
		if i%2 == 0 {
			// A slow media lane: a turn's video waits in its line, the text after it is held
			// behind it, and the operator's flow edits meet them parked.
			a.Limits = map[reply.Lane]reply.Limit{reply.LaneMedia: {Count: 60, Period: time.Hour}}
		}
		if i%2 == 1 {
			// Short human pauses and disclosure lapses, so the run sees them end.
			a.HumanPause, a.DisclosureLapse = 20*time.Minute, 90*time.Minute
		}
		if i == 1 {
			// Tighter than Meta: a backlog builds, jobs park and the sweeper releases them.
			a.Limits = map[reply.Lane]reply.Limit{reply.LanePosts: {Count: 120, Period: time.Hour}}
		}
		a.RefRules, a.MentionRules = entryRulesOf(i)
		a.IceBreakers, a.PersistentMenu = profileOf()
		if err := a.Validate(); err != nil {
			return fmt.Errorf("account %d: %w", i, err)
		}
		s.catalogue(a)
		if i == 3 {
			a.Login, a.PageID = reply.LoginFacebook, fmt.Sprintf("10400000000%05d", i)
		}
		if _, err := s.store.PutAccount(ctx, a); err != nil {
			return fmt.Errorf("put account %s: %w", a.ID, err)
		}
		tok := fmt.Sprintf("sbx-token-%d", i)
		s.tokens[a.ID] = tok
		s.sandbox.AddAccount(a.ID, tok, a.Login, a.PageID)
		s.sandbox.SetMessengerProfile(a.ID, a.MessengerProfile()) // as accounts put sets it on Meta
		s.accounts = append(s.accounts, a)
	}
	for i, a := range s.accounts {
		for m := range 3 {
			s.sandbox.AddMedia(sandbox.Media{ID: mediaID(i, m), AccountID: a.ID, ProductType: mediaProduct(m), CreatedAt: s.start.Add(-24 * time.Hour)})
		}
	}
	s.comments = s.makeComments()
	byDelivery := map[time.Time][]*comment{}
	for _, c := range s.comments {
		s.byID[c.id] = c
		s.sandbox.AddComment(sandbox.Comment{ID: c.id, AccountID: c.account, MediaID: c.media, ParentID: c.parent,
			FromID: c.person, FromName: c.username, Text: c.text, CreatedAt: c.created, Live: c.kind == reply.KindLive,
			Ad: c.kind == reply.KindAd, WithoutWebhook: s.withoutWebhook(c)})
		if s.dice.roll(s.cfg.Rates.DeletedComments) {
			c.deleted = c.created.Add(s.dice.duration(time.Second, 10*time.Minute))
			id := c.id
			s.timeline = append(s.timeline, event{at: c.deleted, name: "comment " + id + " deleted", do: func() {
				s.fault(FaultCommentDeleted, id)
				s.sandbox.DeleteComment(id)
			}})
		}
		at := c.created.Add(s.dice.duration(0, 20*time.Second)).Truncate(time.Second)
		if c.created.Before(s.start) {
			at = s.start.Add(s.dice.duration(0, 2*time.Hour)).Truncate(time.Second)
		}
		byDelivery[at] = append(byDelivery[at], c)
	}
	for at, cs := range byDelivery {
		s.inbox = append(s.inbox, delivery{at: at, comments: cs})
	}
	s.sortInbox()
	// Live broadcasts of accounts 0 and 1 start with the run; their end closes the Live windows.
	for i := range min(2, len(s.accounts)) {
		media, end := liveMedia(i), s.start.Add(time.Duration(60+40*i)*time.Minute)
		s.sandbox.StartBroadcast(s.accounts[i].ID, media)
		s.sandbox.EndBroadcastAt(media, end) // a call still travelling at the end meets it over
		s.timeline = append(s.timeline, event{at: end, name: "broadcast " + media + " ends", do: func() { s.sandbox.EndBroadcast(media) }})
	}
	for n := range min(s.cfg.Rates.RevokedAccounts, len(s.accounts)) {
		a := s.accounts[(int(s.cfg.Seed)+n)%len(s.accounts)]
		from := s.start.Add(s.dice.duration(5*time.Minute, 90*time.Minute))
		to := from.Add(s.dice.duration(5*time.Minute, 45*time.Minute))
		tok := s.tokens[a.ID]
		s.timeline = append(s.timeline,
			event{at: from, name: "token of " + a.ID + " revoked", do: func() {
				s.fault(FaultTokenRevoked, "")
				s.sandbox.RevokeToken(tok)
			}},
			event{at: to, name: "operator restores " + a.ID, do: func() { s.restore(a, tok) }},
		)
	}
	s.schedule()
	s.dmPeople()
	s.entryPeople()
	if s.cfg.Rates.FlowEdits {
		s.flowEdits()
	}
	s.unsubscribe()
	sort.SliceStable(s.timeline, func(i, j int) bool { return s.timeline[i].at.Before(s.timeline[j].at) })
	return nil
}

func liveMedia(account int) string { return fmt.Sprintf("1799%011d", account) } // Meta ids are digits

// mediaID is the account's m-th post or reel; mediaProduct what it is.
func mediaID(account, m int) string { return fmt.Sprintf("17%d%04d", account, m) }

func mediaProduct(m int) string {
	if m == 2 {
		return "FEED"
	}
	return "REELS"
}

// restore is the operator's fix after a revoked token: a new authorization (the sandbox takes
// the token again) and the account marked healthy.
func (s *sim) restore(a reply.Account, tok string) {
	ctx := context.Background()
	s.sandbox.AddAccount(a.ID, tok, a.Login, a.PageID)
	for range 10 {
		cur, err := s.store.Account(ctx, a.ID)
		if err != nil {
			return
		}
		if cur.Healthy() {
			return
		}
		cur.Unhealthy, cur.UnhealthySince = "", time.Time{}
		cur.Version++
		cur.UpdatedAt = s.clock.Now()
		if _, err := s.store.PutAccount(ctx, cur); !errors.Is(err, reply.ErrConflict) {
			return
		}
	}
}

var (
	matching = []string{"RECIPE please!", "recipe 😍", "Rezept bitte", "can I get the recipe?", "RECIPE"}
	other    = []string{"wow", "so good", "where is this?", "🔥🔥", "recipes are great"}
	liveText = []string{"LINK pls", "link?", "hello from Berlin"}
)

func (s *sim) makeComments() []*comment {
	n := s.cfg.Comments
	out := make([]*comment, 0, n)
	people := max(n/4, 10)
	for i := range n {
		ai := s.dice.intN(len(s.accounts))
		a := s.accounts[ai]
		c := &comment{
			id:      fmt.Sprintf("18%03d%012d", s.cfg.Seed%1000, i),
			account: a.ID,
			created: s.start.Add(s.dice.duration(0, 2*time.Hour)).Truncate(time.Second),
		}
		p := s.dice.intN(people)
		c.person, c.username = fmt.Sprintf("9%09d", p), fmt.Sprintf("fan_%d", p)
		roll := s.dice.intN(100)
		switch {
		case roll < 10 && ai < 2:
			c.kind, c.media, c.product = reply.KindLive, liveMedia(ai), "LIVE"
			end := s.start.Add(time.Duration(60+40*ai) * time.Minute)
			c.broadcastEnd = end
			// Live comments are made while the broadcast is on.
			c.created = s.start.Add(s.dice.duration(0, end.Sub(s.start))).Truncate(time.Second)
			c.text = liveText[s.dice.intN(len(liveText))]
			c.matches = c.text != "hello from Berlin"
		default:
			// A post or reel, or an ad that promotes one of them.
			m := s.dice.intN(3)
			c.media, c.product = mediaID(ai, m), mediaProduct(m)
			c.kind = reply.KindOf(c.product, "")
			if roll >= 90 {
				c.kind, c.product = reply.KindAd, "AD"
			}
			if s.dice.roll(0.75) {
				c.text, c.matches = matching[s.dice.intN(len(matching))], true
			} else {
				c.text = other[s.dice.intN(len(other))]
			}
		}
		switch {
		case s.dice.roll(0.02):
			c.own, c.person, c.username = true, a.ID, a.Username
		case s.dice.roll(0.05) && c.kind != reply.KindLive:
			c.parent = fmt.Sprintf("18%03d%012d", s.cfg.Seed%1000, max(i-1, 0))
		}
		if s.dice.roll(0.01) && c.kind != reply.KindLive {
			// An old comment's notification arrives late: its real window closes minutes after
			// the webhook sees it, and only Meta's 10/2534022 can tell.
			c.created = s.start.Add(-reply.Window + s.dice.duration(time.Minute, 30*time.Minute)).Truncate(time.Second)
		}
		out = append(out, c)
	}
	return out
}

func (s *sim) sortInbox() {
	sort.SliceStable(s.inbox, func(i, j int) bool { return s.inbox[i].at.Before(s.inbox[j].at) })
}

// loop steps the clock from event to event until nothing is left to do.
func (s *sim) loop(ctx context.Context) error {
	limit := s.start.Add(reply.Window + 2*24*time.Hour)
	var last time.Time
	for {
		now := s.clock.Now()
		if now.After(limit) {
			return fmt.Errorf("seed %d: the simulation did not settle by %s%s", s.cfg.Seed, limit, s.unfoundReport(ctx))
		}
		for len(s.timeline) > 0 && !s.timeline[0].at.After(now) {
			s.timeline[0].do()
			s.timeline = s.timeline[1:]
		}
		for len(s.inbox) > 0 && !s.inbox[0].at.After(now) {
			d := s.inbox[0]
			s.inbox = s.inbox[1:]
			if d.body != nil {
				s.deliverMessaging(ctx, d)
			} else {
				s.deliver(ctx, d)
			}
		}
		if !now.Before(s.nextSweep) {
			s.sweep(ctx)
			for !now.Before(s.nextSweep) {
				s.nextSweep = s.nextSweep.Add(sweepEvery)
			}
		}
		if err := s.pump(ctx); err != nil {
			return err
		}
		s.echoes()
		next, busy, err := s.next(ctx)
		if err != nil {
			return err
		}
		if busy {
			last = now
		}
		if next.IsZero() {
			s.res.Simulated = last.Sub(s.start)
			return nil
		}
		s.clock.Set(next)
	}
}

// next is the time of the next thing to do, zero when nothing is left; busy says whether
// anything was still unfinished at the current time.
func (s *sim) next(ctx context.Context) (time.Time, bool, error) {
	var cands []time.Time
	if len(s.inbox) > 0 {
		cands = append(cands, s.inbox[0].at)
	}
	if len(s.timeline) > 0 {
		cands = append(cands, s.timeline[0].at)
	}
	qc := s.queue.Counts()
	if qc.Visible > 0 || len(s.ghosts) > 0 {
		cands = append(cands, s.clock.Now())
	}
	if !qc.NextVisible.IsZero() {
		cands = append(cands, qc.NextVisible)
	}
	// The sweeper only matters once a record is due; skip the idle minutes in between.
	due, _, err := s.store.Due(ctx, s.start.Add(100*reply.Window), "", 1)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("due records: %w", err)
	}
	if len(due) > 0 {
		at := s.nextSweep
		for at.Before(due[0].DueAt) {
			at = at.Add(sweepEvery)
		}
		cands = append(cands, at)
	}
	// Reconciliation matters while a comment without a webhook is still to be found.
	unfound, err := s.unfound(ctx)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("comments to find: %w", err)
	}
	if unfound {
		at := s.nextSweep
		for at.Before(s.reconcileDue) {
			at = at.Add(sweepEvery)
		}
		cands = append(cands, at)
	}
	// Funnel events left in the outbox are the sweeper's once their writer's grace passed.
	evDue, err := s.eventsDue(ctx)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("pending events: %w", err)
	}
	if !evDue.IsZero() {
		at := s.nextSweep
		for at.Before(evDue) {
			at = at.Add(sweepEvery)
		}
		cands = append(cands, at)
	}
	busy := len(due) > 0 || qc.Visible+qc.InFlight > 0 || len(s.inbox) > 0 || unfound || !evDue.IsZero()
	if len(cands) == 0 {
		return time.Time{}, busy, nil
	}
	min := cands[0]
	for _, t := range cands[1:] {
		if t.Before(min) {
			min = t
		}
	}
	if !min.After(s.clock.Now()) && !(qc.Visible > 0 || len(s.ghosts) > 0) {
		// Something due now that the sweeper could not move yet (no budget): next minute.
		min = s.clock.Now().Add(sweepEvery)
		if min.After(s.nextSweep) {
			min = s.nextSweep
		}
		if !min.After(s.clock.Now()) {
			min = s.clock.Now().Add(time.Second)
		}
	}
	return min, busy, nil
}

func (s *sim) sweep(ctx context.Context) {
	s.sweeperInv.reset()
	s.res.Sweeps++
	_, _ = s.sweeper.Run(ctx)
	s.drainEvents(ctx)
	s.reconcile(ctx, s.sweeperInv)
	if s.sweeperInv.dead() {
		// A crashed sweeper is a cold start next time.
		s.sweeperInv = &invocation{}
		s.sweeper = s.newSweeper(s.sweeperInv)
	}
}

// pump feeds the replier every visible message as the event source mapping does.
func (s *sim) pump(ctx context.Context) error {
	for range 10000 {
		msgs, err := s.queue.Receive(ctx, batchSize, 0)
		if err != nil {
			return err
		}
		if len(s.ghosts) > 0 {
			n := min(len(s.ghosts), batchSize)
			msgs = append(msgs, s.ghosts[:n]...)
			s.ghosts = s.ghosts[n:]
		}
		if len(msgs) == 0 {
			return nil
		}
		if p := s.cfg.Sabotage.LoseMessages; p > 0 {
			kept := msgs[:0]
			var lost []string
			for _, m := range msgs {
				if s.dice.roll(p) {
					lost = append(lost, m.ReceiptHandle)
				} else {
					kept = append(kept, m)
				}
			}
			_ = s.queue.Delete(ctx, lost...)
			msgs = kept
			if len(msgs) == 0 {
				continue
			}
		}
		for _, m := range msgs {
			if s.dice.roll(s.cfg.Rates.SQSDuplicate) {
				s.fault(FaultSQSDuplicate, "")
				s.ghosts = append(s.ghosts, m)
			}
		}
		s.invoke(ctx, msgs)
	}
	return fmt.Errorf("seed %d: the queue never drained at %s", s.cfg.Seed, s.clock.Now())
}

func (s *sim) invoke(ctx context.Context, msgs []events.SQSMessage) {
	s.res.Batches++
	s.replierInv.reset()
	resp, err := s.replier.Handle(ctx, events.SQSEvent{Records: msgs})
	if s.replierInv.dead() {
		// The invocation died: Lambda deletes nothing, and the next one is a cold start.
		s.replierInv = &invocation{}
		s.replier = s.newReplier(s.replierInv, true)
		return
	}
	if err != nil {
		return
	}
	failed := map[string]bool{}
	for _, f := range resp.BatchItemFailures {
		failed[f.ItemIdentifier] = true
	}
	var receipts []string
	for _, m := range msgs {
		if failed[m.MessageId] {
			continue
		}
		if s.dice.roll(s.cfg.Rates.SQSDeleteLost) {
			s.fault(FaultSQSDeleteLost, "")
			continue
		}
		receipts = append(receipts, m.ReceiptHandle)
	}
	_ = s.queue.Delete(ctx, receipts...)
}
