package proxy

import (
	"bufio"
	"errors"
	"io"
	"time"

	"github.com/valyala/fasthttp"
)

// maxBufferedBody is the largest response body of known length read into
// memory at once. A larger one, or one of unknown length, is streamed to the
// client in bufferSize pieces, so memory stays bounded whatever its size.
const maxBufferedBody = 64 << 10

// maxInterimResponses bounds the 1xx responses skipped before the final one.
const maxInterimResponses = 100

// transport is the fasthttp.RoundTripper of every backend pool. Unlike the
// default one, which streams every response body when
// HostClient.StreamResponseBody is set, it reads a small body of known
// length at once and returns the connection to the pool immediately; only a
// large or unknown-length body is streamed, its connection returned when
// the stream ends.
//
// A fasthttp.Request keeps its timeout private, so the transport carries
// it: each HostClient serves the backends of one timeout (clients.get).
// An exchange, from sending the request to reading the last body byte,
// must end by timeout after the attempt started.
type transport struct {
	timeout time.Duration
}

var _ fasthttp.RoundTripper = (*transport)(nil)

// RoundTrip sends req on a pooled connection of hc and reads the answer
// into resp. retry asks HostClient.Do to try again on another connection
// (it does so for an idempotent request without a streamed body): only
// when the backend may not have seen the request, not after a timeout and
// not once a response has arrived.
func (t *transport) RoundTrip(hc *fasthttp.HostClient, req *fasthttp.Request, resp *fasthttp.Response) (retry bool, err error) {
	deadline := time.Now().Add(t.timeout)
	cc, err := hc.AcquireConn(t.timeout, req.ConnectionClose())
	if err != nil {
		return false, err
	}
	conn := cc.Conn()
	if err = conn.SetDeadline(deadline); err != nil {
		hc.CloseConn(cc)
		return true, err
	}

	bw := hc.AcquireWriter(conn)
	err = req.Write(bw)
	if err == nil {
		err = bw.Flush()
	}
	hc.ReleaseWriter(bw)
	if err != nil {
		hc.CloseConn(cc)
		if isTimeout(err) {
			return false, fasthttp.ErrTimeout
		}
		return true, err
	}

	br := hc.AcquireReader(conn)
	if err = readHeader(br, &resp.Header); err != nil {
		hc.ReleaseReader(br)
		hc.CloseConn(cc)
		return !isTimeout(err), err
	}
	// After a 101 the connection speaks another protocol: never reuse it.
	closeConn := req.ConnectionClose() || resp.Header.ConnectionClose() || resp.Header.StatusCode() == fasthttp.StatusSwitchingProtocols
	cl := resp.Header.ContentLength()
	switch {
	case resp.SkipBody || req.Header.IsHead() || noBody(resp.Header.StatusCode()):
		resp.SkipBody = true
	case cl >= 0 && cl <= maxBufferedBody:
		resp.StreamBody = false
		err = resp.ReadBody(br, 0)
	default:
		// A body without a length ends when the backend closes.
		closeConn = closeConn || cl == -2
		resp.SetBodyStream(newStream(br, &resp.Header, func(reuse bool) {
			hc.ReleaseReader(br)
			if reuse && !closeConn {
				hc.ReleaseConn(cc)
			} else {
				hc.CloseConn(cc)
			}
		}), cl)
		return false, nil
	}
	hc.ReleaseReader(br)
	if err != nil || closeConn {
		hc.CloseConn(cc)
	} else {
		hc.ReleaseConn(cc)
	}
	return false, err
}

// readHeader reads the final response header into h, skipping interim 1xx
// responses other than 101 Switching Protocols.
func readHeader(br *bufio.Reader, h *fasthttp.ResponseHeader) error {
	for range maxInterimResponses {
		if err := h.Read(br); err != nil {
			return err
		}
		if s := h.StatusCode(); s < 100 || s > 199 || s == fasthttp.StatusSwitchingProtocols {
			return nil
		}
	}
	return errTooManyInterim
}

var errTooManyInterim = errors.New("too many 1xx informational responses")

// noBody reports whether a response with this status has no body
// (RFC 9110 6.4.1).
func noBody(status int) bool {
	return status < 200 || status == fasthttp.StatusNoContent || status == fasthttp.StatusNotModified
}

func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// stream is a streamed response body. fasthttp decodes it (length, chunks,
// trailers) into a scratch Response; release returns the connection to the
// pool when the stream is closed after reading to the end, and closes it
// otherwise. The server reads and closes it from one goroutine.
type stream struct {
	body    io.Reader
	scratch *fasthttp.Response
	release func(reuse bool)
	eof     bool
}

// newStream streams the body whose header is h from br.
func newStream(br *bufio.Reader, h *fasthttp.ResponseHeader, release func(reuse bool)) *stream {
	scratch := fasthttp.AcquireResponse()
	h.CopyTo(&scratch.Header)
	scratch.StreamBody = true
	scratch.ReadBody(br, 0) //nolint:errcheck // only creates the stream
	return &stream{body: scratch.BodyStream(), scratch: scratch, release: release}
}

func (s *stream) Read(p []byte) (int, error) {
	if s.scratch == nil {
		return 0, io.ErrClosedPipe
	}
	n, err := s.body.Read(p)
	if err == io.EOF {
		s.eof = true
	}
	return n, err
}

// CloseWithError ends the stream (fasthttp.ReadCloserWithError); err is why
// the reader stopped, if it did before the end. fasthttp calls it when the
// response is written or released.
func (s *stream) CloseWithError(err error) error {
	if s.scratch == nil {
		return nil
	}
	fasthttp.ReleaseResponse(s.scratch) // releases fasthttp's stream
	s.scratch, s.body = nil, nil
	s.release(err == nil && s.eof)
	return nil
}
