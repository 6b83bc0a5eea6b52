// Package tracing sends OpenTelemetry traces of the gateway's requests to
// an OTLP/HTTP collector: one server span per request, named after its
// route template ("GET /v2/pet/{petId}"), and one client span per backend
// attempt, so that failovers and retries show as separate spans. The W3C
// trace context (traceparent, tracestate) of an incoming request is
// continued, and each attempt's context is sent to the backend.
//
// Tracing is off unless --otlp-endpoint is set. Off, the gateway holds a
// nil *Tracer and the request path pays one nil check per stage: nothing
// of this package runs. On, spans are batched and exported in the
// background; a full queue drops spans rather than slowing requests, and
// Shutdown flushes what is left within its context's deadline.
//
// The request path's use, in order:
//
//	s := t.Start(ctx)            // handler entry: extract, server span
//	s.SetRoute(&rt.trace)        // after the match: name and http.route
//	a := s.StartAttempt(req)     // before each backend attempt: inject
//	a.End(resp.StatusCode(), err)
//	s.End(ctx)                   // after the answer: status code
//
// Of(ctx) finds the request's *Span from any stage in between.
package tracing
