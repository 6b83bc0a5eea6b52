package tracing

import (
	"context"
	"net"
	"strconv"

	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// Route is what a request's span takes from its matched route: the span
// name and the http.route attribute, made once when the routes are built
// rather than per request.
type Route struct {
	name  string
	route attribute.KeyValue
}

// NewRoute returns the Route of method and the route template path, as
// written in the definition with the base path: "/v2/pet/{petId}".
func NewRoute(method, path string) Route {
	return Route{name: method + " " + path, route: semconv.HTTPRoute(path)}
}

// Span is one request's trace: its server span, the context the backend
// attempts descend from, and the attempts made so far.
type Span struct {
	t        *Tracer
	ctx      context.Context
	span     trace.Span
	attempts int
}

// spanKey is the fasthttp user value key of a request's *Span.
type spanKey struct{}

// Start starts the server span of the request ctx, continuing the trace of
// its traceparent if it has one, and keeps it in ctx for Of. The span is
// named after the method until SetRoute names its route.
func (t *Tracer) Start(ctx *fasthttp.RequestCtx) *Span {
	h := &ctx.Request.Header
	parent := t.prop.Extract(context.Background(), requestCarrier{h})
	method := string(h.Method())
	c, span := t.tracer.Start(parent, method, trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(ctx.Time()))
	if span.IsRecording() {
		// The sampler (parent-based ratio) reads no attributes, so an
		// unsampled request is spared making them.
		span.SetAttributes(serverAttrs(ctx, method)...)
	}
	s := &Span{t: t, ctx: c, span: span}
	ctx.SetUserValue(spanKey{}, s)
	return s
}

// serverAttrs returns the server span's request attributes.
func serverAttrs(ctx *fasthttp.RequestCtx, method string) []attribute.KeyValue {
	h := &ctx.Request.Header
	attrs := make([]attribute.KeyValue, 0, 10)
	attrs = append(attrs, methodAttrs(method)...)
	attrs = append(attrs,
		semconv.URLPath(string(ctx.Request.URI().PathOriginal())),
		semconv.URLScheme(scheme(ctx)),
		semconv.NetworkProtocolVersion(protocolVersion(h)),
		semconv.ClientAddress(ctx.RemoteIP().String()),
	)
	attrs = appendServer(attrs, string(h.Host()))
	if ua := h.UserAgent(); len(ua) > 0 {
		attrs = append(attrs, semconv.UserAgentOriginal(string(ua)))
	}
	return attrs
}

// Of returns the *Span Start kept in ctx, or nil if there is none.
func Of(ctx *fasthttp.RequestCtx) *Span {
	s, _ := ctx.UserValue(spanKey{}).(*Span)
	return s
}

// SetRoute names the span after the route the request matched. A nil
// Span (no Start) does nothing.
func (s *Span) SetRoute(r *Route) {
	if s == nil {
		return
	}
	if s.span.IsRecording() {
		s.span.SetName(r.name)
		s.span.SetAttributes(r.route)
	}
}

// End ends the span with the status of ctx's response: an error for a 5xx,
// which is the gateway's or its backend's fault; a 4xx is the client's and
// leaves the server span's status unset, as the conventions say.
func (s *Span) End(ctx *fasthttp.RequestCtx) {
	ctx.RemoveUserValue(spanKey{})
	if !s.span.IsRecording() {
		s.span.End()
		return
	}
	status := ctx.Response.StatusCode()
	s.span.SetAttributes(semconv.HTTPResponseStatusCode(status))
	if status >= 500 {
		s.span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
		s.span.SetStatus(codes.Error, "")
	}
	s.span.End()
}

// TraceID returns the request's trace id, for logs.
func (s *Span) TraceID() trace.TraceID { return s.span.SpanContext().TraceID() }

// knownMethods are the methods the conventions name; any other is
// reported as _OTHER with the original in http.request.method_original.
var knownMethods = map[string]bool{
	"CONNECT": true, "DELETE": true, "GET": true, "HEAD": true, "OPTIONS": true,
	"PATCH": true, "POST": true, "PUT": true, "TRACE": true, "QUERY": true,
}

// methodAttrs returns the http.request.method attributes of method.
func methodAttrs(method string) []attribute.KeyValue {
	if knownMethods[method] {
		return []attribute.KeyValue{semconv.HTTPRequestMethodKey.String(method)}
	}
	return []attribute.KeyValue{semconv.HTTPRequestMethodKey.String("_OTHER"), semconv.HTTPRequestMethodOriginal(method)}
}

// appendServer appends server.address and server.port of hostport, a Host
// header or a backend's host[:port]; a missing port is left out.
func appendServer(attrs []attribute.KeyValue, hostport string) []attribute.KeyValue {
	if hostport == "" {
		return attrs
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return append(attrs, semconv.ServerAddress(hostport))
	}
	attrs = append(attrs, semconv.ServerAddress(host))
	if n, err := strconv.Atoi(port); err == nil {
		attrs = append(attrs, semconv.ServerPort(n))
	}
	return attrs
}

func scheme(ctx *fasthttp.RequestCtx) string {
	if ctx.IsTLS() {
		return "https"
	}
	return "http"
}

// protocolVersion returns "1.1" or "1.0"; the gateway refuses other
// versions before tracing sees them, but the span says what came.
func protocolVersion(h *fasthttp.RequestHeader) string {
	if h.IsHTTP11() {
		return "1.1"
	}
	p := string(h.Protocol())
	if len(p) > 5 && p[:5] == "HTTP/" {
		return p[5:]
	}
	return p
}
