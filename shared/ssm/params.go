// Package ssm keeps replywindow's secrets (app secrets, the verify token, account tokens) in SSM
// Parameter Store SecureStrings. Values are cached for a short TTL so a warm Lambda does not call
// SSM per request, yet a rotated secret is picked up without a redeploy.
package ssm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// API is what Params asks of Parameter Store; *Client implements it. A missing parameter is an
// error matching reply.ErrNotFound.
type API interface {
	// GetParameter is the value, decrypted.
	GetParameter(ctx context.Context, name string) (string, error)
	// PutParameter stores a SecureString, overwriting, under KMS key keyID (empty: aws/ssm).
	PutParameter(ctx context.Context, name, value, keyID string) error
	DeleteParameter(ctx context.Context, name string) error
}

// DefaultTTL is how long a value is used before SSM is asked again.
const DefaultTTL = 5 * time.Minute

// Params reads SecureString parameters through a cache. It is safe for concurrent use; callers
// asking for the same name while it is being fetched wait for that one fetch.
type Params struct {
	api API
	ttl time.Duration
	now func() time.Time
	// KeyID is the KMS key Put encrypts with; empty means the account's aws/ssm key. Set it to
	// the key the stack's secrets use, or a refreshed token would quietly move to the default key.
	KeyID string

	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	value   string
	fetched time.Time
	have    bool  // value holds a fetched value (possibly stale)
	gen     int   // bumped by Put and Delete, so a fetch that started before cannot cache an old value
	call    *call // the fetch in flight, if any
}

// call is one fetch that every caller of the same name waits for.
type call struct {
	done  chan struct{}
	value string
	err   error
}

// NewParams caches values for ttl (DefaultTTL when ttl <= 0).
func NewParams(api API, ttl time.Duration) *Params {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	return &Params{api: api, ttl: ttl, now: time.Now, entries: map[string]*entry{}}
}

// SetClock replaces the clock the TTL is measured with (tests).
func (p *Params) SetClock(now func() time.Time) { p.now = now }

// Get is the decrypted value of the parameter. A missing parameter is an error wrapping
// reply.ErrNotFound. When a refresh fails for another reason (SSM throttling or an outage) the
// last value is used rather than failing every request: rotation needs a fresh value eventually,
// not within the second.
func (p *Params) Get(ctx context.Context, name string) (string, error) {
	for {
		p.mu.Lock()
		e := p.entries[name]
		if e == nil {
			e = &entry{}
			p.entries[name] = e
		}
		if e.have && p.now().Sub(e.fetched) < p.ttl {
			v := e.value
			p.mu.Unlock()
			return v, nil
		}
		if c := e.call; c != nil {
			p.mu.Unlock()
			select {
			case <-c.done:
			case <-ctx.Done():
				return "", fmt.Errorf("ssm parameter %s: %w", name, ctx.Err())
			}
			if c.err == nil {
				return c.value, nil
			}
			if ctx.Err() == nil && (errors.Is(c.err, context.Canceled) || errors.Is(c.err, context.DeadlineExceeded)) {
				continue // the fetch died with its caller's context, not ours: fetch again
			}
			return "", c.err
		}
		c := &call{done: make(chan struct{})}
		e.call = c
		gen := e.gen
		p.mu.Unlock()

		v, err := p.fetch(ctx, name)

		p.mu.Lock()
		switch {
		case err == nil && e.gen == gen:
			e.value, e.have, e.fetched = v, true, p.now()
		case errors.Is(err, reply.ErrNotFound):
			e.have = false
		case err != nil && e.have:
			v, err = e.value, nil // stale beats down
		}
		c.value, c.err = v, err
		e.call = nil
		close(c.done)
		p.mu.Unlock()
		return v, err
	}
}

func (p *Params) fetch(ctx context.Context, name string) (string, error) {
	v, err := p.api.GetParameter(ctx, name)
	if err != nil {
		if errors.Is(err, reply.ErrNotFound) {
			return "", fmt.Errorf("ssm parameter %s: %w", name, reply.ErrNotFound)
		}
		return "", fmt.Errorf("get ssm parameter %s: %w", name, err)
	}
	return v, nil
}

// Put stores value under name as a SecureString, replacing any value, and forgets the cached one
// so this process reads the new value next.
func (p *Params) Put(ctx context.Context, name, value string) error {
	if err := p.api.PutParameter(ctx, name, value, p.KeyID); err != nil {
		return fmt.Errorf("put ssm parameter %s: %w", name, err)
	}
	p.forget(name)
	return nil
}

// Delete removes the parameter. A parameter that does not exist is an error wrapping
// reply.ErrNotFound.
func (p *Params) Delete(ctx context.Context, name string) error {
	err := p.api.DeleteParameter(ctx, name)
	p.forget(name)
	if err != nil {
		if errors.Is(err, reply.ErrNotFound) {
			return fmt.Errorf("delete ssm parameter %s: %w", name, reply.ErrNotFound)
		}
		return fmt.Errorf("delete ssm parameter %s: %w", name, err)
	}
	return nil
}

func (p *Params) forget(name string) {
	p.mu.Lock()
	if e := p.entries[name]; e != nil {
		e.have = false
		e.gen++
	}
	p.mu.Unlock()
}

// Tokens hands out account access tokens stored in SSM under each account's TokenParam.
type Tokens struct{ Params *Params }

var _ reply.Tokens = Tokens{}

// Token is the account's access token. It is never logged or put into errors.
func (t Tokens) Token(ctx context.Context, a reply.Account) (string, error) {
	if a.TokenParam == "" {
		return "", fmt.Errorf("token of account %s: no token parameter configured", a.ID)
	}
	v, err := t.Params.Get(ctx, a.TokenParam)
	if err != nil {
		return "", fmt.Errorf("token of account %s: %w", a.ID, err)
	}
	if v == "" {
		return "", fmt.Errorf("token of account %s: parameter %s is empty", a.ID, a.TokenParam)
	}
	return v, nil
}
