package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
)

// The account file's entry points: story mentions, ig.me refs, ice breakers and the persistent
// menu (reply/entry.go). `accounts put` sets the ice breakers and the menu on Meta; `accounts
// show` compares what Meta has with the stored file.

type opEntryFile struct {
	MentionRules   []opMentionRuleFile `yaml:"mention_rules"`
	RefRules       []opRefRuleFile     `yaml:"ref_rules"`
	IceBreakers    []opIceBreakerFile  `yaml:"ice_breakers"`
	PersistentMenu []opMenuItemFile    `yaml:"persistent_menu"`
}

type opMentionRuleFile struct {
	Name     string          `yaml:"name"`
	Every    string          `yaml:"every"` // "24h" (the default): once per person per this
	Messages []opMessageFile `yaml:"messages"`
	Flow     []opStepFile    `yaml:"flow"`
}

type opRefRuleFile struct {
	Name     string          `yaml:"name"`
	Ref      string          `yaml:"ref"` // exact, or ending in '*'
	Messages []opMessageFile `yaml:"messages"`
	Flow     []opStepFile    `yaml:"flow"`
}

type opIceBreakerFile struct {
	Question string `yaml:"question"`
	Payload  string `yaml:"payload"`
}

type opMenuItemFile struct {
	Type    reply.ButtonType `yaml:"type"` // postback (default) or web_url
	Title   string           `yaml:"title"`
	Payload string           `yaml:"payload"`
	URL     string           `yaml:"url"`
}

// opEntries converts the file's entry points into a; Validate checks them.
func opEntries(f opEntryFile, a *reply.Account) error {
	for i, m := range f.MentionRules {
		path := fmt.Sprintf("mention_rules[%d] %q", i, m.Name)
		flow, err := opFlow(path, m.Flow)
		if err != nil {
			return err
		}
		every, err := opDuration("every", m.Every)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		a.MentionRules = append(a.MentionRules, reply.MentionRule{Name: m.Name, Every: every, Messages: opMessages(m.Messages), Flow: flow})
	}
	for i, r := range f.RefRules {
		flow, err := opFlow(fmt.Sprintf("ref_rules[%d] %q", i, r.Name), r.Flow)
		if err != nil {
			return err
		}
		a.RefRules = append(a.RefRules, reply.RefRule{Name: r.Name, Ref: r.Ref, Messages: opMessages(r.Messages), Flow: flow})
	}
	for _, b := range f.IceBreakers {
		a.IceBreakers = append(a.IceBreakers, reply.IceBreaker{Question: b.Question, Payload: b.Payload})
	}
	for _, m := range f.PersistentMenu {
		t := m.Type
		if t == "" {
			t = reply.ButtonPostback
		}
		a.PersistentMenu = append(a.PersistentMenu, reply.MenuItem{Type: t, Title: m.Title, Payload: m.Payload, URL: m.URL})
	}
	return nil
}

// opHasEntries reports whether the account answers any entry point.
func opHasEntries(a reply.Account) bool {
	return len(a.MentionRules) > 0 || len(a.RefRules) > 0 || !a.MessengerProfile().Empty()
}

// opPutEntries is `accounts put`'s part for the entry points: with the token given, or else the
// stored one, it checks the subscription and sets the messenger profile (opSyncProfile). Without
// any token (an account put before its token) it says what it could not do, as put does for the
// token itself.
func opPutEntries(ctx context.Context, c *opCmd, client *graph.Client, cfg aws.Config, a, prev reply.Account, token string, stdout, stderr io.Writer) error {
	if !opHasEntries(a) && prev.MessengerProfile().Empty() {
		return nil
	}
	if token == "" {
		var err error
		if token, err = c.tokens(cfg).Token(ctx, a); err != nil {
			fmt.Fprintf(stderr, "note: no token (%v): the ice breakers and menu are not set on Meta, nor the webhook fields the entry points need checked; accounts put --token-stdin does both\n", err)
			return nil
		}
	}
	return opSyncProfile(ctx, client, a, prev, token, stdout, stderr)
}

// opSyncProfile makes Meta's messenger profile of the account what the file says (prev is the
// account as stored before: a profile it had and the file dropped is removed from Meta), and
// warns when the account's subscription lacks a field its entry points need.
func opSyncProfile(ctx context.Context, client *graph.Client, a, prev reply.Account, token string, stdout, stderr io.Writer) error {
	if opHasEntries(a) {
		apps, err := client.SubscribedApps(ctx, a, token)
		if err != nil {
			fmt.Fprintf(stderr, "warning: could not read the account's webhook subscription: %v\n", err)
		} else if missing, _ := reply.SubscriptionGap(apps, nil, a.NeededFields()); len(missing) > 0 {
			fmt.Fprintf(stderr, "warning: account %s's entry points need %s, which its subscription lacks: those webhooks never arrive (replywindow subscribe --account %s)\n",
				a.ID, strings.Join(missing, ", "), a.ID)
		}
	}
	want := a.MessengerProfile()
	if want.Empty() && prev.MessengerProfile().Empty() {
		return nil
	}
	had, err := client.MessengerProfile(ctx, a, token)
	if err != nil {
		return fmt.Errorf("read Meta's messenger profile: %w", err)
	}
	if had.Equal(want) {
		fmt.Fprintf(stdout, "messenger profile: Meta has it already (%s)\n", opProfileSummary(want))
		return nil
	}
	if err := client.SetMessengerProfile(ctx, a, token, want, had); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "messenger profile set on Meta: %s\n", opProfileSummary(want))
	return nil
}

func opProfileSummary(p reply.MessengerProfile) string {
	return opPlural(len(p.IceBreakers), "ice breaker") + ", " + opPlural(len(p.Menu), "menu item")
}

// opShowEntries prints the account's entry points and, when it declares a messenger profile,
// how Meta's compares (meta is nil when it could not be read: why says why).
func opShowEntries(w io.Writer, a reply.Account, meta *reply.MessengerProfile, why error) {
	if !opHasEntries(a) {
		return
	}
	fmt.Fprintln(w, "\nEntry points:")
	var rows [][]string
	for _, m := range a.MentionRules {
		every := m.Every
		if every == 0 {
			every = reply.DefaultMentionEvery
		}
		rows = append(rows, []string{"  story mention", m.Name, "once per person per " + every.String(), opPlural(len(m.Messages), "message"), opFlowSummary(reply.Message{}, m.Flow)})
	}
	for _, r := range a.RefRules {
		rows = append(rows, []string{"  ig.me ref", r.Name, "ref " + r.Ref, opPlural(len(r.Messages), "message"), opFlowSummary(reply.Message{}, r.Flow)})
	}
	for _, b := range a.IceBreakers {
		rows = append(rows, []string{"  ice breaker", opShort(b.Question, 40), "payload " + opShort(b.Payload, 30), "", ""})
	}
	for _, m := range a.PersistentMenu {
		target := "payload " + opShort(m.Payload, 30)
		if m.Type == reply.ButtonURL {
			target = opShort(m.URL, 40)
		}
		rows = append(rows, []string{"  menu item", m.Title, target, "", ""})
	}
	opTable(w, []string{"  KIND", "NAME", "WHEN", "ANSWER", "FLOW"}, rows)
	if a.MessengerProfile().Empty() {
		return
	}
	switch {
	case meta == nil:
		fmt.Fprintf(w, "  Meta's messenger profile: not read (%v)\n", why)
	case meta.Equal(a.MessengerProfile()):
		fmt.Fprintln(w, "  Meta's messenger profile: matches the file")
	default:
		fmt.Fprintln(w, "  Meta's messenger profile DIFFERS from the file (accounts put sets it):")
		for _, d := range reply.ProfileDiff(*meta, a.MessengerProfile()) {
			fmt.Fprintln(w, "    "+d)
		}
	}
}

// opMetaProfile reads Meta's messenger profile of an account that declares one; nil otherwise,
// or with why it could not be read.
func opMetaProfile(ctx context.Context, c *opCmd, graphURL string, cfg aws.Config, a reply.Account) (*reply.MessengerProfile, error) {
	if a.MessengerProfile().Empty() {
		return nil, nil
	}
	client, err := c.graph(graphURL)
	if err != nil {
		return nil, err
	}
	token, err := c.tokens(cfg).Token(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("token (SSM %s): %w", a.TokenParam, err)
	}
	p, err := client.MessengerProfile(ctx, a, token)
	if err != nil {
		return nil, err
	}
	return &p, nil
}
