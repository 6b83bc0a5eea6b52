package tracing

import (
	"github.com/valyala/fasthttp"
	"go.opentelemetry.io/otel/propagation"
)

// requestCarrier lets the propagator read and write a fasthttp request's
// headers: Extract on the client's request, Inject on the backend's (the
// same header, rewritten in place).
type requestCarrier struct{ h *fasthttp.RequestHeader }

var _ propagation.TextMapCarrier = requestCarrier{}

// Get returns the header key's value; fasthttp's lookup ignores case.
func (c requestCarrier) Get(key string) string { return string(c.h.Peek(key)) }

// Set replaces the header key, so a client's own traceparent never
// reaches the backend beside the gateway's.
func (c requestCarrier) Set(key, value string) { c.h.Set(key, value) }

// Keys returns the header names.
func (c requestCarrier) Keys() []string {
	var keys []string
	for k := range c.h.All() {
		keys = append(keys, string(k))
	}
	return keys
}
