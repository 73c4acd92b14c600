package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"time"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

func init() {
	commands["leads"] = command{summary: "export the emails and phone numbers people gave in answer to steps that ask", run: runLeads}
}

const leadsHelp = `usage: replywindow leads export --account ID [--since 7d] [--csv | --json]

Lists the account's leads: what people answered to a flow's step that asks (ask: {kind: email}
or {kind: phone}), one per person and kind, with the rule and step that asked, the consent line
the person saw and when they answered. Leads are read by account (a Query), never by scanning
the table. They are personal data: keep the export as safe as the table.
`

func runLeads(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return opDispatch(ctx, "leads", leadsHelp, map[string]opSub{"export": leadsExport}, args, stdout, stderr)
}

// opLeadColumns are the CSV's columns, in order.
var opLeadColumns = []string{"captured_at", "account", "person", "kind", "value", "rule", "step", "variant", "consent", "expires"}

func leadsExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("leads export", "--account ID [--since 7d] [--csv | --json]", `  replywindow leads export --account 17841400000000001 --since 7d --csv > leads.csv
  replywindow leads export --account 17841400000000001 --json | jq -r '.[].value'

A table (the default) shows the leads; --csv writes a header and one row a lead (RFC 4180);
--json an array of leads. --since keeps those captured within that long (7d, 24h).

Exit status: 0 listed (none is no error), 1 an error, 2 bad usage.
`, stdout, stderr)
	account := c.idFlag("account", "account", "the Instagram account `ID`", true)
	since := c.spanFlag("since", "", "only leads captured within this `duration` (7d, 24h)")
	asCSV := c.fs.Bool("csv", false, "print CSV")
	asJSON := c.fs.Bool("json", false, "print JSON")
	c.tableFlag()
	st, code, ok := c.open(ctx, args, func() error {
		if *asCSV && *asJSON {
			return opUsagef("--csv and --json: choose one")
		}
		return nil
	})
	if !ok {
		return code
	}
	ls, err := opLeads(ctx, st.store, *account, *since, time.Now())
	if err != nil {
		return c.fail(err)
	}
	switch {
	case *asJSON:
		if err := opJSON(stdout, ls); err != nil {
			return c.fail(err)
		}
	case *asCSV:
		if err := opLeadsCSV(stdout, ls); err != nil {
			return c.fail(err)
		}
	default:
		fmt.Fprintf(stdout, "%-20s  %-5s  %-19s  %-32s  %s\n", "CAPTURED", "KIND", "PERSON", "VALUE", "RULE/STEP")
		for _, l := range ls {
			fmt.Fprintf(stdout, "%-20s  %-5s  %-19s  %-32s  %s/%s\n", l.CapturedAt.UTC().Format(time.RFC3339), l.Kind, l.PersonID, l.Value, l.Rule, l.Step)
		}
		fmt.Fprintf(stdout, "%d leads\n", len(ls))
	}
	return exitOK
}

// opLeads is the account's leads captured within the last within (all when zero), page by page.
func opLeads(ctx context.Context, store lead.Store, account string, within time.Duration, now time.Time) ([]lead.Lead, error) {
	out := []lead.Lead{}
	cursor := ""
	for {
		page, next, err := store.Leads(ctx, account, cursor, 500)
		if err != nil {
			return nil, fmt.Errorf("read leads: %w", err)
		}
		for _, l := range page {
			if within == 0 || !l.CapturedAt.Before(now.Add(-within)) {
				out = append(out, l)
			}
		}
		if cursor = next; cursor == "" {
			return out, nil
		}
	}
}

// opLeadsCSV writes the leads as CSV. A cell a spreadsheet would run as a formula (=, +, -, @
// first) gets a ' before it: an email's local part may start so ("=1+2@example.com"). A phone
// number is checked E.164 (a + and digits only), so it is written as it is.
func opLeadsCSV(w io.Writer, ls []lead.Lead) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(opLeadColumns); err != nil {
		return err
	}
	for _, l := range ls {
		value := opCell(l.Value)
		if l.Kind == lead.KindPhone {
			value = l.Value
		}
		row := []string{l.CapturedAt.UTC().Format(time.RFC3339), l.AccountID, l.PersonID, l.Kind, value,
			opCell(l.Rule), opCell(l.Step), opCell(l.Variant), opCell(l.Consent), l.ExpiresAt.UTC().Format(time.RFC3339)}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func opCell(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}

// opLeadSettings converts the account file's leads section; a phone region must be one the number
// library knows, or every national number would be refused.
func opLeadSettings(f opLeadsFile) (reply.LeadSettings, error) {
	out := reply.LeadSettings{Consent: f.Consent, PhoneRegion: f.PhoneRegion}
	if f.PhoneRegion != "" {
		if err := lead.CheckRegion(f.PhoneRegion); err != nil {
			return out, fmt.Errorf("leads.%w", err)
		}
	}
	var err error
	out.Retention, err = opDuration("leads.retention", f.Retention)
	return out, err
}
