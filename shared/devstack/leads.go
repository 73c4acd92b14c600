package devstack

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

// demoLead is the person of the demo's lead capture: they only write.
const demoLead = "900000026"

// DemoLeadEmail is the address demoLead types after a first answer that is none.
const DemoLeadEmail = "lea@example.com"

// The demo account's lead capture, as account.example.yaml has it: the "price" DM rule's answer
// offers a sample by email; the step that asks takes the address, then sends the sample.
var (
	demoSampleButtons = []reply.Button{{Type: reply.ButtonPostback, Title: "Free sample by email", Payload: "BOOK_SAMPLE"}}
	demoLeadSettings  = reply.LeadSettings{Consent: "We'll only use your email to send you the sample. Reply STOP to opt out.",
		PhoneRegion: "US", Retention: 365 * 24 * time.Hour}
)

func demoSampleFlow() []reply.Step {
	return []reply.Step{
		{Name: "email", On: reply.Trigger{Payload: "BOOK_SAMPLE"}, Messages: []reply.Message{{Text: "Which email address should the sample go to?"}},
			Ask: &reply.Ask{Kind: reply.AskEmail, Consent: true, Next: "sample", Retries: 2,
				Confirm:  []reply.Message{{Text: "Thanks! The sample is on its way to your inbox."}},
				Retry:    reply.Message{Text: "Hmm, that doesn't look like an email address. Could you type it again?"},
				Fallback: reply.Message{Text: "No problem: here is the sample instead: https://bakery.example/sample"}}},
		{Name: "sample", On: reply.Trigger{Keywords: []string{"sample"}}, Messages: []reply.Message{{Text: "And here it is right away: https://bakery.example/sample"}}},
	}
}

// DemoLeadTurns is the demo's lead capture, for account a: a person asks the DM rule whose flow
// has a step that asks for an email (the example's "price"), taps its button (the question, with
// the consent line), answers with something that is no email (the retry), then with an address
// (kept, confirmed, and the step after it). What each turn must get is the account's own
// messages.
func DemoLeadTurns(a reply.Account) ([]Turn, error) {
	for _, d := range a.DMRules {
		for _, s := range d.Flow {
			if s.Ask == nil || s.Ask.Kind != reply.AskEmail || s.On.Payload == "" {
				continue
			}
			title := ""
			for _, m := range d.Messages {
				for _, b := range m.Buttons {
					if b.Payload == s.On.Payload {
						title = b.Title
					}
				}
			}
			if title == "" {
				continue // asked from elsewhere: not the demo's way in
			}
			question := readAll(s.Messages, "")
			if s.Ask.Consent {
				question = readAll([]reply.Message{s.Messages[0].WithConsent(a.Leads.Consent)}, "")
			}
			confirm, _ := reply.AnswerMessages(d.Flow, s, reply.AnswerConfirm)
			opening := "what's the price?"
			if len(d.Keywords) > 0 {
				opening = "what about the " + d.Keywords[0] + "?"
			}
			return []Turn{
				{Name: "a DM: the answer, with a button to ask for an email", Person: demoLead, Text: opening,
					Want: readAll(d.Messages, ""), Disclosure: DisclosedWith},
				{Name: "the tap: the question, with the consent line", Person: demoLead, Payload: s.On.Payload, Title: title,
					Want: question},
				{Name: "an answer that is no email: the retry, nothing kept", Person: demoLead, Text: "lea at example dot com",
					Want: readAll([]reply.Message{s.Ask.Retry}, "")},
				{Name: "an email: kept once, confirmed, the flow goes on", Person: demoLead, Text: DemoLeadEmail,
					Want: readAll(confirm, "")},
			}, nil
		}
	}
	return nil, fmt.Errorf("the demo's lead capture wants a DM rule whose button runs a step that asks for an email: the account has none")
}

// Leads is the demo account's leads, as `replywindow leads export` lists them.
func (s *Stack) Leads(ctx context.Context) ([]lead.Lead, error) {
	ls, ok := reply.StoreAs[lead.Store](s.Store)
	if !ok {
		return nil, fmt.Errorf("leads: the stack's store keeps none")
	}
	out, _, err := ls.Leads(ctx, DemoAccountID, "", 100)
	return out, err
}

// ProveLeads checks the leads after the turns: exactly one, the address the person typed (the
// invalid answer kept nowhere), with the consent line they saw.
func ProveLeads(a reply.Account, ls []lead.Lead) Proof {
	p := Proof{Claim: fmt.Sprintf("one lead for %s: the email typed after one invalid answer, with the consent line seen", demoLead)}
	switch {
	case len(ls) != 1:
		p.Problem = fmt.Sprintf("%d leads, want 1", len(ls))
	case ls[0].PersonID != demoLead || ls[0].Value != DemoLeadEmail || ls[0].Kind != lead.KindEmail:
		p.Problem = fmt.Sprintf("lead of %s, %s %q", ls[0].PersonID, ls[0].Kind, ls[0].Value)
	case ls[0].Consent != a.Leads.Consent:
		p.Problem = fmt.Sprintf("consent %q, want the account's %q", ls[0].Consent, a.Leads.Consent)
	}
	return p
}

// PrintLeads writes the leads as a table.
func PrintLeads(w io.Writer, ls []lead.Lead) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CAPTURED\tPERSON\tKIND\tVALUE\tRULE/STEP\tCONSENT SEEN\tKEPT UNTIL")
	for _, l := range ls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s/%s\t%q\t%s\n", l.CapturedAt.UTC().Format(time.RFC3339), l.PersonID, l.Kind, l.Value,
			l.Rule, l.Step, l.Consent, l.ExpiresAt.UTC().Format(time.DateOnly))
	}
	tw.Flush()
}
