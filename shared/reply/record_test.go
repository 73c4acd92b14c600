package reply

import (
	"errors"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func job(comment string) Job {
	return Job{V: JobVersion, AccountID: "acct", CommentID: comment, MediaID: "m1", FromID: "p1",
		FromUsername: "ana", Text: "RECIPE please", Kind: KindReel, CommentedAt: t0, DeliveredAt: t0}
}

func TestJobValidateAndKey(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Job)
		want error
	}{
		{"valid", func(*Job) {}, nil},
		{"old version", func(j *Job) { j.V = 0 }, ErrInvalidJob},
		{"no account", func(j *Job) { j.AccountID = "" }, ErrInvalidJob},
		{"no comment", func(j *Job) { j.CommentID = "" }, ErrInvalidJob},
		{"bad kind", func(j *Job) { j.Kind = "story" }, ErrInvalidJob},
		{"no time", func(j *Job) { j.CommentedAt = time.Time{} }, ErrInvalidJob},
	}
	for _, tt := range tests {
		j := job("c1")
		tt.edit(&j)
		if err := j.Validate(); !errors.Is(err, tt.want) {
			t.Errorf("%s: Validate() = %v, want %v", tt.name, err, tt.want)
		}
	}
	// The record's key is the comment's alone, whatever the shape; the funnel guard needs the
	// person and the media, an ad's original post first.
	for _, tc := range []struct {
		name       string
		edit       func(*Job)
		key, guard string
	}{
		{"full", func(*Job) {}, "C#c1", "F#acct#m1#p1"},
		{"no person", func(j *Job) { j.FromID = "" }, "C#c1", ""},
		{"no media", func(j *Job) { j.MediaID = "" }, "C#c1", ""},
		{"ad with its original post", func(j *Job) { j.MediaID, j.OriginalMediaID, j.Kind = "ad9", "m1", KindAd }, "C#c1", "F#acct#m1#p1"},
		{"original post only", func(j *Job) { j.MediaID, j.OriginalMediaID = "", "m1" }, "C#c1", "F#acct#m1#p1"},
	} {
		j := job("c1")
		tc.edit(&j)
		if got := j.Key(); got != tc.key {
			t.Errorf("%s: key = %q, want %q", tc.name, got, tc.key)
		}
		if got := j.Funnel(); got != tc.guard {
			t.Errorf("%s: funnel = %q, want %q", tc.name, got, tc.guard)
		}
	}
	if d := job("c").Deadline(); !d.Equal(t0.Add(7 * 24 * time.Hour)) {
		t.Errorf("deadline = %v", d)
	}
	live := job("c")
	live.Kind = KindLive
	if d := live.Deadline(); !d.Equal(t0.Add(LiveWindow)) || live.Kind.Lane() != LaneLive {
		t.Errorf("live deadline = %v lane %v", d, live.Kind.Lane())
	}
}

func TestClaim(t *testing.T) {
	now := t0.Add(time.Minute)
	lease := now.Add(30 * time.Second)
	fresh := Record{Key: "F#acct#m1#p1"}
	claimed, err := fresh.Claim(job("c1"), "w1", now, lease)
	if err != nil {
		t.Fatal(err)
	}
	if claimed.State != StateLeased || claimed.Version != 1 || claimed.Attempts != 1 || claimed.Uncertain {
		t.Fatalf("first claim = %+v", claimed)
	}
	tests := []struct {
		name    string
		rec     Record
		comment string
		at      time.Time
		want    error
	}{
		{"live lease", claimed, "c1", now.Add(10 * time.Second), ErrBusy},
		{"other comment of the same person", claimed, "c2", now.Add(time.Hour), ErrOtherOwner},
		{"terminal", must(claimed.Finish(Sent("m", "r"), true, now)), "c1", now.Add(time.Hour), ErrDone},
		{"parked until later", must(claimed.Park(now.Add(time.Hour), "rate", false, now)), "c1", now.Add(time.Minute), ErrBusy},
		{"parked and due", must(claimed.Park(now.Add(time.Hour), "rate", false, now)), "c1", now.Add(2 * time.Hour), nil},
		{"lease ran out", claimed, "c1", lease.Add(time.Second), nil},
	}
	for _, tt := range tests {
		got, err := tt.rec.Claim(job(tt.comment), "w2", tt.at, tt.at.Add(30*time.Second))
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err = %v, want %v", tt.name, err, tt.want)
			continue
		}
		if err == nil && (got.Owner != "w2" || got.Version != tt.rec.Version+1) {
			t.Errorf("%s: claimed = %+v", tt.name, got)
		}
	}
	// A takeover after a crash knows an earlier holder may have sent.
	taken := must(claimed.Claim(job("c1"), "w2", lease.Add(time.Second), lease.Add(time.Minute)))
	if !taken.Uncertain || taken.Attempts != 2 {
		t.Errorf("takeover = %+v, want uncertain with 2 attempts", taken)
	}
	// A parked record whose holder never sent is not uncertain when claimed again.
	parked := must(claimed.Park(now, "rate", false, now))
	again := must(parked.Claim(job("c1"), "w3", now, lease))
	if again.Uncertain || again.Attempts != 1 {
		t.Errorf("claim after an unsent park = %+v", again)
	}
}

func TestFinishParkReleaseRedriveExpire(t *testing.T) {
	now := t0.Add(time.Minute)
	leased := must(Record{Key: "C#c1"}.Claim(job("c1"), "w1", now, now.Add(30*time.Second)))

	sent := must(leased.Finish(Sent("mid", "rid"), true, now))
	if sent.State != StateSent || sent.MessageID != "mid" || !sent.DueAt.IsZero() || sent.Owner != "" {
		t.Errorf("sent = %+v", sent)
	}
	if _, err := sent.Finish(Skipped(SkipNoRule), false, now); !errors.Is(err, ErrConflict) {
		t.Errorf("finishing twice: %v", err)
	}
	if _, err := leased.Finish(Outcome{State: StateParked}, false, now); err == nil {
		t.Error("finish with a non-terminal state succeeded")
	}

	parked := must(leased.Park(now.Add(time.Hour), "rate", false, now))
	if parked.State != StateParked || parked.Attempts != 0 || !parked.DueAt.Equal(now.Add(time.Hour)) {
		t.Errorf("parked = %+v", parked)
	}
	if _, err := parked.Release(true, now); !errors.Is(err, ErrNotDue) {
		t.Errorf("early release: %v", err)
	}
	released := must(parked.Release(true, now.Add(time.Hour)))
	if released.State != StateQueued || released.GrantedAt.IsZero() || !released.DueAt.Equal(now.Add(time.Hour+OrphanGrace)) {
		t.Errorf("released = %+v", released)
	}
	if released.Orphaned(now.Add(time.Hour)) || !released.Orphaned(now.Add(time.Hour+OrphanGrace)) {
		t.Error("queued record orphan detection is wrong")
	}
	if !leased.Orphaned(now.Add(31*time.Second)) || leased.Orphaned(now) {
		t.Error("leased record orphan detection is wrong")
	}
	redriven := must(leased.Redrive(now.Add(time.Minute)))
	if redriven.State != StateQueued || !redriven.Uncertain {
		t.Errorf("redriven = %+v, want queued and uncertain", redriven)
	}

	// Expiry: never before the deadline, never over a terminal record or a live lease.
	past := leased.Deadline.Add(time.Second)
	if _, err := parked.Expire(now); !errors.Is(err, ErrNotDue) {
		t.Errorf("expire before deadline: %v", err)
	}
	if _, err := sent.Expire(past); !errors.Is(err, ErrDone) {
		t.Errorf("expire after sent: %v", err)
	}
	liveLease := must(parked.Claim(job("c1"), "w9", past.Add(-time.Second), past.Add(time.Minute)))
	if _, err := liveLease.Expire(past); !errors.Is(err, ErrBusy) {
		t.Errorf("expire during a live lease: %v", err)
	}
	exp := must(parked.Expire(past))
	if exp.State != StateExpired || !exp.DueAt.IsZero() {
		t.Errorf("expired = %+v", exp)
	}
	// A parked record is due no later than its deadline, so expiry never waits.
	late := must(leased.Park(leased.Deadline.Add(time.Hour), "rate", false, now))
	if !late.DueAt.Equal(leased.Deadline) {
		t.Errorf("due = %v, want the deadline %v", late.DueAt, leased.Deadline)
	}
}

func TestEndBroadcast(t *testing.T) {
	j := job("c1")
	j.Kind = KindLive
	now := t0.Add(time.Minute)
	parked := NewParked(j, now.Add(time.Second), "rate", now)
	if got := must(parked.EndBroadcast(now)); got.State != StateExpired || got.Reason != "broadcast_ended" {
		t.Errorf("ended = %+v", got)
	}
	post := NewParked(job("c2"), now, "rate", now)
	if _, err := post.EndBroadcast(now); err == nil {
		t.Error("a post's record was ended as a broadcast")
	}
}

func must(r Record, err error) Record {
	if err != nil {
		panic(err)
	}
	return r
}

func TestExpireAfterUncertainSend(t *testing.T) {
	now := t0.Add(time.Minute)
	leased := must(Record{Key: "C#c1"}.Claim(job("c1"), "w1", now, now.Add(30*time.Second)))
	past := leased.Deadline.Add(time.Second)
	if got := must(leased.Expire(past)); got.Reason != "window_after_uncertain_send" {
		t.Errorf("crashed holder's record expired with reason %q", got.Reason)
	}
	unsent := must(leased.Park(now, "rate", false, now))
	if got := must(unsent.Expire(past)); got.Reason != "window" {
		t.Errorf("never-sent record expired with reason %q", got.Reason)
	}
}

// TestWaitingInTheLane: a record parked for its own bucket's token waits in its lane, out of the
// due index until its deadline, and is released whenever the sweeper reaches it; a grant lives
// for the limit's token life.
func TestWaitingInTheLane(t *testing.T) {
	now := t0.Add(time.Minute)
	lim := DefaultPostsLimit
	tests := []struct {
		name      string
		rec       Record
		waiting   bool
		sweepAt   time.Time
		releaseAt time.Time // released at this time
		releaseOK bool
	}{
		{name: "rate limited: in the lane", rec: NewParked(job("c1"), now.Add(time.Hour), ReasonRateLimited, now),
			waiting: true, sweepAt: job("c1").Deadline(), releaseAt: now, releaseOK: true},
		{name: "throttled: in the due index", rec: NewParked(job("c2"), now.Add(time.Hour), "throttled", now),
			sweepAt: now.Add(time.Hour), releaseAt: now},
		{name: "throttled and due", rec: NewParked(job("c3"), now, "throttled", now),
			sweepAt: now, releaseAt: now, releaseOK: true},
		{name: "queued", rec: must(NewParked(job("c4"), now, ReasonRateLimited, now).Release(false, now)),
			sweepAt: now.Add(OrphanGrace), releaseAt: now},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.rec.Waiting(); got != tt.waiting {
				t.Errorf("waiting = %v, want %v", got, tt.waiting)
			}
			if got := tt.rec.SweepAt(); !got.Equal(tt.sweepAt) {
				t.Errorf("sweep at %v, want %v", got, tt.sweepAt)
			}
			n, err := tt.rec.Release(true, tt.releaseAt)
			if (err == nil) != tt.releaseOK {
				t.Fatalf("release: %v, want ok %v", err, tt.releaseOK)
			}
			if err != nil {
				return
			}
			if n.Waiting() || !n.Granted(lim, tt.releaseAt) || !n.Granted(lim, tt.releaseAt.Add(lim.TokenLife()-1)) {
				t.Errorf("released %+v: want queued with a live grant", n)
			}
			if n.Granted(lim, tt.releaseAt.Add(lim.TokenLife())) || n.Granted(lim, tt.releaseAt.Add(-time.Second)) {
				t.Error("a grant outside its token's life counted")
			}
		})
	}
}

func TestLearnMovesTheDeadlineEarlierOnly(t *testing.T) {
	now := t0.Add(time.Hour)
	rec := NewParked(job("c1"), now.Add(time.Hour), "rate", now)
	older := job("c1")
	older.CommentedAt = t0.Add(-Window + 30*time.Minute) // closes before the record was due
	got := rec.Learn(older)
	if want := older.CommentedAt.Add(Window); !got.Deadline.Equal(want) || !got.DueAt.Equal(want) || !got.Job.CommentedAt.Equal(older.CommentedAt) {
		t.Fatalf("learned an older comment: deadline %s due %s, want both %s", got.Deadline, got.DueAt, want)
	}
	if got.Version != rec.Version {
		t.Fatal("Learn wrote a version: it only informs the next write")
	}
	younger := job("c1")
	younger.CommentedAt = t0.Add(time.Hour)
	if got := rec.Learn(younger); !got.Deadline.Equal(rec.Deadline) {
		t.Fatalf("a later time moved the deadline to %s", got.Deadline)
	}
	if got := rec.Learn(job("c2")); !got.Deadline.Equal(rec.Deadline) {
		t.Fatal("another comment's job changed the record")
	}
}
