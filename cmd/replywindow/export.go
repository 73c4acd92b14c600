package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/replywindow/replywindow/shared/reply"
)

// accountsExport prints the stored account as the file accounts put takes, so that a
// configuration can be edited where it runs and stored again as it is.
func accountsExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("accounts export", "ID", `  replywindow accounts export 17841400000000001 > account.yaml
  $EDITOR account.yaml
  replywindow accounts put --file account.yaml --dry-run && replywindow accounts put --file account.yaml
`, stdout, stderr)
	table := c.tableFlag()
	id, code, ok := c.accountArg(args)
	if !ok {
		return code
	}
	store, _, err := c.store(ctx, *table)
	if err != nil {
		return c.fail(err)
	}
	a, err := opReadAccount(ctx, store, id, "")
	if err != nil {
		return c.fail(err)
	}
	b, err := opExportYAML(a)
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(stdout, "# account %s, version %d, exported %s: accounts put --file takes it as it is\n", a.ID, a.Version, time.Now().UTC().Format(time.RFC3339))
	stdout.Write(b)
	return exitOK
}

// accountArg parses the arguments of a command about one account: its ID, checked.
func (c *opCmd) accountArg(args []string) (string, int, bool) {
	pos, code, ok := c.parse(args)
	if !ok {
		return "", code, false
	}
	if len(pos) != 1 {
		return "", c.fail(opUsagef("want exactly one account ID")), false
	}
	if err := opCheckID("ID", "account", pos[0]); err != nil {
		return "", c.fail(err), false
	}
	return pos[0], 0, true
}

// opReadAccount reads the account; an unknown one is an error saying where to look (and, with
// nothing, what was not done: "nothing paused").
func opReadAccount(ctx context.Context, store reply.Accounts, id, nothing string) (reply.Account, error) {
	a, err := store.Account(ctx, id)
	switch {
	case errors.Is(err, reply.ErrNotFound) && nothing != "":
		return a, fmt.Errorf("no account %s: %s (see: replywindow accounts list)", id, nothing)
	case errors.Is(err, reply.ErrNotFound):
		return a, fmt.Errorf("no account %s (see: replywindow accounts list)", id)
	case err != nil:
		return a, fmt.Errorf("read account %s: %w", id, err)
	}
	return a, nil
}

// opExportYAML is the account as its file: the configuration only (what the system learned,
// such as health and token expiry, stays in the table), with empty fields left out.
func opExportYAML(a reply.Account) ([]byte, error) {
	f := opAccountFile{
		ID: a.ID, Username: a.Username, Login: a.Login, PageID: a.PageID, TokenParam: a.TokenParam,
		Disclosure: a.Disclosure, RepeatPerPerson: a.RepeatPerPerson,
		HumanPause: opFormatDuration(a.HumanPause), DisclosureLapse: opFormatDuration(a.DisclosureLapse),
		Tracking:    a.Tracking,
		opEntryFile: opEntryFiles(a),
		Leads: opLeadsFile{Consent: a.Leads.Consent, PhoneRegion: a.Leads.PhoneRegion,
			Retention: opFormatDuration(a.Leads.Retention)},
	}
	for lane, l := range a.Limits {
		if f.Limits == nil {
			f.Limits = map[reply.Lane]opLimitFile{}
		}
		f.Limits[lane] = opLimitFile{Count: l.Count, Per: opFormatDuration(l.Period)}
	}
	for _, r := range a.Rules {
		f.Rules = append(f.Rules, opRuleFile{
			Name: r.Name, Match: r.Match, Keywords: r.Keywords, Exclude: r.Exclude, Media: r.Media, Kinds: r.Kinds,
			Message: r.Message, Disclose: r.Disclose, PublicReplies: r.PublicReplies,
			Buttons: opButtonFiles(r.Buttons), QuickReplies: opQuickReplyFiles(r.QuickReplies), Flow: opStepFiles(r.Flow),
			Enabled: opEnabled(r.Disabled), From: opFormatTime(r.From), Until: opFormatTime(r.Until), Tracking: r.Tracking, Variants: r.Variants,
		})
	}
	for _, d := range a.DMRules {
		f.DMRules = append(f.DMRules, opDMRuleFile{
			Name: d.Name, Match: d.Match, Keywords: d.Keywords, StoryReplies: d.Stories,
			Messages: opMessageFiles(d.Messages), Flow: opStepFiles(d.Flow),
		})
	}
	var n yaml.Node
	if err := n.Encode(f); err != nil {
		return nil, fmt.Errorf("export account %s: %w", a.ID, err)
	}
	opPrune(&n)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, fmt.Errorf("export account %s: %w", a.ID, err)
	}
	return b.Bytes(), nil
}

// opPrune removes the mapping entries whose value is empty ("", false, 0, an empty list or
// mapping): each is the file's default, and leaving it out keeps the export as short as a
// hand-written file.
func opPrune(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			opPrune(c)
		}
		return false
	case yaml.MappingNode:
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			// enabled: false is what it says, not a default.
			if !opPrune(n.Content[i+1]) || n.Content[i].Value == "enabled" && n.Content[i+1].Value == "false" {
				kept = append(kept, n.Content[i], n.Content[i+1])
			}
		}
		n.Content = kept
		return len(n.Content) == 0
	case yaml.SequenceNode:
		for _, c := range n.Content {
			opPrune(c)
		}
		return len(n.Content) == 0
	case yaml.ScalarNode:
		return n.Tag == "!!null" || n.Value == "" || n.Tag == "!!bool" && n.Value == "false" || n.Tag == "!!int" && n.Value == "0"
	}
	return false
}

// opEnabled is a rule's enabled field: false written out for a disabled rule, else left out.
func opEnabled(disabled bool) *bool {
	if !disabled {
		return nil
	}
	f := false
	return &f
}

// opFormatTime writes a rule's from/until as the file takes it (RFC 3339); zero is "".
func opFormatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339)
}

// opFormatDuration writes d as the file does: whole days as "2d", else Go's form without the
// zero parts ("1h", "90m", "1s"); zero is "".
func opFormatDuration(d time.Duration) string {
	switch {
	case d == 0:
		return ""
	case d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func opButtonFiles(bs []reply.Button) []opButtonFile {
	var out []opButtonFile
	for _, b := range bs {
		out = append(out, opButtonFile{Type: b.Type, Title: b.Title, Payload: b.Payload, URL: b.URL})
	}
	return out
}

func opQuickReplyFiles(qs []reply.QuickReply) []opQuickReply {
	var out []opQuickReply
	for _, q := range qs {
		out = append(out, opQuickReply{Title: q.Title, Payload: q.Payload, ContentType: q.ContentType})
	}
	return out
}

func opMessageFileOf(m reply.Message) opMessageFile {
	return opMessageFile{Kind: m.Kind, Text: m.Text, URL: m.URL, MediaID: m.MediaID, Reaction: m.Reaction,
		Buttons: opButtonFiles(m.Buttons), QuickReplies: opQuickReplyFiles(m.QuickReplies)}
}

func opMessageFiles(ms []reply.Message) []opMessageFile {
	var out []opMessageFile
	for _, m := range ms {
		out = append(out, opMessageFileOf(m))
	}
	return out
}

func opStepFiles(steps []reply.Step) []opStepFile {
	var out []opStepFile
	for _, s := range steps {
		f := opStepFile{
			Name: s.Name, ID: s.ID, Messages: opMessageFiles(s.Messages), Resend: s.Resend,
			On:       opTriggerFile{Payload: s.On.Payload, Keywords: s.On.Keywords, Match: s.On.Match, Any: s.On.Any},
			Cooldown: opFormatDuration(s.Cooldown),
		}
		if g := s.Gate; g != nil {
			f.FollowGate = &opGateFile{Message: opMessageFileOf(g.Message), Unavailable: g.Unavailable}
		}
		for _, v := range s.Variants {
			f.Variants = append(f.Variants, opStepVariantFile{Name: v.Name, Weight: v.Weight, Messages: opMessageFiles(v.Messages)})
		}
		if q := s.Ask; q != nil {
			f.Ask = &opAskFile{Kind: q.Kind, Consent: q.Consent, Confirm: opMessageFiles(q.Confirm), Next: q.Next,
				Retry: opMessageFileOf(q.Retry), Retries: q.Retries, Fallback: opMessageFileOf(q.Fallback)}
		}
		out = append(out, f)
	}
	return out
}

// opEntryFiles is the account's entry points as the file writes them (opEntries reads them).
func opEntryFiles(a reply.Account) opEntryFile {
	var f opEntryFile
	for _, m := range a.MentionRules {
		f.MentionRules = append(f.MentionRules, opMentionRuleFile{Name: m.Name, Every: opFormatDuration(m.Every),
			Messages: opMessageFiles(m.Messages), Flow: opStepFiles(m.Flow)})
	}
	for _, r := range a.RefRules {
		f.RefRules = append(f.RefRules, opRefRuleFile{Name: r.Name, Ref: r.Ref, Messages: opMessageFiles(r.Messages), Flow: opStepFiles(r.Flow)})
	}
	for _, b := range a.IceBreakers {
		f.IceBreakers = append(f.IceBreakers, opIceBreakerFile{Question: b.Question, Payload: b.Payload})
	}
	for _, m := range a.PersistentMenu {
		f.PersistentMenu = append(f.PersistentMenu, opMenuItemFile{Type: m.Type, Title: m.Title, Payload: m.Payload, URL: m.URL})
	}
	return f
}
