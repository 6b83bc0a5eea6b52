package proxy

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// scriptedListener is a real loopback listener whose Accept first returns
// the queued errors, one per call, as the kernel's accept4 would.
type scriptedListener struct {
	net.Listener
	mu    sync.Mutex
	errs  []error
	calls chan struct{} // receives one value per Accept that returned an error
}

func newScriptedListener(t *testing.T) *scriptedListener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &scriptedListener{Listener: ln, calls: make(chan struct{}, 100)}
}

// acceptErr is err as net.TCPListener.Accept returns it.
func acceptErr(addr net.Addr, errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Addr: addr, Err: os.NewSyscallError("accept4", errno)}
}

func (s *scriptedListener) queue(errnos ...syscall.Errno) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range errnos {
		s.errs = append(s.errs, acceptErr(s.Addr(), e))
	}
}

func (s *scriptedListener) Accept() (net.Conn, error) {
	s.mu.Lock()
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		s.mu.Unlock()
		s.calls <- struct{}{}
		return nil, err
	}
	s.mu.Unlock()
	return s.Listener.Accept()
}

// recordWaits replaces l's back-off sleep by one that records the delays
// and returns at once.
func recordWaits(l net.Listener) *[]time.Duration {
	var waits []time.Duration
	l.(*listener).wait = func(d time.Duration, _ <-chan struct{}) { waits = append(waits, d) }
	return &waits
}

func dial(t *testing.T, addr net.Addr) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestListenerSurvivesFileDescriptorExhaustion protects the public
// listeners from stopping for good when accept fails for a while (EMFILE
// when the process is out of descriptors, ENFILE, ECONNABORTED): the
// listener backs off 5 ms doubling to 1 s and then accepts again.
func TestListenerSurvivesFileDescriptorExhaustion(t *testing.T) {
	inner := newScriptedListener(t)
	var logs bytes.Buffer
	l := NewListener(inner, ListenerOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	waits := recordWaits(l)
	inner.queue(syscall.EMFILE, syscall.ENFILE, syscall.ECONNABORTED, syscall.EMFILE, syscall.EMFILE,
		syscall.EMFILE, syscall.EMFILE, syscall.EMFILE, syscall.EMFILE, syscall.EMFILE, syscall.EMFILE)
	client := dial(t, inner.Addr())
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept after temporary errors: %v", err)
	}
	ms := time.Millisecond
	want := []time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second, time.Second, time.Second}
	if !equalDurations(*waits, want) {
		t.Errorf("back-off %v, want %v", *waits, want)
	}
	// The accepted connection is the client's.
	client.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Errorf("accepted connection read %q %v", buf, err)
	}
	client.Close()
	c.Close()
	if l := logs.String(); strings.Count(l, "accepting a connection failed") != 1 || !strings.Contains(l, "too many open files") ||
		!strings.Contains(l, "accepting connections again") || !strings.Contains(l, "failed_accepts=11") {
		t.Errorf("want one warning naming the error and one recovery line, got:\n%s", l)
	}

	// After a success the back-off starts again at 5 ms.
	*waits = nil
	inner.queue(syscall.EMFILE)
	client = dial(t, inner.Addr())
	c, err = l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	client.Close()
	c.Close()
	if !equalDurations(*waits, []time.Duration{5 * ms}) {
		t.Errorf("back-off after a success %v, want [5ms]", *waits)
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestListenerReturnsPermanentAcceptErrors keeps the back-off to errors that
// pass: anything else still reaches the server at once, so that the gateway
// can report the listener as stopped.
func TestListenerReturnsPermanentAcceptErrors(t *testing.T) {
	inner := newScriptedListener(t)
	l := NewListener(inner, ListenerOptions{})
	waits := recordWaits(l)
	inner.queue(syscall.EINVAL)
	if _, err := l.Accept(); !errors.Is(err, syscall.EINVAL) || len(*waits) != 0 {
		t.Errorf("Accept: %v after waits %v, want EINVAL at once", err, *waits)
	}
	l.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) || len(*waits) != 0 {
		t.Errorf("Accept on a closed listener: %v after waits %v, want net.ErrClosed at once", err, *waits)
	}
}

// TestListenerCloseEndsAcceptBackoff protects shutdown from waiting out a
// back-off: Close ends the wait and Accept returns net.ErrClosed.
func TestListenerCloseEndsAcceptBackoff(t *testing.T) {
	inner := newScriptedListener(t)
	l := NewListener(inner, ListenerOptions{})
	inWait := make(chan struct{})
	l.(*listener).wait = func(_ time.Duration, closed <-chan struct{}) {
		close(inWait)
		waitUnlessClosed(time.Hour, closed)
	}
	inner.queue(syscall.EMFILE)
	done := make(chan error, 1)
	go func() {
		_, err := l.Accept()
		done <- err
	}()
	select {
	case <-inWait:
	case err := <-done:
		t.Fatalf("Accept returned %v without backing off", err)
	}
	l.Close()
	select {
	case err := <-done:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not end the back-off wait")
	}
}

// TestMaxConnectionsClosesNewConnectionsAtOnce protects the descriptors the
// gateway needs: past the bound a new connection is closed as soon as it is
// accepted (the client reads EOF), and every connection gives its place back
// exactly once, however often it is closed.
func TestMaxConnectionsClosesNewConnectionsAtOnce(t *testing.T) {
	inner := newScriptedListener(t)
	conns := NewConns(2, nil)
	l := NewListener(inner, ListenerOptions{Conns: conns})
	accepted := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	defer l.Close()
	c1, c2 := dial(t, inner.Addr()), dial(t, inner.Addr())
	s1, s2 := <-accepted, <-accepted
	if conns.Open() != 2 {
		t.Fatalf("open %d, want 2", conns.Open())
	}
	c3 := dial(t, inner.Addr())
	c3.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c3.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("connection past the bound: read %d, %v; want EOF at once", n, err)
	}
	if conns.Open() != 2 || conns.Closed() != 1 {
		t.Fatalf("open %d closed %d, want 2 and 1", conns.Open(), conns.Closed())
	}
	c1.Close()
	s1.Close()
	s1.Close()
	if conns.Open() != 1 {
		t.Fatalf("after closing one connection twice: open %d, want 1", conns.Open())
	}
	c4 := dial(t, inner.Addr())
	s4 := <-accepted
	c2.Close()
	s2.Close()
	c4.Close()
	s4.Close()
	if conns.Open() != 0 {
		t.Fatalf("after closing all: open %d, want 0", conns.Open())
	}
}

// TestMaxConnectionsLogsAtMostOncePerSecond protects the log from a flood:
// connections closed past the bound are reported in one line per second at
// most, with how many were closed since the previous line.
func TestMaxConnectionsLogsAtMostOncePerSecond(t *testing.T) {
	var logs bytes.Buffer
	conns := NewConns(1, slog.New(slog.NewTextHandler(&logs, nil)))
	now := time.Unix(1000, 0)
	conns.now = func() time.Time { return now }
	reject := func() {
		a, b := net.Pipe()
		b.Close()
		conns.reject(a)
	}
	lines := func() []string {
		var out []string
		for _, l := range strings.Split(logs.String(), "\n") {
			if strings.Contains(l, "connection limit reached") {
				out = append(out, l)
			}
		}
		return out
	}
	reject()
	reject()
	reject()
	now = now.Add(500 * time.Millisecond)
	reject()
	if got := lines(); len(got) != 1 || !strings.Contains(got[0], "closed=1 ") {
		t.Fatalf("after 4 closes within a second: %q, want one line with closed=1", got)
	}
	now = now.Add(500 * time.Millisecond)
	reject()
	if got := lines(); len(got) != 2 || !strings.Contains(got[1], "closed=4 ") || !strings.Contains(got[1], "max_connections=1") {
		t.Fatalf("a second later: %q, want a second line with closed=4", got)
	}
	if conns.Closed() != 5 {
		t.Errorf("Closed() = %d, want 5", conns.Closed())
	}
}
