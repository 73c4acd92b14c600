package chaos

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/events"
	"github.com/replywindow/replywindow/shared/telemetry"
)

var (
	seedFlag = flag.Uint64("seed", 0, "replay only this seed")
	// make test runs 8 seeds to stay inside CI's time on two cores; make soak runs 20.
	seedsFlag    = flag.Int("seeds", 8, "how many seeds TestChaos runs (1..seeds)")
	commentsFlag = flag.Int("comments", 2000, "comments per seed")
)

func TestMain(m *testing.M) {
	flag.Parse()
	// The services write their EMF metric lines here; thousands of invocations would bury the
	// test output.
	telemetry.Stdout = io.Discard
	os.Exit(m.Run())
}

// replay is the command that runs one seed again.
func replay(test string, seed uint64, comments int) string {
	return fmt.Sprintf("go test ./shared/chaos -count=1 -run '^%s$' -seed=%d -comments=%d -v", test, seed, comments)
}

func seeds() []uint64 {
	if *seedFlag != 0 {
		return []uint64{*seedFlag}
	}
	out := make([]uint64, *seedsFlag)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

// TestChaos runs the default simulation: every seed, every fault, the product's promises. Even
// seeds meet a Meta that answers a second private reply with code 2 instead of 2534025.
func TestChaos(t *testing.T) {
	runSeeds(t, "TestChaos", func(seed uint64) Config {
		cfg := Config{Seed: seed, Comments: *commentsFlag, Accounts: 4, Rates: DefaultRates}
		if seed%2 == 0 {
			cfg.SecondReplyCode = 2
		}
		return cfg
	})
}

// TestChaosWithoutMetaWall runs the same seeds with Meta's one-reply rule switched off: the
// promises hold by replywindow's own records, and a second DM can only follow a first whose
// answer never came (Result.Repeats).
func TestChaosWithoutMetaWall(t *testing.T) {
	runSeeds(t, "TestChaosWithoutMetaWall", func(seed uint64) Config {
		return Config{Seed: seed, Comments: *commentsFlag, Accounts: 4, Rates: DefaultRates, WithoutOneReplyRule: true}
	})
}

func runSeeds(t *testing.T, test string, config func(seed uint64) Config) {
	var (
		mu  sync.Mutex
		all []Result
	)
	start := time.Now()
	t.Run("seeds", func(t *testing.T) {
		for _, seed := range seeds() {
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				res := runSeed(t, test, config(seed))
				mu.Lock()
				all = append(all, res)
				mu.Unlock()
			})
		}
	})
	t.Log(summary(all, time.Since(start)))
}

func runSeed(t *testing.T, test string, cfg Config) Result {
	t.Helper()
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("seed %d: %v\nreplay: %s", cfg.Seed, err, replay(test, cfg.Seed, cfg.Comments))
	}
	if len(res.Violations) > 0 {
		t.Errorf("seed %d broke %d promise(s):\n  %s\nreplay: %s", cfg.Seed, len(res.Violations),
			strings.Join(res.Violations, "\n  "), replay(test, cfg.Seed, cfg.Comments))
	}
	if res.Accepted == 0 || res.Deliveries == 0 || res.Outcomes["SENT"] == 0 {
		t.Errorf("seed %d did nothing: %+v", cfg.Seed, res)
	}
	if cfg.Rates.Taps > 0 && (res.Taps == 0 || res.FollowUpsSent == 0) {
		t.Errorf("seed %d: %d taps, %d follow-ups sent: the conversations went untried", cfg.Seed, res.Taps, res.FollowUpsSent)
	}
	if cfg.Rates.DroppedWebhooks > 0 && (res.Dropped == 0 || res.Found == 0) {
		t.Errorf("seed %d dropped %d webhooks and found %d comments: the missed-webhook path went untried", cfg.Seed, res.Dropped, res.Found)
	}
	if testing.Verbose() {
		t.Log(summary([]Result{res}, 0))
	}
	return res
}

// summary is the figures of a set of runs, for the log and the lead's report.
func summary(rs []Result, took time.Duration) string {
	var tot Result
	tot.Outcomes, tot.Faults = map[string]int{}, map[string]int{}
	var sim time.Duration
	for _, r := range rs {
		tot.Comments += r.Comments
		tot.Accepted += r.Accepted
		tot.Deliveries += r.Deliveries
		tot.Duplicates += r.Duplicates
		tot.Lost += r.Lost
		tot.Late += r.Late
		tot.Ambiguous += r.Ambiguous
		tot.Repeats += r.Repeats
		tot.Forgotten += r.Forgotten
		tot.Batches += r.Batches
		tot.Sweeps += r.Sweeps
		tot.DeadLetter += r.DeadLetter
		tot.Dropped += r.Dropped
		tot.Found += r.Found
		tot.Unfindable += r.Unfindable
		tot.Reconciled += r.Reconciled
		tot.Reads += r.Reads
		tot.Resubscribed += r.Resubscribed
		tot.Taps += r.Taps
		tot.LateTaps += r.LateTaps
		tot.HumanReplies += r.HumanReplies
		tot.Paused += r.Paused
		tot.FollowUpsSent += r.FollowUpsSent
		tot.GateMessages += r.GateMessages
		tot.FollowUpsAmbiguous += r.FollowUpsAmbiguous
		tot.FollowUpsExpired += r.FollowUpsExpired
		tot.Events += r.Events
		tot.EventDuplicates += r.EventDuplicates
		tot.EventsMissing += r.EventsMissing
		tot.Leads += r.Leads
		tot.LeadsChecked += r.LeadsChecked
		tot.LeadAnswers += r.LeadAnswers
		tot.LeadAnswersInvalid += r.LeadAnswersInvalid
		for k, v := range r.EventKinds {
			if tot.EventKinds == nil {
				tot.EventKinds = map[string]int{}
			}
			tot.EventKinds[k] += v
		}
		tot.FollowUpsRefused += r.FollowUpsRefused
		tot.FollowUpDuplicates += r.FollowUpDuplicates
		tot.FlowChanged += r.FlowChanged
		tot.Counted += r.Counted
		tot.ToFind = append(tot.ToFind, r.ToFind...)
		tot.ToReply = append(tot.ToReply, r.ToReply...)
		for k, v := range r.Outcomes {
			tot.Outcomes[k] += v
		}
		for k, v := range r.Faults {
			tot.Faults[k] += v
		}
		if r.Simulated > sim {
			sim = r.Simulated
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d seed(s): comments %d, accepted %d, DMs delivered %d, duplicates %d, lost %d, late %d\n",
		len(rs), tot.Comments, tot.Accepted, tot.Deliveries, tot.Duplicates, tot.Lost, tot.Late)
	fmt.Fprintf(&b, "outcomes: SENT %d, SKIPPED %d, EXPIRED %d, FAILED %d, AMBIGUOUS %d; ambiguous (Meta cannot tell) %d, "+
		"second DMs after an unanswered first %d, comments of forgotten people %d\n",
		tot.Outcomes["SENT"], tot.Outcomes["SKIPPED"], tot.Outcomes["EXPIRED"], tot.Outcomes["FAILED"], tot.Outcomes["AMBIGUOUS"],
		tot.Ambiguous, tot.Repeats, tot.Forgotten)
	perFound := 0.0
	if tot.Found > 0 {
		perFound = float64(tot.Reads) / float64(tot.Found)
	}
	fmt.Fprintf(&b, "webhooks never sent: %d comments (app unsubscribed in %d seed(s)); found by reconciliation %d, not listed by Meta %d; "+
		"reconciler enqueued %d, Graph reads %d (%.1f per comment found), resubscribed %d\n",
		tot.Dropped, tot.Faults[FaultAppUnsubscribed], tot.Found, tot.Unfindable, tot.Reconciled, tot.Reads, perFound, tot.Resubscribed)
	fmt.Fprintf(&b, "found comments: comment to record median %s, p95 %s, max %s; comment to DM median %s, p95 %s, max %s (%d DMs)\n",
		tot.ToFind.at(0.5), tot.ToFind.at(0.95), tot.ToFind.at(1),
		tot.ToReply.at(0.5), tot.ToReply.at(0.95), tot.ToReply.at(1), len(tot.ToReply))
	fmt.Fprintf(&b, "conversations: taps and answers %d (%d delivered after their window), human replies %d (taps they took over %d); "+
		"follow-ups sent %d (gate messages %d), duplicates %d, ambiguous %d, expired %d (Meta refused 10/2018278: %d), "+
		"left without their message by a flow edit %d\n",
		tot.Taps, tot.LateTaps, tot.HumanReplies, tot.Paused, tot.FollowUpsSent, tot.GateMessages, tot.FollowUpDuplicates,
		tot.FollowUpsAmbiguous, tot.FollowUpsExpired, tot.FollowUpsRefused, tot.FlowChanged)
	if tot.Events > 0 {
		var kinds []string
		for _, k := range events.Kinds {
			if n := tot.EventKinds[string(k)]; n > 0 {
				kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
			}
		}
		fmt.Fprintf(&b, "events: %d published (%s), %d state changes without theirs, %d published more than once (bus refusals %d)\n",
			tot.Events, strings.Join(kinds, ", "), tot.EventsMissing, tot.EventDuplicates, tot.Faults[FaultEventPut])
	}
	if tot.LeadAnswers > 0 {
		fmt.Fprintf(&b, "leads: %d answers to the question (%d invalid), %d leads kept, %d held to their person's answers\n",
			tot.LeadAnswers, tot.LeadAnswersInvalid, tot.Leads, tot.LeadsChecked)
	}
	fmt.Fprintf(&b, "funnel counts held to the records: %d\n", tot.Counted)
	fmt.Fprintf(&b, "replier invocations %d, sweeps %d, dead letters %d, longest simulated run %s", tot.Batches, tot.Sweeps, tot.DeadLetter, sim)
	if took > 0 {
		fmt.Fprintf(&b, ", wall time %s", took.Round(time.Millisecond))
	}
	b.WriteString("\nfaults injected:")
	kinds := make([]string, 0, len(tot.Faults))
	n := 0
	for k, v := range tot.Faults {
		kinds = append(kinds, k)
		n += v
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		fmt.Fprintf(&b, "\n  %-36s %d", k, tot.Faults[k])
	}
	fmt.Fprintf(&b, "\n  %-36s %d", "total", n)
	return b.String()
}

// TestChaosReplays checks that a seed is a replay: the same seed gives the same run.
func TestChaosReplays(t *testing.T) {
	cfg := Config{Seed: 7, Comments: 400, Accounts: 4, Rates: DefaultRates}
	a, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("seed 7 twice:\n%+v\n%+v", a, b)
	}
	cfg.Seed = 8
	if c, _ := Run(context.Background(), cfg); reflect.DeepEqual(a.Faults, c.Faults) {
		t.Errorf("seeds 7 and 8 injected the same faults: %v", c.Faults)
	}
}

// TestChaosCatchesBrokenPromises sabotages what the product relies on and expects Check to say
// so: a checker that cannot fail proves nothing.
func TestChaosCatchesBrokenPromises(t *testing.T) {
	tests := []struct {
		name     string
		sabotage Sabotage
		want     string // in some violation ("": any violation, the count says which)
		count    func(Result) int
	}{
		// Without Meta's wall, a record the table lost lets a redelivery send again.
		// Duplicates counts only calls after a SENT record, whatever else the violations list.
		{"the table loses SENT records", Sabotage{LoseRecords: 0.2}, "", func(r Result) int { return r.Duplicates }},
		{"SQS loses messages", Sabotage{LoseMessages: 0.02}, "records, want 1", func(r Result) int { return r.Lost }},
		{"the sweeper never reconciles", Sabotage{NoReconcile: true}, "0 records, want 1", func(r Result) int { return r.Lost }},
		// The Send API has no one-message rule: only replywindow's claims keep a step to one send.
		{"the messenger sends follow-ups twice", Sabotage{SendTwice: 0.05}, " times to ", func(r Result) int { return r.FollowUpDuplicates }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Run(context.Background(), Config{Seed: 3, Comments: 1000, Accounts: 4, Rates: DefaultRates, Sabotage: tt.sabotage,
				WithoutOneReplyRule: true})
			if err != nil {
				t.Fatal(err)
			}
			found := tt.want == "" && len(res.Violations) > 0
			for _, v := range res.Violations {
				found = found || strings.Contains(v, tt.want)
			}
			if !found || tt.count(res) == 0 {
				t.Errorf("sabotage went unnoticed: count %d, violations %q", tt.count(res), res.Violations)
			}
		})
	}
}

// TestChaosDynamo is a smaller run with the DynamoDB store on moto: the same promises hold with
// the real conditional writes, the due index and the stored JSON.
func TestChaosDynamo(t *testing.T) {
	ctx := awstest.Context(t)
	api := dynamodb.NewFromConfig(awstest.Config(t))
	table := awstest.Name(t, "chaos")
	if err := dynamo.CreateTable(ctx, api, table); err != nil {
		t.Fatalf("create table: %v", err)
	}
	comments := 150
	if *seedFlag != 0 {
		comments = *commentsFlag
	}
	seed := uint64(11)
	if *seedFlag != 0 {
		seed = *seedFlag
	}
	res := runSeed(t, "TestChaosDynamo", Config{Seed: seed, Comments: comments, Accounts: 4, Rates: DefaultRates, Store: dynamo.New(api, table)})
	t.Log(summary([]Result{res}, 0))
}
