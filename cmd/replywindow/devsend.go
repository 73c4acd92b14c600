package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/devstack"
	"github.com/replywindow/replywindow/shared/sandbox"
	"github.com/replywindow/replywindow/shared/webhook"
)

// devSendActions maps `replywindow dev comment|tap|dm` to the sandbox's person actions.
var devSendActions = map[string]string{"comment": "comment", "tap": "postback", "dm": "message"}

// devMedia is the post `dev comment` comments on unless told: the demo's reel, which the
// example account's rules answer.
const devMedia = "17800000000000001"

// runDevSend is `replywindow dev comment TEXT`, `dev tap PAYLOAD` and `dev dm TEXT`: a person of
// the running dev stack's sandbox comments, taps a button or writes a DM; the sandbox makes it
// happen in Meta's world and builds the webhook Meta would post, and this signs it with the
// stack's app secret and posts it, so nobody signs bodies by hand.
func runDevSend(ctx context.Context, verb string, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	hook := fs.String("webhook", "http://"+devstack.DefaultAddr+webhook.Path, "the running dev stack's webhook `url`")
	sbx := fs.String("sandbox", "http://"+devSandboxAddr, "the running dev stack's sandbox `url`")
	account := fs.String("account", devstack.DemoAccountID, "the Instagram account `id`")
	person := fs.String("person", "6000000000000001", "the person's Instagram-scoped `id`")
	var title, media *string
	if verb == "tap" {
		title = fs.String("title", "", "the button's title as Meta reports it")
	}
	if verb == "comment" {
		media = fs.String("media", devMedia, "the post, reel or broadcast `id` commented on")
	}
	what := map[string]string{"comment": "TEXT", "tap": "PAYLOAD", "dm": "TEXT"}[verb]
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: replywindow dev %s [flags] %s\n\nSends a signed %s from a person to a running `replywindow dev`.\n\n", verb, what,
			map[string]string{"comment": "comment (the sandbox keeps it, as Meta does)", "tap": "button tap (postback)", "dm": "DM"}[verb])
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 || fs.Arg(0) == "" {
		fmt.Fprintf(stderr, "dev %s: want one %s (replywindow dev %s --help)\n", verb, what, verb)
		return exitUsage
	}
	a := sandbox.Action{AccountID: *account, PersonID: *person}
	switch verb {
	case "tap":
		a.Payload, a.Title = fs.Arg(0), *title
	case "comment":
		a.Text, a.MediaID = fs.Arg(0), *media
	default:
		a.Text = fs.Arg(0)
	}
	secret := devstack.DefaultAppSecret
	if s := strings.TrimSpace(strings.Split(os.Getenv("APP_SECRETS"), ",")[0]); s != "" {
		secret = s
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	status, id, err := devSend(ctx, *sbx, *hook, devSendActions[verb], a, secret)
	if err != nil {
		fmt.Fprintf(stderr, "dev %s: %v\n", verb, err)
		return exitFail
	}
	if status == 0 {
		fmt.Fprintf(stdout, "%s %s: Meta posts nothing (the account's subscription lacks the field)\n", verb, id)
		return exitOK
	}
	fmt.Fprintf(stdout, "%s %s: webhook answered %d\n", verb, id, status)
	if status != http.StatusOK {
		return exitFail
	}
	return exitOK
}

// runDevFollow is `replywindow dev follow [--unfollow]`: the sandbox's person follows (or
// unfollows) the account, as the profile API will answer from now on. Meta posts no webhook for
// a follow, so a follow gate learns of it when the person taps the gate's button again.
func runDevFollow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("dev follow", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sbx := fs.String("sandbox", "http://"+devSandboxAddr, "the running dev stack's sandbox `url`")
	account := fs.String("account", devstack.DemoAccountID, "the Instagram account `id`")
	person := fs.String("person", "6000000000000001", "the person's Instagram-scoped `id`")
	unfollow := fs.Bool("unfollow", false, "unfollow instead")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: replywindow dev follow [flags]\n\nA person of a running `replywindow dev` follows the account, so a follow gate lets them\nthrough on their next tap (Meta posts no webhook for a follow).\n\n")
		fs.PrintDefaults()
	}
	if code, ok := flagsOnly(fs, args, stderr); !ok {
		return code
	}
	action, done := "follow", "now follows"
	if *unfollow {
		action, done = "unfollow", "no longer follows"
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := devAct(ctx, *sbx, action, sandbox.Action{AccountID: *account, PersonID: *person}); err != nil {
		fmt.Fprintf(stderr, "dev follow: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "person %s %s account %s (Meta posts no webhook for it: a follow gate sees it on the next tap)\n", *person, done, *account)
	return exitOK
}

// devSend asks the sandbox for the person's action's webhook and posts it signed; status is 0
// when Meta would post nothing. id is the message's mid, or the new comment's id.
func devSend(ctx context.Context, sbx, hook, action string, a sandbox.Action, secret string) (status int, id string, err error) {
	h, err := devAct(ctx, sbx, action, a)
	if err != nil {
		return 0, "", err
	}
	id = cmp.Or(h.CommentID, h.MID)
	if h.Body == "" {
		return 0, id, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook, strings.NewReader(h.Body))
	if err != nil {
		return 0, "", fmt.Errorf("webhook %q: %w", hook, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhook.SignatureHeader, webhook.Sign([]byte(h.Body), secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("webhook %s (is replywindow dev running? --webhook): %w", hook, err)
	}
	resp.Body.Close()
	return resp.StatusCode, id, nil
}

// devAct has the sandbox's person do action, answering the webhook Meta would post; the error
// says whether the sandbox refused the action or could not be reached.
func devAct(ctx context.Context, sbx, action string, a sandbox.Action) (sandbox.Hook, error) {
	body, _ := json.Marshal(a)
	h, err := devPost[sandbox.Hook](ctx, strings.TrimRight(sbx, "/")+"/_sandbox/people/"+action, body)
	var refused *devRefusal
	switch {
	case errors.As(err, &refused):
		return h, fmt.Errorf("the sandbox refused it: %s", refused.msg) // it runs: no hint about starting it
	case err != nil:
		return h, fmt.Errorf("sandbox %s (is replywindow dev running? --sandbox): %w", sbx, err)
	}
	return h, nil
}

// devPost posts body and decodes a 200's JSON answer into T.
func devPost[T any](ctx context.Context, url string, body []byte) (T, error) {
	var out T
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return out, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return out, &devRefusal{msg: fmt.Sprintf("POST %s answered %s: %s", url, resp.Status, strings.TrimSpace(string(b)))}
	}
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// devRefusal is a sandbox that answered, with an error: the action was bad, not the address.
type devRefusal struct{ msg string }

func (e *devRefusal) Error() string { return e.msg }
