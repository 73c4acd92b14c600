package ssm_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsssm "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/replywindow/replywindow/shared/awstest"
	"github.com/replywindow/replywindow/shared/reply"
	"github.com/replywindow/replywindow/shared/ssm"
)

// counting wraps our client of moto, counting GetParameter calls and failing them on demand.
type counting struct {
	ssm.API
	gets  atomic.Int64
	fail  atomic.Bool
	delay time.Duration
}

func (c *counting) GetParameter(ctx context.Context, name string) (string, error) {
	c.gets.Add(1)
	if c.fail.Load() {
		return "", errors.New("injected: SSM unavailable")
	}
	time.Sleep(c.delay) // widen the window in which concurrent callers meet
	return c.API.GetParameter(ctx, name)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func setup(t *testing.T) (*awsssm.Client, *counting, *ssm.Params, *clock, string) {
	t.Helper()
	// The SDK's client sets up and checks what our client reads and writes, so the two
	// implementations of SSM's protocol check each other.
	client := awsssm.NewFromConfig(awstest.Config(t))
	api := &counting{API: ssm.NewClient(awstest.Config(t))}
	p := ssm.NewParams(api, time.Minute)
	c := &clock{t: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)}
	p.SetClock(c.now)
	return client, api, p, c, "/replywindow-test/" + awstest.Name(t, "p")
}

func put(t *testing.T, c *awsssm.Client, name, value string) {
	t.Helper()
	_, err := c.PutParameter(awstest.Context(t), &awsssm.PutParameterInput{
		Name: aws.String(name), Value: aws.String(value), Type: types.ParameterTypeSecureString, Overwrite: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("put %s: %v", name, err)
	}
}

func TestGet(t *testing.T) {
	tests := []struct {
		name  string
		steps func(t *testing.T, client *awsssm.Client, api *counting, p *ssm.Params, c *clock, param string)
	}{
		{"a SecureString is read decrypted", func(t *testing.T, client *awsssm.Client, api *counting, p *ssm.Params, c *clock, param string) {
			put(t, client, param, "s3cr3t-ä")
			expect(t, p, param, "s3cr3t-ä", nil)
		}},
		{"a missing parameter is ErrNotFound and not cached", func(t *testing.T, client *awsssm.Client, api *counting, p *ssm.Params, c *clock, param string) {
			expect(t, p, param, "", reply.ErrNotFound)
			put(t, client, param, "now-there")
			expect(t, p, param, "now-there", nil)
		}},
		{"the value is cached for the TTL, then re-read", func(t *testing.T, client *awsssm.Client, api *counting, p *ssm.Params, c *clock, param string) {
			put(t, client, param, "v1")
			expect(t, p, param, "v1", nil)
			put(t, client, param, "v2") // rotated behind our back
			c.advance(59 * time.Second)
			expect(t, p, param, "v1", nil)
			if n := api.gets.Load(); n != 1 {
				t.Errorf("GetParameter called %d times within the TTL, want 1", n)
			}
			c.advance(time.Second)
			expect(t, p, param, "v2", nil)
		}},
		{"Put replaces the value and the cache at once", func(t *testing.T, client *awsssm.Client, api *counting, p *ssm.Params, c *clock, param string) {
			put(t, client, param, "old")
			expect(t, p, param, "old", nil)
			if err := p.Put(awstest.Context(t), param, "new"); err != nil {
				t.Fatal(err)
			}
			expect(t, p, param, "new", nil)
			out, err := client.GetParameter(awstest.Context(t), &awsssm.GetParameterInput{Name: aws.String(param)})
			if err != nil || out.Parameter.Type != types.ParameterTypeSecureString {
				t.Errorf("stored parameter %+v, %v: want a SecureString", out, err)
			}
		}},
		{"a failing refresh keeps the last value", func(t *testing.T, client *awsssm.Client, api *counting, p *ssm.Params, c *clock, param string) {
			put(t, client, param, "last-good")
			expect(t, p, param, "last-good", nil)
			api.fail.Store(true)
			c.advance(time.Hour)
			expect(t, p, param, "last-good", nil)
		}},
		{"a failing first read is an error", func(t *testing.T, client *awsssm.Client, api *counting, p *ssm.Params, c *clock, param string) {
			put(t, client, param, "x")
			api.fail.Store(true)
			_, err := p.Get(awstest.Context(t), param)
			if err == nil || !strings.Contains(err.Error(), param) {
				t.Errorf("Get error = %v, want one naming the parameter", err)
			}
		}},
		{"Delete removes it; deleting again is ErrNotFound", func(t *testing.T, client *awsssm.Client, api *counting, p *ssm.Params, c *clock, param string) {
			put(t, client, param, "doomed")
			expect(t, p, param, "doomed", nil)
			if err := p.Delete(awstest.Context(t), param); err != nil {
				t.Fatal(err)
			}
			expect(t, p, param, "", reply.ErrNotFound)
			if err := p.Delete(awstest.Context(t), param); !errors.Is(err, reply.ErrNotFound) {
				t.Errorf("second Delete = %v, want ErrNotFound", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, api, p, c, param := setup(t)
			tt.steps(t, client, api, p, c, param)
		})
	}
}

func expect(t *testing.T, p *ssm.Params, name, want string, wantErr error) {
	t.Helper()
	got, err := p.Get(awstest.Context(t), name)
	if wantErr != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("Get(%s) = %q, %v; want error %v", name, got, err, wantErr)
		}
		return
	}
	if err != nil || got != want {
		t.Fatalf("Get(%s) = %q, %v; want %q", name, got, err, want)
	}
}

func TestGetConcurrentCallersShareOneFetch(t *testing.T) {
	client, api, p, _, param := setup(t)
	put(t, client, param, "shared")
	api.delay = 100 * time.Millisecond
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			if v, err := p.Get(awstest.Context(t), param); err != nil || v != "shared" {
				errs <- errors.Join(err, errors.New("got "+v))
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := api.gets.Load(); n != 1 {
		t.Errorf("GetParameter called %d times for 50 concurrent callers, want 1", n)
	}
}

func TestGetWaiterOutlivesTheFetchersContext(t *testing.T) {
	client, api, p, _, param := setup(t)
	put(t, client, param, "v")
	api.delay = 200 * time.Millisecond
	short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	first := make(chan error, 1)
	go func() { _, err := p.Get(short, param); first <- err }()
	time.Sleep(10 * time.Millisecond)
	expect(t, p, param, "v", nil) // waits on the doomed fetch, then fetches itself
	if err := <-first; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("first caller's error = %v, want its deadline", err)
	}
}

func TestTokens(t *testing.T) {
	client, _, p, _, param := setup(t)
	put(t, client, param, "IGAAtoken-value")
	tokens := ssm.Tokens{Params: p}
	tests := []struct {
		name    string
		account reply.Account
		want    string
		wantErr error
	}{
		{name: "the account's parameter", account: reply.Account{ID: "1", TokenParam: param}, want: "IGAAtoken-value"},
		{name: "no parameter configured", account: reply.Account{ID: "2"}, wantErr: errors.New("any")},
		{name: "a missing parameter", account: reply.Account{ID: "3", TokenParam: param + "-gone"}, wantErr: reply.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tokens.Token(awstest.Context(t), tt.account)
			switch {
			case tt.wantErr == nil && (err != nil || got != tt.want):
				t.Fatalf("Token = %q, %v; want %q", got, err, tt.want)
			case tt.wantErr != nil && err == nil:
				t.Fatalf("Token = %q, want an error", got)
			case tt.wantErr == reply.ErrNotFound && !errors.Is(err, reply.ErrNotFound):
				t.Fatalf("Token error = %v, want ErrNotFound", err)
			case err != nil && (!strings.Contains(err.Error(), tt.account.ID) || strings.Contains(err.Error(), "IGAA")):
				t.Errorf("Token error %q: want the account named and no token", err)
			}
		})
	}
}
