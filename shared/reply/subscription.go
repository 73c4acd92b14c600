package reply

import "slices"

// Webhook fields an app subscribes an account to (POST /{ig-id}/subscribed_apps), each the only
// way Meta delivers its events (design.md §2 "subscribing"): a button tap comes on
// messaging_postbacks alone, never on messages.
const (
	FieldComments     = "comments"            // comments on posts and reels
	FieldLiveComments = "live_comments"       // comments on a broadcast
	FieldMessages     = "messages"            // DMs, quick-reply taps, story replies, echoes
	FieldPostbacks    = "messaging_postbacks" // postback button taps (and ice breakers, the menu)
	FieldReactions    = "messaging_reactions" // reactions to messages
	// FieldReferrals: an ig.me link opened in a conversation that exists. Meta's Instagram
	// webhook fields page (Oct 2026) names it messaging_referral; Messenger's is
	// messaging_referrals, as design.md §2 has it. Subscribing to a name Meta does not know
	// would fail the whole subscription.
	FieldReferrals = "messaging_referral"
)

// FieldAliases is the other name Meta's docs give a field replywindow subscribes (both ways):
// reactions are message_reactions on Meta's Instagram fields page, referrals
// messaging_referrals on Messenger's (and in design.md §2). Which one Meta takes for Instagram is
// not settled, so a subscription Meta refuses because of one name is made again with the other
// (subscription.Subscribe), and either name in Meta's list of our fields holds the field.
var FieldAliases = map[string]string{
	FieldReactions: "message_reactions", "message_reactions": FieldReactions,
	FieldReferrals: "messaging_referrals", "messaging_referrals": FieldReferrals,
}

// WebhookFields is every field replywindow handles, in Meta's order: what `replywindow
// subscribe` asks for unless told otherwise, and what the subscription check subscribes again.
// Subscribing to all of them, rather than to what the account needs today, keeps taps coming
// when the account later gains a flow.
var WebhookFields = []string{FieldComments, FieldLiveComments, FieldMessages, FieldPostbacks, FieldReactions, FieldReferrals}

// SubscribedApp is one entry of GET /{ig-id}/subscribed_apps: Meta lists every app subscribed to
// the account, each with its own fields, so another tool's subscription is not ours.
type SubscribedApp struct {
	ID     string   `json:"id"`
	Name   string   `json:"name,omitempty"`
	Fields []string `json:"subscribed_fields"`
}

// NeededFields are the webhook fields the account's configuration cannot work without, in
// WebhookFields' order:
//   - comments and live_comments for its comment rules;
//   - messages once anything follows the private reply (a rule's flow) or the person may start
//     (DM rules): answers, quick-reply taps and the echoes that pause automation come there;
//   - messaging_postbacks once any message has a postback button, or a step runs on a payload
//     (a button's tap arrives nowhere else).
//
// Nothing in an account's configuration runs on a reaction (the conversation ignores them; a
// reaction message is one the account sends), so messaging_reactions is never needed, only
// subscribed by default.
func (a Account) NeededFields() []string {
	need := map[string]bool{}
	if len(a.Rules) > 0 {
		need[FieldComments], need[FieldLiveComments] = true, true
	}
	if len(a.DMRules) > 0 {
		need[FieldMessages] = true
	}
	for _, r := range a.Rules {
		if len(r.Flow) > 0 {
			need[FieldMessages] = true
		}
		if hasPostback(r.Buttons) || flowTaps(r.Flow) {
			need[FieldPostbacks] = true
		}
	}
	for _, d := range a.DMRules {
		if messagesTap(d.Messages) || flowTaps(d.Flow) {
			need[FieldPostbacks] = true
		}
	}
	entryFields(a, need)
	var out []string
	for _, f := range WebhookFields {
		if need[f] {
			out = append(out, f)
		}
	}
	return out
}

// flowTaps reports whether a flow runs on a payload or sends a postback button.
func flowTaps(flow []Step) bool {
	for _, s := range flow {
		if s.On.Payload != "" || messagesTap(s.Messages) || s.Gate != nil && hasPostback(s.Gate.Message.Buttons) {
			return true
		}
	}
	return false
}

func messagesTap(ms []Message) bool {
	return slices.ContainsFunc(ms, func(m Message) bool { return hasPostback(m.Buttons) })
}

func hasPostback(bs []Button) bool {
	return slices.ContainsFunc(bs, func(b Button) bool { return b.Type == ButtonPostback })
}

// SubscriptionGap is what the needed fields lack in our app's subscription of the account, and
// what our app is subscribed to (had), from Meta's list of every app on the account. Our entries
// are those whose id is one of ourIDs; another app's fields never count as ours. Without our app
// ids the entries cannot be told apart, and each is judged alone (the one lacking the fewest
// fields stands for ours): fields are never added up across apps.
func SubscriptionGap(apps []SubscribedApp, ourIDs, needed []string) (missing, had []string) {
	if len(ourIDs) > 0 {
		for _, app := range apps {
			if slices.Contains(ourIDs, app.ID) {
				had = union(had, app.Fields)
			}
		}
		return lacking(needed, had), had
	}
	missing = needed
	for i, app := range apps {
		if m := lacking(needed, app.Fields); i == 0 || len(m) < len(missing) {
			missing, had = m, app.Fields
		}
	}
	return missing, had
}

// lacking is the fields of needed that have does not hold, by either name.
func lacking(needed, have []string) []string {
	var out []string
	for _, f := range needed {
		if alias := FieldAliases[f]; !slices.Contains(have, f) && (alias == "" || !slices.Contains(have, alias)) {
			out = append(out, f)
		}
	}
	return out
}

// union is a followed by what b adds, without repeats.
func union(a, b []string) []string {
	out := slices.Clone(a)
	for _, f := range b {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// SubscribeFields is what to subscribe our app to when its subscription lacks a needed field:
// every field replywindow handles, and whatever else it had (an operator's choice is kept, and a
// field it had by its other name keeps that name).
func SubscribeFields(had []string) []string {
	all := slices.DeleteFunc(slices.Clone(WebhookFields), func(f string) bool { return slices.Contains(had, FieldAliases[f]) })
	return union(all, had)
}

// FieldRefusedError is Meta refusing a subscription because of one of its fields (code 100,
// naming the field): nothing of that request was subscribed. Meta's docs disagree on some names
// (FieldAliases), so the caller may subscribe again with the field's other name, or without it.
type FieldRefusedError struct {
	Field string
	Err   error // Meta's answer
}

func (e *FieldRefusedError) Error() string {
	return "Meta refused the webhook field " + e.Field + ": " + e.Err.Error()
}

func (e *FieldRefusedError) Unwrap() error { return e.Err }
