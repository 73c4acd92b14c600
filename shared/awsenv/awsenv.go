// Package awsenv builds the aws.Config of a Lambda function from its environment alone.
//
// config.LoadDefaultConfig links every credential provider the SDK has (SSO, SSO OIDC, STS web
// identity and assume-role, the console sign-in, IMDS, processes) and with them the sts, sso,
// ssooidc and signin service clients, whose package-level schema and endpoint tables are built at
// every cold start, although a Lambda function only ever gets its role's credentials from the
// environment Lambda sets. This package reads what Lambda (and sam local invoke, and the tests'
// bootstraps on moto) provide, and nothing else: no shared config or credentials files.
package awsenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
)

// ecsHost is where AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is served, as the SDK has it.
const ecsHost = "http://169.254.170.2"

// Config is the aws.Config for getenv's environment:
//   - region: AWS_REGION, else AWS_DEFAULT_REGION;
//   - credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (how Lambda hands
//     a function its role, and sam local invoke the caller's), else the container credentials
//     endpoint in AWS_CONTAINER_CREDENTIALS_FULL_URI or _RELATIVE_URI (with
//     AWS_CONTAINER_AUTHORIZATION_TOKEN or _TOKEN_FILE), refreshed before they expire;
//   - endpoints: AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>, unless
//     AWS_IGNORE_CONFIGURED_ENDPOINT_URLS is true, resolved by the service clients as
//     LoadDefaultConfig's would be.
//
// Retries and the HTTP client are left to each service client's defaults, as LoadDefaultConfig
// leaves them.
func Config(getenv func(string) string) (aws.Config, error) {
	cfg := aws.Config{Region: getenv("AWS_REGION"), ConfigSources: []any{env{getenv}}}
	if cfg.Region == "" {
		cfg.Region = getenv("AWS_DEFAULT_REGION")
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("aws config: no region: set AWS_REGION")
	}
	creds, err := credentialsFrom(getenv)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	cfg.Credentials = creds
	if u := getenv("AWS_ENDPOINT_URL"); u != "" && !ignoreEndpoints(getenv) {
		cfg.BaseEndpoint = aws.String(u)
	}
	return cfg, nil
}

func credentialsFrom(getenv func(string) string) (aws.CredentialsProvider, error) {
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	switch {
	case id != "" && secret != "":
		return credentials.StaticCredentialsProvider{Value: aws.Credentials{
			AccessKeyID: id, SecretAccessKey: secret, SessionToken: getenv("AWS_SESSION_TOKEN"),
			Source: "EnvConfigCredentials", AccountID: getenv("AWS_ACCOUNT_ID"),
		}}, nil
	case id != "" || secret != "":
		return nil, errors.New("credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together")
	}
	url := getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI")
	if rel := getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"); rel != "" {
		url = ecsHost + rel
	}
	if url == "" {
		return nil, errors.New("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_CONTAINER_CREDENTIALS_FULL_URI")
	}
	p := endpointcreds.New(url, func(o *endpointcreds.Options) {
		o.AuthorizationToken = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")
		if file := getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); file != "" {
			// Read at each refresh: the file is rotated under a long-running process.
			o.AuthorizationTokenProvider = endpointcreds.TokenProviderFunc(func() (string, error) {
				b, err := os.ReadFile(file)
				if err != nil {
					return "", fmt.Errorf("container authorization token: %w", err)
				}
				return strings.TrimSpace(string(b)), nil
			})
		}
	})
	return aws.NewCredentialsCache(p, func(o *aws.CredentialsCacheOptions) { o.ExpiryWindow = 5 * time.Minute }), nil
}

func ignoreEndpoints(getenv func(string) string) bool {
	return strings.EqualFold(getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"), "true")
}

// env is the config source the service clients ask for AWS_ENDPOINT_URL_<SERVICE> (the methods
// of the SDK's internal configsources interfaces, which config.EnvConfig implements too).
type env struct{ getenv func(string) string }

// GetServiceBaseEndpoint is AWS_ENDPOINT_URL_<sdkID>, the SDK id upper-cased with spaces as
// underscores ("DynamoDB" → AWS_ENDPOINT_URL_DYNAMODB).
func (e env) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	name := "AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_"))
	if v := e.getenv(name); v != "" {
		return v, true, nil
	}
	return "", false, nil
}

// GetIgnoreConfiguredEndpoints is AWS_IGNORE_CONFIGURED_ENDPOINT_URLS.
func (e env) GetIgnoreConfiguredEndpoints(context.Context) (bool, bool, error) {
	if v := e.getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"); v != "" {
		return strings.EqualFold(v, "true"), true, nil
	}
	return false, false, nil
}
