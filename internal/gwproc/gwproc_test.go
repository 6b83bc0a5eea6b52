package gwproc

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/project"
)

// TestLinesWaitsForALineWrittenLater protects reading a process's output
// while it runs: Wait sees lines written after it started waiting, reports
// the end of the output, and gives up when its context ends.
func TestLinesWaitsForALineWrittenLater(t *testing.T) {
	r, w := io.Pipe()
	l := Collect(r, nil)
	found := make(chan string, 1)
	go func() {
		line, _ := l.Wait(context.Background(), func(s string) bool { return strings.HasPrefix(s, "ready") })
		found <- line
	}()
	io.WriteString(w, "starting\nready at 127.0.0.1:1\n")
	if got := <-found; got != "ready at 127.0.0.1:1" {
		t.Fatalf("Wait = %q", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := l.Wait(ctx, func(s string) bool { return s == "never" }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait for a line that never comes: %v, want the context's deadline", err)
	}
	w.Close()
	<-l.Done()
	if _, err := l.Wait(context.Background(), func(s string) bool { return s == "never" }); !errors.Is(err, ErrEOF) {
		t.Fatalf("Wait after the output ended: %v, want ErrEOF", err)
	}
	if got := l.String(); got != "starting\nready at 127.0.0.1:1\n" {
		t.Fatalf("String = %q", got)
	}
}

// TestStartRetriesAPortTakenMeanwhile protects the end-to-end tests from a
// port that was free when picked and taken before the gateway bound it: the
// gateway exits with "address already in use" and Start tries other ports.
func TestStartRetriesAPortTakenMeanwhile(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles a gateway")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	p, err := project.Create(t.TempDir(), "tiny", project.CreateOptions{Definitions: []project.Definition{{Name: "tiny.yaml", Data: []byte(`openapi: 3.0.3
info: {title: Tiny, version: 1.0.0}
x-wso2-basePath: /tiny
x-wso2-disable-security: true
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:9/v1"]}
paths:
  /x:
    get:
      responses: {'200': {description: ok}}
`)}}})
	if err != nil {
		t.Fatal(err)
	}
	exe, err := Build(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}

	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	calls := 0
	pickPorts = func(n int) ([]int, error) {
		calls++
		ports, err := freePorts(n)
		if calls == 1 && err == nil {
			ports[0] = taken.Addr().(*net.TCPAddr).Port
		}
		return ports, err
	}
	defer func() { pickPorts = freePorts }()

	gw, err := Start(context.Background(), exe, Options{})
	if err != nil {
		t.Fatalf("Start with the first HTTP port taken: %v", err)
	}
	defer gw.Stop(10 * time.Second)
	if calls != 2 || strings.HasSuffix(gw.HTTP, ":"+strings.Split(taken.Addr().String(), ":")[1]) {
		t.Fatalf("picked ports %d times, serving on %s (taken: %s); want a second attempt on other ports", calls, gw.HTTP, taken.Addr())
	}
	resp, err := http.Get(gw.Admin + "/health")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s/health: %v %v", gw.Admin, resp, err)
	}
	resp.Body.Close()
	if err := gw.Stop(10 * time.Second); err != nil {
		t.Fatalf("stop: %v\n%s", err, gw.Log)
	}
}
