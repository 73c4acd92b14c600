package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/tokens"
)

func TestTokensRefresh(t *testing.T) {
	h := opSetup(t)
	due, later, revoked := opID(t), opID(t)+"1", opID(t)+"2"
	for _, id := range []string{due, later, revoked} {
		tok := "IGAAT-cli-" + id
		h.sb.AddAccount(id, tok, reply.LoginInstagram, "")
		t.Setenv("RW_TOK_"+id, tok)
		h.must("accounts", "put", "--file", h.accountFile("good.yaml", id), "--token-env", "RW_TOK_"+id)
	}
	// --within 70d makes every fresh 60-day token due; 30d makes none due.
	var res tokens.Result
	if err := json.Unmarshal([]byte(h.must("tokens", "refresh", "--within", "30d", "--json")), &res); err != nil {
		t.Fatal(err)
	}
	if res.Refreshed != 0 || len(res.Accounts) != 3 {
		t.Errorf("nothing due: %+v", res)
	}
	h.sb.RevokeToken("IGAAT-cli-" + revoked)
	code, out, errs := h.run("tokens", "refresh", "--within", "70d")
	if code != exitFail {
		t.Fatalf("exit %d, want 1 (one refresh failed)\n%s%s", code, out, errs)
	}
	for _, w := range []string{"ACCOUNT", due, "refreshed", revoked, "failed", "2 refreshed, 1 failed, 0 deferred"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
	a, _ := h.store.Account(h.ctx, due)
	if tok, _ := h.param(a.TokenParam); !strings.HasPrefix(tok, "sbx-refreshed-"+due) {
		t.Errorf("SSM token of %s: %q", due, tok)
	}
	if d := time.Until(a.TokenExpiresAt); d < 59*24*time.Hour {
		t.Errorf("expiry in %s", d)
	}
	if a, _ := h.store.Account(h.ctx, revoked); !strings.HasPrefix(a.Unhealthy, tokens.UnhealthyPrefix+"190") {
		t.Errorf("revoked account unhealthy %q", a.Unhealthy)
	}
	// --account refreshes that one now, due or not.
	code, out, _ = h.run("tokens", "refresh", "--account", later, "--json")
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitOK || res.Refreshed != 1 || res.Accounts[0].AccountID != later {
		t.Errorf("--account: exit %d %v %+v", code, err, res)
	}
	if code, _, errs := h.run("tokens", "refresh", "--within", "soon"); code != exitUsage || !strings.Contains(errs, "--within") {
		t.Errorf("bad --within: exit %d %q", code, errs)
	}
	if code, _, _ := h.run("tokens"); code != exitUsage {
		t.Errorf("no subcommand: exit %d", code)
	}
	if code, out, _ := h.run("tokens", "refresh", "--help"); code != exitOK || !strings.Contains(out, "Examples:") {
		t.Errorf("--help: exit %d %q", code, out)
	}
}

// No token value ever appears in any output or log line: every subcommand runs with a known
// token (and the sandbox's refreshed ones), at LOG_LEVEL=debug, and everything printed is
// scanned, errors included.
func TestNoTokenInOutput(t *testing.T) {
	h := opSetup(t)
	t.Setenv("LOG_LEVEL", "debug")
	id := opID(t)
	const token = "IGAAT-leakcheck-7f3a9c2e51"
	h.sb.AddAccount(id, token, reply.LoginInstagram, "")
	file := h.accountFile("good.yaml", id)
	t.Setenv("RW_LEAK_TOKEN", token)
	_, jobs, dlq, _ := opQueues(t, h, 3)
	t.Setenv("QUEUE_URL", jobs)
	t.Setenv("DLQ_URL", dlq)

	h.runStdin(token, "accounts", "put", "--file", file, "--token-stdin", "--json")
	h.runStdin(token, "accounts", "put", "--file", file, "--token-stdin")
	h.run("accounts", "put", "--file", file, "--token-env", "RW_LEAK_TOKEN")
	h.run("accounts", "put", "--file", file, "--token-env", "RW_LEAK_TOKEN", "--dry-run")
	h.run("accounts", "put", "--file", "testdata/accounts/bad/token_in_file.yaml")
	h.run("accounts", "list")
	h.run("accounts", "list", "--json")
	h.run("accounts", "show", id)
	h.run("accounts", "show", id, "--json")
	h.run("rules", "test", "--account", id, "recipe")
	h.run("rules", "test", "--account", id, "--json", "recipe")
	h.run("status", "nothing")
	h.run("subscribe", "--account", id)
	h.run("subscribe", "--account", id, "--json")
	h.run("tokens", "refresh", "--within", "70d")
	h.run("tokens", "refresh", "--account", id, "--json")
	h.run("dlq", "redrive")
	// Failures print errors: Meta refusing the token, then a Meta outage.
	h.sb.RevokeToken(token)
	h.run("subscribe", "--account", id)
	a, _ := h.store.Account(h.ctx, id)
	stored, _ := h.param(a.TokenParam)
	h.sb.RevokeToken(stored)
	h.run("tokens", "refresh", "--account", id)
	h.sb.SetFault(func(sandbox.Call) sandbox.Fault { return sandbox.ServerError(500) })
	h.run("subscribe", "--account", id)
	h.run("tokens", "refresh", "--account", id, "--json")

	all := h.outputs.String()
	if !strings.Contains(all, "subscribed account "+id) || !strings.Contains(all, "refreshed") {
		t.Fatalf("the commands did not run as intended:\n%s", all)
	}
	for _, secret := range []string{token, stored, "sbx-refreshed-", "IGQVJ-secret"} {
		if secret != "" && strings.Contains(all, secret) {
			i := strings.Index(all, secret)
			t.Errorf("token %q printed: …%s…", secret, all[max(0, i-200):min(len(all), i+50)])
		}
	}
}
