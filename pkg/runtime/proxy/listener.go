package proxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"time"

	"github.com/valyala/fasthttp"
)

// Listener wraps a TCP listener so that closing a client connection is a
// lingering close, as nginx does: the gateway shuts its sending side, reads
// and discards what the client still sends for a short while, then closes.
// Without it, closing a connection with unread request bytes (a 431 for an
// oversized header, a 400) sends a TCP reset that can destroy the error
// answer before the client reads it.
//
// Its connections also spot a request header ended by a bare LF (see
// headScan) when served by a Proxy's server, which tells them where
// requests start.
func Listener(ln net.Listener) net.Listener { return lingerListener{ln} }

type lingerListener struct{ net.Listener }

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		return &lingerConn{TCPConn: tc}, nil
	}
	return c, nil
}

// lingerConn is a TCP connection whose Close lingers.
type lingerConn struct {
	*net.TCPConn
	head headScan
}

// lingerTime and lingerBytes bound what a closing connection still reads.
const (
	lingerTime  = time.Second
	lingerBytes = 256 << 10
)

func (c *lingerConn) Close() error {
	if c.CloseWrite() == nil && c.SetReadDeadline(time.Now().Add(lingerTime)) == nil {
		io.CopyN(io.Discard, c.TCPConn, lingerBytes) //nolint:errcheck // best effort
	}
	return c.TCPConn.Close()
}

// Read reads from the connection, failing at once when the request being
// read has a header block that fasthttp would wait on forever.
func (c *lingerConn) Read(p []byte) (int, error) {
	if c.head.phase == headBad {
		return 0, errBareLF
	}
	n, err := c.TCPConn.Read(p)
	if c.head.phase == headAwait {
		c.head.start()
	}
	if c.head.phase == headScanning && n > 0 {
		c.head.scan(p[:n])
	}
	return n, err
}

// errBareLF is what a connection's Read returns for a request whose header
// block ends with a bare LF; the server's error handler answers 400.
var errBareLF = errors.New("request header block ends with a bare LF, not CRLF")

// connState is the server's ConnState hook: it tells a plain-text gateway
// connection where requests start. A TLS connection is not a *lingerConn
// here (the lingerConn under it carries ciphertext), so it is left alone.
func connState(c net.Conn, s fasthttp.ConnState) {
	lc, ok := c.(*lingerConn)
	if !ok {
		return
	}
	switch s {
	case fasthttp.StateNew, fasthttp.StateIdle:
		lc.head.phase = headAwait
	case fasthttp.StateActive:
		if lc.head.phase == headAwait {
			// The request began with bytes read along with the previous
			// one (pipelined): where it starts is not known here.
			lc.head.phase = headOff
		}
	}
}

// headScan follows the header block of a request on a connection. fasthttp
// ends a header block only at an empty line after CRLF; one ended by a
// bare LF ("GET / HTTP/1.1\nHost: x\n\n") makes it wait for more bytes
// until the client read timeout, then answer 408. headScan sees the bytes
// as they are read, from the first byte of a request (the first read after
// the connection opened or went idle), up to the end of its header block;
// when that ends in a way fasthttp does not accept, the next read fails,
// and the client gets 400 at once. The server's goroutine for the
// connection does both the reads and the ConnState calls, so headScan needs
// no synchronization.
type headScan struct {
	phase   uint8
	lines   int  // non-empty lines seen: the request line, then headers
	lineLen int  // bytes of the current line read so far
	lastCR  bool // the last byte read was '\r'
	crlf    bool // the last non-empty line ended with CRLF
}

// headScan phases.
const (
	headOff      uint8 = iota // not following: body, pipelined, or TLS
	headAwait                 // the next read starts a request
	headScanning              // in a header block
	headBad                   // the block ended with a bare LF
)

// start begins following a request from the bytes just read.
func (h *headScan) start() {
	*h = headScan{phase: headScanning}
}

// scan follows the header block through b, the bytes just read.
func (h *headScan) scan(b []byte) {
	for h.phase == headScanning && len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			h.lineLen += len(b)
			h.lastCR = b[len(b)-1] == '\r'
			return
		}
		crlf := i > 0 && b[i-1] == '\r' || i == 0 && h.lastCR
		h.line(h.lineLen+i, crlf)
		h.lineLen, h.lastCR = 0, false
		b = b[i+1:]
	}
}

// line takes a line of n bytes (a final CR included) that ended with LF,
// or CRLF when crlf.
func (h *headScan) line(n int, crlf bool) {
	switch {
	case n > 1 || n == 1 && !crlf: // not empty
		h.lines++
		h.crlf = crlf
	case h.lines == 0:
		// Empty lines before the request line are skipped.
	case crlf && (h.crlf || h.lines == 1):
		// CRLF CRLF, or a request line with no header followed by CRLF:
		// fasthttp takes the block as complete.
		h.phase = headOff
	default:
		h.phase = headBad
	}
}
