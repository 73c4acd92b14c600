package sandbox_test

import (
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/replywindow/replywindow/shared/sandbox"
)

// TestEchoingTokenShapes: each EchoShape answers with the call's token in that shape, and only
// in it (a raw copy would let a client pass the test by redacting the raw bytes alone).
func TestEchoingTokenShapes(t *testing.T) {
	e := newEnv(t)
	tok := igToken
	decodeMessage := func(b []byte) string {
		var m struct {
			Error struct {
				Message string `json:"message"`
				Code    int    `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(b, &m); err != nil || m.Error.Code != 190 {
			t.Fatalf("not Meta's 190: %s (%v)", b, err)
		}
		return m.Error.Message
	}
	percentAll := func(s string) string {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			b.WriteString("%" + strings.ToUpper(hex2(s[i])))
		}
		return b.String()
	}
	tests := []struct {
		shape  sandbox.EchoShape
		status int
		check  func(h http.Header, body []byte) bool // the token is there in the shape
	}{
		{sandbox.EchoRaw, 400, func(_ http.Header, b []byte) bool { return strings.HasSuffix(decodeMessage(b), tok) }},
		{sandbox.EchoJSONPartial, 400, func(_ http.Header, b []byte) bool {
			return strings.Contains(string(b), `\u0049\u0047\u0041`+tok[3:]) && strings.HasSuffix(decodeMessage(b), tok)
		}},
		{sandbox.EchoJSONFull, 400, func(_ http.Header, b []byte) bool {
			return !strings.Contains(string(b), tok[1:]) && strings.HasSuffix(decodeMessage(b), tok)
		}},
		{sandbox.EchoQueryEscaped, 400, func(_ http.Header, b []byte) bool {
			return strings.Contains(decodeMessage(b), url.QueryEscape("access_token="+tok))
		}},
		{sandbox.EchoPathEscaped, 400, func(_ http.Header, b []byte) bool {
			return strings.Contains(decodeMessage(b), url.PathEscape("/"+tok+"/"))
		}},
		{sandbox.EchoPercentAll, 400, func(_ http.Header, b []byte) bool {
			return strings.HasSuffix(decodeMessage(b), percentAll(tok))
		}},
		{sandbox.EchoHTMLPage, 502, func(_ http.Header, b []byte) bool {
			s := string(b)
			i, j := strings.Index(s, "<title>"), strings.Index(s, "</title>")
			return i >= 0 && j > i && !strings.Contains(s[i:j], tok) && strings.Contains(html.UnescapeString(s[i:j]), tok) &&
				strings.Contains(s[j:], tok)
		}},
		{sandbox.EchoLocation, 302, func(h http.Header, _ []byte) bool {
			u, err := url.Parse(h.Get("Location"))
			return err == nil && u.Query().Get("access_token") == tok
		}},
		{sandbox.EchoBadLocation, 302, func(h http.Header, _ []byte) bool {
			_, err := url.Parse(h.Get("Location"))
			return err != nil && strings.Contains(h.Get("Location"), tok)
		}},
		{sandbox.EchoAuthenticate, 401, func(h http.Header, b []byte) bool {
			return strings.Contains(h.Get("WWW-Authenticate"), tok) && !strings.Contains(decodeMessage(b), tok)
		}},
	}
	if len(tests) != len(sandbox.EchoShapes) {
		t.Fatalf("%d shapes tested, %d exist", len(tests), len(sandbox.EchoShapes))
	}
	// The transport itself: net/http's client parses a Location before deciding to follow it.
	client := http.DefaultTransport
	for _, tt := range tests {
		e.sb.SetFault(func(sandbox.Call) sandbox.Fault { return sandbox.EchoingToken(tt.shape) })
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/v24.0/me?fields=id", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.shape, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !tt.check(resp.Header, b) {
			t.Errorf("%s: HTTP %d %v %s; want %d with the token in that shape", tt.shape, resp.StatusCode, resp.Header, b, tt.status)
		}
	}
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&15]})
}
