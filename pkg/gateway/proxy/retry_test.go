package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// flaky answers 503 to its first `fails` requests, then echoes the body length.
func flaky(fails int64) http.HandlerFunc {
	var n atomic.Int64
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if n.Add(1) <= fails {
			w.WriteHeader(503)
			io.WriteString(w, "busy")
			return
		}
		io.WriteString(w, "ok "+itoa(int64(len(body)))+" "+string(body[:min(len(body), 5)]))
	}
}

func retryConfig(count int, codes ...int) *spec.AdvancedConfig {
	return &spec.AdvancedConfig{Retry: &spec.RetryConfig{Count: count, IntervalMillis: 10, BackOffFactor: 2, MaxWaitIntervalMillis: 50, StatusCodes: codes}}
}

func TestRetryOnStatus(t *testing.T) {
	for _, tt := range []struct {
		name     string
		method   string
		body     func() io.Reader
		count    int
		wantCode int
		wantBody string
		wantHits int64
	}{
		{"GET retried until 200", "GET", nil, 3, 200, "ok 0 ", 3},
		{"GET retries exhausted", "GET", nil, 1, 503, "busy", 2},
		{"POST with a small body is buffered and replayed", "POST", func() io.Reader { return strings.NewReader("hello") }, 3, 200, "ok 5 hello", 3},
		{"POST with a body over the buffer bound streams once", "POST", func() io.Reader { return bytes.NewReader(make([]byte, maxReplayBody+1)) }, 3, 503, "busy", 1},
		{"POST with a chunked body streams once", "POST", func() io.Reader { return io.NopCloser(strings.NewReader("hello")) }, 3, 503, "busy", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			be := startBackend(t, "flaky", flaky(2))
			gw := startGateway(t, listAPI(spec.TypeHTTP, retryConfig(tt.count, 503), be.URL()), Options{})
			var body io.Reader
			if tt.body != nil {
				body = tt.body()
			}
			status, got := call(t, tt.method, gw.url+"/api/item", body)
			if status != tt.wantCode || got != tt.wantBody {
				t.Errorf("got %d %q, want %d %q", status, got, tt.wantCode, tt.wantBody)
			}
			if n := be.hits.Load(); n != tt.wantHits {
				t.Errorf("backend called %d times, want %d", n, tt.wantHits)
			}
		})
	}
}

func TestRetryOnlyListedStatus(t *testing.T) {
	be := startBackend(t, "flaky", flaky(1))
	gw := startGateway(t, listAPI(spec.TypeHTTP, retryConfig(3, 500, 504), be.URL()), Options{})
	if status, _ := call(t, "GET", gw.url+"/api/item", nil); status != 503 || be.hits.Load() != 1 {
		t.Fatalf("503 not in statusCodes: got %d after %d calls, want 503 after 1", status, be.hits.Load())
	}
}

func TestRetryMovesToNextURL(t *testing.T) {
	a := startBackend(t, "a", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(503) })
	b := startBackend(t, "b", nil)
	gw := startGateway(t, listAPI(spec.TypeFailover, retryConfig(1, 503), a.URL(), b.URL()), Options{})
	if status, body := call(t, "GET", gw.url+"/api/item", nil); status != 200 || body != "b 0" {
		t.Fatalf("got %d %q, want the retry answered by the second URL", status, body)
	}
	if a.hits.Load() != 1 || b.hits.Load() != 1 {
		t.Fatalf("calls a=%d b=%d, want 1 each", a.hits.Load(), b.hits.Load())
	}
}

func TestRetryOnConnectionError(t *testing.T) {
	// The first two connections are closed without an answer; the third
	// request is answered with the body it carried.
	var conns atomic.Int64
	be := rawBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
		for {
			req, err := http.ReadRequest(r)
			if err != nil {
				return
			}
			body, _ := io.ReadAll(req.Body)
			if conns.Add(1) <= 2 {
				return
			}
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+itoa(int64(len(body)))+"\r\n\r\n"+string(body))
		}
	})
	gw := startGateway(t, listAPI(spec.TypeHTTP, retryConfig(2), be), Options{})
	// POST: fasthttp itself never resends it, so every attempt is ours.
	if status, body := call(t, "POST", gw.url+"/api/item", strings.NewReader("payload")); status != 200 || body != "payload" {
		t.Fatalf("got %d %q, want the third attempt's answer", status, body)
	}
	if n := conns.Load(); n != 3 {
		t.Fatalf("backend got %d requests, want 3", n)
	}
}

func TestTimeoutOnList(t *testing.T) {
	release := make(chan struct{})
	var slowOnce atomic.Bool
	be := startBackend(t, "slow", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("slow") == "always" || slowOnce.CompareAndSwap(false, true) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		io.WriteString(w, "fast")
	})
	defer close(release)

	adv := retryConfig(0)
	adv.TimeoutMillis = 200
	gw := startGateway(t, listAPI(spec.TypeHTTP, adv, be.URL()), Options{})
	status, body := call(t, "GET", gw.url+"/api/item?slow=always", nil)
	if status != 504 || withoutID(body) != string(fault.BackendTimeout.Body) {
		t.Fatalf("slow backend: got %d %q, want 504 with fault 101504", status, body)
	}

	// A timeout is retried like a connection error.
	adv = retryConfig(1)
	adv.TimeoutMillis = 200
	gw = startGateway(t, listAPI(spec.TypeHTTP, adv, be.URL()), Options{})
	slowOnce.Store(false)
	if status, body := call(t, "GET", gw.url+"/api/item", nil); status != 200 || body != "fast" {
		t.Fatalf("slow once with one retry: got %d %q", status, body)
	}
}

func TestRetryWait(t *testing.T) {
	r := newRetryPolicy(&spec.RetryConfig{Count: 5, IntervalMillis: 100, BackOffFactor: 2, MaxWaitIntervalMillis: 500})
	want := []time.Duration{100, 200, 400, 500, 500}
	for n, w := range want {
		if got := r.wait(n); got != w*time.Millisecond {
			t.Errorf("wait(%d) = %v, want %v", n, got, w*time.Millisecond)
		}
	}
	flat := newRetryPolicy(&spec.RetryConfig{Count: 2, IntervalMillis: 30})
	if flat.wait(0) != 30*time.Millisecond || flat.wait(3) != 30*time.Millisecond {
		t.Errorf("no backOffFactor: waits %v %v, want 30ms each", flat.wait(0), flat.wait(3))
	}
	if newRetryPolicy(&spec.RetryConfig{Count: 0, IntervalMillis: 30}) != nil {
		t.Error("count 0 must mean no retries")
	}
}
