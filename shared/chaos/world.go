package chaos

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/deletion"
	"github.com/replywindow/replywindow/shared/reply"
)

// The world around the product changes while it works: the shapes Meta delivers a comment in,
// the creator's settings, people asking for their data to be deleted, SSM failing, and time
// passing while a call is on the wire.

// Faults of the world, keys of Result.Faults.
const (
	FaultShapeNoMedia     = "shape_without_media"
	FaultShapeNoFrom      = "shape_without_from"
	FaultShapeCommentID   = "shape_comment_id_for_id"
	FaultShapeAdOriginal  = "shape_ad_media_with_original_media_id"
	FaultShapeFlat        = "shape_field_value_on_entry"
	FaultRuleEdited       = "settings_rule_edited"
	FaultRepeatFlipped    = "settings_repeat_per_person_flipped"
	FaultDeletionRequest  = "data_deletion_request"
	FaultTokenOutage      = "ssm_token_outage"
	FaultTokenUnavailable = "ssm_token_read_failed"
	FaultSlowCall         = "graph_call_slower_than_the_lease"
)

// shape is how one delivery writes one comment.
type shape struct {
	noMedia, noFrom, commentID, adOriginal bool
}

// shapeOf picks the shape of the comment in one delivery. An ad's comment may come with the
// ad's media id and original_media_id; a comment without media is a reel's or a post's.
func (s *sim) shapeOf(c *comment) shape {
	var sh shape
	switch roll := s.dice.intN(100); {
	case c.kind == reply.KindAd && roll < 50:
		sh.adOriginal = true
		s.fault(FaultShapeAdOriginal, "")
	case roll < 10 && c.kind != reply.KindLive:
		sh.noMedia = true
		s.fault(FaultShapeNoMedia, "")
	case roll < 18:
		sh.noFrom = true
		s.fromless[c.id] = true
		s.fault(FaultShapeNoFrom, "")
	}
	if s.dice.roll(0.1) {
		sh.commentID = true
		s.fault(FaultShapeCommentID, "")
	}
	return sh
}

// adMedia is the media id an ad's comment is delivered with besides its organic post.
func adMedia(c *comment) string { return "1202" + c.media } // digits, as every Meta id

// schedule puts the world's changes on the timeline.
func (s *sim) schedule() {
	at := func(lo, hi time.Duration) time.Time {
		return s.start.Add(s.dice.duration(lo, hi)).Truncate(time.Second)
	}
	// Account 0's rule also answers "great" for a while: comments saying so may or may not be
	// answered, depending on which config the replier had cached.
	a0 := s.accounts[0].ID
	from, to := at(10*time.Minute, 60*time.Minute), at(70*time.Minute, 110*time.Minute)
	s.timeline = append(s.timeline,
		event{at: from, name: "rule edited on " + a0, do: func() {
			s.fault(FaultRuleEdited, "")
			s.edit(a0, func(a *reply.Account) { a.Rules[0].Keywords = append(a.Rules[0].Keywords, "great") })
		}},
		event{at: to, name: "rule edited back on " + a0, do: func() {
			s.fault(FaultRuleEdited, "")
			s.edit(a0, func(a *reply.Account) { a.Rules[0].Keywords = a.Rules[0].Keywords[:2] })
		}})
	for _, c := range s.comments {
		if c.account == a0 && strings.Contains(c.text, "great") {
			c.maybe = true
		}
	}
	// Account 2 allows repeats for a while: its people may get one DM per comment then.
	if len(s.accounts) > 2 {
		a2 := s.accounts[2].ID
		s.repeating[a2] = true
		from, to := at(5*time.Minute, 50*time.Minute), at(55*time.Minute, 100*time.Minute)
		s.timeline = append(s.timeline,
			event{at: from, name: "repeat_per_person on " + a2, do: func() {
				s.fault(FaultRepeatFlipped, "")
				s.edit(a2, func(a *reply.Account) { a.RepeatPerPerson = true })
			}},
			event{at: to, name: "repeat_per_person off " + a2, do: func() {
				s.fault(FaultRepeatFlipped, "")
				s.edit(a2, func(a *reply.Account) { a.RepeatPerPerson = false })
			}})
	}
	// People with comments on their way ask for their data to be deleted.
	for range s.cfg.Rates.Deletions {
		c := s.comments[s.dice.intN(len(s.comments))]
		if c.own {
			continue
		}
		person := c.person
		s.timeline = append(s.timeline, event{at: c.created.Add(s.dice.duration(0, 3*time.Minute)), name: "deletion of " + person,
			do: func() { s.forget(person) }})
	}
	// SSM answers nothing for a few minutes: no account token can be read.
	for range s.cfg.Rates.TokenOutages {
		from := at(5*time.Minute, 100*time.Minute)
		w := window{from: from, to: from.Add(s.dice.duration(2*time.Minute, 8*time.Minute))}
		s.outages = append(s.outages, w)
		s.timeline = append(s.timeline, event{at: from, name: "SSM outage", do: func() { s.fault(FaultTokenOutage, "") }})
	}
}

// edit changes an account's stored configuration as the operator's CLI does.
func (s *sim) edit(id string, f func(*reply.Account)) {
	ctx := context.Background()
	for range 10 {
		cur, err := s.store.Account(ctx, id)
		if err != nil {
			return
		}
		f(&cur)
		cur.Version++
		cur.UpdatedAt = s.clock.Now()
		if _, err := s.store.PutAccount(ctx, cur); !errors.Is(err, reply.ErrConflict) {
			return
		}
	}
}

// forget is a data-deletion request for person, worked off at once by the deletion worker (the
// sweeper's chore): afterwards nothing may name the person for a comment made before.
func (s *sim) forget(person string) {
	if _, done := s.forgotten[person]; done {
		return
	}
	s.fault(FaultDeletionRequest, "")
	ctx := context.Background()
	now := s.clock.Now()
	code := fmt.Sprintf("chaos-%s", person)
	if _, err := s.store.PutDeletion(ctx, reply.Deletion{Code: code, Kind: reply.DeletionPerson, UserID: person, State: reply.DeletionPending, RequestedAt: now, Version: 1}); err != nil {
		s.violate("deletion request for %s: %v", person, err)
		return
	}
	w := &deletion.Worker{Store: s.store, Params: noParams{}, Cursors: s.cursors, Clock: s.clock, PageSize: 500}
	for range 100 {
		if _, err := w.Run(ctx, time.Hour); err != nil {
			s.violate("deletion of %s: %v", person, err)
			return
		}
		d, err := s.store.Deletion(ctx, code)
		if err == nil && d.State == reply.DeletionDone {
			s.forgotten[person] = now
			return
		}
	}
	s.violate("deletion of %s never finished", person)
}

type noParams struct{}

func (noParams) Delete(context.Context, string) error { return nil }

// window is a span of simulated time.
type window struct{ from, to time.Time }

func (w window) holds(t time.Time) bool { return !t.Before(w.from) && t.Before(w.to) }

// outageTokens is SSM as the functions see it: the account tokens, except during an outage.
type outageTokens struct {
	reply.Tokens
	s *sim
}

func (o outageTokens) Token(ctx context.Context, a reply.Account) (string, error) {
	now := o.s.clock.Now()
	for _, w := range o.s.outages {
		if w.holds(now) {
			o.s.fault(FaultTokenUnavailable, "")
			return "", errors.New("ssm GetParameter: ServiceUnavailable")
		}
	}
	return o.Tokens.Token(ctx, a)
}

// latency moves the clock while a Graph call travels: usually a fraction of a second, now and
// then longer than the replier's lease, so leases, windows and the sweeper meet calls in flight.
func (s *sim) latency(commentID string) {
	d := s.dice.duration(30*time.Millisecond, 900*time.Millisecond)
	if s.dice.roll(s.cfg.Rates.SlowCall) {
		d = s.dice.duration(lease, 2*lease)
		s.fault(FaultSlowCall, commentID)
	}
	s.clock.Add(d)
}
