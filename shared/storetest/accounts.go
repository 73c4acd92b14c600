package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

func testBuckets(t *testing.T, s reply.Store) {
	zero, err := s.Bucket(ctx(t), account, reply.LanePosts)
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "unsaved bucket", zero, reply.Bucket{AccountID: account, Lane: reply.LanePosts})

	b1 := reply.Bucket{AccountID: account, Lane: reply.LanePosts, TAT: T0.Add(4800 * time.Millisecond), Version: 1}
	b2 := b1
	// The grant counts come back as they were saved: the usage brake reads them.
	b2.TAT, b2.Version, b2.Grants, b2.GrantsFrom = b1.TAT.Add(4800*time.Millisecond), 2, []int{3, 0, 12}, T0.Add(time.Minute)
	other := b1
	other.TAT = T0
	live := reply.Bucket{AccountID: account, Lane: reply.LaneLive, TAT: T0, Version: 1}
	far := reply.Bucket{AccountID: "other", Lane: reply.LanePosts, TAT: T0, Version: 3}

	steps := []struct {
		name    string
		b       reply.Bucket
		wantErr error
		handed  reply.Bucket
	}{
		{"first save", b1, nil, b1},
		{"second first save loses", other, reply.ErrConflict, b1},
		{"next version", b2, nil, b2},
		{"stale", b1, reply.ErrConflict, b2},
		{"lanes are separate", live, nil, live},
		{"version over nothing stored", far, reply.ErrConflict, reply.Bucket{AccountID: "other", Lane: reply.LanePosts}},
	}
	for _, st := range steps {
		got, err := s.SaveBucket(ctx(t), st.b)
		if !errors.Is(err, st.wantErr) || (err != nil) != (st.wantErr != nil) {
			t.Fatalf("%s: err %v, want %v", st.name, err, st.wantErr)
		}
		Same(t, st.name, got, st.handed)
	}
	for _, want := range []reply.Bucket{b2, live, {AccountID: "other", Lane: reply.LanePosts}} {
		got, err := s.Bucket(ctx(t), want.AccountID, want.Lane)
		if err != nil {
			t.Fatal(err)
		}
		Same(t, "stored bucket "+reply.BucketKey(want.AccountID, want.Lane), got, want)
	}

	// Many at once: in the order asked, a lane asked twice twice, unsaved ones zero, and past
	// DynamoDB's hundred keys a request.
	lanes := []reply.AccountLane{{AccountID: account, Lane: reply.LaneLive}, {AccountID: "never", Lane: reply.LanePosts},
		{AccountID: account, Lane: reply.LanePosts}, {AccountID: account, Lane: reply.LaneLive}}
	want := []reply.Bucket{live, {AccountID: "never", Lane: reply.LanePosts}, b2, live}
	for i := range 150 {
		b := reply.Bucket{AccountID: fmt.Sprintf("many%03d", i), Lane: reply.LaneText, TAT: T0.Add(time.Duration(i) * time.Second), Version: 1}
		if _, err := s.SaveBucket(ctx(t), b); err != nil {
			t.Fatal(err)
		}
		lanes = append(lanes, reply.AccountLane{AccountID: b.AccountID, Lane: b.Lane})
		want = append(want, b)
	}
	got, err := s.BucketsOf(ctx(t), lanes)
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "buckets of many lanes", got, want)
}

// Account is a valid account with rules and limits, so a round trip covers the nested values.
func Account(id string) reply.Account {
	return reply.Account{
		ID:         id,
		Username:   "chef_" + id,
		Login:      reply.LoginFacebook,
		PageID:     "1010" + id,
		TokenParam: "/replywindow/tokens/" + id,
		Rules: []reply.Rule{
			{Name: "recipe", Match: reply.MatchWord, Keywords: []string{"recipe", "rezept"}, Exclude: []string{"spam"},
				Media: []string{"18000000000000001"}, Kinds: []reply.Kind{reply.KindReel, reply.KindPost},
				Message: "Hi {username}! https://example.com/r", Disclose: true, PublicReplies: []string{"Sent!", "Check your DMs"}},
			{Name: "rest", Match: reply.MatchAny, Message: "Thanks!"},
		},
		Disclosure: "This is an automated message.",
		Limits:     map[reply.Lane]reply.Limit{reply.LanePosts: {Count: 500, Period: time.Hour}},
		Version:    1,
		UpdatedAt:  T0,
	}
}

func testAccounts(t *testing.T, s reply.Store) {
	for _, id := range []string{"b", "c", "a"} {
		if _, err := s.PutAccount(ctx(t), Account(id)); err != nil {
			t.Fatalf("put %s: %v", id, err)
		}
	}
	got, err := s.Account(ctx(t), "a")
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "account a", got, Account("a"))

	again := Account("a")
	again.Username = "impostor"
	got, err = s.PutAccount(ctx(t), again)
	if !errors.Is(err, reply.ErrConflict) {
		t.Fatalf("second version 1: err %v, want ErrConflict", err)
	}
	Same(t, "account handed to the losing put", got, Account("a"))

	v2 := Account("a")
	v2.Unhealthy, v2.UnhealthySince, v2.Version = "190/463", T0, 2
	if _, err := s.PutAccount(ctx(t), v2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutAccount(ctx(t), v2); !errors.Is(err, reply.ErrConflict) {
		t.Fatalf("stale put: err %v, want ErrConflict", err)
	}
	skip := Account("d")
	skip.Version = 2
	if _, err := s.PutAccount(ctx(t), skip); !errors.Is(err, reply.ErrConflict) {
		t.Fatalf("version 2 over nothing: err %v, want ErrConflict", err)
	}

	list, err := s.ListAccounts(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "accounts", list, []reply.Account{v2, Account("b"), Account("c")})

	for range 2 {
		if err := s.DeleteAccount(ctx(t), "b"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Account(ctx(t), "b"); !errors.Is(err, reply.ErrNotFound) {
		t.Fatalf("deleted account: err %v, want ErrNotFound", err)
	}
	list, err = s.ListAccounts(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "accounts after a delete", list, []reply.Account{v2, Account("c")})
}

// testAccountCopies changes every nested value of what went in and came out; the store keeps its own.
func testAccountCopies(t *testing.T, s reply.Store) {
	in := Account("a")
	if _, err := s.PutAccount(ctx(t), in); err != nil {
		t.Fatal(err)
	}
	mess := func(a reply.Account) {
		a.Rules[0].Keywords[0] = "changed"
		a.Rules[0].Exclude[0] = "changed"
		a.Rules[0].Media[0] = "changed"
		a.Rules[0].Kinds[0] = reply.KindLive
		a.Rules[0].PublicReplies[0] = "changed"
		a.Rules[1].Name = "changed"
		a.Limits[reply.LanePosts] = reply.Limit{Count: 1, Period: time.Second}
	}
	mess(in)
	got, err := s.Account(ctx(t), "a")
	if err != nil {
		t.Fatal(err)
	}
	mess(got)
	list, err := s.ListAccounts(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	mess(list[0])
	got, err = s.Account(ctx(t), "a")
	if err != nil {
		t.Fatal(err)
	}
	Same(t, "stored account after callers changed their copies", got, Account("a"))
}
