package deletion

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
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
		if s, a := status(code, byParam); s != 200 || a.Status != reply.DeletionPending || a.ConfirmationCode != code || a.Explanation != ExplainPending {
			t.Errorf("pending: %d %+v", s, a)
		}
	}
	// Done after the worker ran.
	w := &Worker{Store: store, Params: newParams(t), Clock: &fixedClock{now}}
	if _, err := w.Run(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if s, a := status(code, true); s != 200 || a.Status != reply.DeletionDone || a.Explanation != ExplainDone {
		t.Errorf("done: %d %+v", s, a)
	}
	for _, bad := range []string{Code(f.Secrets[0], reply.DeletionUser, "1", now), "", "../../etc/passwd", strings.ToUpper(code)} {
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

// Issue 24, finding 2: a confirmation code was an unkeyed hash of the app-scoped user id and
// issued_at, so whoever knew a person's id found their request by trying the seconds of an hour,
// and the page told when it was asked, when done and how much was removed. Now the code is keyed
// with the app secret that signed the request (stable however Meta resends or re-encodes it),
// the old computation finds nothing, and the page shows the status alone.
func TestDeletionStatusNotAnOracle(t *testing.T) {
	f := loadSigned(t)
	ctx, store := newStore(t)
	now := time.Unix(f.Now, 0)
	h := &Handler{Store: store, Secrets: StaticSecrets(f.Secrets...), Clock: &fixedClock{now}}
	valid := f.byName(t, "valid")
	p, err := Verify(valid.SignedRequest, f.Secrets, now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	var ans struct {
		Code string `json:"confirmation_code"`
	}
	res, _ := h.Request(ctx, post(form(valid.SignedRequest), false))
	if err := json.Unmarshal([]byte(res.Body), &ans); res.StatusCode != 200 || err != nil {
		t.Fatalf("request: %d %s", res.StatusCode, res.Body)
	}
	// Stable: the same request again, and re-encoded, answers the same code.
	for _, c := range []signedCase{valid, f.byName(t, "valid, the same request re-encoded (other key order, spaces)")} {
		if got := f.code(t, c); got != ans.Code {
			t.Errorf("%s: code %s, want %s", c.Name, got, ans.Code)
		}
	}
	// Keyed: another secret makes another code of the same request.
	issued := time.Unix(p.IssuedAt, 0)
	if Code("another secret", reply.DeletionUser, p.UserID, issued) == ans.Code {
		t.Error("the code does not depend on the secret")
	}
	// The attacker knows the user id and that the request was made within the hour: under the
	// old, unkeyed scheme one of the 3,600 guesses is the code; now none is, and none opens a page.
	status := func(code string) events.APIGatewayV2HTTPResponse {
		req := events.APIGatewayV2HTTPRequest{RawPath: "/prod/data-deletion/" + code, PathParameters: map[string]string{"code": code}}
		req.RequestContext.HTTP.Method = "GET"
		res, err := h.Status(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	found := false
	for s := int64(0); s < 3600; s++ {
		guess := unkeyedCode(reply.DeletionUser, p.UserID, issued.Add(-30*time.Minute+time.Duration(s)*time.Second))
		if guess == ans.Code {
			found = true
		}
	}
	if found {
		t.Error("the unkeyed code of the user id and issued_at is still the code")
	}
	if old := unkeyedCode(reply.DeletionUser, p.UserID, issued); status(old).StatusCode != 404 {
		t.Errorf("the old code of the request opens a page")
	}
	// A request stored under an old code before this change stays readable by its code.
	old := unkeyedCode(reply.DeletionUser, "17841400000000077", issued)
	if _, err := store.OpenDeletion(ctx, reply.Deletion{Code: old, Kind: reply.DeletionUser, UserID: "17841400000000077",
		State: reply.DeletionPending, RequestedAt: now, Version: 1}); err != nil {
		t.Fatal(err)
	}
	if r := status(old); r.StatusCode != 200 || !strings.Contains(r.Body, `"status":"pending"`) {
		t.Errorf("an old code: %d %s", r.StatusCode, r.Body)
	}
	// The page says the status and nothing else: no time, no count, nobody's id.
	w := &Worker{Store: store, Params: newParams(t), Clock: &fixedClock{now.Add(time.Minute)}}
	if _, err := w.Run(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	body := status(ans.Code).Body
	var page map[string]any
	if err := json.Unmarshal([]byte(body), &page); err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 || page["status"] != reply.DeletionDone || page["confirmation_code"] != ans.Code || page["explanation"] != ExplainDone {
		t.Errorf("page %s, want the code, the status and its explanation alone", body)
	}
	rest := strings.ReplaceAll(body, ans.Code, "")
	for _, leak := range []string{"requested", "done_at", "removed", p.UserID, strconv.FormatInt(f.Now, 10), now.UTC().Format("2006-01-02"), "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"} {
		if strings.Contains(rest, leak) {
			t.Errorf("page %s holds %q", body, leak)
		}
	}
}

// unkeyedCode is the code as it was made before issue 24: anyone could compute it.
func unkeyedCode(kind, user string, issued time.Time) string {
	sum := sha256.Sum256([]byte("replywindow deletion\x00" + kind + "\x00" + user + "\x00" + strconv.FormatInt(issued.Unix(), 10)))
	return fmt.Sprintf("%x", sum[:10])
}
