package devstack

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// progress is a slog.Handler that turns the services' log lines into short human lines: what
// arrived, what was decided, what the sweeper moved. Every record also goes on to next (the JSON
// logs) when set.
type progress struct {
	w     io.Writer
	mu    *sync.Mutex
	next  slog.Handler
	attrs []slog.Attr
}

func newProgress(w io.Writer, next slog.Handler) *progress {
	return &progress{w: w, mu: &sync.Mutex{}, next: next}
}

func (p *progress) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelInfo || (p.next != nil && p.next.Enabled(ctx, l))
}

func (p *progress) WithAttrs(as []slog.Attr) slog.Handler {
	n := *p
	n.attrs = append(append([]slog.Attr(nil), p.attrs...), as...)
	if p.next != nil {
		n.next = p.next.WithAttrs(as)
	}
	return &n
}

func (p *progress) WithGroup(name string) slog.Handler {
	n := *p
	if p.next != nil {
		n.next = p.next.WithGroup(name)
	}
	return &n
}

func (p *progress) Handle(ctx context.Context, r slog.Record) error {
	if p.next != nil && p.next.Enabled(ctx, r.Level) {
		if err := p.next.Handle(ctx, r); err != nil {
			return err
		}
	}
	if p.w == nil || r.Level < slog.LevelInfo {
		return nil
	}
	a := map[string]string{}
	for _, x := range p.attrs {
		a[x.Key] = x.Value.String()
	}
	r.Attrs(func(x slog.Attr) bool {
		a[x.Key] = x.Value.String()
		return true
	})
	line := describe(r.Message, a)
	if line == "" && r.Level >= slog.LevelWarn {
		line = fmt.Sprintf("%-8s %s %s", a["fn"], strings.ToLower(r.Level.String()), r.Message)
		if e := a["err"]; e != "" {
			line += ": " + e
		}
	}
	if line == "" {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	_, err := fmt.Fprintf(p.w, "%s %s\n", r.Time.Format("15:04:05.000"), line)
	return err
}

// describe is the progress line for a known log message, or "" to stay quiet.
func describe(msg string, a map[string]string) string {
	switch msg {
	case "delivery accepted":
		s := fmt.Sprintf("webhook  delivery accepted: %s job(s) enqueued", a["jobs"])
		if a["own_dropped"] != "0" && a["own_dropped"] != "" {
			s += ", " + a["own_dropped"] + " own comment(s) dropped"
		}
		if a["ignored"] != "0" && a["ignored"] != "" {
			s += ", " + a["ignored"] + " item(s) ignored"
		}
		return s
	case "delivery: signature rejected":
		return "webhook  delivery rejected: bad signature (401)"
	case "handshake accepted":
		return "webhook  subscription handshake accepted"
	case "job decided":
		action := a["action"]
		switch action {
		case "done":
			action = "already terminal (a duplicate)"
		case "busy":
			action = "held by another worker (a duplicate)"
		}
		s := fmt.Sprintf("replier  comment %s (%s) → %s", a["comment"], a["kind"], action)
		if a["reason"] != "" {
			s += " (" + a["reason"] + ")"
		}
		if a["retry_at"] != "" {
			s += " until " + a["retry_at"]
		}
		return s
	case "sweep":
		if a["expired"] == "0" && a["released"] == "0" && a["redriven"] == "0" {
			return ""
		}
		return fmt.Sprintf("sweeper  expired %s, released %s, re-driven %s, backlog %s", a["expired"], a["released"], a["redriven"], a["backlog"])
	case "comment found without a webhook":
		return fmt.Sprintf("reconcile comment %s (%s) found without a webhook → enqueued", a["comment"], a["kind"])
	case "app was unsubscribed from the account; subscribed again":
		return fmt.Sprintf("reconcile the app was unsubscribed from account %s: subscribed again", a["account"])
	case "graph call":
		if a["op"] != "private_reply" {
			return ""
		}
		s := fmt.Sprintf("sandbox  private reply to comment %s: %s", a["comment"], a["outcome"])
		if a["delivered"] == "true" {
			s += ", DM delivered"
		}
		return s
	}
	return ""
}
