package proxy

import (
	"github.com/micro-gw/micro-gw/pkg/gateway/tracing"
	"github.com/valyala/fasthttp"
)

// Tracing (package tracing) hooks into the request path at three places,
// each behind one check of p.opts.Tracer, which is nil when tracing is
// off: Handler starts and ends the request's span (traced), route names
// it after the matched route (traceRoute), and exchange wraps each
// backend attempt in a span of its own (startAttempt, endAttempt). Each
// hook is the check alone, inlined where it is called, and calls the
// work out of line: off, tracing costs the check and nothing else.

// traced serves ctx inside its request span.
func (p *Proxy) traced(ctx *fasthttp.RequestCtx) {
	s := p.opts.Tracer.Start(ctx)
	p.handle(ctx)
	s.End(ctx)
}

// traceRoute names the request's span after rt.
func (p *Proxy) traceRoute(ctx *fasthttp.RequestCtx, rt *route) {
	if p.opts.Tracer != nil {
		setRoute(ctx, rt)
	}
}

func setRoute(ctx *fasthttp.RequestCtx, rt *route) { tracing.Of(ctx).SetRoute(&rt.trace) }

// startAttempt starts the span of a backend attempt about to send req,
// and puts its traceparent in req.
func (p *Proxy) startAttempt(ctx *fasthttp.RequestCtx, req *fasthttp.Request) tracing.Attempt {
	if p.opts.Tracer == nil {
		return tracing.Attempt{}
	}
	return startAttempt(ctx, req)
}

func startAttempt(ctx *fasthttp.RequestCtx, req *fasthttp.Request) tracing.Attempt {
	return tracing.Of(ctx).StartAttempt(req)
}

// endAttempt ends the attempt's span with the backend's answer resp, or
// the transport's err.
func (p *Proxy) endAttempt(a tracing.Attempt, resp *fasthttp.Response, err error) {
	if p.opts.Tracer != nil {
		endAttempt(a, resp, err)
	}
}

//go:noinline // kept out of line so that the check above inlines
func endAttempt(a tracing.Attempt, resp *fasthttp.Response, err error) {
	a.End(resp.StatusCode(), err)
}
