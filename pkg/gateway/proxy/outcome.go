package proxy

import (
	"context"
	"log/slog"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/metrics"
	"github.com/micro-gw/micro-gw/pkg/gateway/throttle"
	"github.com/valyala/fasthttp"
)

// outcome is what the request path learned about one request, for its
// metrics and its access log line. It lives on Handler's stack and the
// stages fill it in: no allocation.
type outcome struct {
	rt *route // nil until a route matched
	// target is the backend URL of the last attempt; "" when none was made.
	target string
	// backend is the time spent in exchanges with backends, every attempt
	// summed (measured only when timed is set).
	backend time.Duration
	// attempts counts the attempts sent to backends.
	attempts int
	// who is the authenticated caller; nil for an open route.
	who *auth.Principal
	// timed is set when someone reads backend (metrics or access log).
	timed bool
	// limit is the throttling decision whose RateLimit headers go on the
	// answer; zero on a route without a tier.
	limit throttle.Decision
	id    [maxRequestID]byte
	idLen int
}

// retries is the number of attempts after the first: retries and
// failovers to another URL of the list.
func (o *outcome) retries() int { return max(o.attempts-1, 0) }

// record gives the request's figures to its route's metrics (the
// unmatched route's when no route matched).
func (p *Proxy) record(ctx *fasthttp.RequestCtx, o *outcome) {
	m := p.unmatched
	if o.rt != nil {
		m = o.rt.metrics
	}
	if m == nil {
		return
	}
	m.Done(ctx.Response.StatusCode(), time.Since(ctx.Time()), o.backend,
		ctx.Request.Header.ContentLength(), ctx.Response.Header.ContentLength())
}

// accessLog writes the request's access log line: the fields people query
// (method and path, the route's API and resource template, the id, the
// status, the total and backend durations, body bytes, the backend URL,
// retries, the client's IP, and for an authenticated request the
// application and key type, never the credential).
func (p *Proxy) accessLog(ctx *fasthttp.RequestCtx, o *outcome, method, path string) {
	var api, resource string
	if o.rt != nil {
		api, resource = o.rt.api, o.rt.resource
	}
	attrs := [...]slog.Attr{
		slog.String("method", method),
		slog.String("path", path),
		slog.Int("status", ctx.Response.StatusCode()),
		slog.String("upstream", o.target),
		slog.Duration("duration", time.Since(ctx.Time())),
		slog.String("client", ctx.RemoteIP().String()),
		slog.String("id", string(o.id[:o.idLen])),
		slog.String("api", api),
		slog.String("resource", resource),
		slog.Duration("backend_duration", o.backend),
		slog.Int("bytes_in", max(ctx.Request.Header.ContentLength(), 0)),
		slog.Int("bytes_out", max(ctx.Response.Header.ContentLength(), 0)),
		slog.Int("retries", o.retries()),
		{}, {},
	}
	n := len(attrs) - 2
	if o.who != nil {
		// The application by its name, for people reading the log (else
		// its id), or the user of a credential without one (basic
		// authentication). Throttling keys on the id first instead
		// (route.caller).
		app := o.who.Application.Name
		if app == "" {
			app = o.who.Application.ID
		}
		if app == "" {
			app = o.who.Subject
		}
		attrs[n], attrs[n+1] = slog.String("application", app), slog.String("key_type", o.who.KeyType)
		n += 2
	}
	p.log.LogAttrs(context.Background(), slog.LevelInfo, "access", attrs[:n]...)
}

// Backends reports every backend URL in use with the connections open to
// its host:port, for the metrics (metrics.ProxySource).
func (p *Proxy) Backends(f func(url string, open int)) {
	for _, s := range p.sets {
		for i := range s.members {
			if u := s.members[i].cur.Load(); u != nil {
				f(u.target.Raw, u.client.ConnsCount())
			}
		}
	}
}

// Breakers reports the state of every circuit breaker, named by its
// endpoint list (metrics.ProxySource).
func (p *Proxy) Breakers(f func(endpoints string, state int)) {
	for _, s := range p.sets {
		if s.breaker != nil {
			f(s.name, int(s.breaker.state.Load()))
		}
	}
}

var _ metrics.ProxySource = (*Proxy)(nil)
