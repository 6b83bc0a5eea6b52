package tracing_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/internal/otlptest"
	"github.com/micro-gw/micro-gw/pkg/gateway/tracing"
	"github.com/valyala/fasthttp"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// backend is a real fasthttp server on 127.0.0.1 that records the
// traceparent of every request and answers 503 to the first fail ones.
type backend struct {
	addr string
	mu   sync.Mutex
	seen []string
	fail int
}

func startBackend(t *testing.T, fail int) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{addr: ln.Addr().String(), fail: fail}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.seen = append(b.seen, string(ctx.Request.Header.Peek("traceparent")))
		if len(b.seen) <= b.fail {
			ctx.SetStatusCode(fasthttp.StatusServiceUnavailable)
			return
		}
		ctx.SetBodyString("ok")
	}}
	go srv.Serve(ln) //nolint:errcheck // closed at cleanup
	t.Cleanup(func() { srv.Shutdown() })
	return b
}

func (b *backend) traceparents() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.seen...)
}

// gateway is a small fasthttp server using the package as the proxy does:
// Start, SetRoute, an attempt span around each backend attempt (up to
// attempts, while the backend answers 5xx or fails), End.
func startGateway(t *testing.T, tr *tracing.Tracer, backendAddr string, attempts int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	route := tracing.NewRoute("GET", "/v2/pet/{petId}")
	client := &fasthttp.Client{}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		s := tr.Start(ctx)
		defer s.End(ctx)
		tracing.Of(ctx).SetRoute(&route)
		req := &ctx.Request
		req.URI().SetHost(backendAddr)
		for n := 1; ; n++ {
			a := tracing.Of(ctx).StartAttempt(req)
			err := client.DoTimeout(req, &ctx.Response, 5*time.Second)
			a.End(ctx.Response.StatusCode(), err)
			if err == nil && ctx.Response.StatusCode() < 500 {
				return
			}
			if n == attempts {
				if err != nil {
					ctx.Response.Reset()
					ctx.SetStatusCode(fasthttp.StatusBadGateway)
				}
				return
			}
		}
	}}
	go srv.Serve(ln) //nolint:errcheck // closed at cleanup
	t.Cleanup(func() { srv.Shutdown() })
	return ln.Addr().String()
}

func newTracer(t *testing.T, rcv *otlptest.Receiver, ratio float64) *tracing.Tracer {
	t.Helper()
	tr, err := tracing.New(tracing.Config{Endpoint: rcv.URL, SampleRatio: ratio, ServiceName: "petstore", ServiceVersion: "1.2.3"})
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// flush exports every span ended so far: Shutdown returns once the
// receiver answered.
func flush(t *testing.T, tr *tracing.Tracer, rcv *otlptest.Receiver) []otlptest.Span {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if bad := rcv.Refused(); len(bad) > 0 {
		t.Fatalf("the receiver refused %q", bad)
	}
	return rcv.Spans()
}

func get(t *testing.T, addr, path string, header map[string]string) int {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + addr + path)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	if err := fasthttp.DoTimeout(req, resp, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode()
}

func byKind(spans []otlptest.Span, kind tracepb.Span_SpanKind) []otlptest.Span {
	var out []otlptest.Span
	for _, s := range spans {
		if s.Kind == kind {
			out = append(out, s)
		}
	}
	return out
}

func wantAttrs(t *testing.T, what string, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %s = %q, want %q (all: %v)", what, k, got[k], v, got)
		}
	}
}

// TestRequestSpanFollowsHTTPConventions protects the server span: one per
// request, named after the route template, with the HTTP semantic
// conventions' attributes and the project as service.name.
func TestRequestSpanFollowsHTTPConventions(t *testing.T) {
	rcv := otlptest.Start(t)
	tr := newTracer(t, rcv, 1)
	be := startBackend(t, 0)
	gw := startGateway(t, tr, be.addr, 1)
	if code := get(t, gw, "/v2/pet/7", map[string]string{"User-Agent": "tracing-test/1"}); code != 200 {
		t.Fatalf("status %d", code)
	}
	spans := flush(t, tr, rcv)
	servers := byKind(spans, tracepb.Span_SPAN_KIND_SERVER)
	if len(servers) != 1 {
		t.Fatalf("%d server spans, want 1: %+v", len(servers), spans)
	}
	s := servers[0]
	if s.Name != "GET /v2/pet/{petId}" {
		t.Errorf("server span named %q", s.Name)
	}
	_, port, _ := net.SplitHostPort(gw)
	wantAttrs(t, "server span", s.Attrs, map[string]string{
		"http.request.method": "GET", "url.path": "/v2/pet/7", "url.scheme": "http",
		"http.route": "/v2/pet/{petId}", "http.response.status_code": "200",
		"server.address": "127.0.0.1", "server.port": port, "client.address": "127.0.0.1",
		"network.protocol.version": "1.1", "user_agent.original": "tracing-test/1",
	})
	wantAttrs(t, "resource", s.Resource, map[string]string{"service.name": "petstore", "service.version": "1.2.3"})
	if s.ParentSpanID != "" {
		t.Errorf("a request without traceparent has parent %q", s.ParentSpanID)
	}
	if s.Status == tracepb.Status_STATUS_CODE_ERROR {
		t.Error("a 200 marked the server span as an error")
	}
}

// TestEachAttemptIsAChildSpanAndReachesTheBackend protects retries'
// visibility: a backend failing once then answering gives two client
// spans under the request's, numbered, the first an error, and the
// backend gets each attempt's own traceparent in the request's trace.
func TestEachAttemptIsAChildSpanAndReachesTheBackend(t *testing.T) {
	rcv := otlptest.Start(t)
	tr := newTracer(t, rcv, 1)
	be := startBackend(t, 1)
	gw := startGateway(t, tr, be.addr, 2)
	if code := get(t, gw, "/v2/pet/7", nil); code != 200 {
		t.Fatalf("status %d", code)
	}
	spans := flush(t, tr, rcv)
	server := byKind(spans, tracepb.Span_SPAN_KIND_SERVER)
	clients := byKind(spans, tracepb.Span_SPAN_KIND_CLIENT)
	if len(server) != 1 || len(clients) != 2 {
		t.Fatalf("%d server and %d client spans, want 1 and 2: %+v", len(server), len(clients), spans)
	}
	host, port, _ := net.SplitHostPort(be.addr)
	seen := be.traceparents()
	if len(seen) != 2 {
		t.Fatalf("backend saw %d requests", len(seen))
	}
	for i, c := range clients {
		if c.TraceID != server[0].TraceID || c.ParentSpanID != server[0].SpanID {
			t.Errorf("attempt %d: trace %s parent %s, want trace %s parent %s", i+1, c.TraceID, c.ParentSpanID, server[0].TraceID, server[0].SpanID)
		}
		wantAttrs(t, "attempt", c.Attrs, map[string]string{
			"micro_gw.attempt": []string{"1", "2"}[i], "server.address": host, "server.port": port,
			"http.request.method": "GET", "url.full": "http://" + be.addr + "/v2/pet/7",
			"http.response.status_code": []string{"503", "200"}[i],
		})
		if want := "00-" + c.TraceID + "-" + c.SpanID + "-01"; seen[i] != want {
			t.Errorf("backend's traceparent of attempt %d = %q, want %q", i+1, seen[i], want)
		}
	}
	if clients[0].Status != tracepb.Status_STATUS_CODE_ERROR || clients[1].Status == tracepb.Status_STATUS_CODE_ERROR {
		t.Errorf("attempt statuses %v, %v: want the failed one only an error", clients[0].Status, clients[1].Status)
	}
	if _, ok := clients[0].Attrs["http.request.resend_count"]; ok || clients[1].Attrs["http.request.resend_count"] != "1" {
		t.Errorf("resend counts %q, %q: want none, then 1", clients[0].Attrs["http.request.resend_count"], clients[1].Attrs["http.request.resend_count"])
	}
}

// TestIncomingTraceparentIsContinued protects the caller's trace: the
// request's span joins it under the caller's span.
func TestIncomingTraceparentIsContinued(t *testing.T) {
	rcv := otlptest.Start(t)
	tr := newTracer(t, rcv, 1)
	be := startBackend(t, 0)
	gw := startGateway(t, tr, be.addr, 1)
	const traceID, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	get(t, gw, "/v2/pet/7", map[string]string{"traceparent": "00-" + traceID + "-" + parent + "-01", "tracestate": "vendor=x"})
	spans := flush(t, tr, rcv)
	server := byKind(spans, tracepb.Span_SPAN_KIND_SERVER)
	if len(server) != 1 || server[0].TraceID != traceID || server[0].ParentSpanID != parent {
		t.Fatalf("server spans %+v: want one in trace %s under %s", server, traceID, parent)
	}
	if seen := be.traceparents(); len(seen) != 1 || !strings.HasPrefix(seen[0], "00-"+traceID+"-") || strings.Contains(seen[0], parent) {
		t.Errorf("backend saw %q: want the caller's trace with the gateway's span as parent", seen)
	}
}

// TestUnreachableBackendAttemptIsAConnectError protects the failure case:
// an attempt without an answer is an error span with error.type connect,
// and the request's span, answered 502, an error too.
func TestUnreachableBackendAttemptIsAConnectError(t *testing.T) {
	rcv := otlptest.Start(t)
	tr := newTracer(t, rcv, 1)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	gw := startGateway(t, tr, dead, 1)
	if code := get(t, gw, "/v2/pet/7", nil); code != 502 {
		t.Fatalf("status %d, want 502", code)
	}
	spans := flush(t, tr, rcv)
	clients := byKind(spans, tracepb.Span_SPAN_KIND_CLIENT)
	server := byKind(spans, tracepb.Span_SPAN_KIND_SERVER)
	if len(clients) != 1 || len(server) != 1 {
		t.Fatalf("spans %+v", spans)
	}
	if clients[0].Status != tracepb.Status_STATUS_CODE_ERROR || clients[0].Attrs["error.type"] != "connect" {
		t.Errorf("attempt status %v error.type %q, want an error, connect", clients[0].Status, clients[0].Attrs["error.type"])
	}
	if server[0].Status != tracepb.Status_STATUS_CODE_ERROR || server[0].Attrs["error.type"] != "502" {
		t.Errorf("server status %v error.type %q, want an error, 502", server[0].Status, server[0].Attrs["error.type"])
	}
}

// TestSampleRatioZeroRecordsNothingButFollowsTheCaller protects the
// sampler: ratio 0 exports no trace of its own yet still sends an
// unsampled traceparent on, and a caller's sampled trace is recorded.
func TestSampleRatioZeroRecordsNothingButFollowsTheCaller(t *testing.T) {
	rcv := otlptest.Start(t)
	tr := newTracer(t, rcv, 0)
	be := startBackend(t, 0)
	gw := startGateway(t, tr, be.addr, 1)
	get(t, gw, "/v2/pet/7", nil)
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	get(t, gw, "/v2/pet/8", map[string]string{"traceparent": "00-" + traceID + "-00f067aa0ba902b7-01"})
	spans := flush(t, tr, rcv)
	for _, s := range spans {
		if s.TraceID != traceID {
			t.Errorf("span %q of trace %s exported at ratio 0", s.Name, s.TraceID)
		}
	}
	if len(spans) != 2 {
		t.Errorf("%d spans, want the caller's sampled request's 2", len(spans))
	}
	seen := be.traceparents()
	if len(seen) != 2 || !strings.HasSuffix(seen[0], "-00") || !strings.HasSuffix(seen[1], "-01") {
		t.Errorf("backend saw %q: want an unsampled traceparent, then a sampled one", seen)
	}
}

// TestTracingOffIsANilTracer protects "off unless --otlp-endpoint": no
// endpoint gives a nil Tracer, whose Shutdown does nothing.
func TestTracingOffIsANilTracer(t *testing.T) {
	tr, err := tracing.New(tracing.Config{SampleRatio: 5})
	if tr != nil || err != nil {
		t.Fatalf("New without endpoint = %v, %v; want nil, nil", tr, err)
	}
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestBadEndpointOrRatioIsRefusedNamingTheFlag protects the settings'
// checks: each bad value is refused with the flag's name and what to write.
func TestBadEndpointOrRatioIsRefusedNamingTheFlag(t *testing.T) {
	for _, tt := range []struct{ endpoint, want string }{
		{"127.0.0.1:4318", "--otlp-endpoint"},
		{"grpc://127.0.0.1:4317", "http or https"},
		{"http://", "no host"},
		{"http://u:secret@127.0.0.1:4318", "OTEL_EXPORTER_OTLP_HEADERS"},
		{"http://127.0.0.1:4318/?x=1", "no query"},
		{"http://[::1", "--otlp-endpoint"},
	} {
		_, err := tracing.New(tracing.Config{Endpoint: tt.endpoint, SampleRatio: 1})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want one containing %q", tt.endpoint, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the error shows the password: %v", tt.endpoint, err)
		}
	}
	for _, tt := range []struct{ endpoint, want string }{
		{"http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces"},
		{"https://otel.example/base/", "https://otel.example/base/v1/traces"},
	} {
		if got, err := tracing.TracesURL(tt.endpoint); err != nil || got != tt.want {
			t.Errorf("TracesURL(%s) = %q, %v; want %q", tt.endpoint, got, err, tt.want)
		}
	}
	for _, r := range []float64{-0.1, 1.5} {
		_, err := tracing.New(tracing.Config{Endpoint: "http://127.0.0.1:4318", SampleRatio: r})
		if err == nil || !strings.Contains(err.Error(), "--trace-sample-ratio") {
			t.Errorf("ratio %v: error %v", r, err)
		}
	}
}
