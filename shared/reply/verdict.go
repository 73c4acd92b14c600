package reply

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Verdict is what an answer from Meta's Graph API means for the reply (design.md §2).
type Verdict int

const (
	VerdictSent           Verdict = iota // Meta accepted the reply
	VerdictExpired                       // 10/2534022: outside the window; never retried
	VerdictAlreadyReplied                // 100/2534025: delivered, if an earlier attempt was uncertain; else permanent
	VerdictPermanent                     // this comment can never get a reply
	VerdictAccount                       // a permission problem of the account: permanent for the comment, account unhealthy
	VerdictAuth                          // the token is invalid or expired: park, account needs re-auth
	VerdictThrottled                     // rate-limited: wait; not an attempt
	VerdictUncertain                     // transient; the send may have happened
)

var verdictNames = [...]string{"sent", "expired", "already_replied", "permanent", "account", "auth", "throttled", "uncertain"}

func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// ErrNotSent marks a failed call that never reached Meta (no time left before the caller's
// deadline, connection refused, request not written): nothing can have been delivered, so it is
// not an attempt. Graph clients wrap it in a *GraphError with Status 0.
var ErrNotSent = errors.New("request not sent")

// GraphError is an error answer from the Graph API, or a failure to get one (Status 0).
type GraphError struct {
	Status     int    // HTTP status; 0 when no answer arrived (timeout, connection reset)
	Code       int    // error.code
	Subcode    int    // error.error_subcode
	Type       string // error.type
	Message    string // error.message
	TraceID    string // error.fbtrace_id
	RetryAfter time.Duration
	Err        error // the transport error when Status is 0
}

func (e *GraphError) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("graph api: no answer: %v", e.Err)
	}
	return fmt.Sprintf("graph api: HTTP %d, code %d/%d: %s", e.Status, e.Code, e.Subcode, e.Message)
}

func (e *GraphError) Unwrap() error { return e.Err }

// CodeString is "code/subcode" (or "code", or "http_<status>"), the reason recorded on a record.
func (e *GraphError) CodeString() string {
	switch {
	case e.Code == 0 && e.Status == 0:
		return "no_answer"
	case e.Code == 0:
		return fmt.Sprintf("http_%d", e.Status)
	case e.Subcode == 0:
		return fmt.Sprint(e.Code)
	}
	return fmt.Sprintf("%d/%d", e.Code, e.Subcode)
}

// Verdict classifies the answer by Meta's error table.
func (e *GraphError) Verdict() Verdict {
	switch {
	case e.Code == 10 && (e.Subcode == 2534022 || e.Subcode == 2018278):
		// 2534022: the private reply's window; 2018278: the conversation's 24 hours.
		return VerdictExpired
	case e.Code == 100 && e.Subcode == 2534025:
		return VerdictAlreadyReplied
	case e.Code == 190, e.Code >= 458 && e.Code <= 467:
		return VerdictAuth
	case e.Subcode == 2534041 && e.Code == 200, e.Subcode == 2534029 && e.Code == 100,
		e.Subcode == 2534077 && e.Code == 10, e.Subcode == 2534013 && e.Code == 100,
		e.Code == 10 && e.Subcode == 0, e.Code == 200 && e.Subcode == 0:
		// 10 and 200 without a subcode are Graph's generic permission errors.
		return VerdictAccount
	case e.Code == 4, e.Code == 17, e.Code == 32, e.Code == 613, e.Code == 80002, e.Status == 429:
		// 80002 is the Instagram business-use-case limit: too many calls for the account.
		return VerdictThrottled
	case e.Code == 551, e.Subcode == 1545041, e.Code == 100 && e.Subcode == 2534014:
		return VerdictPermanent
	case e.Status == 0, e.Status >= 500, e.Code == 1, e.Code == 2:
		return VerdictUncertain
	case e.Status >= 400 && e.Status < 500:
		// Any other refusal is about the request itself: repeating it cannot help.
		return VerdictPermanent
	}
	return VerdictUncertain
}

// Unreachable says whether code, a record's reason (GraphError.CodeString), is Meta refusing the
// person rather than the message: unavailable or blocking (551, .../1545041) or no such user
// (100/2534014). Any other message to that person would be refused the same way.
func Unreachable(code string) bool {
	return code == "551" || strings.HasPrefix(code, "551/") || strings.HasSuffix(code, "/1545041") || code == "100/2534014"
}

// Classify is the verdict for the error a send returned: nil is sent, a *GraphError is classified,
// and anything else (a context deadline, a broken connection) leaves the send uncertain.
func Classify(err error) Verdict {
	if err == nil {
		return VerdictSent
	}
	var ge *GraphError
	if errors.As(err, &ge) {
		return ge.Verdict()
	}
	return VerdictUncertain
}
