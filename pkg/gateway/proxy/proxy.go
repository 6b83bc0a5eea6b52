package proxy

import (
	"errors"
	"log/slog"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/gateway/metrics"
	"github.com/micro-gw/micro-gw/pkg/gateway/router"
	"github.com/valyala/fasthttp"
)

// Proxy serves a Gateway's routes.
type Proxy struct {
	routes  *router.Router[*route]
	clients *clients
	opts    Options
	log     *slog.Logger
	// ids makes the ids of requests that bring none.
	ids *requestIDs
	// sets are every endpoint list, for the metrics read at scrape time.
	sets []*endpointSet
	// unmatched records the requests no route matched; nil with metrics off.
	unmatched *metrics.Route
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

// Handler serves one request. It gives the request its id (requestid.go),
// which the backend receives and the client gets back, and records the
// request's metrics and access log line from what the stages put in an
// outcome (outcome.go).
func (p *Proxy) Handler(ctx *fasthttp.RequestCtx) {
	o := outcome{timed: p.opts.Metrics != nil || p.opts.AccessLog}
	o.idLen = copy(o.id[:], p.ids.requestID(&ctx.Request.Header))
	var method, path string
	if p.opts.AccessLog {
		method, path = string(ctx.Method()), string(ctx.Request.URI().PathOriginal())
	}
	o.target = p.serve(ctx, &o)
	ctx.Response.Header.SetBytesV(HeaderRequestID, o.id[:o.idLen])
	p.record(ctx, &o)
	if p.opts.AccessLog {
		p.accessLog(ctx, &o, method, path)
	}
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
