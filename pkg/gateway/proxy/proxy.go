package proxy

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/gateway/router"
	"github.com/valyala/fasthttp"
)

// Proxy serves a Gateway's routes.
type Proxy struct {
	routes  *router.Router[*route]
	clients *clients
	opts    Options
	log     *slog.Logger
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
	if p.opts.Tracer != nil {
		p.traced(ctx) // trace.go
		return
	}
	p.handle(ctx)
}

// handle serves one request and writes its access log line.
func (p *Proxy) handle(ctx *fasthttp.RequestCtx) {
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
