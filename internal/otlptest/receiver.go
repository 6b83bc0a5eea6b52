// Package otlptest is an OTLP/HTTP trace receiver for tests: a real HTTP
// server on 127.0.0.1 that takes POST /v1/traces and decodes each body
// with the official OTLP protobuf types (ExportTraceServiceRequest), as a
// collector does. Tests point --otlp-endpoint at URL and read the spans
// back with their resources.
//
// It is not the OpenTelemetry Collector: the Collector is a large module
// graph of its own, built and configured apart. Decoding with the same
// generated types checks the same wire format the Collector accepts.
package otlptest

import (
	"compress/gzip"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	collectorpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// maxBody bounds one export request's body.
const maxBody = 8 << 20

// Receiver collects the spans posted to it.
type Receiver struct {
	// URL is the base URL to give as --otlp-endpoint.
	URL string
	srv *http.Server

	mu    sync.Mutex
	spans []Span
	bad   []string // requests refused, for Check
}

// Span is one received span with its resource's and its own attributes
// flattened to strings, and ids in hex as in a traceparent.
type Span struct {
	Name                          string
	Kind                          tracepb.Span_SpanKind
	TraceID, SpanID, ParentSpanID string
	Attrs, Resource               map[string]string
	Status                        tracepb.Status_StatusCode
	Scope                         string
}

// Start starts a Receiver on 127.0.0.1:0; the test's cleanup stops it.
func Start(t testing.TB) *Receiver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("otlptest: listen: %v", err)
	}
	r := &Receiver{URL: "http://" + ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("/", r.refuse)
	mux.HandleFunc("POST /v1/traces", r.traces)
	r.srv = &http.Server{Handler: mux}
	go r.srv.Serve(ln) //nolint:errcheck // ErrServerClosed at cleanup
	t.Cleanup(func() { r.srv.Close() })
	return r
}

// Spans returns the spans received so far, in arrival order.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Refused returns the requests the receiver refused (wrong path, method,
// content type or a body that does not decode), which a test expects none of.
func (r *Receiver) Refused() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

func (r *Receiver) refuse(w http.ResponseWriter, req *http.Request) {
	r.fail(fmt.Sprintf("%s %s", req.Method, req.URL.Path))
	http.NotFound(w, req)
}

func (r *Receiver) fail(what string) {
	r.mu.Lock()
	r.bad = append(r.bad, what)
	r.mu.Unlock()
}

// traces decodes one ExportTraceServiceRequest and answers as a collector
// does: an ExportTraceServiceResponse in protobuf.
func (r *Receiver) traces(w http.ResponseWriter, req *http.Request) {
	if ct := req.Header.Get("Content-Type"); ct != "application/x-protobuf" {
		r.fail("content type " + ct)
		http.Error(w, "want application/x-protobuf", http.StatusUnsupportedMediaType)
		return
	}
	var body io.Reader = http.MaxBytesReader(w, req.Body, maxBody)
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			r.fail("gzip: " + err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	var msg collectorpb.ExportTraceServiceRequest
	if err == nil {
		err = proto.Unmarshal(b, &msg)
	}
	if err != nil {
		r.fail("body: " + err.Error())
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.add(&msg)
	out, _ := proto.Marshal(&collectorpb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out) //nolint:errcheck // the exporter's loss
}

func (r *Receiver) add(msg *collectorpb.ExportTraceServiceRequest) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range msg.GetResourceSpans() {
		res := attrs(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, Span{
					Name: s.GetName(), Kind: s.GetKind(),
					TraceID: hex.EncodeToString(s.GetTraceId()), SpanID: hex.EncodeToString(s.GetSpanId()),
					ParentSpanID: hex.EncodeToString(s.GetParentSpanId()),
					Attrs:        attrs(s.GetAttributes()), Resource: res,
					Status: s.GetStatus().GetCode(), Scope: ss.GetScope().GetName(),
				})
			}
		}
	}
}

// attrs flattens key-values to strings: ints in decimal, others as
// printed by their value's String form.
func attrs(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		v := kv.GetValue()
		switch x := v.GetValue().(type) {
		case *commonpb.AnyValue_StringValue:
			m[kv.GetKey()] = x.StringValue
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = fmt.Sprint(x.IntValue)
		case *commonpb.AnyValue_BoolValue:
			m[kv.GetKey()] = fmt.Sprint(x.BoolValue)
		case *commonpb.AnyValue_DoubleValue:
			m[kv.GetKey()] = fmt.Sprint(x.DoubleValue)
		default:
			m[kv.GetKey()] = v.String()
		}
	}
	return m
}
