package deletion

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	awsdynamodb "github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/dynamo"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/ssm"
	"github.com/replywindow/replywindow/shared/telemetry"
)

type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }

func newParams(t *testing.T) *ssm.Params {
	return ssm.NewParams(ssm.NewClient(awstest.Config(t)), time.Minute)
}

func newStore(t *testing.T) (context.Context, *dynamo.Store) {
	t.Helper()
	ctx := awstest.Context(t)
	ddb := awsdynamodb.NewFromConfig(awstest.Config(t))
	table := awstest.Name(t, "del")
	if err := dynamo.CreateTable(ctx, ddb, table); err != nil {
		t.Fatal(err)
	}
	return ctx, dynamo.New(ddb, table)
}

// post is the API Gateway v2 event Meta's callback becomes, on a "prod" stage.
func post(body string, b64 bool) events.APIGatewayV2HTTPRequest {
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "POST /data-deletion", RawPath: "/prod/data-deletion",
		Headers: map[string]string{"content-type": "application/x-www-form-urlencoded", "host": "abc123.execute-api.eu-west-1.amazonaws.com"},
		Body:    body, IsBase64Encoded: b64,
	}
	req.RequestContext.DomainName = "abc123.execute-api.eu-west-1.amazonaws.com"
	req.RequestContext.Stage = "prod"
	req.RequestContext.HTTP.Method = "POST"
	if b64 {
		req.Body = base64.StdEncoding.EncodeToString([]byte(body))
	}
	return req
}

func form(signed string) string { return url.Values{"signed_request": {signed}}.Encode() }

func TestRequest(t *testing.T) {
	f := loadSigned(t)
	ctx, store := newStore(t)
	logs := &bytes.Buffer{}
	m := telemetry.NewMetrics("webhook")
	h := &Handler{Store: store, Secrets: StaticSecrets(f.Secrets...), Clock: &fixedClock{time.Unix(f.Now, 0)},
		Log: telemetry.NewLogger(logs, "debug"), Metrics: m}

	// The first valid request of each user opens its deletion; every later one, re-encoded or
	// new, is answered with that one while it is pending.
	opened := map[string]string{} // user -> code
	for _, c := range f.Cases {
		for _, b64 := range []bool{false, true} {
			name := c.Name
			if b64 {
				name += " (base64 body)"
			}
			t.Run(name, func(t *testing.T) {
				res, err := h.Request(ctx, post(form(c.SignedRequest), b64))
				if err != nil {
					t.Fatal(err)
				}
				if c.Error != "" {
					if res.StatusCode != 400 {
						t.Errorf("status %d, want 400: %s", res.StatusCode, res.Body)
					}
					return
				}
				if res.StatusCode != 200 || res.Headers["Content-Type"] != "application/json" {
					t.Fatalf("status %d: %s", res.StatusCode, res.Body)
				}
				var ans struct {
					URL  string `json:"url"`
					Code string `json:"confirmation_code"`
				}
				if err := json.Unmarshal([]byte(res.Body), &ans); err != nil {
					t.Fatal(err)
				}
				want, ok := opened[c.UserID]
				if !ok {
					want = f.code(t, c)
					opened[c.UserID] = want
				}
				if ans.Code != want || ans.URL != "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/data-deletion/"+ans.Code {
					t.Errorf("answer %+v, want code %s", ans, want)
				}
				d, err := store.Deletion(ctx, ans.Code)
				if err != nil || d.UserID != c.UserID || d.Kind != reply.DeletionUser || d.State != reply.DeletionPending || !d.RequestedAt.Equal(time.Unix(f.Now, 0)) {
					t.Errorf("stored %+v, %v", d, err)
				}
			})
		}
	}
	// One pending deletion per user, however often and however encoded Meta delivers; the
	// refused requests stored nothing.
	pending, err := store.PendingDeletions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != len(opened) || len(opened) < 2 {
		t.Errorf("%d pending deletions, want %d (one per user)", len(pending), len(opened))
	}
	if got := m.Get("DeletionRequested"); int(got) != len(opened) {
		t.Errorf("DeletionRequested %v, want %d", got, len(opened))
	}
	for _, reason := range []string{"bad_signature", "expired", "unsigned", "malformed"} {
		if m.Get("DeletionRejected|Reason="+reason) == 0 {
			t.Errorf("no DeletionRejected for %s", reason)
		}
	}
	// Neither a signed request nor a signature reaches the logs.
	for _, c := range f.Cases {
		sig, _, _ := strings.Cut(c.SignedRequest, ".")
		if len(sig) > 8 && strings.Contains(logs.String(), sig) {
			t.Errorf("log holds the signature of %q", c.Name)
		}
	}
}

func TestRequestRefusals(t *testing.T) {
	f := loadSigned(t)
	ctx, store := newStore(t)
	h := &Handler{Store: store, Secrets: StaticSecrets(f.Secrets...), Clock: &fixedClock{time.Unix(f.Now, 0)}}
	valid := f.Cases[0].SignedRequest
	get := post(form(valid), false)
	get.RequestContext.HTTP.Method = "GET"
	cases := []struct {
		name   string
		req    events.APIGatewayV2HTTPRequest
		status int
	}{
		{"no form field", post("other="+url.QueryEscape(valid), false), 400},
		{"empty body", post("", false), 400},
		{"JSON instead of a form", post(`{"signed_request":"`+valid+`"}`, false), 400},
		{"bad form escape", post("signed_request=%zz", false), 400},
		{"body not base64", func() events.APIGatewayV2HTTPRequest { r := post("", true); r.Body = "!!"; return r }(), 400},
		{"too large", post(form(valid)+"&pad="+strings.Repeat("x", maxBody), false), 413},
		{"wrong method", get, 405},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := h.Request(ctx, c.req)
			if err != nil || res.StatusCode != c.status {
				t.Errorf("status %d, %v; want %d (%s)", res.StatusCode, err, c.status, res.Body)
			}
		})
	}
	if pending, _ := store.PendingDeletions(ctx); len(pending) != 0 {
		t.Errorf("refused requests stored %d deletions", len(pending))
	}
	// No app secret configured: nothing verifies.
	h.Secrets = StaticSecrets()
	if res, _ := h.Request(ctx, post(form(valid), false)); res.StatusCode != 400 {
		t.Errorf("without secrets: %d", res.StatusCode)
	}
}

func TestRequestBaseURL(t *testing.T) {
	f := loadSigned(t)
	ctx, store := newStore(t)
	h := &Handler{Store: store, Secrets: StaticSecrets(f.Secrets...), Clock: &fixedClock{time.Unix(f.Now, 0)}, BaseURL: "https://replies.example.com/"}
	res, _ := h.Request(ctx, post(form(f.Cases[0].SignedRequest), false))
	if want := "https://replies.example.com/data-deletion/" + f.code(t, f.Cases[0]); !strings.Contains(res.Body, want) {
		t.Errorf("body %s lacks %s", res.Body, want)
	}
	// The $default stage: no prefix in the path.
	h.BaseURL = ""
	req := post(form(f.Cases[1].SignedRequest), false)
	req.RawPath = "/data-deletion"
	res, _ = h.Request(ctx, req)
	if want := `"https://abc123.execute-api.eu-west-1.amazonaws.com/data-deletion/`; !strings.Contains(res.Body, want) {
		t.Errorf("body %s lacks %s", res.Body, want)
	}
}

func TestStatus(t *testing.T) {
	f := loadSigned(t)
	ctx, store := newStore(t)
	now := time.Unix(f.Now, 0)
	h := &Handler{Store: store, Secrets: StaticSecrets(f.Secrets...), Clock: &fixedClock{now}}
	code := f.code(t, f.Cases[0])
	if res, _ := h.Request(ctx, post(form(f.Cases[0].SignedRequest), false)); res.StatusCode != 200 {
		t.Fatal(res.Body)
	}
	status := func(code string, byParam bool) (int, StatusAnswer) {
		req := events.APIGatewayV2HTTPRequest{RawPath: "/prod/data-deletion/" + code}
		req.RequestContext.HTTP.Method = "GET"
		if byParam {
			req.PathParameters = map[string]string{"code": code}
			req.RawPath = "/ignored"
		}
		res, err := h.Status(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		var a StatusAnswer
		if res.StatusCode == 200 {
			if err := json.Unmarshal([]byte(res.Body), &a); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(res.Body, "user") {
				t.Errorf("status names the person: %s", res.Body)
			}
		}
		return res.StatusCode, a
	}
	for _, byParam := range []bool{true, false} {
		if s, a := status(code, byParam); s != 200 || a.Status != reply.DeletionPending || a.ConfirmationCode != code || !a.RequestedAt.Equal(now) {
			t.Errorf("pending: %d %+v", s, a)
		}
	}
	// Done after the worker ran.
	w := &Worker{Store: store, Params: newParams(t), Clock: &fixedClock{now}}
	if _, err := w.Run(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if s, a := status(code, true); s != 200 || a.Status != reply.DeletionDone || !a.DoneAt.Equal(now) {
		t.Errorf("done: %d %+v", s, a)
	}
	for _, bad := range []string{Code(reply.DeletionUser, "1", now), "", "../../etc/passwd", strings.ToUpper(code)} {
		if s, _ := status(bad, true); s != 404 {
			t.Errorf("code %q: %d, want 404", bad, s)
		}
	}
}

// Serve routes by method, as mounted under one path prefix.
func TestServe(t *testing.T) {
	f := loadSigned(t)
	ctx, store := newStore(t)
	h := &Handler{Store: store, Secrets: StaticSecrets(f.Secrets...), Clock: &fixedClock{time.Unix(f.Now, 0)}}
	res, err := h.Serve(ctx, post(form(f.Cases[0].SignedRequest), false))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("POST: %d %v %s", res.StatusCode, err, res.Body)
	}
	get := events.APIGatewayV2HTTPRequest{RawPath: "/prod/data-deletion/" + f.code(t, f.Cases[0])}
	get.RequestContext.HTTP.Method = "GET"
	if res, err = h.Serve(ctx, get); err != nil || res.StatusCode != 200 || !strings.Contains(res.Body, `"status":"pending"`) {
		t.Errorf("GET: %d %v %s", res.StatusCode, err, res.Body)
	}
	get.RequestContext.HTTP.Method = "DELETE"
	if res, _ = h.Serve(ctx, get); res.StatusCode != 405 {
		t.Errorf("DELETE: %d", res.StatusCode)
	}
}
