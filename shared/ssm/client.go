package ssm

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
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/replywindow/replywindow/shared/reply"
)

// Client speaks the three calls replywindow makes of SSM Parameter Store over SSM's JSON protocol
// (awsJson1_1), signed with SigV4. It replaces the SDK's service/ssm client, whose package-level
// schema tables, endpoint rules and serializers for some 150 operations cost each Lambda bootstrap
// about 9 ms of init and 1.4 MB for the 3 operations used here. Region, credentials, the HTTP
// client and the attempt count come from the aws.Config the other clients use.
type Client struct {
	endpoint string
	region   string
	creds    aws.CredentialsProvider
	http     aws.HTTPClient
	signer   *v4.Signer
	attempts int
	backoff  time.Duration // the first retry waits up to this, doubling per attempt
	now      func() time.Time
}

var _ API = (*Client)(nil)

// maxBackoff caps one wait between attempts, as the SDK's standard retryer does.
const maxBackoff = 20 * time.Second

// NewClient builds a Client from cfg. The endpoint is, as the SDK resolves it:
// $AWS_ENDPOINT_URL_SSM, else cfg.BaseEndpoint, else $AWS_ENDPOINT_URL (neither variable when
// $AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true), else SSM's regional endpoint.
func NewClient(cfg aws.Config) *Client {
	return newClient(cfg, os.Getenv)
}

func newClient(cfg aws.Config, getenv func(string) string) *Client {
	c := &Client{
		endpoint: strings.TrimSuffix(endpoint(cfg, getenv), "/"),
		region:   cfg.Region,
		creds:    cfg.Credentials,
		http:     cfg.HTTPClient,
		signer:   v4.NewSigner(),
		attempts: cfg.RetryMaxAttempts,
		backoff:  100 * time.Millisecond,
		now:      time.Now,
	}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.attempts <= 0 {
		c.attempts = 3 // the SDK's standard retryer's default
	}
	return c
}

func endpoint(cfg aws.Config, getenv func(string) string) string {
	useEnv := !strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true")
	if e := getenv("AWS_ENDPOINT_URL_SSM"); useEnv && e != "" {
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
	return "https://ssm." + cfg.Region + "." + suffix
}

// APIError is an error answer from SSM: its code (e.g. ParameterNotFound, ThrottlingException)
// and message.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s (HTTP %d): %s", e.Code, e.Status, e.Message)
}

// Is makes a ParameterNotFound answer match reply.ErrNotFound, the error Params promises.
func (e *APIError) Is(target error) bool {
	return target == reply.ErrNotFound && e.Code == "ParameterNotFound"
}

// retryable says whether another attempt may succeed: throttling and SSM's own failures, as the
// SDK's standard retryer decides.
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

// GetParameter is the parameter's value, decrypted. A missing parameter is an error matching
// reply.ErrNotFound.
func (c *Client) GetParameter(ctx context.Context, name string) (string, error) {
	var out struct {
		Parameter *struct{ Value *string }
	}
	if err := c.call(ctx, "GetParameter", map[string]any{"Name": name, "WithDecryption": true}, &out); err != nil {
		return "", err
	}
	if out.Parameter == nil || out.Parameter.Value == nil {
		return "", errors.New("ssm GetParameter: no value in the answer")
	}
	return *out.Parameter.Value, nil
}

// PutParameter stores value as a SecureString, replacing any value, encrypted with the KMS key
// keyID (the account's aws/ssm key when empty).
func (c *Client) PutParameter(ctx context.Context, name, value, keyID string) error {
	in := map[string]any{"Name": name, "Value": value, "Type": "SecureString", "Overwrite": true}
	if keyID != "" {
		in["KeyId"] = keyID
	}
	return c.call(ctx, "PutParameter", in, nil)
}

// DeleteParameter removes the parameter. A missing parameter is an error matching
// reply.ErrNotFound.
func (c *Client) DeleteParameter(ctx context.Context, name string) error {
	return c.call(ctx, "DeleteParameter", map[string]any{"Name": name}, nil)
}

// call makes one operation, retrying throttling, 5xx and failed exchanges with exponential
// backoff and full jitter. All three operations are idempotent (Put overwrites), so an attempt
// whose answer was lost may be made again.
func (c *Client) call(ctx context.Context, op string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("ssm %s: encode: %w", op, err)
	}
	for attempt := 1; ; attempt++ {
		raw, err := c.attempt(ctx, op, body)
		if err == nil {
			if out == nil {
				return nil
			}
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("ssm %s: decode the answer: %w", op, err)
			}
			return nil
		}
		var api *APIError
		retry := ctx.Err() == nil && (!errors.As(err, &api) || api.retryable())
		if !retry || attempt >= c.attempts {
			if attempt > 1 {
				return fmt.Errorf("ssm %s after %d attempts: %w", op, attempt, err)
			}
			return fmt.Errorf("ssm %s: %w", op, err)
		}
		wait := max(min(c.backoff<<(attempt-1), maxBackoff), 1)
		t := time.NewTimer(rand.N(wait))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("ssm %s: %w (after %d attempts: %w)", op, ctx.Err(), attempt, err)
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
	req.Header.Set("X-Amz-Target", "AmazonSSM."+op)
	sum := sha256.Sum256(body)
	if err := c.signer.SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ssm", c.region, c.now()); err != nil {
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
	return nil, apiError(resp, raw)
}

// apiError reads SSM's error answer: the code from X-Amzn-ErrorType or the body's __type (or
// code), without its namespace ("com.amazonaws.ssm#") or trailing ":http://..." part.
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
