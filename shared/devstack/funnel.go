package devstack

import (
	"cmp"
	"context"
	"encoding/json"
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

// Turn is one thing a person does in the DM after the comment cases, and what they must get.
type Turn struct {
	Name    string
	Person  string
	Follow  bool          // the person follows the account first
	Payload string        // a tap on the button with this payload; else Text is a message
	Title   string        // the tapped button's title, as Meta posts it
	Text    string        // what the person writes
	Late    time.Duration // Meta's timestamp is this old: the delivery reaches us that late
	// Entry makes the turn an entry point's (entries.go): what the person does in the sandbox,
	// and the webhook Meta posts for it (nil: Meta posts nothing).
	Entry func(sb *sandbox.Sandbox, account, person string) []byte
	// Want is what the person reads for it, in order, as Read shows it ("♥" for the heart
	// sticker, "[image] URL" for an image), the disclosure line left off.
	Want []string
	// Disclosure is where the account's disclosure line must be among the turn's messages:
	// DisclosedNone, DisclosedWith or DisclosedAlone.
	Disclosure string
}

// Where a turn's messages carried the account's disclosure line (Read).
const (
	DisclosedNone  = "none"
	DisclosedWith  = "with the first message"
	DisclosedAlone = "own message, first"
)

// The people of the demo's conversations: ana and fay commented (DemoCases), the others only
// write.
const (
	demoAna  = "900000001"
	demoFay  = "900000009"
	demoLate = "900000021"
	demoDMer = "900000022"
)

// DemoFunnel is the conversation half of the demo, for account a (cmd/replywindow's
// account.example.yaml, or DemoAccounts): ana, who got the "recipe" rule's private reply, taps
// its button (not following: the gate, with the disclosure line, the first automated message of
// her conversation), follows and taps again (the link and a heart), taps a third time (nothing);
// she got the "sourdough" rule's private reply too, taps it (an image and a button) and that
// button (the sourdough step "link": a second step of that name, from another rule, reaches
// her). fay, whose first automated message is the sourdough step's image, gets the disclosure as
// a message of its own first. A DM that reaches us 25 hours late gets nothing (its window
// closed); a DM asking the price gets the "price" DM rule's answer (with the disclosure), and the
// same person asking the hours gets the "hours" DM rule's. What each turn must get is the
// account's own messages: edit the file and the demo expects the new texts.
func DemoFunnel(a reply.Account) ([]Turn, error) {
	var errs []error
	step := func(rule, step, person string, gate bool) []string {
		ms, err := stepMessages(a, rule, step, gate)
		errs = append(errs, err)
		return readAll(ms, person)
	}
	title := func(payload string) string {
		t, err := buttonTitle(a, payload)
		errs = append(errs, err)
		return t
	}
	dm := func(rule string) []string {
		for _, d := range a.DMRules {
			if d.Name == rule {
				return readAll(d.Messages, "")
			}
		}
		errs = append(errs, fmt.Errorf("the demo asks DM rule %q: the account has none", rule))
		return nil
	}
	const start, guide = "SOURDOUGH_START", "SOURDOUGH_LINK"
	turns := []Turn{
		{Name: "tap, not following: the follow gate", Person: demoAna, Payload: DemoPayload, Title: title(DemoPayload),
			Want: step("recipe", "link", "ana", true), Disclosure: DisclosedWith},
		{Name: "follow, tap again: the link and a heart", Person: demoAna, Follow: true, Payload: DemoPayload, Title: title(DemoPayload),
			Want: step("recipe", "link", "ana", false)},
		{Name: "a third tap: nothing more", Person: demoAna, Payload: DemoPayload, Title: title(DemoPayload)},
		{Name: "the second rule's button: its own flow", Person: demoAna, Payload: start, Title: title(start),
			Want: step("sourdough", "intro", "ana", false)},
		{Name: "its step \"link\" too: the second link", Person: demoAna, Payload: guide, Title: title(guide),
			Want: step("sourdough", "link", "ana", false)},
		{Name: "first message an image: the disclosure first", Person: demoFay, Payload: start, Title: title(start),
			Want: step("sourdough", "intro", "fay", false), Disclosure: DisclosedAlone},
		{Name: "a DM that reaches us 25 h late: window closed", Person: demoLate, Text: "price?", Late: 25 * time.Hour},
		{Name: "a DM with a keyword: the DM rule", Person: demoDMer, Text: "what's the price?", Want: dm("price"), Disclosure: DisclosedWith},
		{Name: "another keyword: the second DM rule", Person: demoDMer, Text: "and when are you open?", Want: dm("hours")},
	}
	entries, err := entryTurns(a)
	return append(turns, entries...), errors.Join(append(errs, err)...)
}

// stepMessages is what rule's step sends (its gate's message when gate).
func stepMessages(a reply.Account, rule, step string, gate bool) ([]reply.Message, error) {
	for _, r := range a.Rules {
		if r.Name != rule {
			continue
		}
		for _, s := range r.Flow {
			switch {
			case s.Name != step:
			case !gate:
				return s.Messages, nil
			case s.Gate != nil:
				return []reply.Message{s.Gate.Message}, nil
			default:
				return nil, fmt.Errorf("the demo meets the follow gate of rule %q's step %q: it has none", rule, step)
			}
		}
		return nil, fmt.Errorf("the demo runs rule %q's step %q: the rule has no such step", rule, step)
	}
	return nil, fmt.Errorf("the demo runs rule %q's step %q: the account has no such rule", rule, step)
}

// buttonTitle is the title of the button (a private reply's or a flow message's) with payload.
func buttonTitle(a reply.Account, payload string) (string, error) {
	for _, r := range a.Rules {
		bs := r.Buttons
		for _, s := range r.Flow {
			for _, m := range s.Messages {
				bs = append(bs, m.Buttons...)
			}
		}
		for _, b := range bs {
			if b.Payload == payload {
				return b.Title, nil
			}
		}
	}
	return "", fmt.Errorf("the demo taps a button with payload %q: the account has none", payload)
}

// TurnOutcome is what became of one turn.
type TurnOutcome struct {
	Turn       Turn
	Status     int
	Got        []string
	Disclosure string // where the disclosure line was (Read)
	Problem    string
}

// Funnel plays the turns against the running stack through the embedded sandbox, which signs
// each person's action as Meta would, and compares what each person got with the turn's Want,
// and where the account's disclosure line was with the turn's Disclosure. A turn that must get
// nothing waits quiet long before it is judged.
func (s *Stack) Funnel(ctx context.Context, turns []Turn, wait time.Duration) ([]TurnOutcome, error) {
	if s.Sandbox == nil {
		return nil, fmt.Errorf("the funnel needs the embedded sandbox (GRAPH_API_URL unset)")
	}
	acct, err := s.Store.Account(ctx, DemoAccountID)
	if err != nil {
		return nil, fmt.Errorf("funnel: the demo account: %w", err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	var out []TurnOutcome
	for _, t := range turns {
		o := TurnOutcome{Turn: t}
		if t.Follow {
			s.Sandbox.SetFollows(DemoAccountID, t.Person, true)
		}
		before := len(Received(s.Sandbox, t.Person))
		var body []byte
		if t.Entry != nil {
			if body = t.Entry(s.Sandbox, DemoAccountID, t.Person); body == nil {
				return out, fmt.Errorf("funnel %q: Meta posts nothing for it", t.Name)
			}
		} else if t.Payload != "" {
			title := t.Title
			if title == "" {
				title = t.Payload
			}
			_, body = s.Sandbox.Postback(DemoAccountID, t.Person, t.Payload, title)
		} else {
			_, body = s.Sandbox.Message(DemoAccountID, t.Person, t.Text)
		}
		if t.Late > 0 {
			var err error
			if body, err = backdate(body, t.Late); err != nil {
				return out, fmt.Errorf("funnel %q: %w", t.Name, err)
			}
		}
		status, err := post(ctx, client, s.WebhookURL, body, webhook.Sign(body, s.AppSecret))
		if err != nil {
			return out, fmt.Errorf("funnel %q: %w", t.Name, err)
		}
		o.Status = status
		// The disclosure as a message of its own comes on top of the turn's messages.
		want := len(t.Want)
		if t.Disclosure == DisclosedAlone {
			want++
		}
		deadline := time.Now().Add(wait)
		if want == 0 {
			deadline = time.Now().Add(min(wait, 2*time.Second))
		}
		for time.Now().Before(deadline) {
			if got := Received(s.Sandbox, t.Person)[before:]; want > 0 && len(got) >= want {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		o.Got, o.Disclosure = Read(Received(s.Sandbox, t.Person)[before:], acct.Disclosure)
		wantDisclosure := cmp.Or(t.Disclosure, DisclosedNone)
		var problems []string
		if status != 200 {
			problems = append(problems, fmt.Sprintf("webhook answered %d", status))
		}
		if !slices.Equal(o.Got, t.Want) {
			problems = append(problems, fmt.Sprintf("got %q, want %q", o.Got, t.Want))
		}
		if o.Disclosure != wantDisclosure {
			problems = append(problems, fmt.Sprintf("disclosure %s, want %s", o.Disclosure, wantDisclosure))
		}
		o.Problem = strings.Join(problems, "; ")
		out = append(out, o)
	}
	return out, nil
}

// Received is what the person got through sb's Send API, oldest first.
func Received(sb *sandbox.Sandbox, person string) []sandbox.SentMessage {
	return received(sb.Messages(), person)
}

func received(msgs []sandbox.SentMessage, person string) []sandbox.SentMessage {
	var out []sandbox.SentMessage
	for _, m := range msgs {
		if m.PersonID == person {
			out = append(out, m)
		}
	}
	return out
}

// Read is how msgs read to the person, one line each ("♥" for the heart sticker, "[image] URL"
// for an image), with the account's disclosure line left off the text that carried it and a
// message that was only the line left out; and where the line was: DisclosedNone,
// DisclosedWith (on the first message), DisclosedAlone (a message of its own, first), or what
// else it was (later, or more than once).
func Read(msgs []sandbox.SentMessage, disclosure string) (lines []string, where string) {
	var at []int // the messages that carried the line
	for i, m := range msgs {
		text := m.Text
		if disclosure != "" && m.Kind == reply.MessageText {
			switch {
			case text == disclosure:
				at = append(at, i)
				continue
			case strings.HasSuffix(text, "\n\n"+disclosure):
				at = append(at, i)
				text = strings.TrimSuffix(text, "\n\n"+disclosure)
			}
		}
		lines = append(lines, readLine(m.Kind, text, cmp.Or(m.URL, m.MediaID, m.Reaction)))
	}
	switch {
	case len(at) == 0:
		return lines, DisclosedNone
	case len(at) > 1:
		return lines, fmt.Sprintf("%d times", len(at))
	case at[0] > 0:
		return lines, fmt.Sprintf("late: message %d", at[0]+1)
	case msgs[0].Text == disclosure:
		return lines, DisclosedAlone
	}
	return lines, DisclosedWith
}

// readAll is how the account's messages read to a person of username (Read's lines).
func readAll(ms []reply.Message, username string) []string {
	var out []string
	for _, m := range ms {
		ref := cmp.Or(m.URL, m.MediaID, m.Reaction)
		if m.Type() == reply.MessageReaction {
			ref = cmp.Or(m.Reaction, "love")
		}
		out = append(out, readLine(m.Type(), strings.ReplaceAll(m.Text, "{username}", username), ref))
	}
	return out
}

func readLine(kind reply.MessageKind, text, ref string) string {
	switch kind {
	case reply.MessageText, "":
		return text
	case reply.MessageHeart:
		return "♥"
	}
	return strings.TrimSpace("[" + string(kind) + "] " + ref)
}

// backdate moves a sandbox webhook's times (entry.time, each event's timestamp) back by d, as
// a delivery Meta kept retrying for that long.
func backdate(body []byte, d time.Duration) ([]byte, error) {
	var v struct {
		Object string           `json:"object"`
		Entry  []map[string]any `json:"entry"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, err
	}
	back := func(x any) any {
		if f, ok := x.(float64); ok {
			return f - float64(d.Milliseconds())
		}
		return x
	}
	for _, e := range v.Entry {
		e["time"] = back(e["time"])
		if list, ok := e["messaging"].([]any); ok {
			for _, m := range list {
				if ev, ok := m.(map[string]any); ok {
					ev["timestamp"] = back(ev["timestamp"])
				}
			}
		}
	}
	return json.Marshal(v)
}

// PrintFunnel writes the funnel's table.
func PrintFunnel(w io.Writer, turns []TurnOutcome) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tTURN\tPERSON\tGOT\tDISCLOSURE\tOK")
	for i, o := range turns {
		ok := "yes"
		if o.Problem != "" {
			ok = "NO: " + o.Problem
		}
		got := "nothing"
		if len(o.Got) > 0 {
			got = strings.Join(o.Got, " | ")
		}
		got = strings.ReplaceAll(got, "\n", " ⏎ ") // a line of its own (a consent line) keeps the table whole
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", i+1, o.Turn.Name, o.Turn.Person, got, o.Disclosure, ok)
	}
	tw.Flush()
}

// FunnelFailed is how many turns missed their expectation.
func FunnelFailed(turns []TurnOutcome) int {
	n := 0
	for _, o := range turns {
		if o.Problem != "" {
			n++
		}
	}
	return n
}

// Proof is one thing the demo shows, checked over the whole ledger of follow-ups once the turns
// are over: what the turns showed one at a time must also hold of everything that was sent.
type Proof struct {
	Claim   string
	Problem string // "" when it holds
}

// Prove checks the sandbox's ledger of follow-ups against account a, as stored:
//   - at least two rules have a step named "link", and each of those steps reached ana exactly
//     once: a step is its rule's, not its name's;
//   - at least two DM rules, and each one's answer reached the person who wrote exactly once;
//   - each conversation's first automated message carried the account's disclosure line (or it
//     went right before as a message of its own, at least once), and no later message did.
func (s *Stack) Prove(ctx context.Context) ([]Proof, error) {
	if s.Sandbox == nil {
		return nil, fmt.Errorf("the proof needs the embedded sandbox (GRAPH_API_URL unset)")
	}
	a, err := s.Store.Account(ctx, DemoAccountID)
	if err != nil {
		return nil, fmt.Errorf("prove: the demo account: %w", err)
	}
	return prove(a, s.Sandbox.Messages()), nil
}

// prove is Prove over the ledger msgs.
func prove(a reply.Account, msgs []sandbox.SentMessage) []Proof {
	var out []Proof
	ana, _ := Read(received(msgs, demoAna), a.Disclosure)
	var links, problems []string
	for _, r := range a.Rules {
		for _, st := range r.Flow {
			if st.Name != "link" {
				continue
			}
			links = append(links, r.Name)
			if n := runs(ana, readAll(st.Messages, "ana")); n != 1 {
				problems = append(problems, fmt.Sprintf("rule %q's reached ana %d times", r.Name, n))
			}
		}
	}
	if len(links) < 2 {
		problems = append(problems, fmt.Sprintf("%d rule(s) with a step \"link\", the demo shows 2", len(links)))
	}
	out = append(out, Proof{Claim: fmt.Sprintf("%d rules' steps \"link\" reached ana, each once (%s)", len(links), strings.Join(links, ", ")),
		Problem: strings.Join(problems, "; ")})

	dmer, _ := Read(received(msgs, demoDMer), a.Disclosure)
	var names []string
	problems = nil
	for _, d := range a.DMRules {
		names = append(names, d.Name)
		if n := runs(dmer, readAll(d.Messages, "")); n != 1 {
			problems = append(problems, fmt.Sprintf("DM rule %q answered %d times", d.Name, n))
		}
	}
	if len(names) < 2 {
		problems = append(problems, fmt.Sprintf("%d DM rule(s), the demo shows 2", len(names)))
	}
	out = append(out, Proof{Claim: fmt.Sprintf("%d DM rules answered %s, each once (%s)", len(names), demoDMer, strings.Join(names, ", ")),
		Problem: strings.Join(problems, "; ")})

	people := map[string]bool{}
	var order []string
	for _, m := range msgs {
		if m.AccountID == a.ID && !people[m.PersonID] {
			people[m.PersonID] = true
			order = append(order, m.PersonID)
		}
	}
	alone := 0
	problems = nil
	for _, p := range order {
		switch _, where := Read(received(msgs, p), a.Disclosure); where {
		case DisclosedAlone:
			alone++
		case DisclosedWith:
		default:
			problems = append(problems, fmt.Sprintf("%s: %s", p, where))
		}
	}
	if alone == 0 {
		problems = append(problems, "never as a message of its own")
	}
	out = append(out, Proof{Claim: fmt.Sprintf("the disclosure line opened each of %d conversations, and only then (%d as a message of its own)", len(order), alone),
		Problem: strings.Join(problems, "; ")})
	return out
}

// runs is how often want appears in got, one line after another.
func runs(got, want []string) int {
	n := 0
	for i := 0; len(want) > 0 && i+len(want) <= len(got); i++ {
		if slices.Equal(got[i:i+len(want)], want) {
			n++
		}
	}
	return n
}

// PrintProofs writes the ledger's checks.
func PrintProofs(w io.Writer, proofs []Proof) {
	for _, p := range proofs {
		ok := "yes"
		if p.Problem != "" {
			ok = "NO: " + p.Problem
		}
		fmt.Fprintf(w, "  %s: %s\n", p.Claim, ok)
	}
}

// ProofsFailed is how many of the ledger's checks failed.
func ProofsFailed(proofs []Proof) int {
	n := 0
	for _, p := range proofs {
		if p.Problem != "" {
			n++
		}
	}
	return n
}
