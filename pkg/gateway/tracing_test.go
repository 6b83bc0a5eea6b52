package gateway

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/internal/otlptest"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
)

// TestShutdownFlushesTraces protects the spans of the last requests: the
// gateway started with --otlp-endpoint exports a request's spans, with the
// project and micro-gw version as the service, by the time Shutdown
// returns (the exporter's own batching would wait 5 s).
func TestShutdownFlushesTraces(t *testing.T) {
	rcv := otlptest.Start(t)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Header.Get("traceparent"))
	}))
	defer be.Close()
	cfg := testConfig(t, "--otlp-endpoint="+rcv.URL)
	cfg.HTTPSAddr, cfg.AdminAddr = "", ""
	gw, err := Start(context.Background(), Program{Project: "petstore-project", MicroGWVersion: "9.9.9"}, routesFor(be.URL), cfg,
		slog.New(slog.NewTextHandler(&logBuffer{}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + gw.HTTPAddr.String() + "/petstore/v1/pet/1")
	if err != nil {
		t.Fatal(err)
	}
	traceparent, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := gw.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	var server, client int
	for _, s := range rcv.Spans() {
		if s.Resource["service.name"] != "petstore-project" || s.Resource["service.version"] != "9.9.9" {
			t.Errorf("span %q of resource %v", s.Name, s.Resource)
		}
		switch s.Kind {
		case tracepb.Span_SPAN_KIND_SERVER:
			server++
			if s.Name != "GET /petstore/v1/pet/{petId}" {
				t.Errorf("server span named %q", s.Name)
			}
		case tracepb.Span_SPAN_KIND_CLIENT:
			client++
			if want := "00-" + s.TraceID + "-" + s.SpanID + "-01"; string(traceparent) != want {
				t.Errorf("backend got traceparent %q, want %q", traceparent, want)
			}
		}
	}
	if server != 1 || client != 1 {
		t.Errorf("%d server and %d client spans at shutdown, want 1 and 1", server, client)
	}
}

// TestTracingSettingsAreCheckedAtStart protects --otlp-endpoint and
// --trace-sample-ratio: good values reach the Config from flags, the
// environment and the conf; bad ones are refused naming the flag.
func TestTracingSettingsAreCheckedAtStart(t *testing.T) {
	good := []struct {
		name     string
		settings map[string]string
		env      map[string]string
		args     []string
		endpoint string
		ratio    float64
	}{
		{name: "off by default", ratio: 1},
		{name: "flags", args: []string{"--otlp-endpoint=http://127.0.0.1:4318", "--trace-sample-ratio=0.25"}, endpoint: "http://127.0.0.1:4318", ratio: 0.25},
		{name: "env", env: map[string]string{"OTLP_ENDPOINT": "https://otel:4318", "TRACE_SAMPLE_RATIO": "0"}, endpoint: "https://otel:4318", ratio: 0},
		{name: "conf", settings: map[string]string{"otlp-endpoint": "http://c:4318", "trace-sample-ratio": "1"}, endpoint: "http://c:4318", ratio: 1},
	}
	for _, tt := range good {
		lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
		c, err := ParseConfig(tt.settings, tt.args, lookup, io.Discard)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if c.Tracing.Endpoint != tt.endpoint || c.Tracing.SampleRatio != tt.ratio {
			t.Errorf("%s: tracing %+v, want %s at %v", tt.name, c.Tracing, tt.endpoint, tt.ratio)
		}
	}
	bad := []struct {
		settings map[string]string
		args     []string
		want     string
	}{
		{args: []string{"--trace-sample-ratio=1.5"}, want: "--trace-sample-ratio=1.5: write a number from 0"},
		{args: []string{"--trace-sample-ratio=-0.5"}, want: "--trace-sample-ratio"},
		{args: []string{"--trace-sample-ratio=NaN"}, want: "--trace-sample-ratio"},
		{args: []string{"--trace-sample-ratio=half"}, want: "trace-sample-ratio"},
		{settings: map[string]string{"trace-sample-ratio": "half"}, want: "conf/gateway.conf setting trace-sample-ratio"},
		{args: []string{"--otlp-endpoint=127.0.0.1:4318"}, want: "--otlp-endpoint"},
		{args: []string{"--otlp-endpoint=grpc://127.0.0.1:4317"}, want: "--otlp-endpoint"},
	}
	for _, tt := range bad {
		_, err := ParseConfig(tt.settings, tt.args, noEnvLookup, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: error %v, want one containing %q", tt.settings, tt.args, err, tt.want)
		}
	}
}
