package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/subscription"
)

func init() {
	commands["subscribe"] = command{summary: "subscribe an account to the app's webhook fields (Meta requires it per account)", run: runSubscribe}
}

func runSubscribe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("subscribe", "--account ID [--fields "+strings.Join(graph.DefaultFields, ",")+"] [--json]", `  replywindow subscribe --account 17841400000000001
  replywindow subscribe --account 17841400000000001 --fields comments,live_comments   # comments only: no flows, no taps

Fields (the default is all of them):
  comments, live_comments  comments on posts, reels and broadcasts: the private replies
  messages                 answers, quick-reply taps, story replies, and the echoes that pause automation
  messaging_postbacks      taps on buttons, ice breakers and the menu: Meta sends them on this field only, so flows stop at the first button without it
  messaging_referral       an ig.me link with a ref opened in a conversation that exists (ref_rules;
                           Messenger names it messaging_referrals)
A field Meta refuses by name is asked again by its other name; one Meta takes by neither is left
out, said, and the others subscribed.
  messaging_reactions      reactions to messages (Meta's Instagram fields page names it message_reactions)
The sweeper checks each account's subscription daily and subscribes again when it lacks a field
the account's rules need (the stack's MetaAppIds parameter tells our app from others Meta lists).
`, stdout, stderr)
	account := c.idFlag("account", "account", "account `ID` to subscribe (its token is read from SSM)", true)
	fields := c.fs.String("fields", strings.Join(graph.DefaultFields, ","), "webhook `fields`, comma-separated; button taps come only on messaging_postbacks")
	asJSON := c.fs.Bool("json", false, "print JSON")
	appIDs := c.fs.String("app-ids", c.getenv("META_APP_IDS"), "our Meta app `ids`, comma-separated (the stack's MetaAppIds), to find ours in what Meta lists after subscribing; $META_APP_IDS when not given")
	c.tableFlag()
	c.graphFlag()
	var list []string
	st, code, ok := c.open(ctx, args, func() error {
		for _, f := range strings.Split(*fields, ",") {
			if f = strings.TrimSpace(f); f != "" {
				list = append(list, f)
			}
		}
		if len(list) == 0 {
			return opUsagef("--fields: name at least one field")
		}
		return nil
	})
	if !ok {
		return code
	}
	client, store, cfg := st.graph, st.store, st.cfg
	a, err := store.Account(ctx, *account)
	if errors.Is(err, reply.ErrNotFound) {
		return c.fail(fmt.Errorf("no account %s (add it first: replywindow accounts put --file account.yaml --token-stdin)", *account))
	}
	if err != nil {
		return c.fail(fmt.Errorf("read account %s: %w", *account, err))
	}
	token, err := c.tokens(cfg).Token(ctx, a)
	if err != nil {
		return c.fail(fmt.Errorf("token of account %s (SSM %s): %w", a.ID, a.TokenParam, err))
	}
	// A field Meta refuses by name is left out and the rest subscribed (subscription.Subscribe).
	res, err := subscription.Subscribe(ctx, client, a, token, list)
	if err != nil {
		var ge *reply.GraphError
		if errors.As(err, &ge) && reply.Classify(err) == reply.VerdictAuth {
			return c.fail(fmt.Errorf("%w\nthe token was refused: store a new one with accounts put --token-stdin", err))
		}
		return c.fail(err)
	}
	// Read back what Meta now lists, every page of it: Meta's word, not what we asked.
	listed, lerr := subscribedNow(ctx, client, a, token, opSplit(*appIDs), res.Fields)
	if *asJSON {
		if err := opJSON(stdout, map[string]any{"account": a.ID, "subscribed_fields": res.Fields, "refused_fields": res.Refused, "listed_fields": listed}); err != nil {
			return c.fail(err)
		}
	} else {
		fmt.Fprintf(stdout, "subscribed account %s to %s\n", a.ID, strings.Join(res.Fields, ", "))
		if len(res.Refused) > 0 {
			fmt.Fprintf(stdout, "Meta refused %s, names it does not take: %s\n", strings.Join(res.Refused, ", "), refusedOutcome(res))
		}
		if lerr == nil {
			fmt.Fprintf(stdout, "Meta lists our app with %s\n", strings.Join(listed, ", "))
		}
	}
	if lerr != nil {
		fmt.Fprintf(stderr, "warning: %v\n", lerr)
	}
	warnMissing(stderr, a, res.Fields)
	return exitOK
}

// subscribedNow is our app's fields as Meta lists them after subscribing, read from every page
// of subscribed_apps (ours by ourIDs; without them, the entry closest to what was asked). An
// error says what could not be confirmed: the subscription itself was accepted.
func subscribedNow(ctx context.Context, client *graph.Client, a reply.Account, token string, ourIDs, asked []string) ([]string, error) {
	apps, err := client.SubscribedApps(ctx, a, token)
	if err != nil {
		return nil, fmt.Errorf("subscribed, but Meta's list could not be read to confirm it: %w", err)
	}
	missing, had := reply.SubscriptionGap(apps, ourIDs, asked)
	if len(missing) > 0 {
		return had, fmt.Errorf("the account's %d subscribed app(s), as Meta lists them, show our app without %s (run replywindow doctor --account %s)", len(apps), strings.Join(missing, ", "), a.ID)
	}
	return had, nil
}

// refusedOutcome says what became of each field Meta refused: asked again by its other name in
// Meta's docs (and subscribed, or refused too), or left out.
func refusedOutcome(res subscription.Result) string {
	var out []string
	for _, f := range res.Refused {
		alias := reply.FieldAliases[f]
		switch {
		case alias != "" && slices.Contains(res.Fields, alias):
			out = append(out, f+" is subscribed by its other name, "+alias)
		case alias != "" && slices.Contains(res.Refused, alias):
			if f < alias { // say it once for the pair
				out = append(out, "neither "+f+" nor "+alias+" is taken, so the account is subscribed without it")
			}
		default:
			out = append(out, "the account is subscribed without "+f)
		}
	}
	return strings.Join(out, "; ")
}

// warnMissing tells the operator which fields the account's rules need beyond those subscribed:
// without them its taps or answers never arrive, until the sweeper's check subscribes them.
func warnMissing(stderr io.Writer, a reply.Account, fields []string) {
	if missing, _ := reply.SubscriptionGap([]reply.SubscribedApp{{Fields: fields}}, nil, a.NeededFields()); len(missing) > 0 {
		fmt.Fprintf(stderr, "warning: account %s's rules need %s too (see --help): those webhooks never arrive until the sweeper's daily check subscribes them again\n",
			a.ID, strings.Join(missing, ", "))
	}
}
