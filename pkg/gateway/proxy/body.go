package proxy

import (
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/valyala/fasthttp"
)

// bodyReader stands between a client's streamed request body and the
// backend exchange that sends it, and records why reading the body failed,
// if it did. The transport reads the body while it writes the request, so
// an exchange error alone cannot tell a broken backend from a client that
// sent malformed chunks, a forbidden trailer or fewer bytes than its
// Content-Length: with a bodyReader the second kind is the client's fault,
// answered 400, and never counts against the backend.
//
// A body that arrives too slowly is the client's fault too: the backend
// exchange must end by the endpoint's timeout, and while the client
// trickles its body the exchange waits on the client, not on the backend.
// A read of the body that returns after that deadline means the exchange
// ran out of time waiting on the client (408), not on the backend (504).
type bodyReader struct {
	r io.Reader
	// left is what a body of known length still owes; -1 for chunked.
	left int64
	err  error
	// deadline is when the exchange's timeout expires; late is set when a
	// read of the body returned after it.
	deadline time.Time
	late     bool
}

var bodyReaders = sync.Pool{New: func() any { return new(bodyReader) }}

// watchBody puts a bodyReader in front of req's streamed body and returns
// it, or nil when req has no streamed body; timeout is the exchange's.
// release it after the exchange. It is pooled, so a request with a body
// allocates nothing for it.
func watchBody(req *fasthttp.Request, timeout time.Duration) *bodyReader {
	s := req.BodyStream()
	if s == nil {
		return nil
	}
	n := req.Header.ContentLength()
	b := bodyReaders.Get().(*bodyReader)
	*b = bodyReader{r: s, left: int64(n), deadline: time.Now().Add(timeout)}
	if n < 0 {
		b.left = -1
	}
	// SetBodyStream resets the body first; the server still owns, drains
	// and releases its stream, which it captured before the handler ran.
	req.SetBodyStream(b, n)
	return b
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.r.Read(p)
	if !b.late && time.Now().After(b.deadline) {
		b.late = true
	}
	if b.left >= 0 {
		b.left -= int64(n)
		// fasthttp's request stream ends a body cut short with a plain
		// io.EOF; short is short.
		if err == io.EOF && b.left > 0 {
			err = io.ErrUnexpectedEOF
		}
	}
	if err != nil && err != io.EOF {
		b.err = err
	}
	return n, err
}

// failed reports the client's error reading the body, if any, for an
// exchange that ended with exchangeErr; b may be nil. An exchange that
// failed after waiting on the client past its deadline failed because of
// the client: errSlowBody.
func (b *bodyReader) failed(exchangeErr error) error {
	switch {
	case b == nil:
		return nil
	case b.err != nil:
		return b.err
	case exchangeErr != nil && b.late:
		return errSlowBody
	}
	return nil
}

// errSlowBody is the client's fault of a request body that was still
// arriving when the backend exchange's timeout expired. It is a timeout,
// answered 408.
var errSlowBody error = slowBodyError{}

type slowBodyError struct{}

func (slowBodyError) Error() string {
	return "the request body was still arriving when the backend timeout expired"
}
func (slowBodyError) Timeout() bool { return true }

// release returns b to the pool; b may be nil. A body the exchange did not
// send (no connection could be had) goes back to req as it was, so the
// next attempt can send it.
func (b *bodyReader) release(req *fasthttp.Request) {
	if b == nil {
		return
	}
	if req.BodyStream() == io.Reader(b) {
		req.SetBodyStream(b.r, req.Header.ContentLength())
	}
	*b = bodyReader{}
	bodyReaders.Put(b)
}

// clientFailed answers a request whose body the client got wrong, or
// stopped sending: 408 when it timed out, else 400. The connection is
// closed, since the rest of the body cannot be found. It is logged at
// debug level: the client's fault says nothing about the backend.
func (p *Proxy) clientFailed(ctx *fasthttp.RequestCtx, rt *route, err error, http10 bool, resp *fasthttp.Response) {
	if p.log.Enabled(ctx, slog.LevelDebug) {
		p.log.Debug("reading the request body failed", "client", ctx.RemoteIP().String(), "error", err)
	}
	if http10 {
		fasthttp.ReleaseResponse(resp)
	}
	ctx.Response.Reset()
	ctx.SetConnectionClose()
	f := fault.BadBody
	if isTimeout(err) {
		f = fault.RequestTimeout
	}
	p.answerFault(ctx, rt, f)
}
