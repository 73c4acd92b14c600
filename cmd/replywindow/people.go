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
}

// opPeople reads the account's records of the period: a Scan of the table, because records are
// keyed by comment and by person, not by account and day (an operator's export, not a report's
// read; on a large table it reads all of it, as `conversation` does).
func opPeople(ctx context.Context, store reply.Replies, account string, from time.Time) ([]opPerson, error) {
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

func opPeopleCSV(w io.Writer, people []opPerson) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"person", "username", "rule", "variant", "media", "comment", "state", "at", "taps", "followups_sent"})
	for _, p := range people {
		_ = cw.Write([]string{p.Person, p.Username, p.Rule, p.Variant, p.Media, p.Comment, p.State,
			p.At.UTC().Format(time.RFC3339), strconv.Itoa(p.Taps), strconv.Itoa(p.FollowUps)})
	}
	cw.Flush()
	return cw.Error()
}
