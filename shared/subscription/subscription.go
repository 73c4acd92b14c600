// Package subscription subscribes an account's webhook fields as Meta lets it: a field Meta
// refuses (code 100 naming it, reply.FieldRefusedError) is asked again by its other name in
// Meta's docs (reply.FieldAliases: message_reactions for messaging_reactions,
// messaging_referrals for messaging_referral), or else left out and the others subscribed again,
// so one name that Meta's docs and ours disagree on never costs the account the field, nor every
// field. `replywindow subscribe` and the
// sweeper's subscription check both subscribe through it.
package subscription

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/replywindow/replywindow/shared/reply"
)

// Subscriber is Meta's POST subscribed_apps (graph.Client).
type Subscriber interface {
	Subscribe(ctx context.Context, a reply.Account, token string, fields []string) error
}

// Result is what the account was subscribed to, and the fields Meta refused on the way.
type Result struct {
	Fields  []string `json:"subscribed_fields"`
	Refused []string `json:"refused_fields,omitempty"`
}

// Subscribe subscribes the account to fields (every field replywindow handles when none). Each
// field Meta refuses costs one more call, with its other name in its place when it has one not
// yet asked, else without it; any other error ends it. An error after a refusal still reports the
// refused fields in the result.
func Subscribe(ctx context.Context, s Subscriber, a reply.Account, token string, fields []string) (Result, error) {
	left := slices.Clone(fields)
	if len(left) == 0 {
		left = slices.Clone(reply.WebhookFields)
	}
	var res Result
	for {
		err := s.Subscribe(ctx, a, token, left)
		if err == nil {
			res.Fields = left
			return res, nil
		}
		var fe *reply.FieldRefusedError
		if !errors.As(err, &fe) || !slices.Contains(left, fe.Field) {
			return res, err
		}
		res.Refused = append(res.Refused, fe.Field)
		if alias := reply.FieldAliases[fe.Field]; alias != "" && !slices.Contains(left, alias) && !slices.Contains(res.Refused, alias) {
			left[slices.Index(left, fe.Field)] = alias // the other reading of Meta's docs
			continue
		}
		left = slices.DeleteFunc(left, func(f string) bool { return f == fe.Field })
		if len(left) == 0 {
			return res, fmt.Errorf("every field asked was refused by Meta (%s): %w", strings.Join(res.Refused, ", "), err)
		}
	}
}
