package tracing

import (
	"errors"
	"net"
	"strconv"

	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
)

// AttemptKey is the attribute holding an attempt's number, from 1, on
// every attempt span; http.request.resend_count, from the conventions, is
// set on the second and later ones only.
const AttemptKey = attribute.Key("micro_gw.attempt")

// Attempt is one backend attempt's client span.
type Attempt struct {
	span trace.Span
}

// StartAttempt starts the client span of the next attempt to send req to
// the backend, whose URI must already be the backend's, and puts the
// span's context in req's traceparent and tracestate headers, replacing
// any the client sent (the client's parent is continued by the request's
// span, not skipped). A nil Span (no Start) gives an Attempt that does
// nothing.
func (s *Span) StartAttempt(req *fasthttp.Request) Attempt {
	if s == nil {
		return Attempt{}
	}
	s.attempts++
	method := string(req.Header.Method())
	c, span := s.t.tracer.Start(s.ctx, method, trace.WithSpanKind(trace.SpanKindClient))
	if span.IsRecording() {
		span.SetAttributes(attemptAttrs(req, method, s.attempts)...)
	}
	s.t.prop.Inject(c, requestCarrier{&req.Header})
	return Attempt{span: span}
}

// attemptAttrs returns the attributes of attempt n to send req.
func attemptAttrs(req *fasthttp.Request, method string, n int) []attribute.KeyValue {
	u := req.URI()
	attrs := make([]attribute.KeyValue, 0, 8)
	attrs = append(attrs, methodAttrs(method)...)
	// The query is left out: it may carry an API key.
	attrs = append(attrs,
		semconv.URLFull(string(u.Scheme())+"://"+string(u.Host())+string(u.Path())),
		AttemptKey.Int(n))
	attrs = appendServer(attrs, withPort(string(u.Host()), string(u.Scheme())))
	if n > 1 {
		attrs = append(attrs, semconv.HTTPRequestResendCount(n-1))
	}
	return attrs
}

// End ends the attempt: err is the transport's (no answer), else status is
// the backend's answer; a failure or a 4xx or 5xx answer marks the client
// span as an error, as the conventions say for client spans.
func (a Attempt) End(status int, err error) {
	if a.span == nil {
		return
	}
	if !a.span.IsRecording() {
		a.span.End()
		return
	}
	if err != nil {
		a.span.SetAttributes(semconv.ErrorTypeKey.String(errorType(err)))
		a.span.SetStatus(codes.Error, err.Error())
		a.span.End()
		return
	}
	a.span.SetAttributes(semconv.HTTPResponseStatusCode(status))
	if status >= 400 {
		a.span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
		a.span.SetStatus(codes.Error, "")
	}
	a.span.End()
}

// errorType names the kind of a transport error, few and stable, for
// error.type.
func errorType(err error) string {
	var op *net.OpError
	switch {
	case errors.Is(err, fasthttp.ErrTimeout), errors.Is(err, fasthttp.ErrDialTimeout):
		return "timeout"
	case errors.As(err, &op) && op.Op == "dial":
		return "connect"
	case errors.Is(err, fasthttp.ErrConnectionClosed):
		return "connection_closed"
	case errors.Is(err, fasthttp.ErrNoFreeConns):
		return "no_free_connections"
	}
	return "_OTHER"
}

// withPort returns host with the scheme's default port when it has none,
// so that server.port is always set on attempts.
func withPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	if scheme == "https" {
		return net.JoinHostPort(host, "443")
	}
	return net.JoinHostPort(host, "80")
}
