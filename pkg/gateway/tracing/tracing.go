package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// TracesPath is where an OTLP/HTTP collector takes traces, below the base
// URL --otlp-endpoint gives (as OTEL_EXPORTER_OTLP_ENDPOINT does).
const TracesPath = "/v1/traces"

// ShutdownTimeout bounds the final flush when the gateway stops: a
// collector that is gone must not hold the exit.
const ShutdownTimeout = 5 * time.Second

// instrumentation names the tracer, as the spans' instrumentation scope.
const instrumentation = "github.com/micro-gw/micro-gw/pkg/gateway/tracing"

// Config is what New needs.
type Config struct {
	// Endpoint is the collector's base URL (--otlp-endpoint), such as
	// http://127.0.0.1:4318; "" turns tracing off.
	Endpoint string
	// SampleRatio is the share of the traces started here that are
	// recorded, 0 to 1 (--trace-sample-ratio). A request with a
	// traceparent follows its caller's sampling decision.
	SampleRatio float64
	// ServiceName and ServiceVersion are the resource's service.name (the
	// project) and service.version.
	ServiceName, ServiceVersion string
	// Logger gets the export failures; nil discards them.
	Logger *slog.Logger
	// BatchTimeout is the longest a span waits before it is exported; 0
	// is the SDK's default (5s).
	BatchTimeout time.Duration
}

// Tracer makes the gateway's spans. A nil *Tracer is tracing off; only
// New makes one.
type Tracer struct {
	provider *sdktrace.TracerProvider
	tracer   trace.Tracer
	prop     propagation.TextMapPropagator
}

// New returns the Tracer of c, or nil with a nil error when c.Endpoint is
// empty. It does not contact the collector: an unreachable one costs
// failed exports, logged, never a refused start or a slower request.
func New(c Config) (*Tracer, error) {
	if c.Endpoint == "" {
		return nil, nil
	}
	target, err := TracesURL(c.Endpoint)
	if err != nil {
		return nil, err
	}
	if err := CheckRatio(c.SampleRatio); err != nil {
		return nil, err
	}
	exp, err := otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(target))
	if err != nil {
		return nil, fmt.Errorf("--otlp-endpoint=%s: %w; check the URL", c.Endpoint, err)
	}
	setErrorHandler(c.Logger)
	var batch []sdktrace.BatchSpanProcessorOption
	if c.BatchTimeout > 0 {
		batch = append(batch, sdktrace.WithBatchTimeout(c.BatchTimeout))
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, batch...),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(c.SampleRatio))),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL,
			semconv.ServiceName(c.ServiceName), semconv.ServiceVersion(c.ServiceVersion))),
	)
	return &Tracer{
		provider: tp,
		tracer:   tp.Tracer(instrumentation, trace.WithInstrumentationVersion(c.ServiceVersion)),
		prop:     propagation.TraceContext{},
	}, nil
}

// Shutdown exports the spans still queued and stops the exporter, within
// ctx's deadline. A nil Tracer has nothing to do.
func (t *Tracer) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	if err := t.provider.Shutdown(ctx); err != nil {
		return fmt.Errorf("tracing: flushing the last spans to the collector: %w", err)
	}
	return nil
}

// TracesURL returns the URL traces are posted to for the base URL
// endpoint: http or https, a host, no query; TracesPath is appended to its
// path. The error names the flag and says what to write.
func TracesURL(endpoint string) (string, error) {
	u, err := url.Parse(endpoint)
	switch {
	case err != nil:
		return "", fmt.Errorf("--otlp-endpoint=%q: %v; write the collector's base URL, such as http://127.0.0.1:4318", endpoint, errors.Unwrap(err))
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("--otlp-endpoint=%q: the scheme must be http or https (OTLP/HTTP); write a URL such as http://127.0.0.1:4318", endpoint)
	case u.Host == "":
		return "", fmt.Errorf("--otlp-endpoint=%q: no host; write a URL such as http://127.0.0.1:4318", endpoint)
	case u.User != nil:
		return "", fmt.Errorf("--otlp-endpoint: a user or password in the URL would be logged and sent in the clear; pass credentials as headers in OTEL_EXPORTER_OTLP_HEADERS instead")
	case u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("--otlp-endpoint=%q: no query or fragment; write the collector's base URL, such as http://127.0.0.1:4318", endpoint)
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + TracesPath
	u.RawPath = ""
	return u.String(), nil
}

// CheckRatio refuses a sampling ratio outside 0..1 (NaN included).
func CheckRatio(r float64) error {
	if !(r >= 0 && r <= 1) {
		return fmt.Errorf("--trace-sample-ratio=%v: write a number from 0 (no request starts a trace) to 1 (every request does)", r)
	}
	return nil
}

// setErrorHandler sends the SDK's errors (failed exports, dropped spans)
// to log. The SDK has one handler per process, so the last Tracer made
// sets it.
func setErrorHandler(log *slog.Logger) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("tracing: exporting spans failed; they are dropped", "error", err)
	}))
}
