package simulation

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/replywindow/replywindow/shared/memory"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/webhook"
)

// tapPayload is the button on the simulated private reply; its step sends the link.
const tapPayload = "RECIPE_LINK"

// Taps is the conversation half of a scenario: a share of the people who got their private
// reply tap its button, a while after it arrived, and must get the link inside their window.
type Taps struct {
	Share float64       // of the people who got a private reply, those who tap (spread evenly)
	Delay time.Duration // how long after the private reply they tap (default 5m)
}

// TapResult is what the taps did and what Meta (the sandbox) saw of the follow-ups.
type TapResult struct {
	Taps       int            // taps made
	Answered   int            // people who tapped and got the link
	Unanswered int            // people who tapped inside their window and got nothing
	Late       int            // follow-ups sent after their window
	Duplicates int            // people with more than one link
	Refused    map[string]int // Send API refusals by code (613: a lane over Meta's limit)
	MaxWait    time.Duration  // longest from a tap to its link
	MaxPerSec  int            // most follow-ups in any second
}

// funnel gives the simulated rule its button and the step that answers a tap.
func (t *Taps) funnel(a *reply.Account) {
	if t == nil || t.Share <= 0 {
		return
	}
	r := &a.Rules[0]
	r.Buttons = []reply.Button{{Type: reply.ButtonPostback, Title: "Send me the link", Payload: tapPayload}}
	r.Flow = []reply.Step{{Name: "link", On: reply.Trigger{Payload: tapPayload}, Messages: []reply.Message{{Text: "The link: https://example.com/recipe"}}}}
}

// tapper schedules each chosen person's tap once their private reply is in the ledger.
type tapper struct {
	cfg     *Taps
	sb      *sandbox.Sandbox
	seen    int // private replies in the ledger already looked at
	pending []tap
	made    []tap
}

type tap struct {
	person string
	at     time.Time
}

func newTapper(cfg *Taps, sb *sandbox.Sandbox) *tapper {
	t := &tapper{cfg: cfg, sb: sb}
	if cfg != nil && cfg.Delay <= 0 {
		cfg.Delay = 5 * time.Minute
	}
	return t
}

// learn schedules the taps of the people whose private reply arrived since the last look.
func (t *tapper) learn(jobs map[string]reply.Job) {
	if t.cfg == nil || t.cfg.Share <= 0 {
		return
	}
	ds := t.sb.Deliveries()
	for _, d := range ds[t.seen:] {
		n := float64(t.seen)
		t.seen++
		if int((n+1)*t.cfg.Share) == int(n*t.cfg.Share) {
			continue // the n-th person is not among those who tap
		}
		t.pending = append(t.pending, tap{person: jobs[d.CommentID].FromID, at: d.At.Add(t.cfg.Delay)})
	}
	sort.Slice(t.pending, func(i, j int) bool { return t.pending[i].at.Before(t.pending[j].at) })
}

// due posts, as Meta's webhook would, the taps made by now, and returns how many.
func (t *tapper) due(ctx context.Context, now time.Time, q *memory.Queue) (int, error) {
	n := 0
	for len(t.pending) > 0 && !t.pending[0].at.After(now) {
		p := t.pending[0]
		t.pending = t.pending[1:]
		_, body := t.sb.Postback(Account, p.person, tapPayload, "Send me the link")
		d, err := webhook.Parse(body, now)
		if err != nil || len(d.Jobs) != 1 {
			return n, fmt.Errorf("tap of %s: %d jobs, %v", p.person, len(d.Jobs), err)
		}
		if err := q.Enqueue(ctx, d.Jobs); err != nil {
			return n, fmt.Errorf("enqueue tap: %w", err)
		}
		t.made = append(t.made, p)
		n++
	}
	return n, nil
}

// next is when the next tap happens (zero when none is pending).
func (t *tapper) next() time.Time {
	if len(t.pending) == 0 {
		return time.Time{}
	}
	return t.pending[0].at
}

// result reads the follow-ups from the sandbox's ledger.
func (t *tapper) result() TapResult {
	r := TapResult{Taps: len(t.made), Refused: map[string]int{}}
	got := map[string][]sandbox.SentMessage{}
	ms := t.sb.Messages()
	perSec := map[int64]int{}
	for _, m := range ms {
		got[m.PersonID] = append(got[m.PersonID], m)
		if !m.At.Before(m.WindowEnd) {
			r.Late++
		}
		perSec[m.At.Unix()]++
		r.MaxPerSec = max(r.MaxPerSec, perSec[m.At.Unix()])
	}
	for _, p := range t.made {
		switch links := got[p.person]; {
		case len(links) == 0:
			r.Unanswered++
		default:
			r.Answered++
			if len(links) > 1 {
				r.Duplicates++
			}
			r.MaxWait = max(r.MaxWait, links[0].At.Sub(p.at))
		}
	}
	for code, n := range t.sb.Stats().Refused {
		r.Refused[code] = n
	}
	return r
}
