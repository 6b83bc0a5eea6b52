package proxy

import (
	"context"
	"net"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Test packages run in parallel, so a port found free (listen on :0, close)
// may be taken by another test before it is used. These helpers hold a port
// for the whole test instead: a TCP socket bound to 127.0.0.1 with
// SO_REUSEPORT that never listens. A connection to it is refused, as to a
// dead backend; no other listener can bind the port (Go's net.Listen does not
// set SO_REUSEPORT); and listenReserved can listen on it again and again, so
// a backend stopped and started keeps its address.

// reservePort holds a loopback port until the test ends and returns it.
func reservePort(t testing.TB) int {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("reserve a port: %v", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
		t.Fatalf("reserve a port: SO_REUSEPORT: %v", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatalf("reserve a port: bind: %v", err)
	}
	sa, err := unix.Getsockname(fd)
	if err != nil {
		t.Fatalf("reserve a port: %v", err)
	}
	return sa.(*unix.SockaddrInet4).Port
}

// refusedURL is the URL of a backend that refuses every connection.
func refusedURL(t testing.TB) string {
	t.Helper()
	return "http://127.0.0.1:" + strconv.Itoa(reservePort(t))
}

// listenReserved listens on a port held by reservePort.
func listenReserved(port int) (net.Listener, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
		}); err != nil {
			return err
		}
		return serr
	}}
	return lc.Listen(context.Background(), "tcp", "127.0.0.1:"+strconv.Itoa(port))
}

// TestReservedPortRefusesAndCannotBeTaken protects what the helpers above
// promise the tests that use them.
func TestReservedPortRefusesAndCannotBeTaken(t *testing.T) {
	port := reservePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Fatal("a reserved port accepted a connection; want it refused")
	}
	if ln, err := net.Listen("tcp", addr); err == nil {
		ln.Close()
		t.Fatal("another listener took a reserved port")
	}
	for range 2 { // listen, stop, listen again on the same port
		ln, err := listenReserved(port)
		if err != nil {
			t.Fatal(err)
		}
		accepted := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err == nil {
				c.Close()
			}
			accepted <- err
		}()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial the listening reserved port: %v", err)
		}
		c.Close()
		if err := <-accepted; err != nil {
			t.Fatal(err)
		}
		ln.Close()
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			t.Fatal("a stopped listener's port accepted a connection")
		}
	}
}
