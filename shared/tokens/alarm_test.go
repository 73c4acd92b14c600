package tokens

import (
	"strings"
	"testing"
	"time"
)

func TestExpiring(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	in := func(d time.Duration) time.Time { return now.Add(d) }
	day := 24 * time.Hour
	tests := []struct {
		name  string
		o     Outcome
		count bool
	}{
		{"refresh refused, expires in 3d", Outcome{Action: ActionFailed, ExpiresAt: in(3 * day)}, true},
		{"refresh deferred, expires in 6d", Outcome{Action: ActionDeferred, ExpiresAt: in(6 * day)}, true},
		{"Page token expiring in 2d", Outcome{Action: ActionSkipped, ExpiresAt: in(2 * day)}, true},
		{"refresh refused, expires in 8d", Outcome{Action: ActionFailed, ExpiresAt: in(8 * day)}, false},
		{"refreshed", Outcome{Action: ActionRefreshed, ExpiresAt: in(60 * day)}, false},
		{"not due", Outcome{Action: ActionNotDue, ExpiresAt: in(3 * day)}, false},
		{"Page token that never expires", Outcome{Action: ActionSkipped}, false},
		{"refresh failed, expiry unknown", Outcome{Action: ActionFailed}, false},
	}
	r := &Refresher{}
	for _, tt := range tests {
		want := 0
		if tt.count {
			want = 1
		}
		if got := r.Expiring([]Outcome{tt.o}, now); got != want {
			t.Errorf("%s: %d, want %d", tt.name, got, want)
		}
	}
	if got := (&Refresher{AlarmWithin: 10 * day}).Expiring([]Outcome{{Action: ActionFailed, ExpiresAt: in(8 * day)}}, now); got != 1 {
		t.Errorf("AlarmWithin 10d, expires in 8d: %d, want 1", got)
	}
}

func TestLoadConfigAlarmWithin(t *testing.T) {
	tests := []struct {
		env     map[string]string
		within  time.Duration
		alarm   time.Duration
		wantErr string
	}{
		{map[string]string{}, DefaultWithin, DefaultAlarmWithin, ""},
		{map[string]string{EnvAlarmWithin: "3d", EnvWithin: "12d"}, 12 * 24 * time.Hour, 3 * 24 * time.Hour, ""},
		{map[string]string{EnvAlarmWithin: "soon"}, 0, 0, EnvAlarmWithin},
	}
	for _, tt := range tests {
		c, err := LoadConfig(func(k string) string { return tt.env[k] })
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%v: err %v, want %s", tt.env, err, tt.wantErr)
			}
			continue
		}
		if err != nil || c.Within != tt.within || c.AlarmWithin != tt.alarm {
			t.Errorf("%v: %+v %v", tt.env, c, err)
		}
	}
}
