package reply

import "testing"

func TestRedactSecrets(t *testing.T) {
	const tok = "IGQWRNa1ZAhb2xUbmZA0dzFHUGVx"
	tests := []struct {
		name, in string
		secrets  []string
		want     string
	}{
		{"query parameter", "GET /refresh_access_token?grant_type=ig_refresh_token&access_token=" + tok + " HTTP/1.1", nil,
			"GET /refresh_access_token?grant_type=ig_refresh_token&access_token=[redacted] HTTP/1.1"},
		{"any case, several", "ACCESS_TOKEN=abc&x=1&input_token=def", nil, "ACCESS_TOKEN=[redacted]&x=1&input_token=[redacted]"},
		{"escaped in a URL", "next=%2Fme%3Faccess_token%3Dxyz123", nil, "next=%2Fme%3Faccess_token%3D[redacted]"},
		{"JSON echo", `{"access_token":"` + tok + `","token_type":"bearer"}`, nil, `{"access_token":"[redacted]","token_type":"bearer"}`},
		{"in HTML", `<a href="/me?access_token=` + tok + `">`, nil, `<a href="/me?access_token=[redacted]">`},
		{"the token itself", "Bearer " + tok + " was refused", []string{tok}, "Bearer [redacted] was refused"},
		{"short secrets are not words", "the token is bad", []string{"the", ""}, "the token is bad"},
		{"nothing to hide", "(#100) Invalid parameter", []string{tok}, "(#100) Invalid parameter"},
		{"no underscore, no parameter", "token=abc&secret=def&appsecretproof=x", nil, "token=abc&secret=def&appsecretproof=x"},
		{"Unicode folds of the letters still match", "access_to\u212aen=abc", nil, "access_to\u212aen=[redacted]"},
		{"other parameters stay", "access_tokens_count=3&fields=id", nil, "access_tokens_count=3&fields=id"},
		// Finding 4 of issue 24: the token encoded the ways an echo may encode it.
		{"every byte percent-escaped", "token %49%47%51%57%52%4E%61%31%5A%41%68%62%32%78%55%62%6D%5A%41%30%64%7A%46%48%55%47%56%78 refused", []string{tok},
			"token [redacted] refused"},
		{"percent-escaped parameter name", "next=access%5Ftoken%3D" + tok[:4] + "x", nil, "next=access_token=[redacted]"},
		{"a stray percent does not hide it", "100% sure: %49GQWRNa1ZAhb2xUbmZA0dzFHUGVx", []string{tok}, "100% sure: [redacted]"},
		{"HTML character references", "<p>&#73;&#x47;QWRNa1ZAhb2xUbmZA0dzFHUGVx</p>", []string{tok}, "<p>[redacted]</p>"},
		{"JSON escapes left as text", `IGQ\u0057RNa1ZAhb2xUbmZA0dzFHUGVx`, []string{tok}, `[redacted]`},
		{"escape of an escape", "%2549GQWRNa1ZAhb2xUbmZA0dzFHUGVx", []string{tok}, "[redacted]"},
		{"escapes without a secret stay", "50%25 off &amp; more", []string{tok}, "50%25 off &amp; more"},
	}
	for _, tt := range tests {
		if got := RedactSecrets(tt.in, tt.secrets...); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}
