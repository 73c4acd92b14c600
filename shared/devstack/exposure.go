package devstack

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/replywindow/replywindow/shared/graph"
)

// Endpoint is where one client of the stack sends its requests.
type Endpoint struct {
	Service string // "DynamoDB", "SQS", "Graph API"
	URL     string // the endpoint the client will use; "" is the service's own (AWS's) endpoint
	Local   bool   // on this machine: a loopback host (an emulator) or the embedded sandbox
}

func (e Endpoint) String() string {
	if e.URL == "" {
		return e.Service + " on AWS"
	}
	return e.Service + " at " + e.URL
}

// Endpoints are the endpoints of the remote clients cfg makes Start build, judged as the SDK
// resolves them: each AWS client is built from cfg.AWS, and its resolved BaseEndpoint read
// back, so AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_<SERVICE>, an endpoint_url or services section of
// the shared config, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (which drops them all) and an
// endpoint set in code all count as they will at run time. No endpoint means AWS's own. A part
// left embedded (memory store or queue, the sandbox) has no endpoint. The stack builds no SSM
// client: its tokens come from Config.Tokens.
func Endpoints(cfg Config) []Endpoint {
	var out []Endpoint
	add := func(service string, base *string) {
		e := Endpoint{Service: service}
		if base != nil {
			e.URL = *base
		}
		e.Local = localURL(e.URL)
		out = append(out, e)
	}
	if cfg.AWS != nil && cfg.TableName != "" {
		add("DynamoDB", dynamodb.NewFromConfig(*cfg.AWS).Options().BaseEndpoint)
	}
	if cfg.AWS != nil && cfg.QueueURL != "" {
		add("SQS", awssqs.NewFromConfig(*cfg.AWS).Options().BaseEndpoint)
	}
	if cfg.GraphAPIURL != "" {
		out = append(out, Endpoint{Service: "Graph API", URL: cfg.GraphAPIURL, Local: localURL(cfg.GraphAPIURL)})
	}
	return out
}

// ErrExposed is why Start refuses a configuration that would serve real accounts to the network.
var ErrExposed = errors.New("would expose real accounts")

// CheckExposure refuses what would let anyone reach production through the stack: a queue URL
// on AWS (whatever the address: the stack's poller would drain the real stack's jobs), and a
// listen address other than loopback unless every client is local — else anyone on the network
// could sign forged comments, taps and echoes (the default app secret is committed in this
// repository) and real repliers would act on them.
func CheckExposure(cfg Config) error {
	if cfg.QueueURL != "" && awsHost(cfg.QueueURL) {
		return fmt.Errorf("%w: queue URL %s is an AWS queue: the dev stack would take the real stack's jobs; use a local emulator's queue", ErrExposed, cfg.QueueURL)
	}
	addr := cfg.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	if loopbackAddr(addr) {
		return nil
	}
	var real []string
	for _, e := range Endpoints(cfg) {
		if !e.Local {
			real = append(real, e.String())
		}
	}
	if len(real) == 0 {
		return nil
	}
	return fmt.Errorf("%w: -addr %s: with %s the webhook listens on a loopback address only (e.g. 127.0.0.1:8080)",
		ErrExposed, addr, strings.Join(real, " and "))
}

// loopbackAddr reports whether a listen address is on loopback only: "localhost" or a loopback
// IP. An empty host (":8080") listens on every interface.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// localURL reports whether raw is an endpoint on this machine.
func localURL(raw string) bool {
	u, err := url.Parse(raw)
	return raw != "" && err == nil && u.Host != "" && graph.LocalHost(u.Hostname())
}

// awsHost reports whether raw names a host of AWS's (*.amazonaws.com, and the China regions').
func awsHost(raw string) bool {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		// Not a URL the SDK could call as given; judge the text itself.
		return strings.Contains(strings.ToLower(raw), "amazonaws.com")
	}
	h := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	for _, d := range []string{"amazonaws.com", "amazonaws.com.cn"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}
