package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/replywindow/replywindow/shared/sampledate"
	"github.com/replywindow/replywindow/shared/webhook"
)

func init() {
	commands["events"] = command{summary: "re-sign the webhook sample events in events/ with the secret in events/env.json", run: runEvents}
}

// sample is one webhook event file. Its body (what Meta would send, escapes and all) is the
// source; everything else is derived here, so the signature can never drift from the body or
// from the secret in env.json.
type sample struct {
	file   string
	method string
	sign   string // "good", "bad" or "" (no body)
}

var samples = []sample{
	{file: "webhook-handshake.json", method: "GET"},
	{file: "webhook-comment.json", method: "POST", sign: "good"},
	{file: "webhook-live-comment.json", method: "POST", sign: "good"},
	{file: "webhook-bad-signature.json", method: "POST", sign: "bad"},
	{file: "webhook-postback.json", method: "POST", sign: "good"}, // a tap on the private reply's button, and a DM
}

// handshakeChallenge is the challenge in the handshake sample (Meta's documentation uses it).
const handshakeChallenge = "1158201444"

func runEvents(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "events", "the events `directory` holding env.json and the webhook-*.json samples")
	check := fs.Bool("check", false, "change nothing; exit 1 when a file is not what it would be regenerated to")
	now := fs.Bool("now", false, "also date the SQS and scheduled samples ("+strings.Join(datedSamples, ", ")+") now, so the replier does not expire their jobs")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: replywindow events [--dir events] [--check] [--now]

Rewrites events/webhook-*.json from their bodies: the signature (X-Hub-Signature-256) with the
first secret of WebhookFunction's APP_SECRETS in events/env.json (a wrong one for
webhook-bad-signature.json), the handshake's hub.verify_token with its VERIFY_TOKEN, and the rest
of the API Gateway (HTTP API, payload 2.0) event. Edit a body, then run this. With --now it also
moves the times in the SQS and scheduled samples to now (make events does), so that
sam local invoke ReplierFunction -e events/replier-sqs.json answers the jobs instead of expiring
them; do not commit the dated files.

`)
		fs.PrintDefaults()
	}
	if code, ok := flagsOnly(fs, args, stderr); !ok {
		return code
	}
	if *now && *check {
		fmt.Fprintln(stderr, "events: --now and --check do not go together (dated files always differ)")
		return exitUsage
	}
	files, err := regenerateEvents(*dir)
	if err != nil {
		fmt.Fprintf(stderr, "events: %v\n", err)
		return exitFail
	}
	code := exitOK
	for _, s := range samples {
		path := filepath.Join(*dir, s.file)
		old, _ := os.ReadFile(path)
		switch {
		case bytes.Equal(old, files[s.file]):
			fmt.Fprintf(stdout, "%s: up to date\n", path)
		case *check:
			fmt.Fprintf(stdout, "%s: out of date (run: replywindow events --dir %s)\n", path, *dir)
			code = exitFail
		default:
			if err := os.WriteFile(path, files[s.file], 0o644); err != nil {
				fmt.Fprintf(stderr, "events: %v\n", err)
				return exitFail
			}
			fmt.Fprintf(stdout, "%s: written\n", path)
		}
	}
	if *now && code == exitOK {
		if err := dateEvents(*dir, time.Now(), stdout); err != nil {
			fmt.Fprintf(stderr, "events: %v\n", err)
			return exitFail
		}
	}
	return code
}

// datedSamples are the samples whose handlers judge age by the times inside them.
var datedSamples = []string{"replier-sqs.json", "sweeper-scheduled.json"}

// dateEvents moves the times in datedSamples to now, in place.
func dateEvents(dir string, now time.Time, stdout io.Writer) error {
	for _, name := range datedSamples {
		path := filepath.Join(dir, name)
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out, err := sampledate.Redate(raw, now)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s: dated %s\n", path, now.UTC().Format(time.RFC3339))
	}
	return nil
}

// regenerateEvents is every sample's content as it should be, keyed by file name.
func regenerateEvents(dir string) (map[string][]byte, error) {
	env, err := webhookEnv(filepath.Join(dir, "env.json"))
	if err != nil {
		return nil, err
	}
	secrets := strings.Split(env["APP_SECRETS"], ",")
	secret, token := strings.TrimSpace(secrets[0]), env["VERIFY_TOKEN"]
	if secret == "" || token == "" {
		return nil, fmt.Errorf("%s: WebhookFunction needs APP_SECRETS and VERIFY_TOKEN to sign the samples", filepath.Join(dir, "env.json"))
	}
	out := map[string][]byte{}
	for i, s := range samples {
		ev := newSampleEvent(s.method, i)
		switch s.method {
		case "GET":
			q := url.Values{"hub.mode": {"subscribe"}, "hub.challenge": {handshakeChallenge}, "hub.verify_token": {token}}
			ev.RawQueryString = q.Encode()
			ev.QueryStringParameters = map[string]string{}
			for k := range q {
				ev.QueryStringParameters[k] = q.Get(k)
			}
		case "POST":
			body, err := sampleBody(filepath.Join(dir, s.file))
			if err != nil {
				return nil, err
			}
			key := secret
			if s.sign == "bad" {
				key = "not-" + secret
			}
			ev.Body = string(body)
			ev.Headers["content-type"] = "application/json"
			ev.Headers["content-length"] = strconv.Itoa(len(body))
			ev.Headers["x-hub-signature-256"] = webhook.Sign(body, key)
			// Meta also sends the SHA-1 signature; the webhook must not rely on it.
			m := hmac.New(sha1.New, []byte(key))
			m.Write(body)
			ev.Headers["x-hub-signature"] = "sha1=" + hex.EncodeToString(m.Sum(nil))
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ev); err != nil {
			return nil, err
		}
		out[s.file] = buf.Bytes()
	}
	return out, nil
}

// webhookEnv is WebhookFunction's variables in a sam local invoke --env-vars file: the
// Parameters section overlaid with the function's own.
func webhookEnv(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var sections map[string]map[string]string
	if err := json.Unmarshal(b, &sections); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	env := map[string]string{}
	for k, v := range sections["Parameters"] {
		env[k] = v
	}
	for k, v := range sections["WebhookFunction"] {
		env[k] = v
	}
	return env, nil
}

// sampleBody is the body of an existing sample: the bytes that get signed.
func sampleBody(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s does not exist: create it as {\"body\": \"...\"} with the delivery to sign", path)
	}
	if err != nil {
		return nil, err
	}
	var ev struct {
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if ev.IsBase64Encoded {
		return base64.StdEncoding.DecodeString(ev.Body)
	}
	if ev.Body == "" {
		return nil, fmt.Errorf("%s: no body to sign", path)
	}
	return []byte(ev.Body), nil
}

// sampleEvent is an API Gateway HTTP API (payload format 2.0) event with the fields API Gateway
// fills for Meta's calls; it decodes into events.APIGatewayV2HTTPRequest.
type sampleEvent struct {
	Version               string            `json:"version"`
	RouteKey              string            `json:"routeKey"`
	RawPath               string            `json:"rawPath"`
	RawQueryString        string            `json:"rawQueryString"`
	Headers               map[string]string `json:"headers"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	RequestContext        struct {
		AccountID    string `json:"accountId"`
		APIID        string `json:"apiId"`
		DomainName   string `json:"domainName"`
		DomainPrefix string `json:"domainPrefix"`
		HTTP         struct {
			Method    string `json:"method"`
			Path      string `json:"path"`
			Protocol  string `json:"protocol"`
			SourceIP  string `json:"sourceIp"`
			UserAgent string `json:"userAgent"`
		} `json:"http"`
		RequestID string `json:"requestId"`
		RouteKey  string `json:"routeKey"`
		Stage     string `json:"stage"`
		Time      string `json:"time"`
		TimeEpoch int64  `json:"timeEpoch"`
	} `json:"requestContext"`
	Body            string `json:"body,omitempty"`
	IsBase64Encoded bool   `json:"isBase64Encoded"`
}

func newSampleEvent(method string, n int) sampleEvent {
	const (
		domain = "abc123defg.execute-api.us-east-1.amazonaws.com"
		agent  = "facebookexternalua"
		ip     = "173.252.127.1" // a Meta crawler address
	)
	ev := sampleEvent{
		Version: "2.0", RouteKey: method + " " + webhook.Path, RawPath: webhook.Path,
		Headers: map[string]string{
			"accept": "*/*", "host": domain, "user-agent": agent,
			"x-amzn-trace-id":   fmt.Sprintf("Root=1-6920000%d-0123456789abcdef01234567", n),
			"x-forwarded-for":   ip,
			"x-forwarded-port":  "443",
			"x-forwarded-proto": "https",
		},
	}
	rc := &ev.RequestContext
	rc.AccountID, rc.APIID, rc.DomainName, rc.DomainPrefix = "123456789012", "abc123defg", domain, "abc123defg"
	rc.HTTP.Method, rc.HTTP.Path, rc.HTTP.Protocol, rc.HTTP.SourceIP, rc.HTTP.UserAgent = method, webhook.Path, "HTTP/1.1", ip, agent
	rc.RequestID = fmt.Sprintf("Sample%02dEventId=", n)
	rc.RouteKey, rc.Stage = ev.RouteKey, "$default"
	rc.Time, rc.TimeEpoch = "21/Nov/2025:08:00:01 +0000", 1763712001000+int64(n)
	return ev
}
