package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/reply"
)

// motoStack creates a stack on moto's CloudFormation with the given outputs (moto does not run
// the SAM transform, so the stack is a small template with the same outputs as ours).
func motoStack(t *testing.T, h *opHarness, outputs map[string]string) string {
	t.Helper()
	name := awstest.Name(t, "stack")
	tpl := map[string]any{
		"Resources": map[string]any{"Topic": map[string]any{"Type": "AWS::SNS::Topic"}},
		"Outputs":   map[string]any{},
	}
	for k, v := range outputs {
		tpl["Outputs"].(map[string]any)[k] = map[string]any{"Value": v}
	}
	body, _ := json.Marshal(tpl)
	cfn := cloudformation.NewFromConfig(h.cfg)
	if _, err := cfn.CreateStack(h.ctx, &cloudformation.CreateStackInput{StackName: aws.String(name), TemplateBody: aws.String(string(body))}); err != nil {
		t.Fatalf("create stack: %v", err)
	}
	return name
}

func TestStackFlag(t *testing.T) {
	h := opSetup(t)
	id := opID(t)
	full := motoStack(t, h, map[string]string{
		"TableName": h.table, "QueueUrl": "http://127.0.0.1:1/000000000000/q", "DeadLetterQueueUrl": "http://127.0.0.1:1/000000000000/dlq",
		"TokenPathPrefix": "/rw-stack/tokens/", "WebhookUrl": "https://example.test/webhook",
	})
	partial := motoStack(t, h, map[string]string{"TableName": h.table})
	// A TABLE_NAME left from another stack: the named stack's outputs win over it.
	t.Setenv("TABLE_NAME", "some-other-table")

	// put stores under the stack's TokenPathPrefix and in its table.
	code, out, errs := h.run("accounts", "put", "--stack", full, "--file", h.accountFile("good.yaml", id), "--dry-run")
	if code != exitOK || !strings.Contains(out, "valid") {
		t.Fatalf("put --dry-run with --stack: exit %d %s%s", code, out, errs)
	}
	h.must("--stack", full, "accounts", "put", "--file", h.accountFile("good.yaml", id))
	a, err := h.store.Account(h.ctx, id)
	if err != nil || a.TokenParam != "/rw-stack/tokens/"+id {
		t.Errorf("stored through the stack: %+v %v", a, err)
	}
	if out := h.must("accounts", "list", "--stack="+full); !strings.Contains(out, id) {
		t.Errorf("list --stack=:\n%s", out)
	}
	t.Setenv(opEnvStack, full)
	if out := h.must("accounts", "show", id); !strings.Contains(out, "/rw-stack/tokens/"+id) {
		t.Errorf("show with %s:\n%s", opEnvStack, out)
	}
	// A flag still wins over the stack's output.
	if code, _, errs := h.run("accounts", "list", "--table", "no-such-table"); code != exitFail || !strings.Contains(errs, "no-such-table") {
		t.Errorf("--table over --stack: exit %d %q", code, errs)
	}
	t.Setenv(opEnvStack, "")

	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"accounts", "list", "--stack", "no-such-stack"}, exitFail, "stack no-such-stack does not exist in us-east-1 (check --stack or REPLYWINDOW_STACK, AWS_REGION and AWS_PROFILE)"},
		{[]string{"accounts", "list", "--stack", partial}, exitFail, "lacks the output(s) DeadLetterQueueUrl, QueueUrl, TokenPathPrefix: is it a replywindow stack"},
		{[]string{"accounts", "list", "--stack"}, exitUsage, "--stack needs the stack's name"},
		{[]string{"accounts", "list", "--stack="}, exitUsage, "--stack needs the stack's name"},
	}
	for _, c := range cases {
		code, _, errs := h.run(c.args...)
		if code != c.code || !strings.Contains(errs, c.want) || strings.Count(strings.TrimSpace(errs), "\n") > 0 {
			t.Errorf("%q: exit %d, want %d; stderr %q, want one line with %q", c.args, code, c.code, errs, c.want)
		}
	}
}

func TestTakeStack(t *testing.T) {
	t.Setenv(opEnvStack, "")
	tests := []struct {
		args  []string
		rest  []string
		stack string
		ok    bool
	}{
		{[]string{"doctor", "--stack", "prod", "--json"}, []string{"doctor", "--json"}, "prod", true},
		{[]string{"--stack=prod", "doctor"}, []string{"doctor"}, "prod", true},
		{[]string{"rules", "test", "--", "--stack", "x"}, []string{"rules", "test", "--", "--stack", "x"}, "", true},
		{[]string{"doctor", "--stack"}, nil, "", false},
		{[]string{"doctor", "--stack", "--json"}, nil, "", false},
	}
	for _, tt := range tests {
		rest, stack, ok := opTakeStack(tt.args)
		if ok != tt.ok || stack != tt.stack || strings.Join(rest, " ") != strings.Join(tt.rest, " ") {
			t.Errorf("%q: %q %q %v, want %q %q %v", tt.args, rest, stack, ok, tt.rest, tt.stack, tt.ok)
		}
	}
}

// accounts put never moves an account's token_param silently: it refuses, says how, and moves it
// only with --move-token and the token.
func TestPutRefusesToMoveTokenParam(t *testing.T) {
	h := opSetup(t)
	id := opID(t)
	const token = "IGAAT-move-token-1"
	h.sb.AddAccount(id, token, reply.LoginInstagram, "")
	h.must("accounts", "put", "--file", h.accountFile("good.yaml", id))
	code, _, errs := h.run("accounts", "put", "--file", h.accountFile("good.yaml", id), "--token-path", "/other/tokens/")
	want := "account " + id + " keeps its token in SSM /replywindow/tokens/" + id + ", and this put would move it to /other/tokens/" + id + ": nothing stored; keep it with token_param: /replywindow/tokens/" + id
	if code != exitFail || !strings.Contains(errs, want) || !strings.Contains(errs, "--move-token --token-stdin") {
		t.Errorf("move: exit %d %q", code, errs)
	}
	if code, _, errs := h.run("accounts", "put", "--file", h.accountFile("good.yaml", id), "--token-path", "/other/tokens/", "--move-token"); code != exitFail || !strings.Contains(errs, "nothing stored") {
		t.Errorf("--move-token without a token: exit %d %q", code, errs)
	}
	if a, _ := h.store.Account(h.ctx, id); a.Version != 1 || a.TokenParam != "/replywindow/tokens/"+id {
		t.Errorf("after refusals: %+v", a)
	}
	h.runStdin(token, "accounts", "put", "--file", h.accountFile("good.yaml", id), "--token-path", "/other/tokens/", "--move-token", "--token-stdin")
	if a, _ := h.store.Account(h.ctx, id); a.Version != 2 || a.TokenParam != "/other/tokens/"+id {
		t.Errorf("after --move-token: %+v", a)
	}
	if got, _ := h.param("/other/tokens/" + id); got != token {
		t.Errorf("token at the new path: %q", got)
	}
}

// accounts pause/resume stop and restart the answers without losing the configuration; a put
// keeps the pause; an unknown account is a one-line error and nothing is written.
func TestAccountsPauseResume(t *testing.T) {
	h := opSetup(t)
	id := opID(t)
	file := h.accountFile("good.yaml", id)
	h.must("accounts", "put", "--file", file)
	if out := h.must("accounts", "pause", id); !strings.Contains(out, "paused account "+id+" (version 2)") {
		t.Errorf("pause: %s", out)
	}
	h.must("accounts", "put", "--file", file)
	a, _ := h.store.Account(h.ctx, id)
	if !a.Paused || a.Version != 3 || len(a.Rules) != 3 {
		t.Errorf("after put: paused %v version %d rules %d", a.Paused, a.Version, len(a.Rules))
	}
	if out := h.must("accounts", "list"); !strings.Contains(out, "paused") {
		t.Errorf("list:\n%s", out)
	}
	if out := h.must("accounts", "pause", id); !strings.Contains(out, "already paused") {
		t.Errorf("pause twice: %s", out)
	}
	if out := h.must("accounts", "resume", id); !strings.Contains(out, "resumed account "+id) {
		t.Errorf("resume: %s", out)
	}
	if a, _ := h.store.Account(h.ctx, id); a.Paused || a.Version != 4 {
		t.Errorf("after resume: %+v", a)
	}
	code, _, errs := h.run("accounts", "pause", "17841499999999999")
	if code != exitFail || errs != "replywindow accounts pause: no account 17841499999999999: nothing paused (see: replywindow accounts list)\n" {
		t.Errorf("pause unknown: exit %d %q", code, errs)
	}
	if code, _, _ := h.run("accounts", "resume"); code != exitUsage {
		t.Errorf("resume without id: exit %d", code)
	}
}
