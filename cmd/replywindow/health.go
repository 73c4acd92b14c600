package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/ssm"
)

// opTokenWarn is how close to its expiry a token shows as a warning in accounts list and show:
// the token alarm's default (TokenExpiryAlarmDays) and doctor's.
const opTokenWarn = 7 * 24 * time.Hour

// opAccountHealth is what accounts list and show say of an account: "paused" first when the
// operator paused it, then "no token" when SSM holds none, "UNHEALTHY: why" when the system marked it, "TOKEN EXPIRED", "warn: token expires in 5d"
// within opTokenWarn, else "ok". The expiry is Meta's (its inspection at put, each refresh's
// answer).
func opAccountHealth(ctx context.Context, params *ssm.Params, a reply.Account, now time.Time) (string, error) {
	h, err := opTokenHealth(ctx, params, a, now)
	if err != nil || !a.Paused {
		return h, err
	}
	if h == "ok" {
		return "paused", nil
	}
	return "paused, " + h, nil
}

func opTokenHealth(ctx context.Context, params *ssm.Params, a reply.Account, now time.Time) (string, error) {
	if _, err := params.Get(ctx, a.TokenParam); errors.Is(err, reply.ErrNotFound) {
		return "no token", nil
	} else if err != nil {
		return "", opAWSError("SSM "+a.TokenParam, err)
	}
	left := a.TokenExpiresAt.Sub(now)
	switch {
	case !a.Healthy():
		return "UNHEALTHY: " + a.Unhealthy, nil
	case a.TokenExpiresAt.IsZero():
		return "ok", nil
	case left <= 0:
		return "TOKEN EXPIRED", nil
	case left <= opTokenWarn:
		return fmt.Sprintf("warn: token expires in %s", opSpanDays(left)), nil
	}
	return "ok", nil
}

// opSpanDays is d in whole days ("5d"), or hours under a day.
func opSpanDays(d time.Duration) string {
	if d < 24*time.Hour {
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}
