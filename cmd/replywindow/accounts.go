package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
)

func init() {
	commands["accounts"] = command{summary: "add, list, inspect and export Instagram accounts (put, list, show, export, pause, resume)", run: runAccounts}
}

const accountsHelp = `Usage: replywindow accounts <put|list|show|export|pause|resume> [flags]

  put --file account.yaml [--token-stdin | --token-env VAR] [--token-path PATH] [--app-user-id ID]
        validate the account file and store it; the access token goes to SSM under the
        stack's TokenPathPrefix, and Meta names the person it belongs to (for data deletion)
  list  every account with its health and token expiry
  show ID
        one account: rules, limits, health and backlog by lane
  export ID
        the stored account as the file put takes as it is
  pause ID, resume ID
        stop and restart the answers (comments are SKIPPED "paused"), configuration kept

Run 'replywindow accounts <put|list|show> --help' for flags and examples.
`

func runAccounts(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, accountsHelp)
		return exitUsage
	}
	switch args[0] {
	case "put":
		return accountsPut(ctx, args[1:], stdout, stderr)
	case "list":
		return accountsList(ctx, args[1:], stdout, stderr)
	case "show":
		return accountsShow(ctx, args[1:], stdout, stderr)
	case "export":
		return accountsExport(ctx, args[1:], stdout, stderr)
	case "pause", "resume":
		return accountsPause(ctx, args[0], args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, accountsHelp)
		return exitOK
	}
	fmt.Fprintf(stderr, "replywindow accounts: unknown subcommand %q\n\n%s", args[0], accountsHelp)
	return exitUsage
}

func accountsPut(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("accounts put", "--file account.yaml [--token-stdin | --token-env VAR] [flags]", `  # validate and store the account; read the long-lived token from stdin
  replywindow accounts put --file account.yaml --token-stdin < token.txt

  # the token from an environment variable (never on the command line: it would land in history)
  IG_TOKEN=... replywindow accounts put --file account.yaml --token-env IG_TOKEN

  # the prod stack: its TokenPathPrefix (the stack's output of that name)
  TOKEN_PATH_PREFIX=/replywindow-prod/tokens/ replywindow accounts put --file account.yaml --token-stdin < token.txt

  # Facebook Login: Meta does not say whose a Page token is; give the app-scoped id of the
  # person who connected the Page (the user_id Meta's data-deletion requests will carry)
  replywindow accounts put --file page-account.yaml --token-stdin --app-user-id 10160000000000001 < token.txt

  # only check the file (nothing stored)
  replywindow accounts put --file account.yaml --dry-run

  # what would change against the stored account (nothing stored)
  replywindow accounts put --file account.yaml --diff
`, stdout, stderr)
	file := c.fs.String("file", "", "account `file` (YAML; see cmd/replywindow/account.example.yaml)")
	tokenStdin := c.fs.Bool("token-stdin", false, "read the access token from stdin")
	tokenEnv := c.fs.String("token-env", "", "read the access token from environment `variable` VAR")
	dryRun := c.fs.Bool("dry-run", false, "validate only; store nothing")
	diffOnly := c.fs.Bool("diff", false, "show what would change against the stored account; store nothing")
	moveToken := c.fs.Bool("move-token", false, "let the account's token_param change (give the token too: it is stored at the new path)")
	asJSON := c.fs.Bool("json", false, "print the stored account as JSON")
	appUsers := c.fs.String("app-user-id", "", "app-scoped `ID`s (comma-separated) of the people who connected the account, instead of asking Meta with the token")
	tokenPath := c.tokenPathFlag()
	table := c.tableFlag()
	graphURL := c.graphFlag()
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	switch {
	case len(pos) > 0:
		return c.fail(opUsagef("unexpected argument %q", pos[0]))
	case *file == "":
		return c.fail(opUsagef("--file is required"))
	case *tokenStdin && *tokenEnv != "":
		return c.fail(opUsagef("--token-stdin and --token-env exclude each other"))
	}
	if err := opTokenPath(*tokenPath); err != nil {
		return c.fail(err)
	}
	var given []string
	for _, id := range strings.Split(*appUsers, ",") {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		if err := opCheckID("--app-user-id", "app-scoped user", id); err != nil {
			return c.fail(err)
		}
		given = append(given, id)
	}
	a, err := opLoadAccount(*file, *tokenPath)
	if err != nil {
		return c.fail(err)
	}
	if !strings.HasPrefix(a.TokenParam, *tokenPath) {
		// The functions may read tokens under the stack's path only: stored elsewhere, every
		// reply would fail with AccessDenied.
		return c.fail(opUsagef("%s: token_param %s is outside the stack's TokenPathPrefix %s (pass the stack's with --token-path or TOKEN_PATH_PREFIX)", *file, a.TokenParam, *tokenPath))
	}
	client, err := c.graph(*graphURL)
	if err != nil {
		return c.fail(err)
	}
	var token string
	switch {
	case *tokenStdin:
		b, err := io.ReadAll(io.LimitReader(opStdin, 64<<10))
		if err != nil {
			return c.fail(fmt.Errorf("read token from stdin: %w", err))
		}
		token = strings.TrimSpace(string(b))
		if token == "" {
			return c.fail(opUsagef("--token-stdin: stdin is empty"))
		}
	case *tokenEnv != "":
		token = strings.TrimSpace(c.getenv(*tokenEnv))
		if token == "" {
			return c.fail(opUsagef("--token-env: %s is empty or unset", *tokenEnv))
		}
	}
	// Valid, but most likely a typo: a tap that would send nothing.
	for _, n := range opInertPayloads(a) {
		fmt.Fprintf(stderr, "note: %s: no step of any flow runs on it, so the tap sends nothing\n", n)
	}
	if *dryRun {
		fmt.Fprintf(stdout, "%s: valid: account %s (%s login), %d rules, %d DM rules, %d flow steps; nothing stored\n", *file, a.ID, a.Login, len(a.Rules), len(a.DMRules), opSteps(a))
		return exitOK
	}
	store, cfg, err := c.store(ctx, *table)
	if err != nil {
		return c.fail(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	prev, err := store.Account(ctx, a.ID)
	if *diffOnly {
		return c.diff(stdout, *file, prev, a, err)
	}
	switch {
	case errors.Is(err, reply.ErrNotFound):
		a.Version = 1
	case err != nil:
		return c.fail(fmt.Errorf("read account %s: %w", a.ID, err))
	default:
		// A token_param that moves silently leaves the functions reading the old parameter (or
		// none): refuse unless asked, and then only with the token for the new place.
		if prev.TokenParam != "" && prev.TokenParam != a.TokenParam && (!*moveToken || token == "") {
			return c.fail(fmt.Errorf("account %s keeps its token in SSM %s, and this put would move it to %s: nothing stored; keep it with token_param: %s in the file, or move it with --move-token --token-stdin (the token is stored at the new path)",
				a.ID, prev.TokenParam, a.TokenParam, prev.TokenParam))
		}
		// The file is the whole configuration; what the system learned stays.
		a.Version = prev.Version + 1
		a.Unhealthy, a.UnhealthySince, a.TokenExpiresAt = prev.Unhealthy, prev.UnhealthySince, prev.TokenExpiresAt
		a.Paused = prev.Paused
	}
	// Who connected the account: the app-scoped ids a data-deletion request names. Those known
	// before stay (each of them may still ask); the flag adds, or else Meta tells with the token.
	a.AppUserIDs = opUnion(prev.AppUserIDs, given)
	if token != "" && len(given) == 0 {
		me, err := client.Me(ctx, a, token)
		switch {
		case errors.Is(err, graph.ErrNoAppUser):
			if len(a.AppUserIDs) == 0 {
				return c.fail(opUsagef("account %s uses Facebook Login, whose Page token does not say who connected it: pass --app-user-id with that person's app-scoped id (the user_id of their data-deletion request)", a.ID))
			}
		case err != nil:
			return c.fail(fmt.Errorf("ask Meta whose token this is (or pass --app-user-id): %w", err))
		case me.AccountID != "" && me.AccountID != a.ID:
			return c.fail(fmt.Errorf("the token belongs to Instagram account %s, not %s: nothing stored", me.AccountID, a.ID))
		default:
			a.AppUserIDs = opUnion(a.AppUserIDs, []string{me.AppUserID})
		}
	}
	var expiresAt time.Time
	inspected := false
	if token != "" {
		// The expiry is Meta's word (its inspection now, each refresh's answer later), never a
		// number typed here; a token Meta calls invalid is not stored.
		info, err := client.InspectToken(ctx, a, token)
		switch {
		case errors.Is(err, graph.ErrNoInspection):
		case err != nil:
			return c.fail(fmt.Errorf("ask Meta about the token (nothing stored): %w", err))
		case !info.Valid:
			return c.fail(fmt.Errorf("the token of account %s is invalid, Meta says (%d/%d: %s): nothing stored", a.ID, info.Code, info.Subcode, info.Problem))
		default:
			expiresAt, inspected = info.ExpiresAt, true
		}
	}
	if token != "" {
		// The token goes first: an account stored without its token could not send, while a
		// token stored without the account is harmless and the retry overwrites it.
		if err := c.params(cfg).Put(ctx, a.TokenParam, token); err != nil {
			return c.fail(fmt.Errorf("store token of account %s in SSM %s: %w", a.ID, a.TokenParam, err))
		}
		// A new token is a fresh start: whatever made the account unhealthy was most likely the
		// old one.
		a.Unhealthy, a.UnhealthySince = "", time.Time{}
		a.TokenExpiresAt = expiresAt
	}
	a.UpdatedAt = now
	stored, err := store.PutAccount(ctx, a)
	if errors.Is(err, reply.ErrConflict) {
		return c.fail(fmt.Errorf("account %s was changed while this ran (now version %d): run the command again", a.ID, stored.Version))
	}
	if err != nil {
		return c.fail(fmt.Errorf("store account %s: %w", a.ID, err))
	}
	syncOut := stdout
	if *asJSON {
		syncOut = stderr
	}
	if err := opPutEntries(ctx, c, client, cfg, stored, prev, token, syncOut, stderr); err != nil {
		// The account is stored; only Meta's side is behind: running put again retries.
		return c.fail(fmt.Errorf("account %s stored, but its ice breakers and menu are not set on Meta (run accounts put again): %w", stored.ID, err))
	}
	if *asJSON {
		if err := opJSON(stdout, map[string]any{"account": stored, "token_stored": token != ""}); err != nil {
			return c.fail(err)
		}
		return exitOK
	}
	verb := "created"
	if stored.Version > 1 {
		verb = "updated"
	}
	fmt.Fprintf(stdout, "%s account %s (%s login, %d rules, version %d)\n", verb, stored.ID, stored.Login, len(stored.Rules), stored.Version)
	if token != "" {
		fmt.Fprintf(stdout, "token stored in SSM %s", stored.TokenParam)
		switch {
		case !stored.TokenExpiresAt.IsZero():
			fmt.Fprintf(stdout, ", expires %s (Meta's inspection)", opWhen(stored.TokenExpiresAt, now))
		case inspected:
			fmt.Fprint(stdout, ", never expires (Meta's inspection)")
		}
		fmt.Fprintln(stdout)
		if !inspected && stored.Login == reply.LoginInstagram {
			fmt.Fprintf(stderr, "note: Meta offers no token inspection on this host: the expiry is known after the first refresh (replywindow tokens refresh --account %s)\n", stored.ID)
		}
	} else if prev.Version == 0 {
		fmt.Fprintf(stderr, "note: no token given; the account cannot send until SSM %s holds one (accounts put --token-stdin)\n", stored.TokenParam)
	}
	if len(stored.AppUserIDs) == 0 {
		fmt.Fprintf(stderr, "note: no app-scoped user id: a data-deletion request from Meta cannot find this account (accounts put --token-stdin, or --app-user-id)\n")
	}
	fmt.Fprintf(stdout, "next: replywindow subscribe --account %s\n", stored.ID)
	return exitOK
}

// diff prints what accounts put --diff would change: the stored account's file against this
// one (readErr is the read of the stored account).
func (c *opCmd) diff(stdout io.Writer, file string, prev, a reply.Account, readErr error) int {
	switch {
	case errors.Is(readErr, reply.ErrNotFound):
		fmt.Fprintf(stdout, "account %s is not stored: put would create it (%d rules, %d DM rules); nothing stored\n", a.ID, len(a.Rules), len(a.DMRules))
		return exitOK
	case readErr != nil:
		return c.fail(fmt.Errorf("read account %s: %w", a.ID, readErr))
	}
	old, err := opExportYAML(prev)
	if err != nil {
		return c.fail(err)
	}
	next, err := opExportYAML(a)
	if err != nil {
		return c.fail(err)
	}
	d := opLineDiff(string(old), string(next), 2)
	if d == "" {
		fmt.Fprintf(stdout, "%s: no change to account %s (version %d); nothing stored\n", file, a.ID, prev.Version)
		return exitOK
	}
	fmt.Fprintf(stdout, "--- account %s, stored (version %d)\n+++ %s\n%s(nothing stored)\n", a.ID, prev.Version, file, d)
	return exitOK
}

// opUnion is a followed by the ids of b it lacks.
func opUnion(a, b []string) []string {
	out := slices.Clone(a)
	for _, id := range b {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// opStdin is where --token-stdin reads (tests replace it).
var opStdin io.Reader = os.Stdin

func accountsList(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("accounts list", "[--json]", `  replywindow accounts list
  replywindow accounts list --json | jq -r '.[] | select(.unhealthy != null) | .id'
`, stdout, stderr)
	asJSON := c.fs.Bool("json", false, "print JSON")
	table := c.tableFlag()
	pos, code, ok := c.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return c.fail(opUsagef("unexpected argument %q", pos[0]))
	}
	store, cfg, err := c.store(ctx, *table)
	if err != nil {
		return c.fail(err)
	}
	accounts, err := store.ListAccounts(ctx)
	if err != nil {
		return c.fail(fmt.Errorf("list accounts: %w", err))
	}
	if *asJSON {
		if accounts == nil {
			accounts = []reply.Account{}
		}
		if err := opJSON(stdout, accounts); err != nil {
			return c.fail(err)
		}
		return exitOK
	}
	if len(accounts) == 0 {
		fmt.Fprintln(stdout, "no accounts; add one with: replywindow accounts put --file account.yaml --token-stdin")
		return exitOK
	}
	now := time.Now()
	rows := make([][]string, 0, len(accounts))
	for _, a := range accounts {
		h, err := opAccountHealth(ctx, c.params(cfg), a, now)
		if err != nil {
			return c.fail(err)
		}
		rows = append(rows, []string{a.ID, opOr(a.Username), string(a.Login), strconv.Itoa(len(a.Rules)), h, opWhen(a.TokenExpiresAt, now), strconv.FormatInt(a.Version, 10)})
	}
	if err := opTable(stdout, []string{"ID", "USERNAME", "LOGIN", "RULES", "HEALTH", "TOKEN EXPIRES", "VERSION"}, rows); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// opBacklog is an account's unfinished replies in one lane.
type opBacklog struct {
	Lane           reply.Lane          `json:"lane"`
	Total          int                 `json:"total"`
	ByState        map[reply.State]int `json:"by_state"`
	DueNow         int                 `json:"due_now"`
	OldestDeadline time.Time           `json:"oldest_deadline,omitzero"`
}

// opBacklogScanCap bounds how many unfinished records show reads; beyond it the counts are
// lower bounds (the sweeper's Backlog metric has the exact figure).
const opBacklogScanCap = 100_000

// opBacklogOf counts account's unfinished reply records by lane, through the sweeper's index of
// non-terminal records (every one is due by its deadline, at most reply.Window ahead).
func opBacklogOf(ctx context.Context, store reply.Replies, account string, now time.Time) ([]opBacklog, bool, error) {
	lanes := map[reply.Lane]*opBacklog{}
	for _, l := range reply.Lanes {
		lanes[l] = &opBacklog{Lane: l, ByState: map[reply.State]int{}}
	}
	before := now.Add(reply.Window + time.Hour)
	cursor, seen := "", 0
	for {
		recs, next, err := store.Due(ctx, before, cursor, 500)
		if err != nil {
			return nil, false, fmt.Errorf("read backlog: %w", err)
		}
		for _, r := range recs {
			seen++
			if r.AccountID != account || r.State.Terminal() {
				continue
			}
			b, ok := lanes[r.Lane]
			if !ok {
				b = &opBacklog{Lane: r.Lane, ByState: map[reply.State]int{}}
				lanes[r.Lane] = b
			}
			b.Total++
			b.ByState[r.State]++
			if !r.DueAt.After(now) {
				b.DueNow++
			}
			if b.OldestDeadline.IsZero() || r.Deadline.Before(b.OldestDeadline) {
				b.OldestDeadline = r.Deadline
			}
		}
		if next == "" {
			break
		}
		if seen >= opBacklogScanCap {
			return opSortBacklog(lanes), true, nil
		}
		cursor = next
	}
	return opSortBacklog(lanes), false, nil
}

func opSortBacklog(m map[reply.Lane]*opBacklog) []opBacklog {
	out := make([]opBacklog, 0, len(m))
	for _, l := range reply.Lanes {
		out = append(out, *m[l])
		delete(m, l)
	}
	rest := make([]opBacklog, 0, len(m))
	for _, b := range m {
		rest = append(rest, *b)
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Lane < rest[j].Lane })
	return append(out, rest...)
}

func accountsShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := opNew("accounts show", "ID [--json]", `  replywindow accounts show 17841400000000001
  replywindow accounts show 17841400000000001 --json | jq .backlog
`, stdout, stderr)
	asJSON := c.fs.Bool("json", false, "print JSON")
	table := c.tableFlag()
	graphURL := c.graphFlag()
	id, code, ok := c.accountArg(args)
	if !ok {
		return code
	}
	store, cfg, err := c.store(ctx, *table)
	if err != nil {
		return c.fail(err)
	}
	a, err := opReadAccount(ctx, store, id, "")
	if err != nil {
		return c.fail(err)
	}
	now := time.Now()
	backlog, partial, err := opBacklogOf(ctx, store, a.ID, now)
	if err != nil {
		return c.fail(err)
	}
	health, err := opAccountHealth(ctx, c.params(cfg), a, now)
	if err != nil {
		return c.fail(err)
	}
	meta, metaErr := opMetaProfile(ctx, c, *graphURL, cfg, a)
	if *asJSON {
		if err := opJSON(stdout, map[string]any{"account": a, "healthy": health == "ok", "health": health, "backlog": backlog, "backlog_partial": partial, "meta_messenger_profile": meta}); err != nil {
			return c.fail(err)
		}
		return exitOK
	}
	opFields(stdout,
		[2]string{"account", a.ID},
		[2]string{"username", opOr(a.Username)},
		[2]string{"login", string(a.Login)},
		[2]string{"sender", a.SenderID()},
		[2]string{"token parameter", a.TokenParam},
		[2]string{"connected by (app user ids)", opOr(strings.Join(a.AppUserIDs, ", "))},
		[2]string{"token expires", opWhen(a.TokenExpiresAt, now)},
		[2]string{"health", health},
		[2]string{"unhealthy since", opWhen(a.UnhealthySince, now)},
		[2]string{"one DM per person per post", strconv.FormatBool(!a.RepeatPerPerson)},
		[2]string{"human pause", a.Pause().String()},
		[2]string{"disclosure lapse", a.Lapse().String()},
		[2]string{"version", fmt.Sprintf("%d (updated %s)", a.Version, opWhen(a.UpdatedAt, now))},
	)
	fmt.Fprintln(stdout, "\nLimits:")
	var rows [][]string
	for _, l := range reply.Lanes {
		lim := a.Limit(l)
		src := "Meta's default"
		if _, ok := a.Limits[l]; ok {
			src = "configured"
		}
		rows = append(rows, []string{"  " + string(l), fmt.Sprintf("%d per %s", lim.Count, lim.Period), src})
	}
	opTable(stdout, []string{"  LANE", "LIMIT", ""}, rows)
	fmt.Fprintln(stdout, "\nRules (first match wins):")
	rows = rows[:0]
	for i, r := range a.Rules {
		words := strings.Join(r.Keywords, ", ")
		if r.Match == reply.MatchAny {
			words = "(every comment)"
		}
		var scope []string
		if len(r.Media) > 0 {
			scope = append(scope, "media "+strings.Join(r.Media, ","))
		}
		if len(r.Kinds) > 0 {
			k := make([]string, len(r.Kinds))
			for j, x := range r.Kinds {
				k[j] = string(x)
			}
			scope = append(scope, strings.Join(k, ","))
		}
		rows = append(rows, []string{fmt.Sprintf("  %d", i+1), opOr(r.Name), string(r.Match), opShort(words, 40), opOr(strings.Join(scope, "; ")), fmt.Sprintf("%d B", len(r.Message)), opFlowSummary(r.Opening(r.Message), r.Flow)})
	}
	opTable(stdout, []string{"  #", "NAME", "MATCH", "KEYWORDS", "SCOPE", "MESSAGE", "FLOW"}, rows)
	if len(a.DMRules) > 0 {
		fmt.Fprintln(stdout, "\nDM rules (conversations the person starts; first match wins):")
		rows = rows[:0]
		for i, d := range a.DMRules {
			words := strings.Join(d.Keywords, ", ")
			if d.Match == reply.MatchAny {
				words = "(every message)"
			}
			rows = append(rows, []string{fmt.Sprintf("  %d", i+1), d.Name, string(d.Match), opShort(words, 40), strconv.FormatBool(d.Stories), fmt.Sprintf("%d messages", len(d.Messages)), opFlowSummary(reply.Message{}, d.Flow)})
		}
		opTable(stdout, []string{"  #", "NAME", "MATCH", "KEYWORDS", "STORY REPLIES", "ANSWER", "FLOW"}, rows)
	}
	opShowEntries(stdout, a, meta, metaErr)
	fmt.Fprintln(stdout, "\nBacklog (unfinished replies):")
	rows = rows[:0]
	for _, b := range backlog {
		var states []string
		for _, s := range []reply.State{reply.StateQueued, reply.StateLeased, reply.StateParked} {
			if b.ByState[s] > 0 {
				states = append(states, fmt.Sprintf("%s %d", strings.ToLower(string(s)), b.ByState[s]))
			}
		}
		rows = append(rows, []string{"  " + string(b.Lane), strconv.Itoa(b.Total), opOr(strings.Join(states, ", ")), strconv.Itoa(b.DueNow), opWhen(b.OldestDeadline, now)})
	}
	opTable(stdout, []string{"  LANE", "TOTAL", "STATES", "DUE NOW", "OLDEST DEADLINE"}, rows)
	if partial {
		fmt.Fprintf(stdout, "  (counted the first %d unfinished records of the table; the figures are lower bounds)\n", opBacklogScanCap)
	}
	return exitOK
}

// opSteps counts the steps of every flow of the account.
func opSteps(a reply.Account) int {
	n := 0
	for _, r := range a.Rules {
		n += len(r.Flow)
	}
	for _, d := range a.DMRules {
		n += len(d.Flow)
	}
	return n
}

// opFlowSummary is what a rule's private reply carries and how many steps follow: "1 button, 2 steps".
func opFlowSummary(opening reply.Message, flow []reply.Step) string {
	var parts []string
	if n := len(opening.Buttons); n > 0 {
		parts = append(parts, opPlural(n, "button"))
	}
	if n := len(opening.QuickReplies); n > 0 {
		parts = append(parts, opPlural(n, "quick reply"))
	}
	if len(flow) > 0 {
		parts = append(parts, opPlural(len(flow), "step"))
	}
	return opOr(strings.Join(parts, ", "))
}

func opPlural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if strings.HasSuffix(what, "y") {
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(what, "y"))
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func opShort(s string, n int) string {
	if len([]rune(s)) <= n {
		return opOr(s)
	}
	return string([]rune(s)[:n-1]) + "…"
}

// The account file's shape. reply.Account is the stored form (JSON names); the file uses the
// same snake_case names, a readable duration for limits, and has no place for the token.
type opAccountFile struct {
	ID              string                     `yaml:"id"`
	Username        string                     `yaml:"username"`
	Login           reply.Login                `yaml:"login"`
	PageID          string                     `yaml:"page_id"`
	TokenParam      string                     `yaml:"token_param"`
	Disclosure      string                     `yaml:"disclosure"`
	RepeatPerPerson bool                       `yaml:"repeat_per_person"`
	Limits          map[reply.Lane]opLimitFile `yaml:"limits"`
	Rules           []opRuleFile               `yaml:"rules"`
	DMRules         []opDMRuleFile             `yaml:"dm_rules"`
	HumanPause      string                     `yaml:"human_pause"`      // "24h"; Meta's time without automation after a human answered
	DisclosureLapse string                     `yaml:"disclosure_lapse"` // "24h"
	Tracking        *reply.Tracking            `yaml:"tracking"`         // enabled, links (tracking.go's names)
	opEntryFile     `yaml:",inline"`           // entries.go
	Leads           opLeadsFile                `yaml:"leads"`
}

// opLeadsFile is the account's settings for steps that ask (reply.LeadSettings).
type opLeadsFile struct {
	Consent     string `yaml:"consent"`
	PhoneRegion string `yaml:"phone_region"`
	Retention   string `yaml:"retention"` // "365d"
}

type opLimitFile struct {
	Count int    `yaml:"count"`
	Per   string `yaml:"per"` // "1h", "1s"
}

type opRuleFile struct {
	Name          string          `yaml:"name"`
	Match         reply.MatchMode `yaml:"match"`
	Keywords      []string        `yaml:"keywords"`
	Exclude       []string        `yaml:"exclude"`
	Media         []string        `yaml:"media"`
	Kinds         []reply.Kind    `yaml:"kinds"`
	Message       string          `yaml:"message"`
	Disclose      bool            `yaml:"disclose"`
	PublicReplies []string        `yaml:"public_replies"`
	Buttons       []opButtonFile  `yaml:"buttons"`
	QuickReplies  []opQuickReply  `yaml:"quick_replies"`
	Flow          []opStepFile    `yaml:"flow"`
	Tracking      *reply.Tracking `yaml:"tracking"` // enabled, links, utm

	// Enabled false keeps the rule without answering with it; From and Until (RFC 3339 times)
	// bound the comments it answers by their creation time.
	Enabled *bool  `yaml:"enabled"`
	From    string `yaml:"from"`
	Until   string `yaml:"until"`
	// Variants: {name, weight, message} each; a person's is fixed by a hash (reply.Variant).
	Variants []reply.Variant `yaml:"variants"`
}

// opLoadAccount reads and validates an account file; a token_param it leaves out is tokenPath
// and the account id. Every error names the file and, where it can, the line:
// "account.yaml:14: rules[1] "recipe": keywords: required with match "word"".
func opLoadAccount(path, tokenPath string) (reply.Account, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return reply.Account{}, fmt.Errorf("read account file: %w", err)
	}
	return opParseAccount(path, b, tokenPath)
}

var opYAMLLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

func opParseAccount(name string, b []byte, tokenPath string) (reply.Account, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(b, &root); err != nil {
		return reply.Account{}, opYAMLError(name, err)
	}
	if len(root.Content) == 0 {
		return reply.Account{}, fmt.Errorf("%s: empty file", name)
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return reply.Account{}, fmt.Errorf("%s:%d: want a mapping of account fields", name, doc.Line)
	}
	for i := 0; i+1 < len(doc.Content); i += 2 {
		switch k := doc.Content[i]; k.Value {
		case "token", "access_token":
			// Said plainly, because a token in a file ends up in backups and repositories.
			return reply.Account{}, fmt.Errorf("%s:%d: %s: the token does not belong in the file; pass it with --token-stdin or --token-env", name, k.Line, k.Value)
		}
	}
	if err := opNoMediaOnPrivateReply(name, doc); err != nil {
		return reply.Account{}, err
	}
	var f opAccountFile
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return reply.Account{}, opYAMLError(name, err)
	}
	a := reply.Account{
		ID: strings.TrimSpace(f.ID), Username: f.Username, Login: f.Login, PageID: f.PageID,
		TokenParam: f.TokenParam, Disclosure: f.Disclosure, RepeatPerPerson: f.RepeatPerPerson, Tracking: f.Tracking,
	}
	if a.TokenParam == "" && a.ID != "" {
		a.TokenParam = tokenPath + a.ID
	}
	for lane, l := range f.Limits {
		per, err := time.ParseDuration(l.Per)
		if err != nil {
			return reply.Account{}, fmt.Errorf("%s:%d: limits.%s.per: %q is not a duration (e.g. 1h, 1s)", name, opLine(doc, "limits", string(lane), "per"), lane, l.Per)
		}
		if a.Limits == nil {
			a.Limits = map[reply.Lane]reply.Limit{}
		}
		a.Limits[lane] = reply.Limit{Count: l.Count, Period: per}
	}
	// Errors of the conversion and of Validate alike start with the path of what they are
	// about, which finds the line.
	located := func(err error) error {
		if line := opErrorLine(doc, err.Error()); line > 0 {
			return fmt.Errorf("%s:%d: %w", name, line, err)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	for i, r := range f.Rules {
		flow, err := opFlow(fmt.Sprintf("rules[%d] %q", i, r.Name), r.Flow)
		if err != nil {
			return reply.Account{}, located(err)
		}
		from, until, err := opRuleTimes(fmt.Sprintf("rules[%d] %q", i, r.Name), r.From, r.Until)
		if err != nil {
			return reply.Account{}, located(err)
		}
		a.Rules = append(a.Rules, reply.Rule{
			Name: r.Name, Match: r.Match, Keywords: r.Keywords, Exclude: r.Exclude, Media: r.Media,
			Kinds: r.Kinds, Message: r.Message, Disclose: r.Disclose, PublicReplies: r.PublicReplies,
			Buttons: opButtons(r.Buttons), QuickReplies: opQuickReplies(r.QuickReplies), Flow: flow, Tracking: r.Tracking,
			Disabled: r.Enabled != nil && !*r.Enabled, From: from, Until: until,
			Variants: r.Variants,
		})
	}
	for i, d := range f.DMRules {
		flow, err := opFlow(fmt.Sprintf("dm_rules[%d] %q", i, d.Name), d.Flow)
		if err != nil {
			return reply.Account{}, located(err)
		}
		a.DMRules = append(a.DMRules, reply.DMRule{
			Name: d.Name, Match: d.Match, Keywords: d.Keywords, Stories: d.StoryReplies,
			Messages: opMessages(d.Messages), Flow: flow,
		})
	}
	if err := opEntries(f.opEntryFile, &a); err != nil {
		return reply.Account{}, located(err)
	}
	var err error
	if a.HumanPause, err = opDuration("human_pause", f.HumanPause); err != nil {
		return reply.Account{}, located(err)
	}
	if a.DisclosureLapse, err = opDuration("disclosure_lapse", f.DisclosureLapse); err != nil {
		return reply.Account{}, located(err)
	}
	if a.Leads, err = opLeadSettings(f.Leads); err != nil {
		return reply.Account{}, located(err)
	}
	if err := a.Validate(); err != nil {
		return reply.Account{}, located(err)
	}
	return a, nil
}

// opNoMediaOnPrivateReply says why a rule cannot have a step message's media fields, which an
// operator copying a message into a rule would otherwise learn as a bare "unknown field".
func opNoMediaOnPrivateReply(name string, doc *yaml.Node) error {
	rules := opValue(doc, "rules")
	if rules == nil || rules.Kind != yaml.SequenceNode {
		return nil
	}
	for i, r := range rules.Content {
		for _, k := range []string{"kind", "url", "media_id", "attachment"} {
			if line := opKeyLine(r, k); line > 0 {
				rule := ""
				if n := opValue(r, "name"); n != nil {
					rule = n.Value
				}
				return fmt.Errorf("%s:%d: rules[%d] %q: %s: a private reply may hold only text, buttons and quick replies, no media (send media in a step of the flow)", name, line, i, rule, k)
			}
		}
	}
	return nil
}

// opYAMLError restates yaml.v3's errors as "file:line: message".
func opYAMLError(name string, err error) error {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	out := make([]string, len(msgs))
	for i, m := range msgs {
		if sub := opYAMLLine.FindStringSubmatch(m); sub != nil {
			out[i] = name + ":" + sub[1] + ": " + strings.TrimPrefix(m, sub[0])
			if strings.Contains(m, "not found in type") {
				out[i] = name + ":" + sub[1] + ": unknown field " + opUnknownField(m)
			}
		} else {
			out[i] = name + ": " + strings.TrimPrefix(m, "yaml: ")
		}
	}
	return errors.New(strings.Join(out, "\n"))
}

var opFieldName = regexp.MustCompile(`field (\S+) not found`)

func opUnknownField(m string) string {
	if sub := opFieldName.FindStringSubmatch(m); sub != nil {
		return strconv.Quote(sub[1])
	}
	return m
}

// opPathPart is one step of an error's path: "rules[1]", "follow_gate", "quick_replies[0]".
var opPathPart = regexp.MustCompile(`^([a-z_]+)(?:\[(\d+)\])?$`)

// opErrorLine finds the line a reply.Account.Validate error is about, from the path its message
// starts with: "rules[1] "x": flow[0] "link": messages[2]: text: ...", "limits.posts: ...",
// "page_id: ...". Each ": "-separated part is a dotted path (a name in quotes may follow); the
// walk goes down the YAML as far as the file has what the path names, and the deepest line
// found is the answer (0: none).
func opErrorLine(doc *yaml.Node, msg string) int {
	line, n := 0, doc
	for _, seg := range strings.Split(msg, ": ") {
		head, _, _ := strings.Cut(seg, " ")
		for _, part := range strings.Split(head, ".") {
			m := opPathPart.FindStringSubmatch(part)
			if m == nil {
				return line
			}
			v := opValue(n, m[1])
			if v == nil {
				return line
			}
			line, n = opKeyLine(n, m[1]), v
			if m[2] != "" {
				i, _ := strconv.Atoi(m[2])
				if n = opItem(v, i); n == nil {
					return line
				}
				line = n.Line
			}
		}
	}
	return line
}

// opLine is the line of the key at path in the mapping n, or of its deepest existing ancestor.
func opLine(n *yaml.Node, path ...string) int {
	line := 0
	for _, k := range path {
		if n == nil {
			break
		}
		if l := opKeyLine(n, k); l > 0 {
			line = l
		}
		n = opValue(n, k)
	}
	return line
}

func opKeyLine(n *yaml.Node, key string) int {
	if n == nil || n.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i].Line
		}
	}
	return 0
}

func opValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func opItem(n *yaml.Node, i int) *yaml.Node {
	if n == nil || n.Kind != yaml.SequenceNode || i < 0 || i >= len(n.Content) {
		return nil
	}
	return n.Content[i]
}
