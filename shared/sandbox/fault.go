package sandbox

import "time"

// Call is what a fault hook is told about a call before the sandbox answers it.
type Call struct {
	Seq       int       // 1 for the first call the sandbox served, and so on
	Op        Op        // the kind of call
	AccountID string    // the account the token belongs to; "" for a bad token
	ObjectID  string    // the id in the path (sender, comment or account; "me")
	CommentID string    // the comment a private or public reply is for
	PersonID  string    // the person a Send API message or a profile read is about
	Text      string    // the reply's or message's text
	Attempt   int       // private replies: the comment's private-reply calls so far, this one included
	At        time.Time // the sandbox's clock
}

// Fault replaces the sandbox's answer to a call. The zero Fault injects nothing.
type Fault struct {
	Status     int           // HTTP status; default 400 with a Meta error (Code set), else 500
	Code       int           // Meta error code; 0 answers a bare HTTP status with a non-JSON body
	Subcode    int           // Meta error_subcode
	Type       string        // Meta error type (OAuthException unless set)
	Message    string        // Meta error message
	RetryAfter time.Duration // sent as Retry-After when set
	Deliver    bool          // apply the rules first, recording a delivery if they accept, then answer with the fault
	Hang       bool          // answer nothing: hold the request until the client gives up, then drop it
	Drop       bool          // answer nothing: close the connection at once
	Revoke     bool          // revoke the call's token for good: every later call fails with 190
	// EchoRequest makes the non-JSON error page (Code 0) quote the request line and its
	// Authorization header, as proxies' and servers' debug pages do: the token comes back in the
	// body, in the query of a refresh call and in the header of every other.
	EchoRequest bool
	// Echo makes the answer carry the call's token in the given shape (see EchoShape), as a
	// careless proxy or server may: the client must not let it into an error or a log.
	Echo EchoShape
}

// EchoShape is a way an error answer may carry the call's token back.
type EchoShape string

// The shapes of an echoed token. Each answers 400 with Meta's code 190 unless it says otherwise.
const (
	EchoRaw          EchoShape = "raw"           // in the JSON error's message, as it is
	EchoJSONPartial  EchoShape = "json_partial"  // in the message, its first three characters \u-escaped
	EchoJSONFull     EchoShape = "json_full"     // in the message, every character \u-escaped
	EchoQueryEscaped EchoShape = "query_escaped" // in the message, as access_token=... query-escaped (url.QueryEscape)
	EchoPathEscaped  EchoShape = "path_escaped"  // in the message, as a path segment path-escaped (url.PathEscape)
	EchoPercentAll   EchoShape = "percent_all"   // in the message, every byte percent-escaped
	EchoHTMLPage     EchoShape = "html_page"     // 502 HTML page: the token in the title as character references and in the body as it is
	EchoLocation     EchoShape = "location"      // 302 whose Location names the token in its query
	EchoBadLocation  EchoShape = "bad_location"  // 302 whose Location names the token and cannot be parsed
	EchoAuthenticate EchoShape = "authenticate"  // 401 whose WWW-Authenticate names the token; Meta's 190 as the body
)

// EchoShapes is every EchoShape.
var EchoShapes = []EchoShape{EchoRaw, EchoJSONPartial, EchoJSONFull, EchoQueryEscaped, EchoPathEscaped,
	EchoPercentAll, EchoHTMLPage, EchoLocation, EchoBadLocation, EchoAuthenticate}

// EchoingToken answers with the call's token echoed in the given shape.
func EchoingToken(shape EchoShape) Fault { return Fault{Echo: shape} }

// None reports whether f injects nothing.
func (f Fault) None() bool { return f == Fault{} }

// HTTPStatus is a bare HTTP status (a 502 from a proxy, a 429 without a body).
func HTTPStatus(status int) Fault { return Fault{Status: status} }

// MetaError is Meta's error answer code/subcode with the given HTTP status (0: 400).
func MetaError(status, code, subcode int) Fault {
	return Fault{Status: status, Code: code, Subcode: subcode, Message: "injected by the sandbox"}
}

// ServerError is Meta's transient 5xx: code 1 "An unknown error occurred" on 500, code 2
// "Service temporarily unavailable" on any other status.
func ServerError(status int) Fault {
	if status == 500 {
		return Fault{Status: 500, Code: 1, Message: "An unknown error occurred"}
	}
	return Fault{Status: status, Code: 2, Message: "Service temporarily unavailable"}
}

// TimeoutBefore holds the request without delivering the reply: the client times out and
// nothing was sent.
func TimeoutBefore() Fault { return Fault{Hang: true} }

// TimeoutAfter delivers the reply (the ledger records it), then holds the request until the
// client gives up: the client cannot know the reply went out.
func TimeoutAfter() Fault { return Fault{Deliver: true, Hang: true} }

// DropAfter delivers the reply, then closes the connection without an answer.
func DropAfter() Fault { return Fault{Deliver: true, Drop: true} }

// EchoingError is a bare HTTP status whose HTML page quotes the request, token included.
func EchoingError(status int) Fault { return Fault{Status: status, EchoRequest: true} }

// Throttle is Meta's rate-limit refusal 613/2534040; nothing is delivered.
func Throttle() Fault {
	return Fault{Code: 613, Subcode: 2534040, Message: "(#613) Calls to this api have exceeded the rate limit."}
}

// TooManyRequests is a bare HTTP 429 with Retry-After.
func TooManyRequests(retryAfter time.Duration) Fault {
	return Fault{Status: 429, RetryAfter: retryAfter}
}

// TokenRevoked revokes the call's token (the user changed the password or removed the app):
// 190/460 now and on every later call with the token.
func TokenRevoked() Fault {
	return Fault{Code: 190, Subcode: 460, Revoke: true,
		Message: "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons."}
}
