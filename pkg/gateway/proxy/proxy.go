package proxy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/gateway/router"
	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
	"github.com/micro-gw/micro-gw/pkg/spec"
	"github.com/valyala/bytebufferpool"
	"github.com/valyala/fasthttp"
)

// Options tune the proxy. Zero values take the documented defaults.
type Options struct {
	// Timeout bounds a backend exchange, from sending the request to reading
	// the last byte of the response, when the endpoint list sets no
	// timeoutInMillis. Default 60s.
	Timeout time.Duration
	// MaxHeaderBytes bounds the request line plus headers of a request (a
	// larger one gets 431) and the status line plus headers of a backend
	// response (a larger one gets 502). Default 16 KiB.
	MaxHeaderBytes int
	// MaxConnsPerHost bounds the connections to one backend host:port.
	// Default 1024.
	MaxConnsPerHost int
	// BackendIdleTimeout closes pooled backend connections idle this long.
	// Default 90s.
	BackendIdleTimeout time.Duration
	// ClientIdleTimeout closes keep-alive client connections idle this long.
	// Default 90s.
	ClientIdleTimeout time.Duration
	// ClientReadTimeout bounds reading one whole request (headers and body)
	// from a client, and ClientWriteTimeout writing one whole response to
	// it, so a client that stalls cannot hold a connection, a goroutine and
	// a backend connection forever. Default 60s each, as the backend timeout.
	ClientReadTimeout, ClientWriteTimeout time.Duration
	// KeepEscapedSlashes forwards request paths holding an encoded slash or
	// backslash (%2F, %5C), or a plain backslash, instead of refusing them
	// with 400. A backend that decodes them may then serve paths outside
	// the API: "1%2F..%2F..%2Fadmin" matches /pet/{petId} yet reaches the
	// backend's /admin. An encoded NUL is refused either way.
	KeepEscapedSlashes bool
	// AccessLog logs one line per request at info level.
	AccessLog bool
	Logger    *slog.Logger
	// clock replaces the package's clock for the warning rate limit (tests).
	clock func() int64
}

func (o *Options) setDefaults() {
	if o.Timeout <= 0 {
		o.Timeout = settings.Named("backend-timeout").DefaultDuration()
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = settings.Named("max-header-bytes").DefaultInt()
	}
	if o.MaxConnsPerHost <= 0 {
		o.MaxConnsPerHost = settings.Named("max-conns-per-host").DefaultInt()
	}
	if o.BackendIdleTimeout <= 0 {
		o.BackendIdleTimeout = settings.Named("backend-idle-timeout").DefaultDuration()
	}
	if o.ClientIdleTimeout <= 0 {
		o.ClientIdleTimeout = settings.Named("client-idle-timeout").DefaultDuration()
	}
	if o.ClientReadTimeout <= 0 {
		o.ClientReadTimeout = settings.Named("client-read-timeout").DefaultDuration()
	}
	if o.ClientWriteTimeout <= 0 {
		o.ClientWriteTimeout = settings.Named("client-write-timeout").DefaultDuration()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.clock == nil {
		o.clock = clock
	}
}

// Bind returns the Binding for one endpoint entry: a fixed one for a plain
// URL, the discovery resolver's for an etcd(key, default) entry.
type Bind func(u spec.EndpointURL) (*endpoint.Binding, error)

// Proxy serves a Gateway's routes.
type Proxy struct {
	routes  *router.Router[*route]
	clients *clients
	opts    Options
	log     *slog.Logger
}

// route is what a matched resource needs to forward a request.
type route struct {
	// base is the number of segments of the API's base path, which is
	// stripped from the request path.
	base int
	// balancer serves a plain endpoint (one URL, no retries, no breaker);
	// policy any other endpoint list (see balance.go). At most one is set.
	balancer Balancer
	policy   *policy
	timeout  time.Duration
	// cors is the API's CORS configuration; nil when CORS is off.
	cors *cors
	// allow is set on the OPTIONS routes added for CORS preflights where
	// the definition declares no OPTIONS: the path's own methods.
	allow string
	// sandbox is the resource's sandbox endpoint list, resolved and
	// followed but not used until authentication selects it by key type.
	sandbox *endpointSet
	// transports limits the listeners that serve the route (transports.go).
	transports transports
}

// New builds the routes of g. bind supplies the Binding of every endpoint entry.
func New(g *spec.Gateway, bind Bind, opts Options) (*Proxy, error) {
	opts.setDefaults()
	p := &Proxy{clients: &clients{opts: opts}, opts: opts, log: opts.Logger}
	sets := map[*spec.Endpoints]*endpointSet{}
	set := func(eps *spec.Endpoints) (*endpointSet, error) {
		if eps == nil || len(eps.URLs) == 0 {
			return nil, nil
		}
		if s, ok := sets[eps]; ok {
			return s, nil
		}
		s, err := newEndpointSet(eps, bind, p.clients, opts.Timeout)
		sets[eps] = s
		return s, err
	}
	var entries []router.Entry[*route]
	for i := range g.APIs {
		api := &g.APIs[i]
		base := segments(api.BasePath)
		c := newCORS(api.CORS)
		if c != nil && len(api.CORS.AllowOrigins) == 0 {
			p.log.Warn("x-wso2-cors is enabled with no accessControlAllowOrigins, so no origin gets CORS headers", "api", api.Title)
		}
		if c != nil && c.anyOrigin && api.CORS.AllowCredentials {
			p.log.Warn("x-wso2-cors allows any origin (*) with credentials; credentials are not allowed, or every website could read the API with the user's cookies: list the origins instead", "api", api.Title)
		}
		for j := range api.Resources {
			res := &api.Resources[j]
			prod, err := set(res.EffectiveProduction(api))
			if err != nil {
				return nil, fmt.Errorf("api %q (%s), %s %s: %w", api.Title, api.File, res.Method, res.Path, err)
			}
			sandbox := res.Sandbox
			if sandbox == nil {
				sandbox = api.Sandbox
			}
			rt := &route{base: base, timeout: opts.Timeout, cors: c, transports: transportsOf(api.Transports)}
			if rt.sandbox, err = set(sandbox); err != nil {
				return nil, fmt.Errorf("api %q (%s), %s %s: sandbox %w", api.Title, api.File, res.Method, res.Path, err)
			}
			if prod != nil {
				rt.timeout, rt.balancer, rt.policy = prod.timeout, prod.balancer, prod.policy
			} else {
				p.log.Warn("resource has no production endpoint; it will answer 503", "api", api.Title, "method", res.Method, "path", api.BasePath+res.Path)
			}
			entries = append(entries, router.Entry[*route]{Path: joinPath(api.BasePath, res.Path), Method: res.Method, Value: rt})
		}
	}
	entries = append(entries, preflightRoutes(entries)...)
	r, err := router.New(entries)
	if err != nil {
		return nil, fmt.Errorf("build route table: %w", err)
	}
	p.routes = r
	return p, nil
}

func joinPath(base, path string) string {
	switch {
	case base == "/":
		return path
	case path == "/":
		return base
	}
	return base + path
}

// NewServer returns a fasthttp server for p, configured for proxying:
// streamed request bodies, the header limit, idle timeouts, the gateway's
// fault bodies for malformed requests. Its ConnState hook tells the
// connections of Listener where requests start (headScan); a caller
// adding its own hook must call the one set here too.
func (p *Proxy) NewServer() *fasthttp.Server {
	return &fasthttp.Server{
		Handler:                      p.Handler,
		ErrorHandler:                 p.errorHandler,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		ReadBufferSize:               p.opts.MaxHeaderBytes,
		WriteBufferSize:              bufferSize,
		IdleTimeout:                  p.opts.ClientIdleTimeout,
		ReadTimeout:                  p.opts.ClientReadTimeout,
		WriteTimeout:                 p.opts.ClientWriteTimeout,
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		CloseOnShutdown:              true,
		SecureErrorLogMessage:        true,
		ConnState:                    connState,
		Logger:                       fasthttpLogger{p.log},
	}
}

// Close closes idle backend connections.
func (p *Proxy) Close() { p.clients.closeIdle() }

// Handler serves one request.
func (p *Proxy) Handler(ctx *fasthttp.RequestCtx) {
	if !p.opts.AccessLog {
		p.serve(ctx)
		return
	}
	method, path := string(ctx.Method()), string(ctx.Request.URI().PathOriginal())
	target := p.serve(ctx)
	p.log.LogAttrs(context.Background(), slog.LevelInfo, "access",
		slog.String("method", method),
		slog.String("path", path),
		slog.Int("status", ctx.Response.StatusCode()),
		slog.String("upstream", target),
		slog.Duration("duration", time.Since(ctx.Time())),
		slog.String("client", ctx.RemoteIP().String()))
}

var healthBody = []byte(`{"status":"healthy"}`)

// serve answers ctx and returns the backend URL it used, if any.
func (p *Proxy) serve(ctx *fasthttp.RequestCtx) string {
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
		return p.route(ctx, hops, path, path)
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
	return p.route(ctx, hops, match, fwd)
}

// http1 reports whether a request line's version, "HTTP/d.d" as fasthttp
// checked, is HTTP/1.x. nginx also serves 1.2 to 1.9; fasthttp serves every
// version but 1.1 as 1.0, which any 1.x client can read.
func http1(proto []byte) bool {
	return len(proto) == len("HTTP/1.1") && proto[5] == '1'
}

// route forwards a request whose path, match to find its route and fwd to
// forward, the checks above have passed.
func (p *Proxy) route(ctx *fasthttp.RequestCtx, hops hopSet, match, fwd []byte) string {
	method := ctx.Method()
	rt, allow, found := p.routes.Lookup(method, match)
	if !found {
		if allow == "" {
			writeFault(ctx, fault.NotFound)
		} else {
			ctx.Response.Header.Set(fasthttp.HeaderAllow, allow)
			writeFault(ctx, fault.MethodNotAllowed)
		}
		return ""
	}
	if !rt.transports.serves(ctx) {
		writeFault(ctx, fault.NotFound)
		return ""
	}
	if rt.cors != nil && rt.cors.intercept(ctx, rt) {
		return ""
	}
	rest := skipSegments(fwd, rt.base)
	if rt.policy != nil {
		return p.serveList(ctx, rt, hops, rest)
	}
	var be *Backend
	if rt.balancer != nil {
		be = rt.balancer.Pick()
	}
	if be == nil {
		p.answerFault(ctx, rt, fault.NoEndpoint)
		return ""
	}
	up := be.upstream()
	req := &ctx.Request
	http10 := prepareRequest(ctx, hops)
	setBackendURI(req, up, rest)

	resp := &ctx.Response
	if http10 {
		resp = fasthttp.AcquireResponse()
	}
	body := watchBody(req, rt.timeout)
	err := up.client.DoTimeout(req, resp, rt.timeout)
	bodyErr := body.failed(err)
	body.release(req)
	switch {
	case bodyErr != nil:
		p.clientFailed(ctx, rt, bodyErr, http10, resp)
	case err != nil:
		p.fail(ctx, rt, up, err, http10, resp)
	default:
		p.respond(ctx, rt, resp, http10)
	}
	return up.target.Raw
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

// respond finishes the client's answer from the backend's response resp.
func (p *Proxy) respond(ctx *fasthttp.RequestCtx, rt *route, resp *fasthttp.Response, http10 bool) {
	removeHopHeaders(&resp.Header, responseHops(&resp.Header))
	// A backend closing its connection must not close the client's.
	resp.Header.ResetConnectionClose()
	if rt.cors != nil {
		rt.cors.decorate(&ctx.Request.Header, &resp.Header)
	}
	if http10 {
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

// respondHTTP10 answers an HTTP/1.0 client, which cannot read chunked
// encoding, with resp. A body of known length is handed to the server as
// is; one of unknown length is written raw on the hijacked connection,
// which is then closed to mark its end. fasthttp clears a hijacked
// connection's deadlines, so that write gets writeTimeout itself, as every
// other answer does: a client that stops reading cannot hold the
// connection and the backend's for good.
func respondHTTP10(ctx *fasthttp.RequestCtx, resp *fasthttp.Response, writeTimeout time.Duration) {
	stream := resp.BodyStream()
	if stream == nil || resp.Header.ContentLength() >= 0 {
		resp.Header.CopyTo(&ctx.Response.Header)
		if stream != nil {
			// resp is left to the garbage collector: releasing it would
			// close the stream the server is about to write.
			ctx.Response.SetBodyStream(stream, resp.Header.ContentLength())
		} else {
			ctx.Response.SetBody(resp.Body())
			fasthttp.ReleaseResponse(resp)
		}
		return
	}
	ctx.Response.SetStatusCode(resp.StatusCode()) // for the access log
	ctx.HijackSetNoResponse(true)
	ctx.Hijack(func(c net.Conn) {
		defer fasthttp.ReleaseResponse(resp)
		resp.Header.Del(fasthttp.HeaderTransferEncoding)
		resp.Header.SetConnectionClose()
		if c.SetWriteDeadline(time.Now().Add(writeTimeout)) != nil {
			return
		}
		if _, err := c.Write(resp.Header.Header()); err == nil {
			io.Copy(c, stream) //nolint:errcheck // the client sees a short body
		}
	})
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

// hopHeaders are meaningful for one connection only (RFC 9110 7.6.1), plus
// Expect, which the gateway has already answered. fasthttp frames bodies
// itself, so Transfer-Encoding and Content-Length are rewritten, not copied.
// Connection comes first: its bit in a hopSet is 1.
var hopHeaders = [...]string{
	fasthttp.HeaderConnection,
	fasthttp.HeaderKeepAlive,
	fasthttp.HeaderProxyConnection,
	fasthttp.HeaderProxyAuthenticate,
	fasthttp.HeaderProxyAuthorization,
	fasthttp.HeaderTE,
	fasthttp.HeaderTrailer,
	fasthttp.HeaderUpgrade,
	fasthttp.HeaderExpect,
}

// hopSet has bit i set when hopHeaders[i] is present, and the forwarded
// bit for a request's Forwarded header.
type hopSet uint16

// forwarded marks a client's Forwarded header (RFC 7239), which the
// gateway removes: it would pass on, unchecked, whatever the client claims
// about itself, while X-Forwarded-For, -Host and -Proto say what the
// gateway saw.
const forwarded hopSet = 1 << len(hopHeaders)

// transferEncoding marks a request with a Transfer-Encoding header.
const transferEncoding = forwarded << 1

// add adds key to s if it names a hop-by-hop header, in any case.
func (s *hopSet) add(key []byte) {
	for i, h := range hopHeaders {
		if equalFoldBytes(key, h) {
			*s |= 1 << i
			return
		}
	}
}

// equalFoldBytes reports whether key equals the ASCII h, ignoring case.
func equalFoldBytes(key []byte, h string) bool {
	if len(key) != len(h) {
		return false
	}
	for i := range len(h) {
		if lower(key[i]) != lower(h[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// requestHops returns the hop-by-hop headers of a request as received, and
// whether its header names are valid: one pass over its raw header lines,
// without normalizing or parsing cookies. fasthttp accepts a name with a
// space inside ("X Forwarded: 1"), which would reach the backend as
// another header than the client meant (RFC 9112 §5.1 asks for 400).
func requestHops(h *fasthttp.RequestHeader) (s hopSet, ok bool) {
	raw := h.RawHeaders()
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		// A line starting with a space or a tab continues the previous one.
		if i := bytes.IndexByte(line, ':'); i > 0 && line[0] != ' ' && line[0] != '\t' {
			name := line[:i]
			if bytes.IndexByte(name, ' ') >= 0 || bytes.IndexByte(name, '\t') >= 0 {
				return s, false
			}
			s.add(name)
			switch {
			case equalFoldBytes(name, "Forwarded"):
				s |= forwarded
			case equalFoldBytes(name, fasthttp.HeaderTransferEncoding):
				s |= transferEncoding
			}
		}
	}
	return s, true
}

// responseHops returns the hop-by-hop headers of a backend's response.
func responseHops(h *fasthttp.ResponseHeader) hopSet {
	var s hopSet
	for k := range h.All() {
		s.add(k)
	}
	return s
}

// header is what hop-by-hop removal needs of request and response headers.
type header interface {
	Peek(key string) []byte
	Del(key string)
}

var (
	_ header = (*fasthttp.RequestHeader)(nil)
	_ header = (*fasthttp.ResponseHeader)(nil)
)

// removeHopHeaders deletes the hop-by-hop headers in s and those the
// Connection header lists. Each Del scans every header, so only the
// headers present are deleted, each once.
func removeHopHeaders(h header, s hopSet) {
	if s == 0 {
		return
	}
	if s&1 != 0 {
		var tmp [128]byte
		tokens := append(tmp[:0], h.Peek(fasthttp.HeaderConnection)...)
		for len(tokens) > 0 {
			var tok []byte
			tok, tokens = nextToken(tokens)
			if before := s; len(tok) > 0 && !equalFoldBytes(tok, "close") && !framing(tok) {
				if s.add(tok); s == before {
					delHeader(h, tok)
				}
			}
		}
	}
	for i, k := range hopHeaders {
		if s&(1<<i) != 0 {
			h.Del(k)
		}
	}
	if s&forwarded != 0 {
		h.Del("Forwarded")
	}
}

// framing reports whether a Connection token names a header that frames
// the message. fasthttp reads the framing from these headers and writes it
// anew, so deleting one would cut a body from its length: the token is
// ignored.
func framing(tok []byte) bool {
	return equalFoldBytes(tok, fasthttp.HeaderContentLength) || equalFoldBytes(tok, fasthttp.HeaderTransferEncoding)
}

// delHeader deletes key from h, calling the concrete method so that key
// does not escape to the heap.
func delHeader(h header, key []byte) {
	switch h := h.(type) {
	case *fasthttp.RequestHeader:
		h.DelBytes(key)
	case *fasthttp.ResponseHeader:
		h.DelBytes(key)
	}
}

// nextToken splits a comma-separated list, trimming spaces and tabs.
func nextToken(list []byte) (tok, rest []byte) {
	end := len(list)
	for i, c := range list {
		if c == ',' {
			end = i
			rest = list[i+1:]
			break
		}
	}
	tok = list[:end]
	for len(tok) > 0 && (tok[0] == ' ' || tok[0] == '\t') {
		tok = tok[1:]
	}
	for len(tok) > 0 && (tok[len(tok)-1] == ' ' || tok[len(tok)-1] == '\t') {
		tok = tok[:len(tok)-1]
	}
	return tok, rest
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
}

// errorHandler answers requests fasthttp could not parse.
//
// It gives the answer a write deadline of its own: on a TLS connection
// fasthttp leaves the handshake's write deadline in place until the first
// response, and it expires with the read timeout; a write cut by it
// leaves a partial TLS record, and the client reads a broken stream
// instead of the 408.
func (p *Proxy) errorHandler(ctx *fasthttp.RequestCtx, err error) {
	ctx.SetWriteDeadline(time.Now().Add(p.opts.ClientWriteTimeout)) //nolint:errcheck // best effort: the answer may not get through
	var small *fasthttp.ErrSmallBuffer
	switch {
	case errors.As(err, &small):
		writeFault(ctx, fault.HeaderTooLarge)
	case isTimeout(err):
		writeFault(ctx, fault.RequestTimeout)
	case errors.Is(err, errBareLF):
		p.log.Debug("malformed request", "client", ctx.RemoteIP().String(), "error", err)
		writeFault(ctx, fault.BareLineFeed)
	default:
		p.log.Debug("malformed request", "client", ctx.RemoteIP().String(), "error", err)
		writeFault(ctx, fault.BadRequest)
	}
}

// fasthttpLogger sends fasthttp's own messages to slog at debug level.
type fasthttpLogger struct{ l *slog.Logger }

func (f fasthttpLogger) Printf(format string, args ...any) {
	if f.l.Enabled(context.Background(), slog.LevelDebug) {
		f.l.Debug(fmt.Sprintf(format, args...), "component", "fasthttp")
	}
}
