package sandbox_test

import (
	"errors"
	"testing"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/sandbox"
)

var (
	audio = reply.Message{Kind: reply.MessageAudio, URL: "https://cdn.example.com/a.mp3"}
	video = reply.Message{Kind: reply.MessageVideo, URL: "https://cdn.example.com/a.mp4"}
	heart = reply.Message{Kind: reply.MessageHeart}
)

// TestSendLanes: each account's Send API calls are limited per lane (text, links, reactions and
// stickers; audio and video) over a rolling second, answered 613 when over; refused calls use
// none of the allowance, and the lanes and accounts are apart.
func TestSendLanes(t *testing.T) {
	type step struct {
		m    reply.Message
		wait time.Duration // before the send
		want string
	}
	tests := []struct {
		name  string
		opts  []sandbox.Option
		steps []step
	}{
		{"text lane", []sandbox.Option{sandbox.WithLimit(reply.LaneText, reply.Limit{Count: 3, Period: time.Second})}, []step{
			{m: hello, want: "ok"}, {m: heart, want: "ok"}, {m: reply.Message{Kind: reply.MessageImage, URL: "https://cdn.example.com/i.png"}, want: "ok"},
			{m: hello, want: "613"}, {m: audio, want: "ok"}, {m: hello, want: "613"},
			{m: hello, wait: time.Second, want: "ok"},
		}},
		{"media lane", []sandbox.Option{sandbox.WithLimit(reply.LaneMedia, reply.Limit{Count: 2, Period: time.Second})}, []step{
			{m: audio, want: "ok"}, {m: video, want: "ok"}, {m: video, want: "613"}, {m: hello, want: "ok"},
			{m: video, wait: 999 * time.Millisecond, want: "613"}, {m: video, wait: time.Millisecond, want: "ok"},
		}},
		{"refusals use none", []sandbox.Option{sandbox.WithLimit(reply.LaneText, reply.Limit{Count: 1, Period: time.Second})}, []step{
			{m: reply.Message{Text: "bad https://x"}, want: "100"}, {m: hello, want: "ok"}, {m: hello, want: "613"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts...)
			e.sb.Message(igID, person, "hi")
			e.sb.Message(fbID, person, "hi")
			sent := 0
			for i, s := range tt.steps {
				e.clock.Add(s.wait)
				got := e.dm(t, s.m, "")
				if got != s.want {
					t.Fatalf("step %d (%s): %s, want %s", i, s.m.Type(), got, s.want)
				}
				if got == "ok" {
					sent++
				}
			}
			if st := e.sb.Stats(); len(e.sb.Messages()) != sent || st.Messages != sent {
				t.Errorf("ledger %d, stats %+v; want %d", len(e.sb.Messages()), st, sent)
			}
			// The other account's lanes are untouched.
			if _, err := e.c.SendMessage(t.Context(), fbAccount, fbToken, person, hello, ""); err != nil {
				t.Errorf("other account: %v", err)
			}
		})
	}
}

// TestSendLaneDefault: Meta's 300/s on text holds by default, and its 613 carries the usage
// header the replier reads.
func TestSendLaneDefault(t *testing.T) {
	e := newEnv(t)
	e.sb.Message(igID, person, "hi")
	// One after the other at one instant of the sandbox's clock: the lane counts by that clock,
	// and 301 racing requests only time out on a busy machine.
	got := map[string]int{}
	for range 301 {
		got[e.dm(t, heart, "")]++
	}
	if got["ok"] != 300 || got["613"] != 1 {
		t.Fatalf("answers %v", got)
	}
	_, err := e.c.SendMessage(t.Context(), igAccount, igToken, person, hello, "")
	var ge *reply.GraphError
	if !errors.As(err, &ge) || ge.Code != 613 || ge.Subcode != 0 || ge.RetryAfter <= 0 {
		t.Fatalf("error %v", err)
	}
	for range 10 {
		if r := e.dm(t, video, ""); r != "ok" {
			t.Fatalf("media lane after the text lane filled: %s", r)
		}
	}
	if r := e.dm(t, video, ""); r != "613" {
		t.Errorf("eleventh video in a second: %s", r)
	}
}
