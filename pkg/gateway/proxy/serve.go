package proxy

import (
	"bytes"
	"errors"
	"log/slog"
	"net/netip"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/gateway/throttle"
	"github.com/valyala/bytebufferpool"
	"github.com/valyala/fasthttp"
)

// The request path is a pipeline of small stages, run in this order. Each
// either answers the request itself, which ends the path, or hands it on:
//
//  1. admit (serve): HTTP/1.x only, header names without spaces, no
//     Transfer-Encoding but chunked, the /health answer, no plain
//     backslash, a path whose escapes are checked and decoded.
//  2. match (match): the route of the method and path, the API's
//     transports, CORS preflights (cors.go).
//  3. guards (route): checks between routing and the backend: mutual
//     TLS and authentication (rt.guard, package auth), throttling
//     (rt.plan, package throttle, whose RateLimit headers go on every
//     answer of a limited route), request validation (rt.validator,
//     package validate).
//  4. select (route): the route's endpoint list, production or, for a
//     SANDBOX credential, sandbox, whose selector picks the member of
//     each attempt (select.go).
//  5. exchange (exchange.go): the request rewritten for the backend
//     (prepareRequest, setBackendURI) and sent, with failover, retries and
//     the circuit breaker deciding between attempts.
//  6. filter (respond): response filters on the backend's answer, in
//     order: hop-by-hop headers, CORS headers, HTTP/1.0 framing. A fault
//     answered after match gets the CORS headers too (answerFault).
//
// Every stage works on the fasthttp request and response in place and
// allocates nothing.

var healthBody = []byte(`{"status":"healthy"}`)

// serve is the admit stage: it answers ctx and returns the backend URL it
// used, if any.
func (p *Proxy) serve(ctx *fasthttp.RequestCtx, o *outcome) string {
	h := &ctx.Request.Header
	if !h.IsHTTP11() && !http1(h.Protocol()) {
		ctx.SetConnectionClose()
		writeFault(ctx, fault.VersionNotSupported)
		return ""
	}
	hops, ok := requestHops(h)
	if !ok {
		ctx.SetConnectionClose()
		writeFault(ctx, fault.BadHeaderName)
		return ""
	}
	if hops&transferEncoding != 0 && h.ContentLength() != -1 {
		// fasthttp takes only chunked and ignores any other coding, such
		// as "identity": the body's length is not known (RFC 9112 §6.3).
		ctx.SetConnectionClose()
		writeFault(ctx, fault.BadTransferEncoding)
		return ""
	}
	path := ctx.Request.URI().PathOriginal()
	method := ctx.Method()
	if string(path) == "/health" && (string(method) == fasthttp.MethodGet || string(method) == fasthttp.MethodHead) {
		ctx.SetContentType(fault.ContentType)
		ctx.SetBody(healthBody)
		return ""
	}
	if !p.opts.KeepEscapedSlashes && bytes.IndexByte(path, '\\') >= 0 {
		// What %5C decodes to, refused for the same reason (cleanPath).
		writeFault(ctx, fault.Backslash)
		return ""
	}
	if bytes.IndexByte(path, '%') < 0 {
		return p.route(ctx, o, hops, path, path)
	}
	buf := bytebufferpool.Get()
	defer bytebufferpool.Put(buf)
	match, fwd, b, f := cleanPath(buf.B[:0], path, p.opts.KeepEscapedSlashes)
	buf.B = b
	if f != nil {
		if p.log.Enabled(ctx, slog.LevelDebug) {
			p.log.Debug("request path refused", "client", ctx.RemoteIP().String(), "path", string(path), "status", f.Status)
		}
		writeFault(ctx, f)
		return ""
	}
	return p.route(ctx, o, hops, match, fwd)
}

// route runs the stages after admission for a request whose path is
// match to find its route and fwd to forward.
func (p *Proxy) route(ctx *fasthttp.RequestCtx, o *outcome, hops hopSet, match, fwd []byte) string {
	rt := p.match(ctx, match)
	if rt == nil {
		return ""
	}
	o.rt = rt
	defer rt.traffic.Done(ctx)
	p.traceRoute(ctx, rt) // trace.go
	// Guards, in the order they run, answer a request that may not pass
	// with their fault through answerFault, which adds the API's CORS
	// headers: authentication (which chooses production or sandbox),
	// throttling, validation.
	set := rt.production
	var who *auth.Principal
	if !rt.guard.Open() {
		var f *fault.Fault
		if who, f = rt.guard.Check(ctx); f != nil {
			p.answerAuthFault(ctx, rt, f)
			return ""
		}
		o.who = who
		if who != nil && who.KeyType == auth.Sandbox {
			// A sandbox credential never reaches production.
			if set = rt.sandbox; set == nil {
				p.answerAuthFault(ctx, rt, fault.WrongKeyType)
				return ""
			}
		}
	}
	if rt.plan == nil {
		return p.validated(ctx, o, rt, set, hops, fwd)
	}
	c := rt.caller(ctx, who)
	d, f := rt.plan.Check(&c)
	if f != nil {
		rt.metrics.Throttled(f)
		p.answerFault(ctx, rt, f)
		throttle.WriteHeaders(&ctx.Response.Header, d)
		return ""
	}
	o.limit = d
	target := p.validated(ctx, o, rt, set, hops, fwd)
	// Every answer of a limited route carries its limit, the backend's and
	// the gateway's own alike.
	throttle.WriteHeaders(&ctx.Response.Header, d)
	return target
}

// caller is who the throttling counts a request for: the credential's
// application and tiers, or the client's address on an open route. It is
// returned by value: a pointer would escape and cost an allocation per
// request (Check keeps nothing of it).
func (rt *route) caller(ctx *fasthttp.RequestCtx, who *auth.Principal) throttle.Caller {
	c := throttle.Caller{ClientIP: ctx.RemoteIP()}
	if who != nil {
		c.AppID, c.AppTier = who.Application.ID, who.Application.Tier
		if c.AppID == "" {
			c.AppID = who.Application.Name
		}
		if c.AppID == "" {
			c.AppID = who.Subject
		}
		if s, ok := who.Subscribed(rt.api, rt.version); ok {
			c.SubscriptionTier = s.Tier
		}
	}
	return c
}

// validated runs request validation, when the route has it, and the
// stages after the guards.
func (p *Proxy) validated(ctx *fasthttp.RequestCtx, o *outcome, rt *route, set *endpointSet, hops hopSet, fwd []byte) string {
	if f := rt.validator.ValidateRequest(ctx); f != nil {
		// The validator closes the connection where it left the body unread.
		p.answerFault(ctx, rt, f)
		return ""
	}
	if set == nil {
		p.answerFault(ctx, rt, fault.NoEndpoint)
		return ""
	}
	return p.exchange(ctx, o, rt, set, hops, skipSegments(fwd, rt.base))
}

// match is the match stage: it returns the route of ctx's method and path
// match, or nil when it answered the request itself: no such route (404 or
// 405), an API not served on this listener (404), a CORS preflight.
func (p *Proxy) match(ctx *fasthttp.RequestCtx, match []byte) *route {
	rt, allow, found := p.routes.Lookup(ctx.Method(), match)
	if !found {
		if allow == "" {
			writeFault(ctx, fault.NotFound)
		} else {
			ctx.Response.Header.Set(fasthttp.HeaderAllow, allow)
			writeFault(ctx, fault.MethodNotAllowed)
		}
		return nil
	}
	if !rt.transports.serves(ctx) {
		writeFault(ctx, fault.NotFound)
		return nil
	}
	if rt.cors != nil && rt.cors.intercept(ctx, rt) {
		return nil
	}
	return rt
}

// prepareRequest rewrites the client's request for the backend, except its
// URI: hop-by-hop headers, HTTP/1.1, X-Forwarded-*. It reports whether the
// client spoke HTTP/1.0.
func prepareRequest(ctx *fasthttp.RequestCtx, hops hopSet) (http10 bool) {
	h := &ctx.Request.Header
	removeHopHeaders(h, hops)
	h.ResetConnectionClose()
	// A body without a Content-Type goes without one, as the client sent
	// it; fasthttp's client would add "application/octet-stream".
	h.SetNoDefaultContentType(true)
	http10 = !h.IsHTTP11()
	if http10 {
		h.SetProtocol("HTTP/1.1")
	}
	if host := h.Host(); len(host) > 0 {
		h.SetBytesV(fasthttp.HeaderXForwardedHost, host)
	}
	var xff [64]byte
	h.SetBytesV(fasthttp.HeaderXForwardedFor, appendForwardedFor(xff[:0], h.Peek(fasthttp.HeaderXForwardedFor), ctx))
	if ctx.IsTLS() {
		h.Set(fasthttp.HeaderXForwardedProto, "https")
	} else {
		h.Set(fasthttp.HeaderXForwardedProto, "http")
	}
	return http10
}

// setBackendURI points req at up's target: its scheme and host, its path
// followed by rest, the query as received. It edits the URI parsed from the
// client's request line rather than parsing a new one; fasthttp then sends
// the target's host as Host.
func setBackendURI(req *fasthttp.Request, up *upstream, rest []byte) {
	u := req.URI()
	// fasthttp parses a request received over TLS as https whatever its
	// URI says; the backend's scheme is the target's.
	u.SetScheme(up.scheme)
	u.SetHost(up.host)
	// A Host header with userinfo must not become an Authorization header.
	u.SetUsername("")
	u.SetPassword("")
	if up.path == "" {
		u.SetPathBytes(rest) // rest may alias the URI's path: append copies forward
		return
	}
	var buf [256]byte
	u.SetPathBytes(append(append(buf[:0], up.path...), rest...))
}

// respond is the filter stage: it finishes the client's answer from the
// backend's response resp, its filters in order.
func (p *Proxy) respond(ctx *fasthttp.RequestCtx, o *outcome, rt *route, resp *fasthttp.Response, http10 bool) {
	removeHopHeaders(&resp.Header, responseHops(&resp.Header))
	// A backend closing its connection must not close the client's.
	resp.Header.ResetConnectionClose()
	if rt.cors != nil {
		rt.cors.decorate(&ctx.Request.Header, &resp.Header)
	}
	if http10 {
		// Handler and route set the id and the RateLimit headers on
		// ctx.Response, which a hijacked answer (respondHTTP10) never
		// writes: it carries them itself.
		resp.Header.SetBytesV(HeaderRequestID, ctx.Request.Header.Peek(HeaderRequestID))
		throttle.WriteHeaders(&resp.Header, o.limit)
		respondHTTP10(ctx, resp, p.opts.ClientWriteTimeout)
	}
}

// fail answers the client with the fault for a backend error, and logs it:
// at most one warning per backend per failLogInterval, which counts the
// failures not logged since the previous one, so that a dead backend under
// load cannot flood the log.
func (p *Proxy) fail(ctx *fasthttp.RequestCtx, rt *route, up *upstream, err error, http10 bool, resp *fasthttp.Response) {
	f := classify(err)
	if ok, suppressed := up.failLog.allow(p.opts.clock()); ok {
		p.log.Warn("backend request failed", "upstream", up.target.Raw, "status", f.Status, "error", err, "suppressed", suppressed)
	}
	if http10 {
		fasthttp.ReleaseResponse(resp)
	}
	ctx.Response.Reset()
	p.answerFault(ctx, rt, f)
}

// appendForwardedFor appends the X-Forwarded-For value: the one received,
// if any, then the client's address.
func appendForwardedFor(dst, prior []byte, ctx *fasthttp.RequestCtx) []byte {
	if len(prior) > 0 {
		dst = append(dst, prior...)
		dst = append(dst, ", "...)
	}
	if ip, ok := netip.AddrFromSlice(ctx.RemoteIP()); ok {
		dst = ip.Unmap().AppendTo(dst)
	}
	return dst
}

// classify maps a backend error to the fault answered: a timeout is 504,
// anything else (refused, reset, closed, TLS, malformed answer) is 502.
func classify(err error) *fault.Fault {
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout) || isTimeout(err) {
		return fault.BackendTimeout
	}
	return fault.BackendUnreachable
}

func writeFault(ctx *fasthttp.RequestCtx, f *fault.Fault) {
	ctx.SetStatusCode(f.Status)
	ctx.SetContentType(fault.ContentType)
	ctx.SetBody(f.Body)
	// handle writes the request id into the description once it is known.
	ctx.SetUserValue(faultAnswered, f)
}

// faultAnswered is the user value under which writeFault leaves the fault
// it answered; a pointer key, so setting it allocates nothing.
var faultAnswered = &struct{ byte }{}

// answerAuthFault answers a request the guard refused: f, with the
// challenge of RFC 7235 on a 401 (the schemes the route accepts) and RFC
// 6750's insufficient_scope on a missing scope.
func (p *Proxy) answerAuthFault(ctx *fasthttp.RequestCtx, rt *route, f *fault.Fault) {
	rt.metrics.AuthFailed(f)
	p.answerFault(ctx, rt, f)
	switch {
	case f == fault.ScopeMissing:
		ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, `Bearer realm="micro-gw", error="insufficient_scope"`)
	case f.Status == fasthttp.StatusUnauthorized && rt.guard.Challenge() != "":
		ctx.Response.Header.Set(fasthttp.HeaderWWWAuthenticate, rt.guard.Challenge())
	}
}

// answerFault answers with f and, for a CORS-enabled API, the CORS headers.
func (p *Proxy) answerFault(ctx *fasthttp.RequestCtx, rt *route, f *fault.Fault) {
	writeFault(ctx, f)
	if rt.cors != nil {
		rt.cors.decorate(&ctx.Request.Header, &ctx.Response.Header)
	}
}
