package proxy

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// Listener wraps a TCP listener with the defaults of NewListener: no bound
// on connections and no logging.
//
// Its connections also spot a request header ended by a bare LF (see
// headScan) when served by a Proxy's server, which tells them where
// requests start.
func Listener(ln net.Listener) net.Listener { return NewListener(ln, ListenerOptions{}) }

// ListenerOptions tune NewListener.
type ListenerOptions struct {
	// Conns counts the connections of every listener sharing it and bounds
	// them; nil means neither.
	Conns *Conns
	// Logger reports accept errors; nil discards them.
	Logger *slog.Logger
}

// NewListener wraps a public TCP listener so that it never stops on a
// passing failure and never lets connections pile up:
//
//   - An accept error that passes (out of file descriptors, a connection
//     aborted before it was accepted, out of buffers) is retried after a
//     back-off of 5 ms doubling to 1 s, as net/http's Server.Serve does.
//     fasthttp's Serve would return on it, and the listener would be gone
//     for good while the process looks alive.
//   - Past Conns' bound a new connection is closed as soon as it is
//     accepted: a client gets a prompt end instead of a queue, and the
//     gateway keeps the descriptors it needs for backends and etcd.
//   - Closing a connection lingers, as nginx does: the gateway shuts its
//     sending side, reads and discards what the client still sends for a
//     short while, then closes. Without it, closing a connection with unread
//     request bytes (a 431 for an oversized header, a 400) sends a TCP reset
//     that can destroy the error answer before the client reads it.
func NewListener(ln net.Listener, o ListenerOptions) net.Listener {
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &listener{Listener: ln, conns: o.Conns, log: log, wait: waitUnlessClosed, closed: make(chan struct{})}
}

type listener struct {
	net.Listener
	conns *Conns
	log   *slog.Logger
	// wait sleeps d, or less when closed is closed. Tests replace it.
	wait      func(d time.Duration, closed <-chan struct{})
	closeOnce sync.Once
	closed    chan struct{}
}

// Back-off between failed accepts, as net/http's Server.Serve.
const (
	minAcceptDelay = 5 * time.Millisecond
	maxAcceptDelay = time.Second
)

func (l *listener) Accept() (net.Conn, error) {
	var delay time.Duration
	failed := 0
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !temporaryAcceptError(err) {
				return nil, err
			}
			delay = nextAcceptDelay(delay)
			if failed == 0 {
				l.log.Warn("accepting a connection failed; retrying with a back-off of 5 ms doubling to 1 s until it works",
					"addr", l.Addr().String(), "error", err)
			}
			failed++
			l.wait(delay, l.closed) // after Close, the next Accept returns net.ErrClosed
			continue
		}
		if failed > 0 {
			l.log.Info("accepting connections again", "addr", l.Addr().String(), "failed_accepts", failed)
			failed, delay = 0, 0
		}
		if !l.conns.acquire() {
			l.conns.reject(c)
			continue
		}
		return l.conns.wrap(c), nil
	}
}

// Close closes the listener and ends a back-off wait at once, so that
// shutdown is not held by it.
func (l *listener) Close() error {
	l.closeOnce.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

func nextAcceptDelay(d time.Duration) time.Duration {
	if d == 0 {
		return minAcceptDelay
	}
	return min(2*d, maxAcceptDelay)
}

func waitUnlessClosed(d time.Duration, closed <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-closed:
	}
}

// temporaryAcceptError reports whether an error from Accept passes, so that
// accepting should go on after a pause: the process or the system is out of
// file descriptors, memory or buffers, or a connection failed between the
// handshake and accept (accept(2) tells to retry on those), or a timeout.
// A closed listener and anything else are permanent.
func temporaryAcceptError(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		return false
	}
	switch errno {
	case syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM,
		syscall.ECONNABORTED, syscall.ECONNRESET, syscall.EINTR, syscall.EAGAIN,
		syscall.EPROTO, syscall.EPERM, syscall.ETIMEDOUT,
		syscall.ENETDOWN, syscall.ENETUNREACH, syscall.EHOSTDOWN, syscall.EHOSTUNREACH,
		syscall.ENOPROTOOPT, syscall.EOPNOTSUPP:
		return true
	}
	return false
}

// Conns counts the client connections open across the listeners that share
// it and bounds them. Its methods are safe for concurrent use; a nil *Conns
// counts nothing and bounds nothing.
type Conns struct {
	max  int64 // 0: no bound
	open atomic.Int64
	// closed counts the connections closed at once for being past max;
	// unlogged those not yet reported in a log line.
	closed, unlogged atomic.Int64
	lastLog          atomic.Int64 // Unix nanoseconds of the last "limit reached" line
	log              *slog.Logger
	now              func() time.Time
}

// dropLogInterval spaces the "limit reached" log lines.
const dropLogInterval = time.Second

// NewConns returns a counter that bounds the open connections to limit (0 or
// less: no bound) and logs, at most once a second, how many it closed.
func NewConns(limit int, log *slog.Logger) *Conns {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Conns{max: int64(max(limit, 0)), log: log, now: time.Now}
}

// Open is the number of connections open now.
func (c *Conns) Open() int64 { return c.open.Load() }

// Max is the bound; 0 means none.
func (c *Conns) Max() int64 { return c.max }

// Closed is how many connections were closed at once for being past Max.
func (c *Conns) Closed() int64 { return c.closed.Load() }

// acquire counts a new connection, or reports false when it would be past
// the bound.
func (c *Conns) acquire() bool {
	if c == nil {
		return true
	}
	if n := c.open.Add(1); c.max > 0 && n > c.max {
		c.open.Add(-1)
		return false
	}
	return true
}

func (c *Conns) release() {
	if c != nil {
		c.open.Add(-1)
	}
}

// reject closes a connection past the bound at once and logs, at most once
// per dropLogInterval, how many were closed since the last line.
func (c *Conns) reject(conn net.Conn) {
	// Counted before the close: a client that sees the connection end
	// must find it counted in /status.
	c.closed.Add(1)
	conn.Close() //nolint:errcheck // nothing was sent on it
	c.unlogged.Add(1)
	now := c.now().UnixNano()
	last := c.lastLog.Load()
	if (last != 0 && now-last < int64(dropLogInterval)) || !c.lastLog.CompareAndSwap(last, now) {
		return
	}
	c.log.Warn("connection limit reached: new connections are closed at once; if this is normal load, raise --max-connections and the open-files limit (see the README)",
		"max_connections", c.max, "closed", c.unlogged.Swap(0), "open", c.open.Load())
}

// wrap returns the connection the server sees: it lingers on Close when it
// is TCP, and gives its place back to c exactly once.
func (c *Conns) wrap(conn net.Conn) net.Conn {
	if tc, ok := conn.(*net.TCPConn); ok {
		return &lingerConn{TCPConn: tc, conns: c}
	}
	if c == nil {
		return conn
	}
	return &countedConn{Conn: conn, conns: c}
}

// lingerConn is a TCP connection whose Close lingers.
type lingerConn struct {
	*net.TCPConn
	head   headScan
	conns  *Conns
	closed atomic.Bool
}

// lingerTime and lingerBytes bound what a closing connection still reads.
const (
	lingerTime  = time.Second
	lingerBytes = 256 << 10
)

func (c *lingerConn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return c.TCPConn.Close() // already closed: net's own error
	}
	if c.CloseWrite() == nil && c.SetReadDeadline(time.Now().Add(lingerTime)) == nil {
		io.CopyN(io.Discard, c.TCPConn, lingerBytes) //nolint:errcheck // best effort
	}
	err := c.TCPConn.Close()
	c.conns.release()
	return err
}

// countedConn is a connection that is not TCP (tests wrap listeners) and
// gives its place back on the first Close.
type countedConn struct {
	net.Conn
	conns  *Conns
	closed atomic.Bool
}

func (c *countedConn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.conns.release()
	}
	return err
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
