package proxy

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// pause waits d before a retry. It returns false when the wait was cut
// short: the server is shutting down (ctx.Done closes), or the client
// closed its connection, so that nobody would read the answer. A retry
// wait runs only after a failed attempt, so it may allocate.
func (p *Proxy) pause(ctx *fasthttp.RequestCtx, d time.Duration) bool {
	if rc := rawConn(ctx.Conn()); rc != nil {
		return p.pauseWatching(ctx, rc, d)
	}
	return pauseTimer(ctx, d)
}

// pauseTimer waits d or until the server shuts down.
func pauseTimer(ctx *fasthttp.RequestCtx, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// pauseWatching waits d while watching the client's socket: the read
// deadline is the timer, the netpoller tells when the socket becomes
// readable, and a peek tells whether the client closed it (nginx answers
// such a client 499 and stops). Shutdown moves the deadline to now.
func (p *Proxy) pauseWatching(ctx *fasthttp.RequestCtx, rc syscall.RawConn, d time.Duration) bool {
	end := time.Now().Add(d)
	if ctx.SetReadDeadline(end) != nil {
		return pauseTimer(ctx, d)
	}
	// The read timeout of the request goes back in place; the server
	// resets it after the handler anyway.
	defer ctx.SetReadDeadline(time.Now().Add(p.opts.ClientReadTimeout)) //nolint:errcheck // best effort
	// Shutdown closes ctx.Done(). The watcher selects on that channel
	// itself rather than taking ctx as a context.Context parent
	// (context.AfterFunc): for a parent that is not a context package
	// type, the context package reads its values (context.Cause) from a
	// goroutine of its own, which races with fasthttp resetting the
	// RequestCtx for the connection's next request.
	conn := ctx.Conn()
	shutdown, stop, exited := ctx.Done(), make(chan struct{}), make(chan struct{})
	fired := false
	go func() {
		defer close(exited)
		select {
		case <-shutdown:
			conn.SetReadDeadline(time.Unix(1, 0)) //nolint:errcheck // wakes the wait below
			fired = true
		case <-stop:
		}
	}()
	peer := waitReadable(rc)
	close(stop)
	<-exited // fired is settled, and no deadline is moved after this returns
	if fired {
		return false
	}
	switch peer {
	case peerGone:
		return false
	case peerSent:
		// The client sent more (a pipelined request, a TLS record): the
		// socket stays readable, so only the timer is left to wait on.
		return pauseTimer(ctx, time.Until(end))
	}
	return true
}

// What waitReadable found.
const (
	peerQuiet = iota // the deadline passed with nothing to read
	peerGone         // the client closed or reset its connection
	peerSent         // the client sent bytes, still unread
)

// waitReadable blocks until the socket is readable or its read deadline
// passes, and peeks at it without consuming anything.
func waitReadable(rc syscall.RawConn) int {
	peer := peerQuiet
	err := rc.Read(func(fd uintptr) bool {
		n, err := peek(fd)
		switch {
		case err == syscall.EAGAIN || err == syscall.EINTR:
			return false // not readable yet: the netpoller waits
		case err != nil || n == 0:
			peer = peerGone
		default:
			peer = peerSent
		}
		return true
	})
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return peerGone
	}
	return peer
}

// rawConn returns the socket under a client connection, the TCP one under
// TLS, or nil when it cannot be watched.
func rawConn(c net.Conn) syscall.RawConn {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok || !canPeek {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}
