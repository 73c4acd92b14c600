package sandbox

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/replywindow/replywindow/shared/reply"
)

// PreviewUserAgent is the user agent of Meta's link-preview crawler, which fetches each link of
// a message when it is sent (developers.facebook.com/docs/sharing/webmasters/web-crawlers).
const PreviewUserAgent = "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)"

// Preview is one link fetch the sandbox made as Meta's crawler.
type Preview struct {
	URL    string    `json:"url"`
	Status int       `json:"status"` // 0 when the fetch failed
	Err    string    `json:"err,omitempty"`
	At     time.Time `json:"at"`
}

// previews is the crawler: the client it fetches with, what it fetched, and fetches under way.
type previews struct {
	client *http.Client
	mu     sync.Mutex
	done   []Preview
	wg     sync.WaitGroup
}

// WithPreviews has the sandbox fetch every http(s) link of an accepted message (its text and
// its URL buttons) as Meta's preview crawler does: a GET with PreviewUserAgent, after the send
// was answered, one request per link, not following redirects (the crawler's first hop is all a
// click counter sees; the targets of tests are not reachable). Off by default.
func WithPreviews(client *http.Client) Option {
	return func(s *Sandbox) {
		if client == nil {
			client = &http.Client{Timeout: 5 * time.Second}
		}
		c := *client
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		s.previews = &previews{client: &c}
	}
}

var previewLink = regexp.MustCompile(`https?://[^\s]+`)

// previewLocked starts the crawler's fetches of the links of a message just accepted; s.mu is
// held, the fetches run without it.
func (s *Sandbox) previewLocked(text string, buttons []reply.Button) {
	p := s.previews
	if p == nil {
		return
	}
	var urls []string
	for _, u := range previewLink.FindAllString(text, -1) {
		urls = append(urls, strings.TrimRight(u, ".,;:!?)"))
	}
	for _, b := range buttons {
		if b.Type == reply.ButtonURL {
			urls = append(urls, b.URL)
		}
	}
	for _, u := range urls {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			got := Preview{URL: u, At: s.now()}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err == nil {
				req.Header.Set("User-Agent", PreviewUserAgent)
				var res *http.Response
				if res, err = p.client.Do(req); err == nil {
					got.Status = res.StatusCode
					res.Body.Close()
				}
			}
			if err != nil {
				got.Err = err.Error()
			}
			p.mu.Lock()
			p.done = append(p.done, got)
			p.mu.Unlock()
		}()
	}
}

// Previews waits for the crawler's fetches under way and is every fetch it made, in the order
// they finished (nil when WithPreviews is off).
func (s *Sandbox) Previews() []Preview {
	p := s.previews
	if p == nil {
		return nil
	}
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Preview(nil), p.done...)
}
