package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/ssm"
	"github.com/replywindow/replywindow/shared/tokens"
)

func init() {
	commands["tokens"] = command{summary: "refresh long-lived Instagram tokens before they expire (refresh)", run: runTokens}
}

const tokensHelp = `Usage: replywindow tokens refresh [--within 10d] [--account ID] [--json]

  refresh  refresh Instagram Login tokens that expire within the window (the sweeper does this
           on its schedule; this runs it now)

Run 'replywindow tokens refresh --help' for flags and examples.
`

func runTokens(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return opDispatch(ctx, "tokens", tokensHelp, map[string]opSub{"refresh": tokensRefresh}, args, stdout, stderr)
}

func tokensRefresh(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("tokens refresh", "[--within 10d] [--account ID] [--json]", `  # refresh every Instagram Login token that expires within 10 days
  replywindow tokens refresh

  # one account, now, whatever its expiry
  replywindow tokens refresh --account 17841400000000001

Exit status: 0 every due token was refreshed, 1 a refresh failed (the account is marked
unhealthy, or retried on the next run), 2 bad usage.
`, stdout, stderr)
	within := c.spanFlag("within", c.env(tokens.EnvWithin, "10d"), "refresh tokens that expire within this `duration` (10d, 240h)")
	account := c.idFlag("account", "account", "refresh only this account `ID`, due or not", false)
	asJSON := c.fs.Bool("json", false, "print JSON")
	c.tableFlag()
	c.graphFlag()
	st, code, ok := c.open(ctx, args, nil)
	if !ok {
		return code
	}
	store, params := st.store, c.params(st.cfg)
	r := &tokens.Refresher{
		Accounts: store, Tokens: ssm.Tokens{Params: params}, Params: params, Graph: st.graph,
		Within: *within, Log: c.logger(),
	}
	var res tokens.Result
	var err error
	if *account != "" {
		a, err := store.Account(ctx, *account)
		if errors.Is(err, reply.ErrNotFound) {
			return c.fail(fmt.Errorf("no account %s (see: replywindow accounts list)", *account))
		}
		if err != nil {
			return c.fail(fmt.Errorf("read account %s: %w", *account, err))
		}
		o, err := r.Refresh(ctx, a)
		res.Accounts = []tokens.Outcome{o}
		switch o.Action {
		case tokens.ActionRefreshed:
			res.Refreshed++
		case tokens.ActionFailed:
			res.Failed++
		case tokens.ActionDeferred:
			res.Deferred++
		}
		if err != nil {
			return c.fail(err)
		}
	} else if res, err = r.Run(ctx); err != nil && len(res.Accounts) == 0 {
		return c.fail(err)
	}
	if *asJSON {
		if res.Accounts == nil {
			res.Accounts = []tokens.Outcome{}
		}
		if err := opJSON(stdout, res); err != nil {
			return c.fail(err)
		}
	} else {
		now := time.Now()
		rows := make([][]string, 0, len(res.Accounts))
		for _, o := range res.Accounts {
			rows = append(rows, []string{o.AccountID, string(o.Action), opWhen(o.ExpiresAt, now), opOr(o.Error)})
		}
		if len(rows) == 0 {
			fmt.Fprintln(stdout, "no accounts")
		} else if err := opTable(stdout, []string{"ACCOUNT", "ACTION", "TOKEN EXPIRES", "ERROR"}, rows); err != nil {
			return c.fail(err)
		}
		fmt.Fprintf(stdout, "%d refreshed, %d failed, %d deferred to the next run\n", res.Refreshed, res.Failed, res.Deferred)
	}
	if err != nil {
		fmt.Fprintf(stderr, "replywindow tokens refresh: %v\n", err)
		return exitFail
	}
	if res.Failed+res.Deferred > 0 {
		return exitFail
	}
	return exitOK
}
