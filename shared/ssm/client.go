package ssm

import (
	"context"
	"errors"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/replywindow/replywindow/shared/awsjson"
)

// Client speaks the three calls replywindow makes of SSM Parameter Store (shared/awsjson), in
// place of the SDK's service/ssm client, whose package-level schema tables, endpoint rules and
// serializers for some 150 operations cost each Lambda bootstrap about 9 ms of init and 1.4 MB.
type Client struct {
	json *awsjson.Client
}

var _ API = (*Client)(nil)

// service is SSM as awsjson knows it: ParameterNotFound matches reply.ErrNotFound, the error
// Params promises.
var service = awsjson.Service{Target: "AmazonSSM", Signing: "ssm", EnvID: "SSM", NotFound: []string{"ParameterNotFound"}}

// NewClient builds a Client from cfg, its endpoint resolved as the SDK does (awsjson.Endpoint).
func NewClient(cfg aws.Config) *Client {
	return newClient(cfg, os.Getenv)
}

func newClient(cfg aws.Config, getenv func(string) string) *Client {
	return &Client{json: awsjson.NewWith(cfg, service, getenv)}
}

// GetParameter is the parameter's value, decrypted. A missing parameter is an error matching
// reply.ErrNotFound.
func (c *Client) GetParameter(ctx context.Context, name string) (string, error) {
	var out struct {
		Parameter *struct{ Value *string }
	}
	if err := c.json.Call(ctx, "GetParameter", map[string]any{"Name": name, "WithDecryption": true}, &out); err != nil {
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
	return c.json.Call(ctx, "PutParameter", in, nil)
}

// DeleteParameter removes the parameter. A missing parameter is an error matching
// reply.ErrNotFound.
func (c *Client) DeleteParameter(ctx context.Context, name string) error {
	return c.json.Call(ctx, "DeleteParameter", map[string]any{"Name": name}, nil)
}
