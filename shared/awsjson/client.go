// Package awsjson speaks AWS's JSON protocol (awsJson1_1), signed with SigV4, for the few calls
// the functions make of services whose SDK clients cost too much at a cold start: each SDK
// service package builds the schemas, endpoint rules and serializers of all its operations at
// package init (SSM's some 9 ms and 1.4 MB, EventBridge's some 2 ms), where replywindow makes
// one to three of them. Region, credentials, the HTTP client and the attempt count come from the
// aws.Config the other clients use; retries follow the SDK's standard retryer.
package awsjson

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/replywindow/replywindow/shared/reply"
)

// Service names one AWS service as the protocol, the signer and the endpoint settings know it.
type Service struct {
	Target   string   // the X-Amz-Target prefix: AmazonSSM, AWSEvents
	Signing  string   // SigV4's service name and the endpoint's host prefix: ssm, events
	EnvID    string   // AWS_ENDPOINT_URL_<EnvID>: SSM, EVENTBRIDGE
	NotFound []string // error codes that mean the thing asked for does not exist
}

// Client makes one service's calls.
type Client struct {
	svc      Service
	endpoint string
	region   string
	creds    aws.CredentialsProvider
	http     aws.HTTPClient
	signer   *v4.Signer
	attempts int
	Backoff  time.Duration    // the first retry waits up to this, doubling per attempt
	Now      func() time.Time // the signing time
}

// maxBackoff caps one wait between attempts, as the SDK's standard retryer does.
const maxBackoff = 20 * time.Second

// New is a Client of svc from cfg.
func New(cfg aws.Config, svc Service) *Client { return NewWith(cfg, svc, os.Getenv) }

// NewWith is New with the environment read through getenv.
func NewWith(cfg aws.Config, svc Service, getenv func(string) string) *Client {
	c := &Client{
		svc:      svc,
		endpoint: strings.TrimSuffix(Endpoint(cfg, svc, getenv), "/"),
		region:   cfg.Region,
		creds:    cfg.Credentials,
		http:     cfg.HTTPClient,
		signer:   v4.NewSigner(),
		attempts: cfg.RetryMaxAttempts,
		Backoff:  100 * time.Millisecond,
		Now:      time.Now,
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.attempts <= 0 {
		c.attempts = 3 // the SDK's standard retryer's default
	}
	return c
}

// Endpoint is the service's endpoint as the SDK resolves it: $AWS_ENDPOINT_URL_<EnvID>, else
// cfg.BaseEndpoint, else $AWS_ENDPOINT_URL (neither variable when
// $AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true), else the regional endpoint.
func Endpoint(cfg aws.Config, svc Service, getenv func(string) string) string {
	useEnv := !strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true")
	if e := getenv("AWS_ENDPOINT_URL_" + svc.EnvID); useEnv && e != "" {
		return e
	}
	if cfg.BaseEndpoint != nil && *cfg.BaseEndpoint != "" {
		return *cfg.BaseEndpoint
	}
	if e := getenv("AWS_ENDPOINT_URL"); useEnv && e != "" {
		return e
	}
	suffix := "amazonaws.com"
	if strings.HasPrefix(cfg.Region, "cn-") {
		suffix = "amazonaws.com.cn"
	}
	return "https://" + svc.Signing + "." + cfg.Region + "." + suffix
}

// APIError is an error answer of the service: its code (e.g. ParameterNotFound,
// ThrottlingException) and message.
type APIError struct {
	Status   int
	Code     string
	Message  string
	notFound bool
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// Is makes a not-found answer (Service.NotFound) match reply.ErrNotFound.
func (e *APIError) Is(target error) bool { return target == reply.ErrNotFound && e.notFound }

// retryable says whether another attempt may succeed: throttling and the service's own
// failures, as the SDK's standard retryer decides.
func (e *APIError) retryable() bool {
	switch e.Code {
	case "ThrottlingException", "Throttling", "ThrottledException", "RequestThrottledException",
		"TooManyRequestsException", "RequestLimitExceeded", "TooManyUpdates",
		"ProvisionedThroughputExceededException", "SlowDown", "BandwidthLimitExceeded",
		"RequestThrottled", "PriorRequestNotComplete", "TransactionInProgressException",
		"EC2ThrottledException", "RequestTimeout", "RequestTimeoutException":
		return true
	}
	return e.Status >= 500
}

// Call makes operation op with input in, decoding the answer into out (nil: none), retrying
// throttling, 5xx and failed exchanges with exponential backoff and full jitter. Only
// operations that may be made twice belong here: an attempt whose answer was lost is made again.
func (c *Client) Call(ctx context.Context, op string, in, out any) error {
	name := c.svc.Signing + " " + op
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", name, err)
	}
	for attempt := 1; ; attempt++ {
		raw, err := c.attempt(ctx, op, body)
		if err == nil {
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("%s: decode the answer: %w", name, err)
			}
			return nil
		}
		var api *APIError
		retry := ctx.Err() == nil && (!errors.As(err, &api) || api.retryable())
		if !retry || attempt >= c.attempts {
			if attempt > 1 {
				return fmt.Errorf("%s after %d attempts: %w", name, attempt, err)
			}
			return fmt.Errorf("%s: %w", name, err)
		}
		wait := max(min(c.Backoff<<(attempt-1), maxBackoff), 1)
		t := time.NewTimer(rand.N(wait))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (after %d attempts: %w)", name, ctx.Err(), attempt, err)
		}
	}
}

// attempt is one signed request. It returns the body of a 2xx answer, an *APIError for an error
// answer, or the transport's error.
func (c *Client) attempt(ctx context.Context, op string, body []byte) ([]byte, error) {
	if c.creds == nil {
		return nil, errors.New("no AWS credentials configured")
	}
	creds, err := c.creds.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS credentials: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", c.svc.Target+"."+op)
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), c.svc.Signing, c.region, c.Now()); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("read the answer (HTTP %d): %w", resp.StatusCode, err)
	}
	if resp.StatusCode/100 == 2 {
		return raw, nil
	}
	e := apiError(resp, raw)
	e.notFound = slices.Contains(c.svc.NotFound, e.Code)
	return nil, e
}

// apiError reads the service's error answer: the code from X-Amzn-ErrorType or the body's
// __type (or code), without its namespace ("com.amazonaws.ssm#") or trailing ":http://..." part.
func apiError(resp *http.Response, raw []byte) *APIError {
	var b struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	_ = json.Unmarshal(raw, &b) // a body that is not JSON leaves the status to speak
	code := resp.Header.Get("X-Amzn-ErrorType")
	if code == "" {
		code = b.Type
	}
	if code == "" {
		code = b.Code
	}
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		code = http.StatusText(resp.StatusCode)
	}
	msg := b.Message
	if msg == "" {
		msg = b.MessageU
	}
	return &APIError{Status: resp.StatusCode, Code: code, Message: msg}
}
