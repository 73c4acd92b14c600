package reply

import (
	"context"
	"time"
)

// WebhooksKey is the stored key of when an account's webhooks last arrived, by field.
func WebhooksKey(account string) string { return "W#" + account }

// SeenEvery is how often the webhook function records an account's webhooks at most: what
// doctor needs ("when did Meta last deliver?") costs no more than a write a minute per account,
// however busy the account.
const SeenEvery = time.Minute

// Webhooks records when an account's webhooks arrived, by webhook field, for doctor.
type Webhooks interface {
	// SawWebhooks records that the account's webhooks of fields arrived at at. A store writes
	// only when a field's last record is from an earlier SeenEvery slot, so a busy account costs
	// one write a minute; a write another instance made first is not an error.
	SawWebhooks(ctx context.Context, account string, fields []string, at time.Time) error
	// LastWebhooks is when each field's webhooks last arrived (fields never seen are absent).
	LastWebhooks(ctx context.Context, account string) (map[string]time.Time, error)
}

// JobField is the webhook field that brought the job: comments, live_comments, messages,
// messaging_postbacks or messaging_reactions ("" for a job no webhook made: a follow-up).
func JobField(j Job) string {
	switch {
	case j.FollowUp != nil:
		return ""
	case j.Event != nil:
		switch j.Event.Kind {
		case EventPostback:
			return FieldPostbacks
		case EventReaction:
			return FieldReactions
		}
		return FieldMessages
	case j.Kind == KindLive:
		return FieldLiveComments
	}
	return FieldComments
}
