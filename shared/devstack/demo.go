package devstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/webhook"
)

// Case is one sample delivery of the demo and what must become of it.
type Case struct {
	Name      string
	CommentID string
	FromID    string
	Username  string
	Text      string
	MediaID   string
	Product   string // media_product_type
	Live      bool   // a live_comments change
	NoMedia   bool   // delivered without its media, as Meta sometimes does
	Times     int    // how often Meta delivers it
	Forged    bool   // signed with the wrong secret
	NoWebhook bool   // Meta keeps the comment but never delivers its webhook: reconciliation finds it
	// What must happen: Status is the webhook's answer; State "" means no record at all (the
	// webhook drops the comment); DMs is how many private replies the sandbox delivers.
	Status int
	State  reply.State
	Reason string
	DMs    int
	// Rule is the rule whose private reply the sandbox must deliver: its message, for this
	// commenter, as the stored account has it ("" checks no text).
	Rule string
}

// DemoCases are the demo's deliveries, in the order they are posted, for the rules of
// cmd/replywindow/account.example.yaml (DemoAccounts): "recipe" on posts and reels, "sourdough"
// on another reel, "live-link" on Live.
func DemoCases() []Case {
	return []Case{
		{Name: "matching comment", CommentID: "18000000000000001", FromID: demoAna, Username: "ana", Text: "RECIPE please!",
			MediaID: "17800000000000001", Product: "REELS", Times: 1, Status: 200, State: reply.StateSent, DMs: 1, Rule: "recipe"},
		{Name: "comment no rule matches", CommentID: "18000000000000002", FromID: "900000002", Username: "ben", Text: "love this 😍",
			MediaID: "17800000000000001", Product: "REELS", Times: 1, Status: 200, State: reply.StateSkipped, Reason: reply.SkipNoRule},
		{Name: "same comment delivered twice", CommentID: "18000000000000003", FromID: "900000003", Username: "cleo", Text: "Recette stp",
			MediaID: "17800000000000001", Product: "REELS", Times: 2, Status: 200, State: reply.StateSent, DMs: 1, Rule: "recipe"},
		{Name: "the account's own comment", CommentID: "18000000000000004", FromID: DemoAccountID, Username: DemoUsername, Text: "recipe in DMs!",
			MediaID: "17800000000000001", Product: "REELS", Times: 1, Status: 200},
		{Name: "second comment, same person and post", CommentID: "18000000000000005", FromID: demoAna, Username: "ana", Text: "recipe again pls",
			MediaID: "17800000000000001", Product: "REELS", Times: 1, Status: 200, State: reply.StateSkipped, Reason: reply.SkipDuplicatePerson},
		{Name: "same person and post, no media id in the webhook", CommentID: "18000000000000008", FromID: demoAna, Username: "ana", Text: "RECIPE!!",
			MediaID: "17800000000000001", Product: "REELS", NoMedia: true, Times: 1, Status: 200, State: reply.StateSkipped, Reason: reply.SkipDuplicatePerson},
		{Name: "same person, another reel, the second rule", CommentID: "18000000000000010", FromID: demoAna, Username: "ana", Text: "sourdough 😍",
			MediaID: "17800000000000002", Product: "REELS", Times: 1, Status: 200, State: reply.StateSent, DMs: 1, Rule: "sourdough"},
		{Name: "the second rule, a new person", CommentID: "18000000000000011", FromID: demoFay, Username: "fay", Text: "Levain please",
			MediaID: "17800000000000002", Product: "REELS", Times: 1, Status: 200, State: reply.StateSent, DMs: 1, Rule: "sourdough"},
		// The "book" rule's two variants: a person's is fixed by a hash (gus gets A, hana B),
		// and the private reply is that variant's message.
		{Name: "A/B rule, variant A", CommentID: "18000000000000012", FromID: "900000011", Username: "gus", Text: "the book please",
			MediaID: "17800000000000003", Product: "REELS", Times: 1, Status: 200, State: reply.StateSent, DMs: 1, Rule: "book"},
		{Name: "A/B rule, variant B", CommentID: "18000000000000013", FromID: "900000012", Username: "hana", Text: "Book!",
			MediaID: "17800000000000003", Product: "REELS", Times: 1, Status: 200, State: reply.StateSent, DMs: 1, Rule: "book"},
		{Name: "Live comment during a broadcast", CommentID: "18000000000000006", FromID: "900000006", Username: "dev", Text: "LINK please",
			MediaID: DemoLiveMedia, Product: "LIVE", Live: true, Times: 1, Status: 200, State: reply.StateSent, DMs: 1, Rule: "live-link"},
		{Name: "forged signature", CommentID: "18000000000000007", FromID: "900000007", Username: "mallory", Text: "RECIPE",
			MediaID: "17800000000000001", Product: "REELS", Times: 1, Forged: true, Status: 401},
		{Name: "comment whose webhook never comes", CommentID: "18000000000000009", FromID: "900000008", Username: "eva", Text: "recipe pls",
			MediaID: "17800000000000001", Product: "REELS", NoWebhook: true, State: reply.StateSent, DMs: 1, Rule: "recipe"},
	}
}

// Known is the comment as Meta knows it, whatever its delivery leaves out: the replier may ask
// the Graph API (the sandbox) for the media and the person.
func (c Case) Known() sandbox.Comment {
	return sandbox.Comment{ID: c.CommentID, AccountID: DemoAccountID, MediaID: c.MediaID,
		FromID: c.FromID, FromName: c.Username, Text: c.Text, Live: c.Live, WithoutWebhook: c.NoWebhook}
}

// Body is the delivery Meta would post for c, sent at `at` (sandbox.CommentBody: the one place
// a comment's webhook is built).
func (c Case) Body(at time.Time) []byte {
	k := c.Known()
	if c.NoMedia {
		k.MediaID = ""
	}
	return sandbox.CommentBody(k, c.Product, at)
}

// Outcome is what became of one case.
type Outcome struct {
	Case    Case
	Status  []int // the webhook's answers
	Record  *reply.Record
	DMs     int
	Problem string // "" when the case met its expectation
}

// DemoResult is the demo's outcome.
type DemoResult struct {
	Outcomes []Outcome
	Took     time.Duration
}

// Failed is how many cases missed their expectation.
func (r DemoResult) Failed() int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Problem != "" {
			n++
		}
	}
	return n
}

// Demo posts every case to the running stack, signed as Meta signs, waits until each comment is
// terminal and compares with the expectations. The embedded sandbox learns each real comment first,
// as Meta has it before it notifies; a NoWebhook comment is never posted, so only reconciliation
// can find it. It fails only when the stack cannot be reached; missed expectations are in the
// result.
func (s *Stack) Demo(ctx context.Context, cases []Case, wait time.Duration) (DemoResult, error) {
	start := time.Now()
	var res DemoResult
	acct, err := s.Store.Account(ctx, DemoAccountID)
	if err != nil {
		return res, fmt.Errorf("demo: the demo account: %w", err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range cases {
		o := Outcome{Case: c}
		s.learn(c)
		body := c.Body(time.Now())
		secret := s.AppSecret
		if c.Forged {
			secret = "not-the-app-secret"
		}
		times := max(c.Times, 1)
		if c.NoWebhook {
			times = 0
		}
		for range times {
			status, err := post(ctx, client, s.WebhookURL, body, webhook.Sign(body, secret))
			if err != nil {
				return res, fmt.Errorf("demo %q: %w", c.Name, err)
			}
			o.Status = append(o.Status, status)
		}
		s.settle(ctx, acct, &o, wait)
		res.Outcomes = append(res.Outcomes, o)
	}
	res.Took = time.Since(start)
	return res, nil
}

// learn tells the embedded sandbox about the case's comment, on its media, as Meta has it before
// it notifies (a forged delivery names a comment Meta never had).
func (s *Stack) learn(c Case) {
	if s.Sandbox == nil || c.Forged {
		return
	}
	if !c.Live {
		s.Sandbox.AddMedia(sandbox.Media{ID: c.MediaID, AccountID: DemoAccountID, ProductType: c.Product, CreatedAt: s.started})
	}
	s.Sandbox.AddComment(c.Known())
}

// settle waits for the case's comment to end and records what happened; the private replies
// delivered must be the message of the case's rule in acct.
func (s *Stack) settle(ctx context.Context, acct reply.Account, o *Outcome, wait time.Duration) {
	c := o.Case
	var problems []string
	for _, st := range o.Status {
		if st != c.Status {
			problems = append(problems, fmt.Sprintf("webhook answered %d, want %d", st, c.Status))
			break
		}
	}
	if c.State != "" {
		wctx, cancel := context.WithTimeout(ctx, wait)
		recs, err := s.WaitTerminal(wctx, c.CommentID)
		cancel()
		if err != nil {
			problems = append(problems, err.Error())
		} else {
			r := recs[c.CommentID]
			o.Record = &r
			if r.State != c.State || (c.Reason != "" && r.Reason != c.Reason) {
				problems = append(problems, fmt.Sprintf("ended %s (%s), want %s (%s)", r.State, r.Reason, c.State, c.Reason))
			}
		}
	} else if r, err := s.Store.ByComment(ctx, c.CommentID); err == nil {
		o.Record = &r
		problems = append(problems, fmt.Sprintf("has a record (%s), want none", r.State))
	} else if !errors.Is(err, reply.ErrNotFound) {
		problems = append(problems, err.Error())
	}
	if s.Sandbox != nil {
		o.DMs = s.Sandbox.Delivered(c.CommentID)
		if o.DMs != c.DMs {
			problems = append(problems, fmt.Sprintf("%d DMs, want %d", o.DMs, c.DMs))
		}
		if c.Rule != "" {
			problems = append(problems, ruleReplied(acct, c, s.untracked(s.Sandbox.Deliveries()))...)
		}
	}
	o.Problem = strings.Join(problems, "; ")
}

// ruleReplied checks that each private reply the sandbox delivered for c's comment is c.Rule's
// message for the commenter, as acct renders it.
func ruleReplied(acct reply.Account, c Case, ds []sandbox.Delivery) []string {
	i := slices.IndexFunc(acct.Rules, func(r reply.Rule) bool { return r.Name == c.Rule })
	if i < 0 {
		return []string{fmt.Sprintf("the account has no rule %q", c.Rule)}
	}
	_, rule := acct.Rules[i].Variant(acct.ID, c.FromID) // the person's variant's message
	want, err := rule.Render(c.Username, acct.Disclosure)
	if err != nil {
		return []string{fmt.Sprintf("rule %q: %v", c.Rule, err)}
	}
	var problems []string
	for _, d := range ds {
		if d.CommentID == c.CommentID && d.Text != want {
			problems = append(problems, fmt.Sprintf("private reply %q, want rule %q's %q", d.Text, c.Rule, want))
		}
	}
	return problems
}

func post(ctx context.Context, client *http.Client, url string, body []byte, sig string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.SignatureHeader, sig)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// Print writes the outcome table and the sandbox ledger.
func (r DemoResult) Print(w io.Writer, s *Stack) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tCASE\tCOMMENT\tTEXT\tWEBHOOK\tOUTCOME\tDMS\tOK")
	for i, o := range r.Outcomes {
		outcome := "no record (dropped)"
		if o.Case.Status != http.StatusOK {
			outcome = "no record (refused)"
		}
		if o.Record != nil {
			outcome = string(o.Record.State)
			if o.Record.Reason != "" {
				outcome += " " + o.Record.Reason
			}
		}
		ok := "yes"
		if o.Problem != "" {
			ok = "NO: " + o.Problem
		}
		webhook := strings.Trim(strings.ReplaceAll(fmt.Sprint(o.Status), " ", ","), "[]")
		if o.Case.NoWebhook {
			webhook = "never (found by reconciliation)"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%q\t%s\t%s\t%d\t%s\n", i+1, o.Case.Name, o.Case.CommentID, o.Case.Text, webhook, outcome, o.DMs, ok)
	}
	tw.Flush()
	if s.Sandbox == nil {
		return
	}
	ds := s.Sandbox.Deliveries()
	fmt.Fprintf(w, "\nSandbox ledger: %d DM(s) delivered, %d call(s) refused as a second reply\n", len(ds), s.Sandbox.Stats().Duplicates)
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tACCOUNT\tCOMMENT\tMESSAGE ID\tTEXT")
	for _, d := range ds {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%q\n", d.At.Format("15:04:05.000"), d.AccountID, d.CommentID, d.MessageID, d.Text)
	}
	tw.Flush()
}
