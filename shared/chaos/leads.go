package chaos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/replywindow/replywindow/shared/lead"
	"github.com/replywindow/replywindow/shared/reply"
)

// The first account's recipe flow asks for an email address (issue 21): the person writes
// "email", gets the question, and answers, validly or not, once, twice, or twice at the same
// second (two replier instances at once). The checker holds the leads to what people answered.
const (
	stepEmail    = "email"
	askText      = "Which email should we send the full recipe book to?"
	askConfirm   = "Thanks, the book is on its way."
	askRetry     = "That does not look like an email address, try again?"
	askFallback  = "No worries, the recipe stays here in the chat."
	askedAccount = 0 // the account index whose recipe flow asks
)

// askStep is the asking step of the recipe flow of the account that asks.
func askStep() reply.Step {
	return reply.Step{Name: stepEmail, On: reply.Trigger{Keywords: []string{"email"}},
		Messages: []reply.Message{{Text: askText}},
		Ask: &reply.Ask{Kind: reply.AskEmail, Confirm: []reply.Message{{Text: askConfirm}}, Retries: 1,
			Retry: reply.Message{Text: askRetry}, Fallback: reply.Message{Text: askFallback}}}
}

// answer is one text a person sent in answer to the question.
type answer struct {
	text  string
	valid bool
}

// askLead plans, now and then, a person of the asking account asking for the book and answering.
func (s *sim) askLead(c *comment, t time.Time) {
	if !s.cfg.Asks || c.account != s.accounts[askedAccount].ID || !s.dice.roll(0.5) {
		return
	}
	ask := t.Add(s.dice.duration(time.Minute, 2*time.Hour))
	s.atTime(ask, "ask for the book", func() { s.act(c, stepEmail) })
	valid := func(n int) answer { return answer{fmt.Sprintf("Reader.%s.%d@Example.com", c.person, n), true} }
	invalid := []answer{{"my email is at home", false}, {"reader@", false}, {"réader@exämple", false}}
	bad := invalid[s.dice.intN(len(invalid))]
	var plan [][]answer // answers at the same second, one list a second later than the last
	switch s.dice.intN(5) {
	case 0: // a valid answer
		plan = [][]answer{{valid(1)}}
	case 1: // an invalid one, then a valid one
		plan = [][]answer{{bad}, {valid(1)}}
	case 2: // invalid twice: the retry, then the fallback; nothing kept
		plan = [][]answer{{bad}, {invalid[0]}}
	case 3: // valid twice: the first one is kept
		plan = [][]answer{{valid(1)}, {valid(2)}}
	default: // two valid answers at the same second, worked by two instances at once
		plan = [][]answer{{valid(1), valid(2)}}
	}
	at := ask.Add(s.dice.duration(time.Minute, 10*time.Minute))
	for _, same := range plan {
		for _, a := range same {
			s.atTime(at, "answer the question", func() { s.answerWith(c, a) })
		}
		at = at.Add(s.dice.duration(30*time.Second, 5*time.Minute))
	}
}

// answerWith is the person typing a into the conversation.
func (s *sim) answerWith(c *comment, a answer) {
	if _, gone := s.forgotten[c.person]; gone {
		return
	}
	k := c.account + "#" + c.person
	s.answers[k] = append(s.answers[k], a)
	s.res.LeadAnswers++
	if !a.valid {
		s.res.LeadAnswersInvalid++
	}
	tp := &tap{account: c.account, person: c.person, at: s.clock.Now()}
	mid, body := s.sandbox.Message(c.account, c.person, a.text)
	tp.mid = mid
	s.send(tp, body)
}

// checkLeads holds the asking account's leads to what people answered: a lead's value is one of
// its person's valid answers (nothing stored for an invalid one), a person who never answered
// validly has none, one per person (the key), none for a forgotten person.
func (s *sim) checkLeads(ctx context.Context) error {
	leads, ok := reply.StoreAs[lead.Store](s.store)
	if !ok || !s.cfg.Asks {
		return nil
	}
	acct := s.accounts[askedAccount].ID
	for k, as := range s.answers {
		person := k[len(acct)+1:]
		l, err := leads.Lead(ctx, acct, person, lead.KindEmail)
		switch {
		case errors.Is(err, reply.ErrNotFound):
			continue // not every valid answer reached an open question (windows, faults, order)
		case err != nil:
			return fmt.Errorf("lead of %s: %w", k, err)
		}
		s.res.LeadsChecked++
		if _, gone := s.forgotten[person]; gone {
			s.violate("lead %s kept after the person's data deletion", l.Key())
			continue
		}
		kept := false
		for _, a := range as {
			v, err := lead.Check(lead.KindEmail, a.text, "")
			kept = kept || (a.valid && err == nil && v == l.Value)
			if !a.valid && err == nil {
				s.violate("answer %q of %s passed the email check", a.text, k)
			}
		}
		if !kept {
			s.violate("lead %s holds %q, none of the person's valid answers", l.Key(), l.Value)
		}
	}
	page, _, err := leads.Leads(ctx, acct, "", 1000)
	if err != nil {
		return fmt.Errorf("leads of %s: %w", acct, err)
	}
	s.res.Leads = len(page)
	for _, l := range page {
		if _, ok := s.answers[acct+"#"+l.PersonID]; !ok {
			s.violate("lead %s of a person who never answered", l.Key())
		}
	}
	return nil
}

// The replier's leads go through its faulty store: a lead's create meets DynamoDB's throttling
// (nothing written) and the crash of its invocation like any other write.

var _ lead.Store = (*faultyStore)(nil)

func (f *faultyStore) leads() (lead.Store, error) {
	ls, ok := reply.StoreAs[lead.Store](f.Store)
	if !ok {
		return nil, errors.New("chaos: the store keeps no leads")
	}
	return ls, nil
}

// CreateLead is the lead's conditional create, behind the store's faults.
func (f *faultyStore) CreateLead(ctx context.Context, l lead.Lead) (lead.Lead, error) {
	if err := f.pre("TransactWriteItems", ""); err != nil {
		return lead.Lead{}, err
	}
	ls, err := f.leads()
	if err != nil {
		return lead.Lead{}, err
	}
	return ls.CreateLead(ctx, l)
}

func (f *faultyStore) Lead(ctx context.Context, account, person string, kind lead.Kind) (lead.Lead, error) {
	ls, err := f.leads()
	if err != nil {
		return lead.Lead{}, err
	}
	return ls.Lead(ctx, account, person, kind)
}

func (f *faultyStore) Leads(ctx context.Context, account, cursor string, limit int) ([]lead.Lead, string, error) {
	ls, err := f.leads()
	if err != nil {
		return nil, "", err
	}
	return ls.Leads(ctx, account, cursor, limit)
}

func (f *faultyStore) DeleteLead(ctx context.Context, account, person string, kind lead.Kind) error {
	ls, err := f.leads()
	if err != nil {
		return err
	}
	return ls.DeleteLead(ctx, account, person, kind)
}
