// Package loopback holds TCP ports on 127.0.0.1 for tests, so that no test
// depends on a port that was free a moment ago.
//
// Test packages run in parallel, and people share the machine: a port found
// free (listen on :0, close) may be taken by someone else before it is used.
// A Reservation holds a port for as long as a test needs it: a socket bound
// to 127.0.0.1 with SO_REUSEPORT that never listens. Connecting to it is
// refused, as to a server that is down; no other listener can bind it (Go's
// net.Listen and most servers do not set SO_REUSEPORT); and Listen can listen
// on it again and again, so a server that is stopped and started keeps its
// address. A Relay uses one for a server that starts after its clients.
//
// A Forwarder relays a listener to another address (devetcd puts one in front
// of each embedded etcd member).
//
// This package is for tests, test tools, the demo and micro-gw dev; no non-test file under
// pkg/ may import it.
package loopback

import (
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// Reservation holds a port on 127.0.0.1 until Close.
type Reservation struct {
	fd   int
	port int
}

// Reserve holds a free port on 127.0.0.1.
func Reserve() (*Reservation, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("reserve a loopback port: %w", err)
	}
	r := &Reservation{fd: fd}
	if err := reusePort(uintptr(fd)); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("reserve a loopback port: SO_REUSEPORT: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("reserve a loopback port: bind: %w", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("reserve a loopback port: %w", err)
	}
	r.port = sa.(*unix.SockaddrInet4).Port
	return r, nil
}

// Port is the reserved port.
func (r *Reservation) Port() int { return r.port }

// Addr is "127.0.0.1:<port>".
func (r *Reservation) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

// Listen listens on the reserved port. Once the listener is closed,
// connections are refused again.
func (r *Reservation) Listen() (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = reusePort(fd) }); err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp", r.Addr())
}

// Close releases the port.
func (r *Reservation) Close() error { return unix.Close(r.fd) }

func reusePort(fd uintptr) error {
	return unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
}

// Relay is a fixed address for a server that is not always there: while it
// has no target, connections to it are refused; with one, each connection is
// relayed to the target. A client can thus be given the address of an etcd
// that starts later, or restarts on another port.
type Relay struct {
	res *Reservation

	mu sync.Mutex
	fw *Forwarder // nil while there is no target
}

// NewRelay reserves a port for a relay with no target yet.
func NewRelay() (*Relay, error) {
	res, err := Reserve()
	if err != nil {
		return nil, err
	}
	return &Relay{res: res}, nil
}

// Addr is the relay's address, "127.0.0.1:<port>".
func (r *Relay) Addr() string { return r.res.Addr() }

// SetTarget relays new connections to target ("host:port"), or, when target
// is "", refuses them and cuts the relayed ones, as if the server were killed.
func (r *Relay) SetTarget(target string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if target == "" {
		r.stopLocked()
		return nil
	}
	if r.fw != nil {
		r.fw.setTarget(target)
		return nil
	}
	ln, err := r.res.Listen()
	if err != nil {
		return fmt.Errorf("relay on %s: %w", r.Addr(), err)
	}
	r.fw = Forward(ln, target)
	return nil
}

// stopLocked stops listening and cuts every relayed connection.
func (r *Relay) stopLocked() {
	if r.fw != nil {
		r.fw.Close()
		r.fw = nil
	}
}

// Close refuses new connections, cuts the relayed ones, waits for them and
// releases the port.
func (r *Relay) Close() error {
	r.mu.Lock()
	r.stopLocked()
	r.mu.Unlock()
	return r.res.Close()
}

// Forwarder relays every connection accepted on a listener to a target
// address, byte for byte both ways. Closing it cuts every connection at
// once, as a killed server would.
type Forwarder struct {
	ln     net.Listener
	mu     sync.Mutex
	target string
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// Forward relays the connections accepted on ln to target ("host:port")
// until Close.
func Forward(ln net.Listener, target string) *Forwarder {
	f := &Forwarder{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	f.wg.Add(1)
	go f.serve()
	return f
}

func (f *Forwarder) setTarget(target string) {
	f.mu.Lock()
	f.target = target
	f.mu.Unlock()
}

func (f *Forwarder) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		target := f.target
		f.mu.Unlock()
		up, err := net.Dial("tcp", target)
		if err != nil {
			c.Close()
			continue
		}
		f.mu.Lock()
		if f.closed { // closed while dialing
			f.mu.Unlock()
			c.Close()
			up.Close()
			return
		}
		f.conns[c], f.conns[up] = struct{}{}, struct{}{}
		f.wg.Add(2)
		f.mu.Unlock()
		go f.pipe(up, c)
		go f.pipe(c, up)
	}
}

func (f *Forwarder) pipe(dst, src net.Conn) {
	defer f.wg.Done()
	io.Copy(dst, src) //nolint:errcheck // either side closing ends the relay
	dst.Close()
	src.Close()
	f.mu.Lock()
	delete(f.conns, dst)
	delete(f.conns, src)
	f.mu.Unlock()
}

// Close stops accepting, cuts every connection and waits for the copies.
func (f *Forwarder) Close() {
	f.ln.Close()
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}
