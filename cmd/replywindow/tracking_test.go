package main

import (
	"strings"
	"testing"
)

// TestAccountFileTracking: tracking in an account file, and the errors that name the field and
// the line when a tracked link is not http(s) or a UTM name is unknown.
func TestAccountFileTracking(t *testing.T) {
	const head = `id: "17841400000000001"
login: instagram
`
	const rule = `rules:
  - name: recipe
    match: any
    message: "Hi! https://bakery.example/recipe"
    buttons:
      - {type: web_url, title: Shop, url: "https://bakery.example/shop"}
`
	for _, c := range []struct {
		name, file, want string
	}{
		{"rule tracking with utm", head + rule + `    tracking:
      enabled: true
      utm: {utm_source: instagram}
`, ""},
		{"account tracking, a link off", head + `tracking:
  enabled: true
  links: {"https://bakery.example/shop": false}
` + rule, ""},
		{"tracked link not http", head + `tracking:
  links: {"ftp://bakery.example/shop": true}
` + rule, `tracking.links: tracked link "ftp://bakery.example/shop" is not an http(s) URL`},
		{"unknown utm", head + rule + `    tracking:
      utm: {utm_sauce: ig}
`, `account.yaml:10: rules[0] "recipe": tracking.utm: "utm_sauce" is not one of`},
		{"utm on the account", head + `tracking:
  utm: {utm_source: ig}
` + rule, "tracking.utm: set it on a rule"},
		{"unknown field", head + rule + `    tracking:
      enable: true
`, `account.yaml:10: unknown field "enable"`},
	} {
		a, err := opParseAccount("account.yaml", []byte(c.file), "/replywindow/tokens/")
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want == "" && !a.Tracks("recipe", "https://bakery.example/recipe"):
			t.Errorf("%s: the rule's link is not tracked: %+v", c.name, a.Tracking)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}
