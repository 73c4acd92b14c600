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
	}
	for _, tt := range tests {
		if got := RedactSecrets(tt.in, tt.secrets...); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}
