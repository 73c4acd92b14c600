package main

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/aws/smithy-go"
)

// opAWSError restates an error from AWS in one line that names the resource and the likely
// cause: "table replywindow-prod: not found (a wrong table name? check --table, TABLE_NAME or
// --stack)". Errors it cannot place keep their first line.
func opAWSError(resource string, err error) error {
	if err == nil {
		return nil
	}
	cause := ""
	var ae smithy.APIError
	var ne net.Error
	msg := err.Error()
	switch {
	case errors.As(err, &ae):
		switch code := ae.ErrorCode(); {
		case code == "ResourceNotFoundException" || strings.Contains(code, "NonExistentQueue") || code == "QueueDoesNotExist" || code == "ParameterNotFound" || code == "ValidationError" && strings.Contains(ae.ErrorMessage(), "does not exist"):
			cause = "not found (a wrong name, region or account? check the flag, its environment variable, AWS_REGION, or --stack)"
		case strings.Contains(code, "AccessDenied") || code == "UnauthorizedOperation":
			cause = "access denied: the caller's credentials may not do this (check the IAM policy of AWS_PROFILE's role)"
		case code == "UnrecognizedClientException" || code == "InvalidClientTokenId" || code == "InvalidSignatureException" || code == "SignatureDoesNotMatch":
			cause = "AWS refused the credentials (wrong keys, or keys for another partition)"
		case code == "ExpiredToken" || code == "ExpiredTokenException" || code == "RequestExpired":
			cause = "the AWS credentials expired (aws sso login, or new keys)"
		default:
			cause = code + ": " + ae.ErrorMessage()
		}
	case strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "no EC2 IMDS role found") || strings.Contains(msg, "AnonymousCredentials"):
		cause = "no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
	case strings.Contains(msg, "connection refused"):
		cause = "nothing answers at the endpoint (AWS_ENDPOINT_URL: is moto running? make local-aws)"
	case errors.As(err, &ne) && ne.Timeout():
		cause = "the endpoint did not answer in time (network, or AWS_ENDPOINT_URL)"
	case strings.Contains(msg, "no such host"):
		cause = "the endpoint's host is unknown (AWS_REGION or AWS_ENDPOINT_URL)"
	default:
		cause = opOneLine(err)
	}
	return fmt.Errorf("%s: %s", resource, cause)
}
