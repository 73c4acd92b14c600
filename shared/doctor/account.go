package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/graph"
	"github.com/replywindow/replywindow/shared/reply"
)

// account is the account's checks: token, permissions, subscription, messenger profile, webhooks,
// parked work.
func (d *Doctor) account(ctx context.Context, a reply.Account, now time.Time) []Check {
	var out []Check
	if a.Paused {
		out = append(out, Check{Name: "paused", Status: Warn, Detail: "paused by the operator: its comments are skipped",
			Fix: "replywindow accounts resume " + a.ID})
	}
	token, err := d.Tokens.Token(ctx, a)
	switch {
	case errors.Is(err, reply.ErrNotFound):
		return append(out, Check{Name: "token", Status: Fail, Detail: "no token in SSM " + a.TokenParam,
			Fix: fmt.Sprintf("store one: replywindow accounts put --file <account %s's file> --token-stdin < token.txt", a.ID)})
	case err != nil:
		return append(out, Check{Name: "token", Status: Fail, Detail: fmt.Sprintf("read SSM %s: %v", a.TokenParam, err),
			Fix: "check the caller may read (and decrypt) the stack's token path"})
	}
	tokenOK := true
	info, err := d.Meta.InspectToken(ctx, a, token)
	switch {
	case errors.Is(err, graph.ErrNoInspection):
		// The other reading of Meta's docs: the subscription read below proves the token works,
		// and the expiry is the one Meta's last refresh answered.
		out = append(out, d.storedExpiry(a, now))
	case err != nil:
		c := Check{Name: "token", Status: Fail, Detail: "inspect token: " + oneLine(err)}
		if reply.Classify(err) == reply.VerdictAuth {
			c.Detail = "Meta refused the token: " + oneLine(err)
			c.Fix = "store a new token: replywindow accounts put --file <file> --token-stdin"
		} else {
			c.Fix = "run doctor again; if it persists, check GRAPH_API_URL and the network to Meta"
		}
		return append(out, c)
	default:
		c, ok := d.tokenCheck(a, info, now)
		out, tokenOK = append(out, c), ok
		if ok {
			out = append(out, permissions(a, info))
		}
	}
	if !tokenOK {
		return out
	}
	out = append(out, d.subscription(ctx, a, token), d.messengerProfile(ctx, a, token))
	if d.Webhooks != nil {
		out = append(out, d.webhooks(ctx, a, now))
	}
	if d.Parked != nil {
		out = append(out, d.parked(ctx, a, now))
	}
	return out
}

// tokenCheck judges Meta's inspection: valid, ours, and how long it lasts. ok is false when the
// token cannot be used (the checks that need it are left out).
func (d *Doctor) tokenCheck(a reply.Account, info graph.TokenInfo, now time.Time) (Check, bool) {
	c := Check{Name: "token"}
	renew := "store a new token: replywindow accounts put --file <file> --token-stdin"
	switch {
	case !info.Valid:
		c.Status, c.Detail, c.Fix = Fail, fmt.Sprintf("Meta says the token is invalid (%d/%d): %s", info.Code, info.Subcode, info.Problem), renew
		return c, false
	case len(d.AppIDs) > 0 && info.AppID != "" && !slices.Contains(d.AppIDs, info.AppID):
		c.Status, c.Detail = Fail, fmt.Sprintf("the token belongs to app %s, not ours (%s)", info.AppID, strings.Join(d.AppIDs, ", "))
		c.Fix = "connect the account through our app and store that token: replywindow accounts put --token-stdin"
		return c, false
	}
	c.Status, c.Detail, c.Fix = expiry(a, info.ExpiresAt, now, d.tokenWarn(), "Meta's inspection")
	return c, true
}

func (d *Doctor) tokenWarn() time.Duration { return orDefault(d.TokenWarn, DefaultTokenWarn) }

// storedExpiry is the token check without Meta's inspection: the expiry the last refresh answered.
func (d *Doctor) storedExpiry(a reply.Account, now time.Time) Check {
	c := Check{Name: "token"}
	if a.TokenExpiresAt.IsZero() {
		c.Detail = "works (Meta offers no inspection on this host); expiry unknown until the first refresh"
		if a.Login == reply.LoginInstagram {
			c.Status, c.Fix = Warn, fmt.Sprintf("refresh it once so Meta tells its expiry: replywindow tokens refresh --account %s", a.ID)
		}
		return c
	}
	c.Status, c.Detail, c.Fix = expiry(a, a.TokenExpiresAt, now, d.tokenWarn(), "the last refresh (Meta offers no inspection on this host)")
	return c
}

// expiry judges an expiry time from source.
func expiry(a reply.Account, at, now time.Time, warn time.Duration, source string) (Status, string, string) {
	renew := fmt.Sprintf("replywindow tokens refresh --account %s", a.ID)
	if a.Login != reply.LoginInstagram {
		renew = "store a new Page token: replywindow accounts put --file <file> --token-stdin"
	}
	switch left := at.Sub(now); {
	case at.IsZero():
		return OK, "works; never expires (" + source + ")", ""
	case left <= 0:
		return Fail, fmt.Sprintf("expired %s ago (%s)", days(-left), source), "store a new token: replywindow accounts put --file <file> --token-stdin"
	case left <= warn:
		return Warn, fmt.Sprintf("works; expires in %s, on %s (%s)", days(left), at.UTC().Format(time.DateOnly), source), renew
	default:
		return OK, fmt.Sprintf("works; expires in %s (%s)", days(left), source), ""
	}
}

func permissions(a reply.Account, info graph.TokenInfo) Check {
	c := Check{Name: "permissions"}
	if missing := graph.MissingScopes(a.Login, info.Scopes); len(missing) > 0 {
		c.Status, c.Detail = Fail, "the token lacks "+strings.Join(missing, ", ")
		c.Fix = "connect the account again granting those permissions, then store the new token (accounts put --token-stdin)"
		return c
	}
	c.Detail = "granted " + strings.Join(graph.NeededScopes(a.Login), ", ")
	return c
}

// subscription checks that our app is subscribed to the account with every field it needs.
func (d *Doctor) subscription(ctx context.Context, a reply.Account, token string) Check {
	c := Check{Name: "subscription"}
	fix := "replywindow subscribe --account " + a.ID
	apps, err := d.Meta.SubscribedApps(ctx, a, token)
	if err != nil {
		c.Status, c.Detail, c.Fix = Fail, "read subscribed apps: "+oneLine(err), "run doctor again; if Meta refuses the token, store a new one"
		return c
	}
	needed := a.NeededFields()
	if len(d.AppIDs) > 0 && !slices.ContainsFunc(apps, func(x reply.SubscribedApp) bool { return slices.Contains(d.AppIDs, x.ID) }) {
		c.Status, c.Detail, c.Fix = Fail, fmt.Sprintf("our app (%s) is not subscribed to the account: no webhook arrives", strings.Join(d.AppIDs, ", ")), fix
		if len(apps) > 0 {
			c.Detail += fmt.Sprintf(" (%d other app(s) are)", len(apps))
		}
		return c
	}
	if len(apps) == 0 {
		c.Status, c.Detail, c.Fix = Fail, "no app is subscribed to the account: no webhook arrives", fix
		return c
	}
	missing, had := reply.SubscriptionGap(apps, d.AppIDs, needed)
	if len(missing) > 0 {
		c.Status, c.Detail, c.Fix = Fail, fmt.Sprintf("subscribed to %s; the rules also need %s", strings.Join(had, ","), strings.Join(missing, ",")), fix
		if slices.Contains(missing, reply.FieldPostbacks) {
			c.Detail += " (button taps arrive on messaging_postbacks only)"
		}
		return c
	}
	c.Detail = "our app has every field the rules need: " + strings.Join(needed, ",")
	if unused, _ := reply.SubscriptionGap([]reply.SubscribedApp{{Fields: had}}, nil, reply.WebhookFields); len(unused) > 0 {
		// Not needed, so no failure; but a field Meta refused by both its names shows here, and
		// the operator should know which events do not come.
		c.Detail += "; not subscribed to " + strings.Join(unused, ",") + ", which the rules do not need (a field Meta refuses by both its names is left out: replywindow subscribe names it)"
	}
	if len(d.AppIDs) == 0 {
		c.Status, c.Detail = Warn, c.Detail+" (judged without our app id: another app's subscription may be counted)"
		c.Fix = "set META_APP_IDS (the stack's MetaAppIds) so doctor and the sweeper tell our app from others"
	}
	return c
}

// webhooks says when the account's webhooks last arrived, by field.
func (d *Doctor) webhooks(ctx context.Context, a reply.Account, now time.Time) Check {
	c := Check{Name: "webhooks"}
	seen, err := d.Webhooks.LastWebhooks(ctx, a.ID)
	if err != nil {
		c.Status, c.Detail = Warn, "read last webhooks: "+oneLine(err)
		return c
	}
	var last time.Time
	fields := make([]string, 0, len(seen))
	for f, t := range seen {
		fields = append(fields, f)
		if t.After(last) {
			last = t
		}
	}
	sort.Strings(fields)
	var parts []string
	for _, f := range fields {
		parts = append(parts, fmt.Sprintf("%s %s ago", f, span(now.Sub(seen[f]))))
	}
	quiet := orDefault(d.Quiet, DefaultQuiet)
	fix := "check the app's webhook callback in Meta's dashboard is the stack's WebhookUrl, then replywindow subscribe --account " + a.ID
	switch {
	case last.IsZero():
		c.Status, c.Detail, c.Fix = Warn, "no webhook recorded for the account yet", fix
	case now.Sub(last) > quiet:
		c.Status, c.Detail, c.Fix = Warn, "none for "+span(now.Sub(last))+": last "+strings.Join(parts, ", "), fix
	default:
		c.Detail = "last " + strings.Join(parts, ", ")
	}
	return c
}

// parked says what waits parked for the account and since when.
func (d *Doctor) parked(ctx context.Context, a reply.Account, now time.Time) Check {
	c := Check{Name: "parked"}
	n, oldest, err := d.Parked.Parked(ctx, a.ID, now)
	switch {
	case err != nil:
		c.Status, c.Detail = Warn, "read parked work: "+oneLine(err)
	case n == 0:
		c.Detail = "nothing parked"
	case now.Sub(oldest) > orDefault(d.ParkedWarn, DefaultParkedWarn):
		c.Status, c.Detail = Warn, fmt.Sprintf("%d parked, the oldest for %s", n, span(now.Sub(oldest)))
		c.Fix = fmt.Sprintf("see why: replywindow accounts show %s (an unhealthy account or a refused token holds its work)", a.ID)
	default:
		c.Detail = fmt.Sprintf("%d parked, the oldest for %s", n, span(now.Sub(oldest)))
	}
	return c
}

// span is d coarsely: "3d4h", "2h5m", "40s".
func span(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour))
	case d >= time.Hour:
		return fmt.Sprintf("%dh%dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
	case d >= time.Minute:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
	return fmt.Sprintf("%ds", int(d/time.Second))
}

// oneLine is err's message on one line.
func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", "; ") }
