package functions

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkColdStart measures each function's init: from process start to its first request
// for work (GET /runtime/invocation/next) to a local Lambda Runtime API, side by side with a
// hello-world aws-lambda-go function built the same way (-trimpath -tags lambda.norpc -s -w,
// static), in one run: every iteration starts each binary once, in turn. The binaries are built
// for this machine to run here; the stripped arm64 bootstraps Lambda runs are built too, for
// their sizes. Each function gets events/env.json's local environment, with its AWS endpoints
// pointed at a closed port: init must not call AWS. Target: init <= 1.5 x hello's (issue 23).
//
//	go test -run '^$' -bench ColdStart -benchtime 30x ./functions
func BenchmarkColdStart(b *testing.B) {
	root, err := filepath.Abs("..")
	if err != nil {
		b.Fatal(err)
	}
	env := localEnv(b, root)
	targets := []struct{ name, pkg, env string }{
		{"hello", "./functions/testdata/hello", ""},
		{"webhook", "./functions/webhook", "WebhookFunction"},
		{"replier", "./functions/replier", "ReplierFunction"},
		{"sweeper", "./functions/sweeper", "SweeperFunction"},
	}
	dir := b.TempDir()
	bins, sizes := map[string]string{}, map[string]int64{}
	for _, t := range targets {
		bins[t.name] = filepath.Join(dir, t.name)
		build(b, root, runtime.GOARCH, bins[t.name], t.pkg)
		arm := filepath.Join(dir, t.name+"-arm64")
		build(b, root, "arm64", arm, t.pkg)
		st, err := os.Stat(arm)
		if err != nil {
			b.Fatal(err)
		}
		sizes[t.name] = st.Size()
	}
	api := newRuntimeAPI()
	defer api.srv.Close()
	inits, cpus := map[string][]time.Duration{}, map[string][]time.Duration{}
	for b.Loop() {
		for _, t := range targets {
			d, cpu, err := api.coldStart(bins[t.name], env[t.env])
			if err != nil {
				b.Fatalf("%s: %v", t.name, err)
			}
			inits[t.name] = append(inits[t.name], d)
			cpus[t.name] = append(cpus[t.name], cpu)
		}
	}
	hello, helloCPU := median(inits["hello"]), median(cpus["hello"])
	for _, t := range targets {
		m, cpu := median(inits[t.name]), median(cpus[t.name])
		b.ReportMetric(float64(m.Microseconds())/1000, t.name+"-init-ms")
		b.ReportMetric(float64(cpu.Microseconds())/1000, t.name+"-cpu-ms")
		b.ReportMetric(float64(sizes[t.name])/1e6, t.name+"-arm64-MB")
		if t.name != "hello" {
			b.ReportMetric(float64(m)/float64(hello), t.name+"/hello")
			b.ReportMetric(float64(cpu)/float64(helloCPU), t.name+"/hello-cpu")
		}
	}
}

// build compiles pkg as Lambda's bootstraps are (the Makefile's LAMBDA_BUILD) for goarch.
func build(b *testing.B, root, goarch, out, pkg string) {
	b.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-tags", "lambda.norpc", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if o, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build %s for %s: %v\n%s", pkg, goarch, err, o)
	}
}

// localEnv is events/env.json per function, its Parameters first, with every endpoint on a
// closed port and the variables the Lambda service sets.
func localEnv(b *testing.B, root string) map[string][]string {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "events", "env.json"))
	if err != nil {
		b.Fatal(err)
	}
	var file map[string]map[string]string
	if err := json.Unmarshal(raw, &file); err != nil {
		b.Fatalf("events/env.json: %v", err)
	}
	base := []string{"AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=cold", "AWS_SECRET_ACCESS_KEY=start",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=512", "AWS_LAMBDA_FUNCTION_VERSION=$LATEST", "AWS_LAMBDA_LOG_GROUP_NAME=cold",
		"AWS_LAMBDA_LOG_STREAM_NAME=start", "PATH=" + os.Getenv("PATH")}
	out := map[string][]string{"": base}
	for fn, vars := range file {
		if fn == "Parameters" {
			continue
		}
		e := append([]string{"AWS_LAMBDA_FUNCTION_NAME=" + fn}, base...)
		for _, m := range []map[string]string{file["Parameters"], vars} {
			for k, v := range m {
				e = append(e, k+"="+closedPort.ReplaceAllString(v, "127.0.0.1:1"))
			}
		}
		out[fn] = e
	}
	return out
}

var closedPort = regexp.MustCompile(`host\.docker\.internal:\d+`)

// runtimeAPI is the part of Lambda's Runtime API a function calls first: it notes when the
// next-invocation request arrives and holds it until the process is stopped.
type runtimeAPI struct {
	srv   *httptest.Server
	first chan time.Time
}

func newRuntimeAPI() *runtimeAPI {
	a := &runtimeAPI{first: make(chan time.Time, 1)}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/2018-06-01/runtime/invocation/next" {
			http.NotFound(w, r)
			return
		}
		select {
		case a.first <- time.Now():
		default:
		}
		<-r.Context().Done()
	}))
	return a
}

// coldStart starts bin and returns the time to its first request for work, and the CPU time
// (user and system, all threads) the process used until it was stopped, which is init's: the
// process then only waits for its answer. On a loaded machine the wall time mostly measures the
// scheduler; the CPU time says what init itself costs.
func (a *runtimeAPI) coldStart(bin string, env []string) (wall, cpu time.Duration, err error) {
	cmd := exec.Command(bin)
	cmd.Env = append(slices.Clone(env), "AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(a.srv.URL, "http://"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	exited := make(chan error, 1)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, 0, err
	}
	go func() { exited <- cmd.Wait() }()
	stop := func() time.Duration {
		_ = cmd.Process.Kill()
		<-exited
		return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	select {
	case at := <-a.first:
		return at.Sub(start), stop(), nil
	case err := <-exited:
		exited <- err
		stop()
		return 0, 0, fmt.Errorf("exited before asking for work: %v\n%s", err, stderr.String())
	case <-time.After(10 * time.Second):
		stop()
		return 0, 0, fmt.Errorf("no request for work within 10 s\n%s", stderr.String())
	}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
