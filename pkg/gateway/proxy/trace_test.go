package proxy

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/internal/otlptest"
	"github.com/micro-gw/micro-gw/pkg/gateway/tracing"
	"github.com/micro-gw/micro-gw/pkg/spec"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// traceparents records the traceparent of each request h serves.
type traceparents struct {
	mu   sync.Mutex
	seen []string
}

func (tp *traceparents) wrap(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tp.mu.Lock()
		tp.seen = append(tp.seen, r.Header.Get("traceparent"))
		tp.mu.Unlock()
		h(w, r)
	}
}

func (tp *traceparents) get() []string {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]string(nil), tp.seen...)
}

func newTestTracer(t *testing.T, rcv *otlptest.Receiver) *tracing.Tracer {
	t.Helper()
	tr, err := tracing.New(tracing.Config{Endpoint: rcv.URL, SampleRatio: 1, ServiceName: "petstore-project", ServiceVersion: "9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// exported flushes tr (Shutdown returns once the receiver answered) and
// returns the spans by kind.
func exported(t *testing.T, tr *tracing.Tracer, rcv *otlptest.Receiver) (server, client []otlptest.Span) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if bad := rcv.Refused(); len(bad) > 0 {
		t.Fatalf("receiver refused %q", bad)
	}
	for _, s := range rcv.Spans() {
		switch s.Kind {
		case tracepb.Span_SPAN_KIND_SERVER:
			server = append(server, s)
		case tracepb.Span_SPAN_KIND_CLIENT:
			client = append(client, s)
		}
	}
	return server, client
}

// TestRetriedRequestIsTracedAttemptByAttempt protects what an operator
// follows through a retry: one server span per request, named after the
// route and continuing the caller's trace, one client span per attempt
// under it, and each attempt's own traceparent at the backend.
func TestRetriedRequestIsTracedAttemptByAttempt(t *testing.T) {
	rcv := otlptest.Start(t)
	tr := newTestTracer(t, rcv)
	var tp traceparents
	be := startBackend(t, "flaky", tp.wrap(flaky(1)))
	gw := startGateway(t, listAPI(spec.TypeHTTP, retryConfig(2, 503), be.URL()), Options{Tracer: tr})

	const traceID, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	req := newReq(t, "GET", gw.url+"/api/item", nil)
	req.Header.Set("traceparent", "00-"+traceID+"-"+parent+"-01")
	if resp, body := get(t, nil, req); resp.StatusCode != 200 {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	server, client := exported(t, tr, rcv)
	if len(server) != 1 || len(client) != 2 {
		t.Fatalf("%d server and %d client spans, want 1 and 2", len(server), len(client))
	}
	s := server[0]
	if s.Name != "GET /api/item" || s.Attrs["http.route"] != "/api/item" || s.Attrs["http.response.status_code"] != "200" {
		t.Errorf("server span %q %v", s.Name, s.Attrs)
	}
	if s.TraceID != traceID || s.ParentSpanID != parent {
		t.Errorf("server span in trace %s under %s, want %s under %s", s.TraceID, s.ParentSpanID, traceID, parent)
	}
	if s.Resource["service.name"] != "petstore-project" {
		t.Errorf("resource %v", s.Resource)
	}
	_, port, _ := net.SplitHostPort(be.addr)
	seen := tp.get()
	for i, c := range client {
		if c.TraceID != traceID || c.ParentSpanID != s.SpanID {
			t.Errorf("attempt %d: trace %s under %s, want %s under %s", i+1, c.TraceID, c.ParentSpanID, traceID, s.SpanID)
		}
		if c.Attrs["micro_gw.attempt"] != []string{"1", "2"}[i] || c.Attrs["server.port"] != port ||
			c.Attrs["http.response.status_code"] != []string{"503", "200"}[i] {
			t.Errorf("attempt %d attributes %v", i+1, c.Attrs)
		}
		if want := "00-" + traceID + "-" + c.SpanID + "-01"; i >= len(seen) || seen[i] != want {
			t.Errorf("backend's traceparents %q, want #%d %q", seen, i+1, want)
		}
	}
	if client[0].Status != tracepb.Status_STATUS_CODE_ERROR {
		t.Error("the 503 attempt is not an error span")
	}
}

// TestFailoverAttemptsNameEachBackend protects failover's visibility: an
// attempt at a backend that refuses the connection is a connect error
// span naming it, and the next attempt names the backend that answered.
func TestFailoverAttemptsNameEachBackend(t *testing.T) {
	rcv := otlptest.Start(t)
	tr := newTestTracer(t, rcv)
	down, up := startBackend(t, "down", nil), startBackend(t, "up", nil)
	down.stop()
	gw := startGateway(t, listAPI(spec.TypeFailover, nil, down.URL(), up.URL()), Options{Tracer: tr})
	if status, body := call(t, "GET", gw.url+"/api/item", nil); status != 200 || body != "up 0" {
		t.Fatalf("got %d %q", status, body)
	}
	_, client := exported(t, tr, rcv)
	if len(client) != 2 {
		t.Fatalf("%d attempt spans, want 2", len(client))
	}
	_, downPort, _ := net.SplitHostPort(down.addr)
	_, upPort, _ := net.SplitHostPort(up.addr)
	if c := client[0]; c.Attrs["server.port"] != downPort || c.Attrs["error.type"] != "connect" || c.Status != tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("first attempt %v %v: want a connect error at port %s", c.Status, c.Attrs, downPort)
	}
	if c := client[1]; c.Attrs["server.port"] != upPort || c.Attrs["http.response.status_code"] != "200" {
		t.Errorf("second attempt %v: want 200 from port %s", c.Attrs, upPort)
	}
}

// TestTracingOffLeavesTraceparentAlone protects the off state: without a
// Tracer the gateway neither adds a traceparent nor changes the client's.
func TestTracingOffLeavesTraceparentAlone(t *testing.T) {
	var tp traceparents
	be := startBackend(t, "b", tp.wrap(func(w http.ResponseWriter, r *http.Request) {}))
	gw := startGateway(t, listAPI(spec.TypeHTTP, nil, be.URL()), Options{})
	call(t, "GET", gw.url+"/api/item", nil)
	const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	req := newReq(t, "GET", gw.url+"/api/item", nil)
	req.Header.Set("traceparent", incoming)
	get(t, nil, req)
	if seen := tp.get(); len(seen) != 2 || seen[0] != "" || seen[1] != incoming {
		t.Errorf("backend saw traceparents %q, want none, then the client's", seen)
	}
}
