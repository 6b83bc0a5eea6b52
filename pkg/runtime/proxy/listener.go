package proxy

import (
	"io"
	"net"
	"time"
)

// Listener wraps a TCP listener so that closing a client connection is a
// lingering close, as nginx does: the gateway shuts its sending side, reads
// and discards what the client still sends for a short while, then closes.
// Without it, closing a connection with unread request bytes (a 431 for an
// oversized header, a 400) sends a TCP reset that can destroy the error
// answer before the client reads it.
func Listener(ln net.Listener) net.Listener { return lingerListener{ln} }

type lingerListener struct{ net.Listener }

func (l lingerListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		return &lingerConn{tc}, nil
	}
	return c, nil
}

// lingerConn is a TCP connection whose Close lingers.
type lingerConn struct{ *net.TCPConn }

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
