package replier

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want Config
		err  string
	}{
		{name: "defaults", env: map[string]string{"TABLE_NAME": "t"},
			want: Config{TableName: "t", GraphAPIVersion: "v24.0", AccountCacheTTL: time.Minute, RetentionDays: 30}},
		{name: "everything", env: map[string]string{"TABLE_NAME": "t", "GRAPH_API_URL": "http://127.0.0.1:8089/", "GRAPH_API_VERSION": "v23.0",
			"ACCOUNT_CACHE_TTL": "30s", "LOG_LEVEL": "debug", "ACCOUNT_TOKENS": "1=a, 2=b=c", "RETENTION_DAYS": "90"},
			want: Config{TableName: "t", GraphAPIURL: "http://127.0.0.1:8089", GraphAPIVersion: "v23.0", AccountCacheTTL: 30 * time.Second,
				LogLevel: "debug", AccountTokens: map[string]string{"1": "a", "2": "b=c"}, RetentionDays: 90}},
		{name: "cache off", env: map[string]string{"TABLE_NAME": "t", "ACCOUNT_CACHE_TTL": "0"},
			want: Config{TableName: "t", GraphAPIVersion: "v24.0", AccountCacheTTL: -1, RetentionDays: 30}},
		{name: "bad retention", env: map[string]string{"TABLE_NAME": "t", "RETENTION_DAYS": "0"}, err: "RETENTION_DAYS"},
		{name: "no table", env: map[string]string{}, err: "TABLE_NAME"},
		{name: "bad ttl", env: map[string]string{"TABLE_NAME": "t", "ACCOUNT_CACHE_TTL": "soon"}, err: "ACCOUNT_CACHE_TTL"},
		{name: "negative ttl", env: map[string]string{"TABLE_NAME": "t", "ACCOUNT_CACHE_TTL": "-1m"}, err: "ACCOUNT_CACHE_TTL"},
		{name: "bad tokens", env: map[string]string{"TABLE_NAME": "t", "ACCOUNT_TOKENS": "1=secret-one,2"}, err: "entry 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := LoadConfig(func(k string) string {
				if !slices.Contains(Env, k) {
					t.Errorf("LoadConfig read %s, which Env does not list", k)
				}
				return tc.env[k]
			})
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one naming %s", err, tc.err)
				}
				if strings.Contains(err.Error(), "secret-one") {
					t.Fatalf("error shows a token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.TableName != tc.want.TableName || got.GraphAPIURL != tc.want.GraphAPIURL || got.GraphAPIVersion != tc.want.GraphAPIVersion ||
				got.AccountCacheTTL != tc.want.AccountCacheTTL || got.LogLevel != tc.want.LogLevel || got.RetentionDays != tc.want.RetentionDays || !mapsEqual(got.AccountTokens, tc.want.AccountTokens) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestBackoffs(t *testing.T) {
	// Five attempts over an hour: 3m45s, 7m30s, 15m, 30m after attempts 1 to 4.
	for _, tc := range []struct {
		lane     reply.Lane
		attempts int
		limit    int
		period   time.Duration
		want     time.Duration
	}{
		{reply.LanePosts, 1, 5, time.Hour, 3*time.Minute + 45*time.Second},
		{reply.LanePosts, 2, 5, time.Hour, 7*time.Minute + 30*time.Second},
		{reply.LanePosts, 4, 5, time.Hour, 30 * time.Minute},
		{reply.LanePosts, 9, 5, time.Hour, time.Hour},
		{reply.LanePosts, 1, 20, time.Hour, 30 * time.Second}, // never closer than 30 s
		{reply.LaneLive, 1, 5, time.Hour, time.Second},
		{reply.LaneLive, 6, 5, time.Hour, 30 * time.Second},
	} {
		if got := uncertainWait(tc.lane, tc.attempts, tc.limit, tc.period); got != tc.want {
			t.Errorf("uncertainWait(%s, %d, %d, %s) = %s, want %s", tc.lane, tc.attempts, tc.limit, tc.period, got, tc.want)
		}
	}
	if got := throttleWait(reply.LanePosts, 0); got != 5*time.Minute {
		t.Errorf("posts throttle wait %s", got)
	}
	if got := throttleWait(reply.LaneLive, 0); got != time.Second {
		t.Errorf("live throttle wait %s", got)
	}
	if got := throttleWait(reply.LanePosts, 42*time.Second); got != 42*time.Second {
		t.Errorf("retry-after ignored: %s", got)
	}
}

func TestVariantIsStable(t *testing.T) {
	seen := map[int]bool{}
	for i := range 50 {
		id := "1790000000000" + string(rune('0'+i%10)) + string(rune('a'+i/10))
		v := variantOf(id, 3)
		if v != variantOf(id, 3) || v < 0 || v >= 3 {
			t.Fatalf("variant of %s: %d", id, v)
		}
		seen[v] = true
	}
	if len(seen) != 3 {
		t.Fatalf("50 comments used variants %v, want all 3", seen)
	}
}
