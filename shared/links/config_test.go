package links

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	for _, c := range []struct {
		name string
		env  func(string) string
		want string // "" valid
	}{
		{"ssm", env("TABLE_NAME", "t", "LINKS_SECRET_PARAM", "/rw/links"), ""},
		{"local secret", env("TABLE_NAME", "t", "LINKS_SECRET", testSecret), ""},
		{"no table", env("LINKS_SECRET_PARAM", "/rw/links"), "TABLE_NAME: required"},
		{"no secret", env("TABLE_NAME", "t"), "LINKS_SECRET_PARAM: required"},
		{"short secret", env("TABLE_NAME", "t", "LINKS_SECRET", "abc"), "LINKS_SECRET: 3 bytes"},
		{"bad budget", env("TABLE_NAME", "t", "LINKS_SECRET_PARAM", "/p", "CLICK_BUDGET", "soon"), `CLICK_BUDGET: "soon"`},
	} {
		_, err := LoadConfig(c.env)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	cfg, _ := LoadConfig(env("TABLE_NAME", "t", "LINKS_SECRET", testSecret))
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("ready", "config", cfg)
	if strings.Contains(buf.String(), testSecret) {
		t.Errorf("the logged config holds the secret: %s", buf.String())
	}
	for _, c := range []struct {
		env  func(string) string
		want string
	}{
		{env(), ""}, // tracking off
		{env("LINK_BASE_URL", "https://abc.execute-api.eu-west-1.amazonaws.com/", "LINKS_SECRET_PARAM", "/p"), ""},
		{env("LINK_BASE_URL", "ftp://abc"), "LINK_BASE_URL"},
		{env("LINK_BASE_URL", "https://abc.example"), "LINKS_SECRET_PARAM: required with LINK_BASE_URL"},
	} {
		tc, err := LoadTrackerConfig(c.env)
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("tracker %v: %v, want %q", tc, err, c.want)
		}
	}
}
