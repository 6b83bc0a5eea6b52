package proxy

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

func breakerConfig(volume int, threshold float64, resetMillis int, codes ...int) *spec.AdvancedConfig {
	return &spec.AdvancedConfig{CircuitBreaker: &spec.CircuitBreaker{
		RequestVolumeThreshold: volume, TimeWindowMillis: 60000, BucketSizeMillis: 1000,
		FailureThreshold: threshold, ResetTimeMillis: resetMillis, StatusCodes: codes,
	}}
}

func TestBreakerOpensHalfOpensAndCloses(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	be := startBackend(t, "be", func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			w.WriteHeader(500)
			return
		}
		w.Write([]byte("ok"))
	})
	// The reset time only has to outlast a few loopback requests.
	gw := startGateway(t, listAPI(spec.TypeHTTP, breakerConfig(3, 0.5, 1500, 500), be.URL()), Options{})
	url := gw.url + "/api/item"

	for range 3 {
		if status, _ := call(t, "GET", url, nil); status != 500 {
			t.Fatalf("closed breaker: got %d, want the backend's 500", status)
		}
	}
	isOpen := func(status int, body string, h http.Header) bool {
		return status == 503 && withoutID(body) == string(circuitOpen.Body) && h.Get("Retry-After") != ""
	}
	for range 5 {
		resp, body := get(t, nil, newReq(t, "GET", url, nil))
		if !isOpen(resp.StatusCode, body, resp.Header) {
			t.Fatalf("after 3 failures of 3: got %d %q, want the open breaker's 503", resp.StatusCode, body)
		}
	}
	if n := be.hits.Load(); n != 3 {
		t.Fatalf("backend called %d times, want 3: an open breaker must not call it", n)
	}

	// After the reset time one trial goes through; it fails and the
	// breaker opens again.
	trial := func() (int, string) {
		deadline := time.Now().Add(wait)
		for {
			resp, body := get(t, nil, newReq(t, "GET", url, nil))
			if !isOpen(resp.StatusCode, body, resp.Header) {
				return resp.StatusCode, body
			}
			if time.Now().After(deadline) {
				t.Fatalf("no trial request let through within %v", wait)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	if status, _ := trial(); status != 500 || be.hits.Load() != 4 {
		t.Fatalf("trial: got %d after %d backend calls, want 500 after 4", status, be.hits.Load())
	}
	if resp, body := get(t, nil, newReq(t, "GET", url, nil)); !isOpen(resp.StatusCode, body, resp.Header) {
		t.Fatalf("after a failed trial: got %d %q, want the breaker open again", resp.StatusCode, body)
	}

	// A successful trial closes it.
	failing.Store(false)
	if status, body := trial(); status != 200 || body != "ok" {
		t.Fatalf("trial with the backend healthy: got %d %q", status, body)
	}
	for range 5 {
		if status, body := call(t, "GET", url, nil); status != 200 {
			t.Fatalf("closed again: got %d %q", status, body)
		}
	}
	if n := be.hits.Load(); n != 10 {
		t.Fatalf("backend called %d times, want 10", n)
	}
}

func TestBreakerCountsConnectionErrors(t *testing.T) {
	refused := refusedURL(t)
	gw := startGateway(t, listAPI(spec.TypeHTTP, breakerConfig(2, 1, 60000), refused), Options{})
	for i, want := range []int{502, 502, 503, 503} {
		status, body := call(t, "GET", gw.url+"/api/item", nil)
		if status != want || !strings.Contains(body, "101503") {
			t.Fatalf("request %d: got %d %s, want %d", i+1, status, body, want)
		}
	}
}

func TestBreakerStateMachine(t *testing.T) {
	sec := int64(time.Second)
	b := newBreaker(&spec.CircuitBreaker{RequestVolumeThreshold: 4, TimeWindowMillis: 10000, BucketSizeMillis: 1000, FailureThreshold: 0.5, ResetTimeMillis: 5000})
	now := 100 * sec
	for _, failed := range []bool{false, false, true} {
		b.record(now, failed, false)
	}
	if ok, _ := b.allow(now); !ok {
		t.Fatal("3 requests under a volume threshold of 4: must stay closed")
	}
	// Failures older than the window do not count.
	b.record(now+11*sec, true, false)
	b.record(now+11*sec, false, false)
	b.record(now+11*sec, false, false)
	if ok, _ := b.allow(now + 11*sec); !ok {
		t.Fatal("1 failure of 3 in the window: must stay closed")
	}
	b.record(now+12*sec, true, false) // 2 of 4 in the window
	if ok, _ := b.allow(now + 12*sec); ok {
		t.Fatal("2 failures of 4: must open")
	}
	if ok, _ := b.allow(now + 17*sec - 1); ok {
		t.Fatal("open before the reset time")
	}
	ok, trial := b.allow(now + 17*sec)
	if !ok || !trial {
		t.Fatal("no trial after the reset time")
	}
	if ok, _ := b.allow(now + 17*sec); ok {
		t.Fatal("a second request while the trial is out")
	}
	b.record(now+17*sec, false, false) // a request from before: ignored
	if ok, _ := b.allow(now + 17*sec); ok {
		t.Fatal("a non-trial outcome decided the half-open state")
	}
	b.record(now+17*sec, true, true)
	if ok, _ := b.allow(now + 18*sec); ok {
		t.Fatal("failed trial: must reopen for the reset time")
	}
	if ok, trial := b.allow(now + 22*sec); !ok || !trial {
		t.Fatal("no second trial")
	}
	b.record(now+22*sec, false, true)
	for range 3 {
		if ok, trial := b.allow(now + 22*sec); !ok || trial {
			t.Fatal("successful trial: must close")
		}
	}
	// Threshold 0 still needs a failure.
	z := newBreaker(&spec.CircuitBreaker{RequestVolumeThreshold: 1, FailureThreshold: 0})
	z.record(now, false, false)
	if ok, _ := z.allow(now); !ok {
		t.Fatal("threshold 0 opened without a failure")
	}
}
