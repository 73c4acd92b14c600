package dynamo

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/replywindow/replywindow/shared/reply"
)

// A first click's guard (KV#) carries, when events are on, the outbox mark of its LinkClicked
// event and what the event names, the person's id among them: these attributes, removed with
// the mark once the event is out (ClearEvents), so the guard names no person for longer than
// the outbox holds it.
var clickEventAttrNames = []string{"ev_account", "ev_person", "ev_rule", "ev_variant", "ev_media", "ev_link"}

// clickEventAttrs writes c's event parts and mark into its guard item.
func clickEventAttrs(c reply.Click, guard map[string]types.AttributeValue) {
	o := c.Origin
	for i, v := range []string{o.Account, o.Person, o.Rule, o.Variant, o.Media, c.Link} {
		if v != "" {
			guard[clickEventAttrNames[i]] = str(v)
		}
	}
	markAttrs(reply.Mark{Key: reply.ClickGuardKey(o.Account, c.Visitor), At: c.At}, guard)
}

// outboxRemoves is what ClearEvents removes from the item under key besides the mark.
func outboxRemoves(key string) string {
	if strings.HasPrefix(key, "KV#") {
		return ", " + strings.Join(clickEventAttrNames, ", ")
	}
	return ""
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
	v := make([]string, len(clickEventAttrNames))
	for i, name := range clickEventAttrNames {
		if s, ok := item[name].(*types.AttributeValueMemberS); ok {
			v[i] = s.Value
		}
	}
	c := reply.MarkedClick{Key: key, Origin: reply.Origin{Account: v[0], Person: v[1], Rule: v[2], Variant: v[3], Media: v[4]},
		Link: v[5], At: at, EventsAt: at}
	// The deletion worker cannot find a guard (its key is a pseudonym): a click whose person
	// or account was forgotten since is refused here, and its event never published.
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
