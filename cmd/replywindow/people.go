package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// opPerson is one row of `report --people --csv`: someone the account's rules answered in the
// period. It is personal data (an IGSID, a username): export it for the account's own use, and
// keep it no longer than the records it comes from.
type opPerson struct {
	Person, Username, Rule, Variant, Media, Comment, State string
	At                                                     time.Time // the private reply's end
	Taps, FollowUps                                        int       // taps that ran a step, follow-ups sent
	// Clicked is the links of the rule's messages the person opened (their first click on each,
	// from their click record), in the order they first opened them.
	Clicked []reply.Clicked
}

// opPeoplePage is how many people's records one read of an account's click records returns.
const opPeoplePage = 500

// opPeople reads the account's records of the period: a Scan of the table, because records are
// keyed by comment and by person, not by account and day (an operator's export, not a report's
// read; on a large table it reads all of it, as `conversation` does). Who clicked comes from the
// account's click records: Queries of the account's own (clicks may be nil: no click column).
func opPeople(ctx context.Context, store reply.Replies, clicks reply.ClickRecords, account string, from time.Time) ([]opPerson, error) {
	byKey := map[string]*opPerson{} // person#rule
	var followUps []reply.Record
	cursor := ""
	for {
		recs, next, err := store.Scan(ctx, cursor, opScanPage)
		if err != nil {
			return nil, fmt.Errorf("scan the records of %s: %w", account, err)
		}
		for _, r := range recs {
			if r.AccountID != account || r.UpdatedAt.Before(from) || !r.State.Terminal() {
				continue
			}
			if r.Job.FollowUp != nil {
				followUps = append(followUps, r)
				continue
			}
			if r.Rule == "" || r.Job.Person() == "" {
				continue
			}
			byKey[r.Job.Person()+"#"+r.Rule] = &opPerson{Person: r.Job.Person(), Username: r.Job.FromUsername, Rule: r.Rule,
				Variant: r.Variant, Media: r.Job.FunnelMedia(), Comment: r.CommentID, State: string(r.State), At: r.UpdatedAt}
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	for _, r := range followUps {
		f := r.Job.FollowUp
		p := byKey[f.PersonID+"#"+f.Rule]
		if p == nil {
			continue // a DM rule's, or a comment outside the period
		}
		if f.Tap && f.Index == 0 {
			p.Taps++
		}
		if r.State == reply.StateSent && !f.Notice {
			p.FollowUps++
		}
	}
	if clicks != nil {
		if err := opPeopleClicks(ctx, clicks, account, byKey); err != nil {
			return nil, err
		}
	}
	out := make([]opPerson, 0, len(byKey))
	for _, p := range byKey {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b opPerson) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return strings.Compare(a.Person+a.Rule, b.Person+b.Rule)
	})
	return out, nil
}

// opPeopleClicks adds to each person's row the links of its rule they opened, reading the
// account's click records page by page.
func opPeopleClicks(ctx context.Context, clicks reply.ClickRecords, account string, byKey map[string]*opPerson) error {
	for cursor := ""; ; {
		page, next, err := clicks.ClickedBy(ctx, account, cursor, opPeoplePage)
		if err != nil {
			return fmt.Errorf("read the click records of %s: %w", account, err)
		}
		for _, c := range page {
			if p := byKey[c.Person+"#"+c.Rule]; p != nil {
				p.Clicked = append(p.Clicked, c)
			}
		}
		if cursor = next; cursor == "" {
			break
		}
	}
	for _, p := range byKey {
		slices.SortFunc(p.Clicked, func(a, b reply.Clicked) int { return a.At.Compare(b.At) })
	}
	return nil
}

func opPeopleCSV(w io.Writer, people []opPerson) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"person", "username", "rule", "variant", "media", "comment", "state", "at", "taps", "followups_sent",
		"links_clicked", "first_click_at", "clicked_links"})
	for _, p := range people {
		first, targets := "", make([]string, len(p.Clicked))
		for i, c := range p.Clicked {
			targets[i] = c.Target
		}
		if len(p.Clicked) > 0 {
			first = p.Clicked[0].At.UTC().Format(time.RFC3339)
		}
		_ = cw.Write([]string{p.Person, p.Username, p.Rule, p.Variant, p.Media, p.Comment, p.State,
			p.At.UTC().Format(time.RFC3339), strconv.Itoa(p.Taps), strconv.Itoa(p.FollowUps),
			strconv.Itoa(len(p.Clicked)), first, strings.Join(targets, " ")})
	}
	cw.Flush()
	return cw.Error()
}
