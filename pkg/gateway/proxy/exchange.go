package proxy

import (
	"errors"
	"io"
	"net"
	"slices"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/gateway/metrics"
	"github.com/valyala/bytebufferpool"
	"github.com/valyala/fasthttp"
)

// maxReplayBody bounds the request bodies buffered so that a retry or a
// failover can send them again. A larger body, or one of unknown length
// (chunked), streams to the backend and is never sent twice.
const maxReplayBody = 64 << 10

// exchange is the request path's exchange stage (see serve): it sends the
// request to the members of set that its selector picks, one attempt at a
// time, until one answers for good, and answers the client. Failover,
// retries and the circuit breaker decide between attempts (attempts
// below; the rules are in the package doc). A list of one URL without
// retries or breaker makes exactly one attempt and pays for none of this:
// no copy of the path or body, no clock reading. path is the forwarded
// path after the base path. It returns the backend URL it used last, and
// counts each attempt, its time and its outcome in o and the backend's
// metrics.
func (p *Proxy) exchange(ctx *fasthttp.RequestCtx, o *outcome, rt *route, set *endpointSet, hops hopSet, path []byte) string {
	req := &ctx.Request
	rest := path
	if set.replay {
		// Each attempt's path is its target's followed by rest. path may
		// point into the URI's path, which each attempt rewrites, so a
		// request that may be sent again keeps a copy.
		buf := bytebufferpool.Get()
		defer bytebufferpool.Put(buf)
		buf.B = append(buf.B[:0], path...)
		rest = buf.B
	}
	replayable, saved, err := replayBody(req, set.replay)
	if saved != nil {
		defer func() {
			// The request must not keep pointing at a pooled buffer.
			req.ResetBody()
			bytebufferpool.Put(saved)
		}()
	}
	if err != nil {
		p.clientFailed(ctx, rt, err, false, nil)
		return ""
	}

	now := set.now()
	a := attempts{set: set, replayable: replayable, failovers: len(set.members) - 1}
	if br := set.breaker; br != nil {
		var ok bool
		if ok, a.trial = br.allow(now); !ok {
			br.setRetryAfter(ctx, now)
			p.answerFault(ctx, rt, circuitOpen)
			return ""
		}
	}
	if set.retry != nil {
		a.retries = set.retry.count
	}

	http10 := prepareRequest(ctx, hops)
	resp := &ctx.Response
	if http10 {
		resp = fasthttp.AcquireResponse()
	}
	retried := 0
	for {
		m := a.next(now)
		up := m.upstream()
		setBackendURI(req, up, rest)
		span := p.startAttempt(ctx, req) // trace.go
		body := watchBody(req, set.timeout)
		if a.n > retried {
			retried = a.n
			up.metrics.Retry()
		}
		o.attempts++
		up.metrics.Attempt()
		var sent time.Time
		if o.timed {
			sent = time.Now()
		}
		err := up.client.DoTimeout(req, resp, set.timeout)
		if o.timed {
			// Until the response headers: the body streams to the client later.
			o.backend += time.Since(sent)
		}
		p.endAttempt(span, resp, err)
		bodyErr := body.failed(err)
		body.release(req)
		now = set.now()

		if bodyErr != nil {
			a.clientFault()
			p.clientFailed(ctx, rt, bodyErr, http10, resp)
			return up.target.Raw
		}
		if err != nil {
			up.metrics.Failed(errorKind(err))
			switch a.failed(m, err, now) {
			case tryNext:
				p.log.Debug("backend failed; trying the next URL", "upstream", up.target.Raw, "error", err)
				continue
			case retryLater:
				p.log.Debug("backend failed; retrying", "upstream", up.target.Raw, "error", err)
				if p.retryWait(ctx, &a, up) {
					continue
				}
			}
			p.fail(ctx, rt, up, err, http10, resp)
			return up.target.Raw
		}
		status := resp.StatusCode()
		up.metrics.Answered(status)
		if a.answered(m, status, now) {
			p.log.Debug("backend answered a retry status; retrying", "upstream", up.target.Raw, "status", status)
			// The answer is kept through the wait: if the wait is cut
			// short, it is the client's answer.
			if p.retryWait(ctx, &a, up) {
				resp.CloseBodyStream() //nolint:errcheck // the answer is dropped
				continue
			}
		}
		if f := rt.validator.ValidateResponse(ctx, resp); f != nil {
			if http10 {
				fasthttp.ReleaseResponse(resp)
			}
			ctx.Response.Reset()
			p.answerFault(ctx, rt, f)
			return up.target.Raw
		}
		p.respond(ctx, o, rt, resp, http10)
		return up.target.Raw
	}
}

// replayBody makes req's body replayable when replay is set (the list may
// send a request more than once): a streamed body of known length up to
// maxReplayBody is read whole into saved, a pooled buffer the caller puts
// back after the exchange. It reports whether the request can be sent
// again: it has no body, or its body is in memory. err is the client's,
// reading its body.
func replayBody(req *fasthttp.Request, replay bool) (replayable bool, saved *bytebufferpool.ByteBuffer, err error) {
	// Content-Length -1 is a chunked body; 0 and -2 (a GET or HEAD without
	// either header) are none.
	cl := req.Header.ContentLength()
	if cl <= 0 && cl != -1 {
		return true, nil, nil
	}
	if !req.IsBodyStream() {
		// Read whole already (request validation): it can be sent again.
		return true, nil, nil
	}
	if !replay || cl <= 0 || cl > maxReplayBody {
		return false, nil, nil
	}
	saved = bytebufferpool.Get()
	saved.B = slices.Grow(saved.B[:0], cl)[:cl]
	if _, err := io.ReadFull(req.BodyStream(), saved.B); err != nil {
		return false, saved, err
	}
	req.SetBodyRaw(saved.B)
	return true, saved, nil
}

// attempts is one request's way through an endpoint list: the members it
// tried, the moves to another member and the retries it has left, and
// whether it holds the breaker's half-open trial. It lives on the stack of
// exchange.
type attempts struct {
	set       *endpointSet
	tried     uint64 // a bit per member index
	failovers int    // moves left to an untried member after a failure
	retries   int    // retries left (retryConfig.count)
	n         int    // retries done: the back-off's exponent
	// trial is set while the request holds the breaker's half-open trial,
	// which the first outcome settles.
	trial bool
	// replayable is set when the request may be sent again: no body, or
	// one buffered.
	replayable bool
}

// verdict is what follows a failed attempt.
type verdict int

const (
	answerNow  verdict = iota // the fault goes to the client
	tryNext                   // the next untried member, at once
	retryLater                // a retry, after the back-off
)

// next picks the member of the next attempt. Once every member was tried,
// a retry starts over.
func (a *attempts) next(now int64) *member {
	ms := a.set.members
	i := a.set.selector.pick(ms, a.tried, now)
	if i < 0 {
		a.tried = 0
		i = a.set.selector.pick(ms, 0, now)
	}
	a.tried |= 1 << i
	return &ms[i]
}

// failed records that the exchange with m failed (err): m is marked down
// when the list has others to move to, and the breaker counts a failure.
// It says what follows.
func (a *attempts) failed(m *member, err error, now int64) verdict {
	if len(a.set.members) > 1 {
		m.failed(now)
	}
	a.record(now, true)
	if a.failovers == 0 && a.retries == 0 {
		return answerNow
	}
	// A request not sent at all (no connection) may go elsewhere whatever
	// its body.
	again := (a.replayable || notSent(err)) && !a.set.open()
	switch {
	case again && a.failovers > 0 && a.set.untried(a.tried) > 0:
		a.failovers--
		return tryNext
	case again && a.retries > 0:
		return retryLater
	}
	return answerNow
}

// answered records that m answered with status: m is up, and the breaker
// counts a failure when status is one of its statusCodes. It reports
// whether to retry: status is one of retryConfig.statusCodes and the
// request can be sent again.
func (a *attempts) answered(m *member, status int, now int64) bool {
	m.succeeded()
	if br := a.set.breaker; br != nil {
		a.record(now, br.codes.has(status))
	}
	return a.retries > 0 && a.replayable && a.set.retry.codes.has(status) && !a.set.open()
}

// record reports an attempt's outcome to the breaker, if any; the first
// outcome settles a trial.
func (a *attempts) record(now int64, failed bool) {
	if br := a.set.breaker; br != nil {
		br.record(now, failed, a.trial)
	}
	a.trial = false
}

// clientFault gives back a trial the request held when the client got its
// body wrong: the backend is neither marked down nor counted.
func (a *attempts) clientFault() {
	if a.trial {
		a.set.breaker.untry()
	}
}

// retryWait waits the back-off before retry a.n and reports whether to
// retry. A wait cut short (shutdown, or the client left) ends the
// request: its connection is closed after the last answer.
func (p *Proxy) retryWait(ctx *fasthttp.RequestCtx, a *attempts, up *upstream) bool {
	if p.pause(ctx, a.set.retry.wait(a.n)) {
		a.n++
		a.retries--
		return true
	}
	p.log.Debug("retry wait cut short: shutting down, or the client left", "upstream", up.target.Raw)
	ctx.SetConnectionClose()
	return false
}

// errorKind is the metrics' kind of a backend error, as classify answers it.
func errorKind(err error) metrics.ErrorKind {
	if classify(err) == fault.BackendTimeout {
		return metrics.TimeoutError
	}
	return metrics.ConnectError
}

// notSent reports whether err means the request never left the gateway:
// no connection could be had, so nothing of the body was read.
func notSent(err error) bool {
	var op *net.OpError
	return errors.Is(err, fasthttp.ErrDialTimeout) || errors.Is(err, fasthttp.ErrNoFreeConns) ||
		(errors.As(err, &op) && op.Op == "dial")
}
