package devstack

import (
	"context"
	"encoding/json"
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
	Text    string        // what the person writes
	Late    time.Duration // Meta's timestamp is this old: the delivery reaches us that late
	Want    []string      // what the person gets for it ("♥" for the heart sticker)
}

// DemoFunnel is the conversation half of the demo: ana, who got the private reply with the
// button, taps it (not following: the gate), follows and taps again (the link and a heart), taps
// a third time (nothing); a message that reaches us 25 hours late gets nothing (its window
// closed); a DM with a keyword gets its DM rule's answer.
func DemoFunnel() []Turn {
	link := strings.ReplaceAll(DemoLinkText, "{username}", "ana")
	return []Turn{
		{Name: "tap, not following: the follow gate", Person: "900000001", Payload: DemoPayload, Want: []string{DemoGateText}},
		{Name: "follow, tap again: the link and a heart", Person: "900000001", Follow: true, Payload: DemoPayload, Want: []string{link, "♥"}},
		{Name: "a third tap: nothing more", Person: "900000001", Payload: DemoPayload},
		{Name: "a DM that reaches us 25 h late: window closed", Person: "900000021", Text: "price?", Late: 25 * time.Hour},
		{Name: "a DM with a keyword: the DM rule", Person: "900000022", Text: "what's the price?", Want: []string{DemoPriceText}},
	}
}

// TurnOutcome is what became of one turn.
type TurnOutcome struct {
	Turn    Turn
	Status  int
	Got     []string
	Problem string
}

// Funnel plays the turns against the running stack through the embedded sandbox, which signs
// each person's action as Meta would, and compares what each person got with the turn's Want.
// A turn that must get nothing waits quiet long before it is judged.
func (s *Stack) Funnel(ctx context.Context, turns []Turn, wait time.Duration) ([]TurnOutcome, error) {
	if s.Sandbox == nil {
		return nil, fmt.Errorf("the funnel needs the embedded sandbox (GRAPH_API_URL unset)")
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
		if t.Payload != "" {
			_, body = s.Sandbox.Postback(DemoAccountID, t.Person, t.Payload, "Send me the link")
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
		deadline := time.Now().Add(wait)
		if len(t.Want) == 0 {
			deadline = time.Now().Add(min(wait, 2*time.Second))
		}
		for time.Now().Before(deadline) {
			if got := Received(s.Sandbox, t.Person)[before:]; len(t.Want) > 0 && len(got) >= len(t.Want) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		o.Got = Received(s.Sandbox, t.Person)[before:]
		switch {
		case status != 200:
			o.Problem = fmt.Sprintf("webhook answered %d", status)
		case !slices.Equal(o.Got, t.Want):
			o.Problem = fmt.Sprintf("got %q, want %q", o.Got, t.Want)
		}
		out = append(out, o)
	}
	return out, nil
}

// Received is what the person got through sb's Send API, as texts ("♥" for the heart sticker),
// the disclosure line left off: what a turn's Want is compared with.
func Received(sb *sandbox.Sandbox, person string) []string {
	var out []string
	for _, m := range sb.Messages() {
		if m.PersonID != person {
			continue
		}
		if m.Kind == reply.MessageHeart {
			out = append(out, "♥")
			continue
		}
		text, _, _ := strings.Cut(m.Text, "\n\n")
		out = append(out, text)
	}
	return out
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
	fmt.Fprintln(tw, "#\tTURN\tPERSON\tGOT\tOK")
	for i, o := range turns {
		ok := "yes"
		if o.Problem != "" {
			ok = "NO: " + o.Problem
		}
		got := "nothing"
		if len(o.Got) > 0 {
			got = strings.Join(o.Got, " | ")
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", i+1, o.Turn.Name, o.Turn.Person, got, ok)
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
