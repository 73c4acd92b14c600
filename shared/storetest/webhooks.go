package storetest

import (
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// Webhooks is the contract of reply.Webhooks: nothing before the first record; a field's record
// moves on only in a later reply.SeenEvery slot (one write a minute per account, however busy);
// a field not seen yet is recorded at once; fields and accounts are kept apart; whole seconds.
func Webhooks(t *testing.T, newStore func(t *testing.T) reply.Webhooks) {
	s, c := newStore(t), ctx(t)
	at := func(d time.Duration) time.Time { return T0.Add(d) }
	last := func(acct string) map[string]time.Time {
		t.Helper()
		m, err := s.LastWebhooks(c, acct)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	saw := func(acct string, d time.Duration, fields ...string) {
		t.Helper()
		if err := s.SawWebhooks(c, acct, fields, at(d)); err != nil {
			t.Fatal(err)
		}
	}
	if m := last(account); len(m) != 0 {
		t.Fatalf("before any webhook: %v", m)
	}
	steps := []struct {
		name   string
		d      time.Duration
		fields []string
		want   map[string]time.Duration
	}{
		{"first", 10*time.Second + 300*time.Millisecond, []string{reply.FieldComments}, map[string]time.Duration{reply.FieldComments: 10 * time.Second}},
		{"same minute: kept", 50 * time.Second, []string{reply.FieldComments}, map[string]time.Duration{reply.FieldComments: 10 * time.Second}},
		{"new field in the same minute: recorded", 55 * time.Second, []string{reply.FieldComments, reply.FieldPostbacks},
			map[string]time.Duration{reply.FieldComments: 55 * time.Second, reply.FieldPostbacks: 55 * time.Second}},
		{"next minute", 61 * time.Second, []string{reply.FieldComments}, map[string]time.Duration{reply.FieldComments: 61 * time.Second, reply.FieldPostbacks: 55 * time.Second}},
	}
	for _, st := range steps {
		saw(account, st.d, st.fields...)
		got := last(account)
		if len(got) != len(st.want) {
			t.Fatalf("%s: %v, want %v", st.name, got, st.want)
		}
		for f, d := range st.want {
			if !got[f].Equal(at(d)) {
				t.Errorf("%s: %s = %s, want %s", st.name, f, got[f], at(d))
			}
		}
	}
	if m := last("17841400000000002"); len(m) != 0 {
		t.Errorf("another account: %v", m)
	}
}
