package proxy

import (
	"errors"
	"io"
	"net"
	"slices"

	"github.com/valyala/bytebufferpool"
	"github.com/valyala/fasthttp"
)

// maxReplayBody bounds the request bodies buffered so that a retry or a
// failover can send them again. A larger body, or one of unknown length
// (chunked), streams to the backend and is never sent twice.
const maxReplayBody = 64 << 10

// serveList forwards a request whose endpoint list balances, fails over,
// retries or has a circuit breaker (see the package doc for the rules).
func (p *Proxy) serveList(ctx *fasthttp.RequestCtx, rt *route, hops hopSet, path []byte) string {
	pol := rt.policy
	req := &ctx.Request

	// Each attempt's path is its target's followed by rest: path, the
	// forwarded path after the base path. It may point into the URI's path,
	// which each attempt rewrites, so rest is a copy.
	rest := bytebufferpool.Get()
	defer bytebufferpool.Put(rest)
	rest.B = append(rest.B[:0], path...)

	// Content-Length -1 is a chunked body; 0 and -2 (a GET or HEAD without
	// either header) are none.
	replayable := true
	if cl := req.Header.ContentLength(); cl > 0 || cl == -1 {
		replayable = false
		if pol.buffer && cl > 0 && cl <= maxReplayBody && req.IsBodyStream() {
			body := bytebufferpool.Get()
			defer func() {
				// The request must not keep pointing at a pooled buffer.
				req.ResetBody()
				bytebufferpool.Put(body)
			}()
			body.B = slices.Grow(body.B[:0], cl)[:cl]
			if _, err := io.ReadFull(req.BodyStream(), body.B); err != nil {
				p.clientFailed(ctx, rt, err, false, nil)
				return ""
			}
			req.SetBodyRaw(body.B)
			replayable = true
		}
	}

	now := clock()
	trial := false
	if br := pol.breaker; br != nil {
		var ok bool
		if ok, trial = br.allow(now); !ok {
			br.setRetryAfter(ctx, now)
			p.answerFault(ctx, rt, circuitOpen)
			return ""
		}
	}

	http10 := prepareRequest(ctx, hops)
	resp := &ctx.Response
	if http10 {
		resp = fasthttp.AcquireResponse()
	}
	l := pol.list
	failovers := len(l.members) - 1
	retries := 0
	if pol.retry != nil {
		retries = pol.retry.count
	}
	var tried uint64
	for n := 0; ; {
		i := l.pick(now, tried)
		if i < 0 { // every URL tried: a retry starts over
			tried = 0
			i = l.pick(now, 0)
		}
		tried |= 1 << i
		m := &l.members[i]
		up := m.upstream()
		setBackendURI(req, up, rest.B)
		body := watchBody(req)
		err := up.client.DoTimeout(req, resp, rt.timeout)
		bodyErr := body.failed()
		body.release(req)
		now = clock()

		if bodyErr != nil {
			// The client's fault: the backend is neither marked down nor
			// counted, and a trial it held goes back to the breaker.
			if trial {
				pol.breaker.untry()
			}
			p.clientFailed(ctx, rt, bodyErr, http10, resp)
			return up.target.Raw
		}
		if err != nil {
			if len(l.members) > 1 {
				m.failed(now)
			}
			pol.record(now, true, trial)
			trial = false
			// A request not sent at all (no connection) may go elsewhere
			// whatever its body.
			again := (replayable || notSent(err)) && !pol.open()
			switch {
			case again && failovers > 0 && l.untried(tried) > 0:
				failovers--
				p.log.Debug("backend failed; trying the next URL", "upstream", up.target.Raw, "error", err)
				continue
			case again && retries > 0:
				p.log.Debug("backend failed; retrying", "upstream", up.target.Raw, "error", err)
				if p.pause(ctx, pol.retry.wait(n)) {
					n++
					retries--
					continue
				}
				p.log.Debug("retry wait cut short: shutting down, or the client left", "upstream", up.target.Raw)
				ctx.SetConnectionClose()
			}
			p.fail(ctx, rt, up, err, http10, resp)
			return up.target.Raw
		}
		m.succeeded()
		status := resp.StatusCode()
		if pol.breaker != nil {
			pol.record(now, pol.breaker.codes.has(status), trial)
			trial = false
		}
		if retries > 0 && replayable && pol.retry.codes.has(status) && !pol.open() {
			p.log.Debug("backend answered a retry status; retrying", "upstream", up.target.Raw, "status", status)
			// The answer is kept through the wait: if the wait is cut
			// short, it is the client's answer.
			if p.pause(ctx, pol.retry.wait(n)) {
				resp.CloseBodyStream() //nolint:errcheck // the answer is dropped
				n++
				retries--
				continue
			}
			p.log.Debug("retry wait cut short: shutting down, or the client left", "upstream", up.target.Raw)
			ctx.SetConnectionClose()
		}
		respond(ctx, rt, resp, http10)
		return up.target.Raw
	}
}

// record reports an attempt's outcome to the breaker, if any.
func (pol *policy) record(now int64, failed, trial bool) {
	if pol.breaker != nil {
		pol.breaker.record(now, failed, trial)
	}
}

// open reports whether the breaker, if any, stops requests now.
func (pol *policy) open() bool {
	return pol.breaker != nil && pol.breaker.state.Load() != closed
}

// notSent reports whether err means the request never left the gateway:
// no connection could be had, so nothing of the body was read.
func notSent(err error) bool {
	var op *net.OpError
	return errors.Is(err, fasthttp.ErrDialTimeout) || errors.Is(err, fasthttp.ErrNoFreeConns) ||
		(errors.As(err, &op) && op.Op == "dial")
}
