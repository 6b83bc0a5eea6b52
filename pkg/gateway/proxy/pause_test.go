package proxy

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// longRetry retries 503 once after a minute: far longer than any test may
// wait, so a test that ends in time saw the wait cut short.
func longRetry() *spec.AdvancedConfig {
	return &spec.AdvancedConfig{Retry: &spec.RetryConfig{Count: 1, IntervalMillis: 60000, StatusCodes: []int{503}}}
}

// busyBackend answers 503 and reports each request on hit.
func busyBackend(t *testing.T) (*backend, chan struct{}) {
	hit := make(chan struct{}, 10)
	be := startBackend(t, "busy", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(503)
		io.WriteString(w, "busy")
		hit <- struct{}{}
	})
	return be, hit
}

// within waits for ch, failing the test after d.
func within[T any](t *testing.T, ch <-chan T, d time.Duration, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(d):
		t.Fatalf("%s: still waiting after %v", what, d)
	}
	var zero T
	return zero
}

// TestRetryWaitEndsWhenClientLeaves: a client that closes its connection
// while the gateway waits to retry ends the wait: the handler returns (its
// access log line is written) at once, not a minute later, and the
// backend is not called again.
func TestRetryWaitEndsWhenClientLeaves(t *testing.T) {
	be, hit := busyBackend(t)
	logs := &logRecorder{logged: make(chan string, 100)}
	gw := startGateway(t, listAPI(spec.TypeHTTP, longRetry(), be.URL()), Options{AccessLog: true, Logger: slog.New(logs)})
	c, err := net.Dial("tcp", strings.TrimPrefix(gw.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "GET /api/item HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	within(t, hit, wait, "first attempt")
	c.Close()
	for within(t, logs.logged, wait, "handler to return after the client left") != "access" {
	}
	if n := be.hits.Load(); n != 1 {
		t.Errorf("backend called %d times, want 1: the client had left", n)
	}
}

// TestRetryWaitEndsOnShutdown: shutting the server down ends a retry wait;
// the client gets the backend's last answer, and shutdown completes long
// before the wait would have.
func TestRetryWaitEndsOnShutdown(t *testing.T) {
	be, hit := busyBackend(t)
	got := shutdownDuringRetry(t, listAPI(spec.TypeHTTP, longRetry(), be.URL()), Options{}, func() {
		within(t, hit, wait, "first attempt")
	})
	if !strings.HasPrefix(got, "HTTP/1.1 503 ") || !strings.HasSuffix(got, "busy") {
		t.Errorf("client got %q, want the backend's 503", got)
	}
	if n := be.hits.Load(); n != 1 {
		t.Errorf("backend called %d times, want 1", n)
	}
}

// TestRetryWaitEndsOnShutdownAfterConnectionError is the shutdown case
// for a retry after a connection error: the client gets the 502.
func TestRetryWaitEndsOnShutdownAfterConnectionError(t *testing.T) {
	logs := &logRecorder{logged: make(chan string, 100)}
	got := shutdownDuringRetry(t, listAPI(spec.TypeHTTP, longRetry(), refusedURL(t)), Options{Logger: slog.New(logs)}, func() {
		for within(t, logs.logged, wait, "first attempt to fail") != "backend failed; retrying" {
		}
	})
	if !strings.HasPrefix(got, "HTTP/1.1 502 ") {
		t.Errorf("client got %q, want 502", got)
	}
}

// shutdownDuringRetry serves g, sends it one request, waits with retrying
// until the gateway waits to retry it, shuts the server down, which must
// not wait for the retry, and returns what the client read.
func shutdownDuringRetry(t *testing.T, g *spec.Gateway, opts Options, retrying func()) string {
	t.Helper()
	p, err := New(servedOpen(g), staticBind, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := p.NewServer()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(Listener(ln)) }()
	answer := make(chan string, 1)
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			answer <- err.Error()
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(wait))
		io.WriteString(c, "GET /api/item HTTP/1.1\r\nHost: x\r\n\r\n")
		b, _ := io.ReadAll(c)
		answer <- string(b)
	}()
	retrying()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if err := srv.ShutdownWithContext(ctx); err != nil {
		t.Fatalf("shutdown: %v (the retry wait held the request)", err)
	}
	<-served
	return within(t, answer, wait, "client's answer")
}
