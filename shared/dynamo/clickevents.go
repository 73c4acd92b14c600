package dynamo

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/reply"
)

// clickEventAttrs writes the outbox mark of c's LinkClicked event into its click record: the
// event names what the record holds anyway (account, person, rule, variant, media, link).
func clickEventAttrs(c reply.Click, guard map[string]types.AttributeValue) {
	markAttrs(reply.Mark{Key: reply.ClickGuardKey(c.Origin.Account, c.Origin.Person, c.Link), At: c.At}, guard)
}

// MarkedClick is the first click whose guard is under key, while its event is not out.
func (s *Store) MarkedClick(ctx context.Context, key string) (reply.MarkedClick, error) {
	item, err := s.get(ctx, key)
	if err != nil {
		return reply.MarkedClick{}, fmt.Errorf("marked click %s: %w", key, err)
	}
	at, err := markOf(item)
	switch {
	case err != nil:
		return reply.MarkedClick{}, fmt.Errorf("marked click %s: %w", key, err)
	case item == nil || at.IsZero():
		return reply.MarkedClick{}, fmt.Errorf("marked click %s: %w", key, reply.ErrNotFound)
	}
	v := map[string]string{}
	for _, name := range []string{"account", "person", "rule", "variant", "media", "link"} {
		if s, ok := item[name].(*types.AttributeValueMemberS); ok {
			v[name] = s.Value
		}
	}
	c := reply.MarkedClick{Key: key, Origin: reply.Origin{Account: v["account"], Person: v["person"], Rule: v["rule"],
		Variant: v["variant"], Media: v["media"]}, Link: v["link"], At: at, EventsAt: at}
	// A deletion may not have reached the record yet (the worker removes click records last):
	// a click whose person or account was forgotten since is refused here, and its event never
	// published.
	for _, grave := range []string{reply.AccountTombstoneKey(c.Origin.Account), reply.PersonTombstoneKey(c.Origin.Person)} {
		t, err := s.get(ctx, grave)
		if err != nil {
			return reply.MarkedClick{}, fmt.Errorf("marked click %s: tombstone: %w", key, err)
		}
		if n, ok := t[attrAt].(*types.AttributeValueMemberN); ok {
			end, err := strconv.ParseInt(n.Value, 10, 64)
			if err != nil {
				return reply.MarkedClick{}, fmt.Errorf("marked click %s: tombstone %s: %w", key, grave, err)
			}
			if at.UnixMilli() <= end {
				return c, fmt.Errorf("marked click %s: %w (%s)", key, reply.ErrForgotten, grave)
			}
		}
	}
	return c, nil
}
