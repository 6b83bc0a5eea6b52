//go:build unix

package discovery

import (
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// refusingAddr returns a loopback address that refuses connections: a
// socket bound to a free port and never listening. It holds the port until
// the test ends, so nothing else can take it meanwhile.
func refusingAddr(t *testing.T) string {
	t.Helper()
	fd := boundSocket(t)
	return sockAddr(t, fd)
}

// droppingAddr returns a loopback address that drops connection attempts,
// as a member behind a firewall that drops packets: a listener with a
// backlog of 0 that never accepts, whose queue one connection fills. A
// dial to it hangs until its deadline.
func droppingAddr(t *testing.T) string {
	t.Helper()
	fd := boundSocket(t)
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	addr := sockAddr(t, fd)
	fill, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fill.Close() })
	if c, err := net.DialTimeout("tcp", addr, 50*time.Millisecond); err == nil {
		c.Close()
		t.Fatalf("a full listen queue at %s accepted another connection: this system does not drop connection attempts", addr)
	}
	return addr
}

// holdingAddr returns a loopback address that accepts connections and then
// never says anything: a member that hangs, or a black hole on the path.
func holdingAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			select {
			case held <- c:
			default:
				c.Close()
			}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		close(held)
		for c := range held {
			c.Close()
		}
	})
	return l.Addr().String()
}

// boundSocket returns a TCP socket bound to 127.0.0.1 on a free port,
// closed when the test ends.
func boundSocket(t *testing.T) int {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	syscall.CloseOnExec(fd)
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	return fd
}

func sockAddr(t *testing.T, fd int) string {
	t.Helper()
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	return "127.0.0.1:" + strconv.Itoa(sa.(*syscall.SockaddrInet4).Port)
}
