package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
)

func init() {
	commands["subscribe"] = command{summary: "subscribe an account to the app's webhook fields (Meta requires it per account)", run: runSubscribe}
}

func runSubscribe(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("subscribe", "--account ID [--fields comments,live_comments,messages] [--json]", `  replywindow subscribe --account 17841400000000001
  replywindow subscribe --account 17841400000000001 --fields comments,live_comments
`, stdout, stderr)
	account := c.fs.String("account", "", "account `ID` to subscribe (its token is read from SSM)")
	fields := c.fs.String("fields", strings.Join(graph.DefaultFields, ","), "webhook `fields`, comma-separated")
	asJSON := c.fs.Bool("json", false, "print JSON")
	table := c.tableFlag()
	graphURL := c.graphFlag()
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	switch {
	case len(pos) > 0:
		return c.fail(opUsagef("unexpected argument %q", pos[0]))
	case *account == "":
		return c.fail(opUsagef("--account is required"))
	}
	if err := opCheckID("--account", "account", *account); err != nil {
		return c.fail(err)
	}
	var list []string
	for _, f := range strings.Split(*fields, ",") {
		if f = strings.TrimSpace(f); f != "" {
			list = append(list, f)
		}
	}
	if len(list) == 0 {
		return c.fail(opUsagef("--fields: name at least one field"))
	}
	client, err := c.graph(*graphURL)
	if err != nil {
		return c.fail(err)
	}
	store, cfg, err := c.store(ctx, *table)
	if err != nil {
		return c.fail(err)
	}
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
	if err := client.Subscribe(ctx, a, token, list); err != nil {
		var ge *reply.GraphError
		if errors.As(err, &ge) && reply.Classify(err) == reply.VerdictAuth {
			return c.fail(fmt.Errorf("%w\nthe token was refused: store a new one with accounts put --token-stdin", err))
		}
		return c.fail(err)
	}
	if *asJSON {
		if err := opJSON(stdout, map[string]any{"account": a.ID, "subscribed_fields": list}); err != nil {
			return c.fail(err)
		}
		return exitOK
	}
	fmt.Fprintf(stdout, "subscribed account %s to %s\n", a.ID, strings.Join(list, ", "))
	return exitOK
}
