package webhook

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Seeds beyond testdata/fuzz: every test delivery and sample event body (Meta's \u00e4 and \/
// escapes included) is added in code, so new testdata widens the fuzzing without a step.
func addDeliveries(f *testing.F, add func(body []byte)) {
	files, _ := filepath.Glob(filepath.Join("testdata", "deliveries", "*.json"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		add(b)
	}
}

// FuzzParse: Parse never panics, and what it returns keeps the promises the queue relies on.
func FuzzParse(f *testing.F) {
	addDeliveries(f, func(b []byte) { f.Add(b) })
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := Parse(body, now)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, j := range d.Jobs {
			if err := j.Validate(); err != nil {
				t.Fatalf("invalid job %+v: %v", j, err)
			}
			if j.Own() {
				t.Fatalf("own comment enqueued: %+v", j)
			}
			if j.Event != nil {
				continue
			}
			if j.CommentedAt.After(now) || (!j.DeliveredAt.After(now) && !j.CommentedAt.Equal(j.DeliveredAt)) {
				t.Fatalf("comment time %v (delivered %v, now %v)", j.CommentedAt, j.DeliveredAt, now)
			}
			k := j.AccountID + "\x00" + j.CommentID
			if seen[k] {
				t.Fatalf("comment %s enqueued twice", j.CommentID)
			}
			seen[k] = true
		}
		for _, j := range d.Jobs {
			if j.Event != nil && j.Event.At.After(now) {
				t.Fatalf("event time %v after now", j.Event.At)
			}
		}
		if d.OwnDropped < 0 || d.Ignored < 0 {
			t.Fatalf("negative counts %+v", d)
		}
		// The one-pass decode and the item-by-item one agree wherever both can read the body.
		raw, err := parseRaw(body, isArray(body), now)
		if err != nil {
			t.Fatalf("Parse succeeded, the item-by-item pass failed: %v", err)
		}
		raw.dedupe()
		if !reflect.DeepEqual(raw, d) {
			t.Fatalf("passes disagree:\n one %+v\nitem %+v", d, raw)
		}
	})
}

// FuzzVerify: Verify never panics, accepts exactly Sign's header for the body, and refuses the
// header once a byte of the body changes.
func FuzzVerify(f *testing.F) {
	addDeliveries(f, func(b []byte) { f.Add(b, "replywindow-local-app-secret", Sign(b, "replywindow-local-app-secret")) })
	f.Add([]byte{}, "s", "sha256=")
	f.Add([]byte("x"), "s", "SHA256="+strings.Repeat("F", 64))
	f.Fuzz(func(t *testing.T, body []byte, secret, header string) {
		err := Verify(body, header, []string{secret})
		if err == nil && !strings.EqualFold(strings.TrimSpace(header), Sign(body, secret)) {
			t.Fatalf("header %q verified for secret %q, want only %q", header, secret, Sign(body, secret))
		}
		if secret == "" {
			return
		}
		good := Sign(body, secret)
		if err := Verify(body, good, []string{"other", secret}); err != nil {
			t.Fatalf("Sign's own header refused: %v", err)
		}
		if len(body) > 0 {
			changed := append([]byte(nil), body...)
			changed[len(changed)/2] ^= 0x01
			if err := Verify(changed, good, []string{secret}); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("changed body verified: %v", err)
			}
		}
	})
}
